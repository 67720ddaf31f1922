"""The VPC's default security group must stay empty: a rule added to it is drift (aws_default_security_group)."""

from core.findings import Status
from tests.live.conftest import finding_table


def test_rule_added_to_the_default_security_group_is_drift(sandbox_env):
    ec2 = sandbox_env.client("ec2")
    group = ec2.describe_security_groups(Filters=[
        {"Name": "group-name", "Values": ["default"]},
        {"Name": "tag:Name", "Values": ["codedetect-production-default-deny"]}])["SecurityGroups"][0]
    ec2.authorize_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])

    findings = sandbox_env.run().everything()
    drift = [f for f in findings if f.status != Status.PASS]
    got = {(f.check, f.env, f.resource, f.attribute) for f in drift}
    group = "aws_default_security_group.default"
    assert got == {("live:security_groups", "production", group, "ingress"),
                   ("live:Security Groups", "staging~production", group, "ingress[0]")}, finding_table(drift)
    assert "3389" in str(next(f.actual for f in drift if f.env == "production"))
    assert [f.status for f in findings if f.check == "live:security_groups" and f.env == "staging"] == [Status.PASS]
