"""CKV_CD_7: every ALB target group health-checks the app's own health path.

The path is the project's (contract ``project: {health_check_path: /api/health}``, passed to checkov as
$CODEDETECT_HEALTH_CHECK_PATH); a project that names none needs an explicit path other than ``/``.
"""

import os

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

ID = "CKV_CD_7"
NAME = "ALB target groups health-check the project's health path (codedetect: /api/health)"
WHY = "blue/green switching relies on the load balancer seeing the app's own health endpoint"
SUPPORTED = ("aws_lb_target_group", "aws_alb_target_group")
PATH_VARIABLE = "CODEDETECT_HEALTH_CHECK_PATH"


def _one(value):
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


class HealthCheckPath(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(name=NAME, id=ID, categories=[CheckCategories.GENERAL_SECURITY],
                         supported_resources=list(SUPPORTED))

    def scan_resource_conf(self, conf):
        self.evaluated_keys = ["health_check/[0]/path"]
        health = _one(conf.get("health_check"))
        if not isinstance(health, dict):
            self.details.append("no health_check block")
            return CheckResult.FAILED
        if _one(health.get("enabled")) is False:
            self.evaluated_keys = ["health_check/[0]/enabled"]
            self.details.append("health check disabled")
            return CheckResult.FAILED
        path = _one(health.get("path"))
        wanted = os.environ.get(PATH_VARIABLE, "")
        if wanted and path != wanted:
            self.details.append(f"health check path is {path!r}, expected {wanted!r}")
            return CheckResult.FAILED
        if not wanted and (not isinstance(path, str) or path in ("", "/")):
            self.details.append(f"health check path is {path!r}, expected the app's own health endpoint")
            return CheckResult.FAILED
        return CheckResult.PASSED


check = HealthCheckPath()
