"""SSM: the public AWS parameters (``/aws/service/...``) that data.aws_ssm_parameter reads, e.g. the AMI id.

Only public, non-secret parameters are read, never decrypted: the guard refuses any other name.
"""

from __future__ import annotations

from live_checks.inventory.base import Inventory

PUBLIC_PREFIX = "/aws/service/"


class Ssm(Inventory):
    service = "ssm"

    def fetch(self) -> None:
        names = sorted(n for n in self.wanted.get("data.aws_ssm_parameter", set()) if n.startswith(PUBLIC_PREFIX))
        self.values: dict[str, str] = {}
        for start in range(0, len(names), 10):
            answer = self.call("get_parameters", Names=names[start:start + 10])
            self.values.update({p["Name"]: p["Value"] for p in answer.get("Parameters", [])})
