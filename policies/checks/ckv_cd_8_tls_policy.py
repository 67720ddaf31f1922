"""CKV_CD_8: every HTTPS/TLS listener uses a current TLS policy (TLS 1.2 or newer only)."""

import re

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

ID = "CKV_CD_8"
NAME = "HTTPS listeners use a current TLS policy (ELBSecurityPolicy-TLS13-1-2 or -1-3)"
WHY = "older ELB policies still accept TLS 1.0/1.1 and weak ciphers; AWS recommends the TLS13 policies"
SUPPORTED = ("aws_lb_listener", "aws_alb_listener")
CURRENT = re.compile(r"^ELBSecurityPolicy-TLS13-1-[23]-")


def _one(value):
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


class CurrentTlsPolicy(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(name=NAME, id=ID, categories=[CheckCategories.ENCRYPTION],
                         supported_resources=list(SUPPORTED))

    def scan_resource_conf(self, conf):
        protocol = _one(conf.get("protocol"))
        self.evaluated_keys = ["protocol"]
        if protocol not in ("HTTPS", "TLS"):
            return CheckResult.PASSED  # no TLS here; CKV_CD_9 checks that HTTP redirects where SSL is enabled
        self.evaluated_keys = ["ssl_policy"]
        policy = _one(conf.get("ssl_policy"))
        if not isinstance(policy, str) or not CURRENT.match(policy):
            self.details.append(f"ssl_policy is {policy!r}, expected ELBSecurityPolicy-TLS13-1-2-... or -1-3-...")
            return CheckResult.FAILED
        return CheckResult.PASSED


check = CurrentTlsPolicy()
