"""Drift made with boto3 after seeding fails the live run, naming environment, resource and attribute.

All drifts are made once in one sandbox (seeding costs seconds); each is then asserted on its own, and a
last test proves the run reports nothing else: no drift hides another, and none is invented.
"""

import dataclasses
import re

import pytest

from core.findings import Status
from tests.helpers import run_pytest
from tests.live.conftest import finding_table


def _instance_id(sb, name):
    reservations = sb.client("ec2").describe_instances(Filters=[{"Name": "tag:Name", "Values": [name]}])
    return reservations["Reservations"][0]["Instances"][0]["InstanceId"]


def instance_type(sb):
    ec2, iid = sb.client("ec2"), _instance_id(sb, "codedetect-staging-app-blue")
    ec2.stop_instances(InstanceIds=[iid])
    ec2.modify_instance_attribute(InstanceId=iid, InstanceType={"Value": "t3.small"})
    ec2.start_instances(InstanceIds=[iid])


def rds_class(sb):
    sb.client("rds").modify_db_instance(DBInstanceIdentifier="codedetect-production-db",
                                        DBInstanceClass="db.t3.small", ApplyImmediately=True)


def rds_backups(sb):
    sb.client("rds").modify_db_instance(DBInstanceIdentifier="codedetect-staging-db", BackupRetentionPeriod=1,
                                        ApplyImmediately=True)


def deletion_protection_off(sb):
    sb.client("rds").modify_db_instance(DBInstanceIdentifier="codedetect-production-db", DeletionProtection=False,
                                        ApplyImmediately=True)


def ingress_rule(sb):
    ec2 = sb.client("ec2")
    group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["codedetect-staging-app"]}])
    ec2.authorize_security_group_ingress(GroupId=group["SecurityGroups"][0]["GroupId"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])


def extra_policy(sb):
    sb.client("iam").attach_role_policy(RoleName="codedetect-staging-app",
                                        PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")


def alarm_deleted(sb):
    sb.client("cloudwatch").delete_alarms(AlarmNames=["[PROD] codedetect-production RDS CPU above 80%"])


def health_check_path(sb):
    elb = sb.client("elbv2")
    tg = elb.describe_target_groups(Names=["codedetect-staging-blue"])["TargetGroups"][0]
    elb.modify_target_group(TargetGroupArn=tg["TargetGroupArn"], HealthCheckPath="/healthz")


def public_access_block_removed(sb):
    sb.client("s3").delete_public_access_block(Bucket="codedetect-staging-uploads-2025")


def extra_instance(sb):
    ec2 = sb.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.run_instances(ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1, TagSpecifications=[{
        "ResourceType": "instance", "Tags": [{"Key": "Environment", "Value": "staging"},
                                             {"Key": "Name", "Value": "debug-box"}]}])


# drift -> (make it, check, environment, resource, attribute, expected, actual); "arn:" matches an ARN prefix.
DRIFTS = {
    "instance type": (instance_type, "ec2", "staging", "aws_instance.blue[0]", "instance_type", "t3.micro",
                      "t3.small"),
    "RDS class": (rds_class, "rds", "production", "aws_db_instance.main", "instance_class", "db.t3.micro",
                  "db.t3.small"),
    "RDS backup retention": (rds_backups, "rds", "staging", "aws_db_instance.main", "backup_retention_period", 7, 1),
    "deletion protection off in production": (deletion_protection_off, "rds", "production", "aws_db_instance.main",
                                              "deletion_protection", True, False),
    "ingress rule in staging only": (ingress_rule, "security_groups", "staging", "aws_security_group.app", "ingress",
                                     None, 'tcp 22-22 from 0.0.0.0/0 ""'),
    "extra policy on staging's role": (extra_policy, "iam", "staging", "aws_iam_role.app", "managed_policy_arns",
                                       None, "arn:aws:iam::aws:policy/AdministratorAccess"),
    "alarm deleted": (alarm_deleted, "cloudwatch", "production", 'aws_cloudwatch_metric_alarm.this["rds_cpu"]', "",
                      "exists", "missing"),
    "health-check path": (health_check_path, "elb", "staging", 'aws_lb_target_group.app["blue"]',
                          "health_check[0].path", "/api/health", "/healthz"),
    "public access block removed": (public_access_block_removed, "s3", "staging",
                                    "aws_s3_bucket_public_access_block.uploads", "", "exists", "missing"),
    "extra instance tagged staging": (extra_instance, "unmanaged", "staging", "arn:aws:ec2:", "", None, "exists"),
}
# What live parity must say about the same drifts: contract row -> (resource, attribute), as the static gate's
# engine (parity.engine.judge) names them: a set member added is its position (ingress[0]).
PARITY = {
    "Instance Type": ("aws_instance.blue[0]", "instance_type"),
    "Security Groups": ("aws_security_group.app", "ingress[0]"),
    "IAM Roles": ("aws_iam_role.app", "managed_policy_arns[0]"),
    "ALB Health Checks": ('aws_lb_target_group.app["blue"]', "health_check[0].path"),
    "S3 Integration": ("aws_s3_bucket_public_access_block.uploads", ""),
    "Monitoring": ('aws_cloudwatch_metric_alarm.this["rds_cpu"]', ""),
    "RDS Instance": ("aws_db_instance.main", "instance_class"),
    "Database Type": ("aws_db_instance.main", "backup_retention_period"),
}


@pytest.fixture(scope="module")
def drifted(sandbox_state):
    sb = sandbox_state.fresh()
    for make, *_ in DRIFTS.values():
        make(sb)
    run = sb.run()
    return sb, run, run.everything()


@pytest.mark.parametrize("drift", list(DRIFTS))
def test_drift_is_reported(drifted, drift):
    _, _, findings = drifted
    _, check, env, resource, attribute, expected, actual = DRIFTS[drift]
    mine = [f for f in findings if f.check == f"live:{check}" and f.env == env]
    assert not [f for f in mine if f.status == Status.PASS], finding_table(mine)
    hit = [f for f in mine if f.status == Status.DRIFT and f.resource.startswith(resource) and f.attribute == attribute]
    assert len(hit) == 1, finding_table(mine)
    as_text = f"{hit[0].expected} {hit[0].actual}"
    assert (expected is None or str(expected) in as_text) and str(actual) in as_text, hit[0].one_line()
    if not any(c == check and e != env for _, c, e, *_ in DRIFTS.values()):
        other = [f for f in findings if f.check == f"live:{check}" and f.env != env]
        assert other and all(f.status == Status.PASS for f in other), "the other environment is clean"


@pytest.mark.parametrize("row", list(PARITY))
def test_live_parity_reports_one_sided_drift(drifted, row):
    _, _, findings = drifted
    resource, attribute = PARITY[row]
    hit = [f for f in findings if f.check == f"live:{row}" and f.status == Status.DRIFT]
    assert [(f.env, f.resource, f.attribute) for f in hit] == [("staging~production", resource, attribute)], \
        finding_table(hit)


def test_nothing_else_is_reported(drifted):
    """Every failing finding is one of the drifts made: none hidden by another, none invented."""
    _, _, findings = drifted
    wanted = {(f"live:{c}", e, r, a) for _, c, e, r, a, *_ in DRIFTS.values()}
    wanted |= {(f"live:{row}", "staging~production", r, a) for row, (r, a) in PARITY.items()}
    got = {(f.check, f.env, f.resource if not f.resource.startswith("arn:aws:ec2:") else "arn:aws:ec2:", f.attribute)
           for f in findings if f.status != Status.PASS}
    assert got == wanted, finding_table([f for f in findings if f.status != Status.PASS])


def test_drift_points_at_the_terraform_line(drifted):
    _, _, findings = drifted
    f = next(x for x in findings if x.attribute == "health_check[0].path" and x.env == "staging")
    assert (f.file, f.line) == ("terraform/alb.tf", 24), f.one_line()  # the health_check block


def test_drifted_sandbox_fails_the_pytest_run(drifted):
    sb, _, _ = drifted
    result = run_pytest("live_checks", "-m", "live", "--aws-endpoint", sb.endpoint, "--require-live")
    assert result.returncode == 1, result.output
    summary = result.output.split("short test summary info")[-1]
    failed = set(re.findall(r"^FAILED [^:]+::(.*?) - ", summary, re.M))
    assert failed == {
        "test_ec2[staging]", "test_rds[staging]", "test_rds[production]", "test_security_groups[staging]",
        "test_iam[staging]", "test_cloudwatch[production]", "test_load_balancer[staging]", "test_s3[staging]",
        "test_unmanaged[staging]", *(f"test_parity[{row}]" for row in PARITY)}, summary
    assert "production aws_db_instance.main.deletion_protection expected true, actual false" in result.output
    assert "staging aws_security_group.app.ingress" in result.output and "tcp 22-22 from 0.0.0.0/0" in result.output
    assert "Name=debug-box" in result.output


def test_ignore_unmanaged_accepts_a_listed_resource(drifted):
    sb, _, findings = drifted
    arn = next(f.resource for f in findings if f.check == "live:unmanaged" and f.status == Status.DRIFT)
    entry = {"arn_pattern": arn.rsplit("/", 1)[0] + "/*", "why": "debug box of the on-call", "envs": ["staging"]}
    run = sb.run()
    run.contract = dataclasses.replace(run.contract, ignore_unmanaged=(entry,))
    result = run.unmanaged("staging")
    assert [f.status for f in result] == [Status.PASS] and "1 accepted" in result[0].message, finding_table(result)


@pytest.mark.parametrize("entry", [
    {"arn_pattern": "i-123", "why": "not an ARN"},
    {"arn_pattern": "arn:aws:ec2:*:*:instance/*"},
    {"arn_pattern": "arn:aws:ec2:*:*:instance/*", "why": "x", "envs": ["qa"]},
    {"arn_pattern": "arn:aws:ec2:*:*:instance/*", "why": "x", "owner": "me"},
    "arn:aws:ec2:*:*:instance/*",
])
def test_a_malformed_ignore_entry_is_an_error(drifted, entry):
    sb, _, _ = drifted
    run = sb.run()
    run.contract = dataclasses.replace(run.contract, ignore_unmanaged=(entry,))
    result = run.unmanaged("production")
    assert [f.status for f in result] == [Status.ERROR] and "ignore_unmanaged entry 1" in result[0].message
