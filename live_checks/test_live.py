"""Live checks: deployed AWS against the evaluated Terraform, and deployed environments against each other.

Run with ``pytest -m live live_checks`` (credentials from the environment) or against a sandbox with
``--aws-endpoint``. Every check records all its findings; any DRIFT or ERROR fails the test.
"""

import pytest

from core import session
from core.findings import CheckFailed, Status
from live_checks.run import UNLISTED

pytestmark = pytest.mark.live


def pytest_generate_tests(metafunc):
    if "env" in metafunc.fixturenames:
        metafunc.parametrize("env", session.selected_envs(metafunc.config))
    if "row" in metafunc.fixturenames:
        rows = [r.id for r in session.contract(metafunc.config).rows] + [UNLISTED]
        metafunc.parametrize("row", rows)


def _verdict(config, title: str, findings) -> None:
    __tracebackhide__ = True
    session.record(config, findings)
    failing = [f for f in findings if f.status in (Status.DRIFT, Status.ERROR)]
    if failing:
        raise CheckFailed(title, failing)


def test_ec2(live, env, pytestconfig):
    _verdict(pytestconfig, f"EC2 app instances in {env}", live.check("ec2", env))


def test_rds(live, env, pytestconfig):
    _verdict(pytestconfig, f"RDS in {env}", live.check("rds", env))


def test_s3(live, env, pytestconfig):
    _verdict(pytestconfig, f"S3 uploads bucket in {env}", live.check("s3", env))


def test_load_balancer(live, env, pytestconfig):
    _verdict(pytestconfig, f"ALB, target groups and listeners in {env}", live.check("elb", env))


def test_security_groups(live, env, pytestconfig):
    _verdict(pytestconfig, f"security groups in {env}", live.check("security_groups", env))


def test_iam(live, env, pytestconfig):
    _verdict(pytestconfig, f"IAM role and policies in {env}", live.check("iam", env))


def test_cloudwatch(live, env, pytestconfig):
    _verdict(pytestconfig, f"CloudWatch alarms, log group and dashboard in {env}", live.check("cloudwatch", env))


def test_sns(live, env, pytestconfig):
    _verdict(pytestconfig, f"SNS alert topic in {env}", live.check("sns", env))


def test_efs(live, env, pytestconfig):
    _verdict(pytestconfig, f"EFS in {env}", live.check("efs", env))


def test_dns_and_certificate(live, env, pytestconfig):
    _verdict(pytestconfig, f"Route53 and ACM in {env}", live.check("dns", env))


def test_unmanaged(live, env, pytestconfig):
    _verdict(pytestconfig, f"resources tagged for {env} that Terraform does not declare", live.unmanaged(env))


def test_parity(live, row, pytestconfig):
    _verdict(pytestconfig, f"deployed environments differ on {row!r}", live.parity(row))
