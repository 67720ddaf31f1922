"""Accounts and regions per environment: the contract's ``aws:`` mapping gives each environment its session, and
staging in another account (a role assumed with an external id) is audited and compared in the same run.

moto keeps one state per account and takes the account from the access key (an assumed role's keys belong to
the role's account): staging is applied by Terraform a second time, into account 222222222222.
"""

import dataclasses
import json

import boto3
import pytest

from core.contract import load_contract
from core.errors import SuiteError
from core.findings import Status
from core.session import ROOT
from live_checks import sandbox
from live_checks.aws import AwsSession, Limiter
from live_checks.run import LiveRun, build_sessions
from tests.live.conftest import finding_table

OTHER = "222222222222"
ROLE = f"arn:aws:iam::{OTHER}:role/codedetect-auditor"


def _contract_with(tmp_path, aws_yaml: str):
    text = (ROOT / "parity" / "contract.yaml").read_text().replace("../", f"{ROOT}/")  # paths: the contract's dir
    anchor = "  staging: {workspace: staging, var_files: [staging.tfvars], tag: staging}"
    assert anchor in text
    path = tmp_path / "contract.yaml"
    path.write_text(text.replace(anchor, "  staging:\n    {workspace: staging, var_files: [staging.tfvars], "
                                         f"tag: staging,\n     aws: {aws_yaml}}}"))
    return path


def test_contract_reads_the_aws_mapping(tmp_path):
    path = _contract_with(tmp_path, f"{{role_arn: '{ROLE}', external_id: nightly, region: eu-west-1}}")
    c = load_contract(path, ROOT / "terraform")
    assert c.aws == {"staging": {"role_arn": ROLE, "external_id": "nightly", "region": "eu-west-1"}}


@pytest.mark.parametrize(("aws", "message"), [
    ("{role: x}", ":38: environments.staging.aws: unknown key 'role'"),  # the schema (core/schemas/)
    ("{external_id: x}", "external_id needs a role_arn"),
    ("{region: [us-east-1]}", ":38: environments.staging.aws.region must be a string, not a list"),
    ("[x]", ":38: environments.staging.aws must be a mapping, not a list"),
])
def test_a_bad_aws_mapping_is_one_line_with_file_and_line(tmp_path, aws, message):
    with pytest.raises(SuiteError) as err:
        load_contract(_contract_with(tmp_path, aws), ROOT / "terraform")
    assert message in str(err.value) and "contract.yaml" in str(err.value)


@pytest.fixture(scope="module")
def two_accounts(sandbox_state, tmp_path_factory):
    sb = sandbox_state.fresh()
    sb.dirty = True  # account 222222222222 goes away with the next fresh()
    key = sandbox.account_credentials(sb.endpoint, OTHER)
    # S3 bucket names are global: staging's bucket moves to the other account (a run reading staging in the
    # default account now misses it)
    sb.client("s3").delete_bucket(Bucket="codedetect-staging-uploads-2025")
    sandbox.apply_env(ROOT / "terraform", sb.endpoint, sb.contract.environments["staging"], credentials=key)
    iam = boto3.client("iam", endpoint_url=sb.endpoint, region_name="us-east-1", aws_access_key_id=key[0],
                       aws_secret_access_key=key[1])
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "nightly"}}}]}
    iam.create_role(RoleName="codedetect-auditor", AssumeRolePolicyDocument=json.dumps(trust))
    contract = dataclasses.replace(sb.contract, aws={"staging": {"role_arn": ROLE, "external_id": "nightly"}})
    other = {"aws_access_key_id": key[0], "aws_secret_access_key": key[1]}
    return sb, contract, other


def _run(sb, contract):
    default = AwsSession(endpoint=sb.endpoint, region="us-east-1", limiter=Limiter(deadline=600))
    sessions = build_sessions(contract, default)
    return LiveRun(default, sb.models, contract, root=str(ROOT), sessions=sessions), default, sessions


def test_two_accounts_are_audited_and_compared_in_one_run(two_accounts):
    sb, contract, _ = two_accounts
    run, default, sessions = _run(sb, contract)
    assert sessions["staging"] is not default and run.account("staging") != run.account("production")
    findings = run.everything()
    bad = [f for f in findings if f.status != Status.PASS]
    assert not bad, finding_table(bad)
    assert {f.env for f in findings if f.check.startswith("live:") and "~" in f.env} == {"staging~production"}
    assert {k[0] for k in run.inventories} == {0, 1}  # every service read in each account
    assert len([k for k in run.inventories if k[1] == "iam"]) == 2  # global services: once per account


def test_the_other_account_is_the_one_read(two_accounts):
    sb, contract, other = two_accounts
    # the same drift in both accounts' staging would be found either way: make it only in account 222222222222
    elb = boto3.client("elbv2", endpoint_url=sb.endpoint, region_name="us-east-1", **other)
    tg = elb.describe_target_groups(Names=["codedetect-staging-blue"])["TargetGroups"][0]
    elb.modify_target_group(TargetGroupArn=tg["TargetGroupArn"], HealthCheckPath="/healthz")
    run, _, _ = _run(sb, contract)
    drift = [f for f in run.check("elb", "staging") if f.status == Status.DRIFT]
    assert [(f.resource, f.attribute, f.actual) for f in drift] == [
        ('aws_lb_target_group.app["blue"]', "health_check[0].path", "/healthz")], finding_table(drift)
    one_account = sb.run()  # staging read from the default account: it does not see that drift ...
    assert [f.status for f in one_account.check("elb", "staging")] == [Status.PASS]
    missing = one_account.check("s3", "staging")  # ... and misses the bucket that moved
    assert ("aws_s3_bucket.uploads", "missing") in {(f.resource, f.actual) for f in missing}, finding_table(missing)
