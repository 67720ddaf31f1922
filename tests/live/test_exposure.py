"""Drifts that expose data, made in a console (here: boto3 against the Terraform-deployed sandbox), fail the
live run in per-environment mode (``--env``: no live parity), naming environment, resource, attribute,
expected and actual. Each is its own test id; a last test shows nothing else is reported."""

import json
import re

import pytest

from core.findings import Status
from tests.helpers import run_pytest
from tests.live.conftest import finding_table

pytestmark = pytest.mark.slow
BUCKET = "codedetect-staging-uploads-2025"


def _group(sb, name):
    return sb.client("ec2").describe_security_groups(Filters=[{"Name": "group-name", "Values": [name]}])[
        "SecurityGroups"][0]


def _instance(sb, name):
    reservations = sb.client("ec2").describe_instances(Filters=[{"Name": "tag:Name", "Values": [name]},
                                                                {"Name": "instance-state-name", "Values": ["running"]}])
    return reservations["Reservations"][0]["Instances"][0]


def bucket_policy(sb):
    sb.client("s3").put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}))


def public_acl(sb):
    sb.client("s3").put_bucket_acl(Bucket=BUCKET, ACL="public-read")


def cors(sb):
    sb.client("s3").put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]})


def website(sb):
    sb.client("s3").put_bucket_website(Bucket=BUCKET, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})


def lifecycle_one_day(sb):
    s3 = sb.client("s3")
    rules = s3.get_bucket_lifecycle_configuration(Bucket="codedetect-prod-uploads-2025")["Rules"]
    rules[0]["Expiration"] = {"Days": 1}
    s3.put_bucket_lifecycle_configuration(Bucket="codedetect-prod-uploads-2025",
                                          LifecycleConfiguration={"Rules": rules})


def extra_subscription(sb):
    sns = sb.client("sns")
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"]
                 if t["TopicArn"].endswith(":codedetect-production-alerts"))
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="someone@outside.example")


def allow_all_egress(sb):
    group = _group(sb, "codedetect-staging-db")
    sb.client("ec2").authorize_security_group_egress(GroupId=group["GroupId"], IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])


def _run_in_vpc(sb, tags):
    ec2 = sb.client("ec2")
    app = _instance(sb, "codedetect-staging-app-blue")
    spec = {"TagSpecifications": [{"ResourceType": "instance", "Tags": tags}]} if tags else {}
    return ec2.run_instances(ImageId=app["ImageId"], InstanceType="t3.micro", MinCount=1, MaxCount=1,
                             SubnetId=app["SubnetId"], **spec)["Instances"][0]["InstanceId"]


def instance_name_only(sb):
    _run_in_vpc(sb, [{"Key": "Name", "Value": "debug-box"}])


def instance_no_tags(sb):
    _run_in_vpc(sb, [])


def replaced_from_other_ami(sb):
    ec2, elb = sb.client("ec2"), sb.client("elbv2")
    old = _instance(sb, "codedetect-production-app-blue")
    other = next(i["ImageId"] for i in ec2.describe_images(Owners=["amazon"])["Images"]
                 if i["ImageId"] != old["ImageId"])
    primary = next(n for n in old["NetworkInterfaces"] if n["Attachment"]["DeviceIndex"] == 0)
    new = ec2.run_instances(ImageId=other, InstanceType=old["InstanceType"], MinCount=1, MaxCount=1,
                            NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": old["SubnetId"],
                                                "Groups": [g["GroupId"] for g in primary["Groups"]],
                                                "AssociatePublicIpAddress": True}],
                            IamInstanceProfile={"Arn": old["IamInstanceProfile"]["Arn"]},
                            Monitoring={"Enabled": True},
                            MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled"},
                            TagSpecifications=[{"ResourceType": "instance", "Tags": old["Tags"]}])["Instances"][0]
    tg = elb.describe_target_groups(Names=["codedetect-production-blue"])["TargetGroups"][0]["TargetGroupArn"]
    port = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"][0]["Target"]["Port"]
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": new["InstanceId"], "Port": port}])
    elb.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": old["InstanceId"], "Port": port}])
    ec2.terminate_instances(InstanceIds=[old["InstanceId"]])
    return other


# drift -> (make it, check, environment, resource, attribute, expected, actual) as they appear in the finding
DRIFTS = {
    "bucket policy Principal *": (bucket_policy, "s3", "staging", "aws_s3_bucket.uploads", "policy_statements",
                                  "[]", "'Principal': '*'"),
    "public-read ACL": (public_acl, "s3", "staging", "aws_s3_bucket.uploads", "acl_grants", "[]",
                        "http://acs.amazonaws.com/groups/global/AllUsers READ"),
    "CORS *": (cors, "s3", "staging", "aws_s3_bucket.uploads", "cors_rules", "[]", "'allowed_origins': ['*']"),
    "website hosting": (website, "s3", "staging", "aws_s3_bucket.uploads", "website", "[]", "index.html"),
    "lifecycle expires after one day": (lifecycle_one_day, "s3", "production",
                                        "aws_s3_bucket_lifecycle_configuration.uploads", "rule[0].expiration", "[]",
                                        "'days': 1"),
    "extra SNS subscription": (extra_subscription, "sns", "production", "aws_sns_topic.alerts", "subscriptions", "",
                               "email:someone@outside.example"),
    "allow-all egress where none is declared": (allow_all_egress, "security_groups", "staging",
                                                "aws_security_group.db", "egress", "[]", "all all from 0.0.0.0/0"),
    "instance with only a Name tag in the VPC": (instance_name_only, "unmanaged", "staging", "arn:aws:ec2:", "",
                                                 "not deployed", "Name=debug-box"),
    "instance with no tags in the VPC": (instance_no_tags, "unmanaged", "staging", "arn:aws:ec2:", "",
                                         "not deployed", "Name=(none)"),
    "instance replaced from another AMI": (replaced_from_other_ami, "ec2", "production", "aws_instance.blue[0]", "ami",
                                           "ami-", "ami-"),
}


@pytest.fixture(scope="module")
def drifted(sandbox_state):
    sb = sandbox_state.fresh()
    for make, *_ in DRIFTS.values():
        make(sb)
    run = sb.run()
    findings = [f for env in sb.models for f in run.check_all(env)]
    return sb, findings


def _text(f) -> str:
    return f"{f.expected} | {f.actual} | {f.message}"


@pytest.mark.parametrize("drift", list(DRIFTS))
def test_exposure_drift_fails_the_per_environment_run(drifted, drift):
    _, findings = drifted
    _, check, env, resource, attribute, expected, actual = DRIFTS[drift]
    mine = [f for f in findings if f.check == f"live:{check}" and f.env == env]
    hits = [f for f in mine if f.status == Status.DRIFT and f.resource.startswith(resource)
            and f.attribute == attribute and actual in _text(f)]
    assert len(hits) == 1, finding_table(mine)
    assert expected in str(hits[0].expected), hits[0].one_line()
    assert not [f for f in mine if f.status == Status.PASS]


def test_nothing_else_is_reported(drifted):
    _, findings = drifted
    bad = [f for f in findings if f.status != Status.PASS]
    wanted = {(f"live:{c}", e, r, a) for _, c, e, r, a, *_ in DRIFTS.values()}
    got = {(f.check, f.env, "arn:aws:ec2:" if f.resource.startswith("arn:aws:ec2:") else f.resource, f.attribute)
           for f in bad}
    assert got == wanted, finding_table(bad)
    assert len([f for f in bad if f.check == "live:unmanaged"]) == 2, finding_table(bad)


def test_the_pytest_run_with_env_fails_on_them(drifted):
    sb, _ = drifted
    result = run_pytest("live_checks", "-m", "live", "--aws-endpoint", sb.endpoint, "--require-live",
                        "--env", "staging")
    assert result.returncode == 1, result.output
    failed = set(re.findall(r"^FAILED [^:]+::(.*?) - ", result.output, re.M))
    assert failed == {"test_s3[staging]", "test_security_groups[staging]", "test_unmanaged[staging]"}, result.output
    assert "staging aws_security_group.db.egress" in result.output
