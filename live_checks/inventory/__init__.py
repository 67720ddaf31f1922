"""One inventory class per AWS service, each read once per run (see base.Inventory)."""

from live_checks.inventory.base import EXTRA, Inventory, Observed
from live_checks.inventory.dns import Acm, Route53
from live_checks.inventory.ec2 import Ec2
from live_checks.inventory.efs import Efs
from live_checks.inventory.elb import Elb
from live_checks.inventory.iam import Iam
from live_checks.inventory.monitoring import CloudWatch, Logs, Sns
from live_checks.inventory.rds import Rds
from live_checks.inventory.s3 import S3
from live_checks.inventory.ssm import Ssm
from live_checks.inventory.tagging import Tagging

SERVICES: dict[str, type[Inventory]] = {c.service: c for c in (Ec2, Rds, S3, Elb, Iam, CloudWatch, Logs, Sns, Efs,
                                                                Route53, Acm, Tagging, Ssm)}

__all__ = ["EXTRA", "SERVICES", "Inventory", "Observed"]
