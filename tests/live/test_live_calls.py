"""The live audit's API calls grow with resource types and pages, never with the resources in the account, and
what the per-role calls used to read (tags, trust, inline and attached policies, profiles) still fails on drift.

IAM roles come from one paginated ``GetAccountAuthorizationDetails`` (roles only): ``ListRoles`` returns no tags
and the tagging API no roles, so the old per-role ``ListRoleTags`` grew with every role in the account.
"""

import json
import math

import pytest
from botocore.stub import Stubber

from bench.bench_live import TRUST, add_extras, env_tag
from core.findings import Status
from live_checks.aws import AwsSession, ForbiddenOperation
from live_checks.inventory.iam import Iam
from tests.live.conftest import finding_table
from tests.live.test_faults import inject

# Listing calls a page of answers (moto's page size is 50 or more for each): they may grow by a page per 50.
LISTING = {("resourcegroupstaggingapi", "GetResources"), ("logs", "DescribeLogGroups"), ("iam", "ListPolicies"),
           ("iam", "GetAccountAuthorizationDetails"), ("ec2", "DescribeSecurityGroups"), ("s3", "ListBuckets")}
DENIED_IAM = (b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized"
              b"</Message></Error><RequestId>1</RequestId></ErrorResponse>")


def _tag(sb, env: str) -> str:
    return env_tag(sb.models[env])


def calls_with(sandbox_state, per_env: int, label: str):
    sb = sandbox_state.fresh()
    add_extras(sb.client, {env: _tag(sb, env) for env in sb.models}, per_env, f"calls-{label}")
    aws = AwsSession(endpoint=sb.endpoint, region="us-east-1")
    findings = sb.run(aws=aws).everything()
    return aws.counts, findings


@pytest.fixture(scope="module")
def two_sizes(sandbox_state):
    small, large = 8, 80
    out = {n: calls_with(sandbox_state, n, f"n{n}") for n in (small, large)}
    sandbox_state.fresh()
    return small, large, out


def test_calls_by_operation_do_not_grow_with_resources(two_sizes):
    small, large, out = two_sizes
    (few, _), (many, _) = out[small], out[large]
    assert set(few) == set(many)
    grown = {op: (few[op], many[op]) for op in many if many[op] != few[op]}
    per_resource = {op: n for op, n in grown.items() if op not in LISTING}
    assert not per_resource, f"calls that grew with the resources: {per_resource}"
    added = (large - small) * 2  # every environment's extras are in the same account and region
    for op, (a, b) in grown.items():
        assert b - a <= math.ceil(added / 50), f"{op} grew from {a} to {b}: more than by pages"
    assert ("iam", "ListRoleTags") not in many and many[("iam", "GetAccountAuthorizationDetails")] == 1
    assert sum(many.values()) <= sum(few.values()) + 6, (sum(few.values()), sum(many.values()))


def test_extras_are_found_as_unmanaged_at_both_sizes(two_sizes):
    """The calls stayed flat without losing anything: every extra role (tagged, not prefixed) is reported."""
    small, large, out = two_sizes
    for n in (small, large):
        _, findings = out[n]
        for env in ("staging", "production"):
            roles = {f.resource.rsplit("/", 1)[-1] for f in findings
                     if f.check == "live:unmanaged" and f.env == env and f.status == Status.DRIFT
                     and ":role/" in f.resource}
            assert roles == {f"calls-n{n}-{env}-{i}" for i in range(3, n, 4)}, sorted(roles)


# ---------------------------------------------------------------- what the per-role calls fed, shown to fail


@pytest.fixture(scope="module")
def iam_drifted(sandbox_state):
    sb = sandbox_state.fresh()
    iam = sb.client("iam")
    iam.tag_role(RoleName="codedetect-staging-app", Tags=[{"Key": "Name", "Value": "renamed-by-hand"}])
    trust = json.loads(json.dumps(TRUST))
    trust["Statement"][0]["Principal"] = {"Service": "lambda.amazonaws.com"}
    iam.update_assume_role_policy(RoleName="codedetect-production-app", PolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName="codedetect-production-app", PolicyName=_inline_name(iam, "codedetect-production-app"),
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    profile = iam.list_instance_profiles_for_role(RoleName="codedetect-staging-app")["InstanceProfiles"][0]
    iam.remove_role_from_instance_profile(InstanceProfileName=profile["InstanceProfileName"],
                                          RoleName="codedetect-staging-app")
    iam.create_role(RoleName="debug-role", AssumeRolePolicyDocument=json.dumps(TRUST),
                    Tags=[{"Key": "Environment", "Value": _tag(sb, "staging")}])
    iam.create_role(RoleName="codedetect-production-extra", AssumeRolePolicyDocument=json.dumps(TRUST))
    findings = sb.run().everything()
    sandbox_state.fresh()
    return findings


def _inline_name(iam, role: str) -> str:
    return iam.list_role_policies(RoleName=role)["PolicyNames"][0]


@pytest.mark.parametrize(("check", "env", "resource", "attribute"), [
    pytest.param("iam", "staging", "aws_iam_role.app", "tags", id="managed role's tag changed"),
    pytest.param("iam", "production", "aws_iam_role.app", "assume_role_policy", id="trust policy changed"),
    pytest.param("iam", "production", "aws_iam_role_policy.app", "policy", id="inline policy changed"),
    pytest.param("iam", "staging", "aws_iam_instance_profile.app", "", id="role removed from its profile"),
    pytest.param("unmanaged", "staging", "arn:aws:iam::123456789012:role/debug-role", "",
                 id="unmanaged role tagged for the environment, not named with its prefix"),
    pytest.param("unmanaged", "production", "arn:aws:iam::123456789012:role/codedetect-production-extra", "",
                 id="unmanaged role named with the environment's prefix, untagged"),
])
def test_iam_drift_fails(iam_drifted, check, env, resource, attribute):
    mine = [f for f in iam_drifted if f.check == f"live:{check}" and f.env == env]
    assert any(f.status == Status.DRIFT and f.resource == resource and f.attribute.startswith(attribute)
               for f in mine), finding_table(mine)


def test_unmanaged_role_is_reported_for_its_own_environment_only(iam_drifted):
    other = [f for f in iam_drifted if f.check == "live:unmanaged" and f.env == "production"]
    assert not any(f.resource.endswith(":role/debug-role") for f in other), finding_table(other)


def test_access_denied_on_the_role_details_is_an_error(sandbox_env):
    aws = AwsSession(endpoint=sandbox_env.endpoint, region="us-east-1")
    inject(aws, "before-send.iam.GetAccountAuthorizationDetails", 403, DENIED_IAM)
    run = sandbox_env.run(aws=aws)
    for env in sandbox_env.models:
        for findings in (run.check("iam", env), run.check("ec2", env), run.unmanaged(env)):
            assert findings and all(f.status == Status.ERROR for f in findings), finding_table(findings)
            assert "AccessDenied" in findings[0].message


# ---------------------------------------------------------------- no sandbox needed


def _stubbed_iam() -> tuple[Iam, Stubber]:
    aws = AwsSession(endpoint="http://127.0.0.1:9", region="us-east-1")
    inv = Iam(aws, "us-east-1", {})
    return inv, Stubber(inv.client)


def _role(name: str, **extra) -> dict:
    return {"RoleName": name, "RoleId": "AROA" + name.upper().ljust(16, "X"), "Path": "/",
            "Arn": f"arn:aws:iam::123456789012:role/{name}", "CreateDate": "2025-01-01T00:00:00Z", **extra}


def test_every_page_of_roles_is_read_with_tags_and_policies():
    inv, stub = _stubbed_iam()
    stub.add_response("get_account_authorization_details", {
        "RoleDetailList": [_role("a", Tags=[{"Key": "Environment", "Value": "staging"}])],
        "IsTruncated": True, "Marker": "page-2"}, {"Filter": ["Role"], "MaxItems": 1000})
    stub.add_response("get_account_authorization_details", {
        "RoleDetailList": [_role("b", RolePolicyList=[{"PolicyName": "p", "PolicyDocument": "{}"}],
                                 AttachedManagedPolicies=[{"PolicyName": "m",
                                                           "PolicyArn": "arn:aws:iam::aws:policy/m"}],
                                 InstanceProfileList=[{"InstanceProfileName": "prof", "Path": "/",
                                                       "InstanceProfileId": "AIPAXXXXXXXXXXXXXXXX",
                                                       "Arn": "arn:aws:iam::123456789012:instance-profile/prof",
                                                       "CreateDate": "2025-01-01T00:00:00Z", "Roles": []}]),
                           _role("svc", Path="/aws-service-role/x/")],
        "IsTruncated": False}, {"Filter": ["Role"], "MaxItems": 1000, "Marker": "page-2"})
    stub.add_response("list_policies", {"Policies": [], "IsTruncated": False}, {"Scope": "Local"})
    with stub:
        inv.load()
    assert inv.errors == []
    assert sorted(inv.roles) == ["a", "b"]  # both pages; service-linked roles are AWS's own
    assert inv.roles["a"]["tags"] == {"Environment": "staging"}
    b = inv.roles["b"]
    assert (b["inline"], b["attached"], b["profiles"]) == ({"p": {}}, ["arn:aws:iam::aws:policy/m"], ["prof"])
    stub.assert_no_pending_responses()


def test_an_error_on_a_later_page_is_recorded_not_a_short_inventory():
    inv, stub = _stubbed_iam()
    stub.add_response("get_account_authorization_details", {
        "RoleDetailList": [_role("a")], "IsTruncated": True, "Marker": "page-2"})
    stub.add_client_error("get_account_authorization_details", "AccessDenied", "not authorized", 403)
    with stub:
        inv.load()
    assert len(inv.errors) == 1 and "AccessDenied" in inv.errors[0]


@pytest.mark.parametrize("params", [{}, {"Filter": ["Role", "User"]}, {"Filter": ["LocalManagedPolicy"]}])
def test_the_guard_allows_role_details_only(params):
    client = AwsSession(endpoint="http://127.0.0.1:9", region="us-east-1").client("iam", "us-east-1")
    with pytest.raises(ForbiddenOperation, match="Filter=\\['Role'\\] only"):
        client.get_account_authorization_details(**params)
