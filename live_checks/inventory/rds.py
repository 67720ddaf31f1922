"""RDS: the database instance (by identifier) and its subnet group (by name)."""

from __future__ import annotations

from core.model import EnvModel
from live_checks.inventory.base import Inventory, Observed, ref, tags


class Rds(Inventory):
    service = "rds"

    def fetch(self) -> None:
        self.instances = {d["DBInstanceIdentifier"]: d for d in self.pages("describe_db_instances", "DBInstances")}
        self.subnet_groups = {g["DBSubnetGroupName"]: g for g in self.pages("describe_db_subnet_groups",
                                                                              "DBSubnetGroups")}

    def observe(self, model: EnvModel) -> list[Observed]:
        out = []
        for r in model.of_type("aws_db_instance"):
            d = self.instances.get(r.values.get("identifier"))
            if d:
                out.append(Observed(r.address, _instance(d), {d["DBInstanceArn"]: ref(r.address)}))
        for r in model.of_type("aws_db_subnet_group"):
            g = self.subnet_groups.get(r.values.get("name"))
            if g:
                out.append(Observed(r.address, {"name": g["DBSubnetGroupName"]},
                                    {g["DBSubnetGroupArn"]: ref(r.address)}))
        return out


def _instance(d: dict) -> dict:
    return {
        "identifier": d["DBInstanceIdentifier"],
        "engine": d.get("Engine"),
        "engine_version": d.get("EngineVersion"),
        "instance_class": d.get("DBInstanceClass"),
        "allocated_storage": d.get("AllocatedStorage"),
        "storage_type": d.get("StorageType"),
        "storage_encrypted": d.get("StorageEncrypted"),
        "db_name": d.get("DBName"),
        "username": d.get("MasterUsername"),
        "port": (d.get("Endpoint") or {}).get("Port", d.get("DbInstancePort")),
        "db_subnet_group_name": (d.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"),
        "vpc_security_group_ids": [g["VpcSecurityGroupId"] for g in d.get("VpcSecurityGroups", [])],
        "publicly_accessible": d.get("PubliclyAccessible"),
        "multi_az": d.get("MultiAZ"),
        "backup_retention_period": d.get("BackupRetentionPeriod"),
        "backup_window": d.get("PreferredBackupWindow"),
        "maintenance_window": (d.get("PreferredMaintenanceWindow") or "").lower() or None,
        "auto_minor_version_upgrade": d.get("AutoMinorVersionUpgrade"),
        "copy_tags_to_snapshot": d.get("CopyTagsToSnapshot"),
        "deletion_protection": d.get("DeletionProtection"),
        "tags": tags(d.get("TagList")),
    }
