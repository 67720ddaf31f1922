"""The live checks not covered by test_drift.py are shown to fail too: SNS, EFS and Route53/ACM."""

import pytest

from core.findings import Status
from tests.live.conftest import finding_table


@pytest.fixture(scope="module")
def drifted(sandbox_state):
    sb = sandbox_state.fresh()
    sns = sb.client("sns")
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"]
                 if t["TopicArn"].endswith(":codedetect-staging-alerts"))
    sns.delete_topic(TopicArn=topic)
    efs = sb.client("efs")
    fs = next(f for f in efs.describe_file_systems()["FileSystems"]
              if f["CreationToken"] == "codedetect-production-uploads")
    target = efs.describe_mount_targets(FileSystemId=fs["FileSystemId"])["MountTargets"][0]
    efs.delete_mount_target(MountTargetId=target["MountTargetId"])
    r53 = sb.client("route53")
    zone = next(z for z in r53.list_hosted_zones()["HostedZones"] if z["Name"] == "codedetect.example.com.")
    record = next(r for r in r53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
                  if r["Type"] == "A")
    r53.change_resource_record_sets(HostedZoneId=zone["Id"], ChangeBatch={"Changes": [
        {"Action": "DELETE", "ResourceRecordSet": record}]})
    return sb.run().everything()


@pytest.mark.parametrize(("check", "env", "resource"), [
    ("sns", "staging", "aws_sns_topic.alerts"),
    ("efs", "production", "aws_efs_mount_target.uploads["),
    ("dns", "production", "aws_route53_record.app[0]"),
])
def test_drift_is_reported(drifted, check, env, resource):
    mine = [f for f in drifted if f.check == f"live:{check}" and f.env == env]
    assert any(f.status == Status.DRIFT and f.resource.startswith(resource) for f in mine), finding_table(mine)
    other = [f for f in drifted if f.check == f"live:{check}" and f.env != env and "~" not in f.env]
    assert all(f.status == Status.PASS for f in other), finding_table(other)
