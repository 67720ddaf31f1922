"""EFS: the uploads file system (by creation token) and how many mount targets it has."""

from __future__ import annotations

from core.model import EnvModel
from live_checks.inventory.base import Inventory, Observed, indexed, ref, tags


class Efs(Inventory):
    service = "efs"

    def fetch(self) -> None:
        self.systems = {f["CreationToken"]: f for f in self.pages("describe_file_systems", "FileSystems")}

        def mounts(fs):
            fs["mounts"] = sorted(self.pages("describe_mount_targets", "MountTargets", FileSystemId=fs["FileSystemId"]),
                                  key=lambda m: (m.get("AvailabilityZoneName", ""), m["MountTargetId"]))

        self.each(mounts, [f for t, f in self.systems.items() if t in self.wanted.get("aws_efs_file_system", set())])

    def observe(self, model: EnvModel) -> list[Observed]:
        out = []
        for r in model.of_type("aws_efs_file_system"):
            fs = self.systems.get(r.values.get("creation_token"))
            if not fs:
                continue
            out.append(Observed(r.address, {
                "creation_token": fs["CreationToken"], "encrypted": fs.get("Encrypted"),
                "performance_mode": fs.get("PerformanceMode"), "throughput_mode": fs.get("ThroughputMode"),
                "tags": tags(fs.get("Tags"))}, {fs["FileSystemId"]: ref(r.address), fs.get("FileSystemArn", ""):
                                                ref(r.address)}))
            declared = sorted(m.address for m in model.of_type("aws_efs_mount_target")
                              if m.values.get("file_system_id") == ref(r.address))
            for n, mount in enumerate(fs.get("mounts", [])):
                address = declared[n] if n < len(declared) else indexed(declared[0] if declared else
                                                                        "aws_efs_mount_target.uploads", n)
                ids = {mount["MountTargetId"]: ref(address)}
                if mount.get("NetworkInterfaceId"):  # the interface EFS made for it is not unmanaged
                    ids[mount["NetworkInterfaceId"]] = ref(address)
                out.append(Observed(address, {"file_system_id": ref(r.address)}, ids))
        return out
