"""CKV_CD_7: every ALB target group health-checks the app's /api/health."""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

ID = "CKV_CD_7"
NAME = "ALB target groups health-check /api/health"
WHY = "blue/green switching relies on the load balancer seeing the app's own health endpoint"
SUPPORTED = ("aws_lb_target_group", "aws_alb_target_group")
HEALTH_PATH = "/api/health"


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
        if path != HEALTH_PATH:
            self.details.append(f"health check path is {path!r}, expected {HEALTH_PATH!r}")
            return CheckResult.FAILED
        return CheckResult.PASSED


check = HealthCheckPath()
