"""CKV_CD_2: RDS runs PostgreSQL, with encrypted storage and at least 7 days of automated backups."""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

ID = "CKV_CD_2"
NAME = "RDS is PostgreSQL, storage encrypted, backups kept at least 7 days"
WHY = "the app is written for PostgreSQL; data at rest is encrypted; a week of point-in-time recovery (rule 4)"
SUPPORTED = ("aws_db_instance",)
MIN_RETENTION_DAYS = 7


def _one(value):
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


class RdsPostgresEncryptedBackups(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(name=NAME, id=ID, categories=[CheckCategories.BACKUP_AND_RECOVERY],
                         supported_resources=list(SUPPORTED))

    def scan_resource_conf(self, conf):
        engine = _one(conf.get("engine"))
        if engine != "postgres":
            return self._fail("engine", f"engine is {engine!r}, expected 'postgres'")
        if _one(conf.get("storage_encrypted")) is not True:
            return self._fail("storage_encrypted", "storage_encrypted is not true")
        days = _one(conf.get("backup_retention_period"))
        if isinstance(days, bool) or not isinstance(days, (int, float)) or days < MIN_RETENTION_DAYS:
            return self._fail("backup_retention_period",
                              f"backup_retention_period is {days!r}, expected >= {MIN_RETENTION_DAYS}")
        self.evaluated_keys = ["engine", "storage_encrypted", "backup_retention_period"]
        return CheckResult.PASSED

    def _fail(self, key, detail):
        self.evaluated_keys = [key]
        self.details.append(detail)
        return CheckResult.FAILED


check = RdsPostgresEncryptedBackups()
