"""CKV_CD_11 reasons about every way a configuration can name another environment's resources: names, ARNs,
wildcard patterns that cover them, references to another environment's state, and identifiers both claim."""

from pathlib import Path

import pytest

from core.findings import Status
from core.model import EnvSpec, load_hcl
from policies import isolation
from policies.common import Context
from tests.helpers import DOCS

BASE = '''
locals {
  env = terraform.workspace == "default" ? "production" : terraform.workspace
}

resource "aws_s3_bucket" "data" {
  bucket = "fixture-${local.env}-data"
}

resource "aws_cloudwatch_log_group" "app" {
  name = "/fixture/${local.env}/app"
}

resource "aws_sns_topic" "alerts" {
  name = "fixture-${local.env}-alerts"
}
'''
ENVS = {"production": EnvSpec("production", "default"), "staging": EnvSpec("staging", "staging")}


def run(tmp_path: Path, extra: str) -> dict[str, list]:
    (tmp_path / "main.tf").write_text(BASE + extra)
    models = {n: load_hcl(tmp_path, e) for n, e in ENVS.items()}
    ctx = Context(models=models, docs=DOCS)
    return {n: isolation.isolation(m, ctx) for n, m in models.items()}


def failures(findings) -> set[tuple[str, str]]:
    return {(f.resource, f.attribute) for f in findings if f.status == Status.FAIL}


def staging_only(resource: str, body: str) -> str:
    """A resource that only staging builds (count on the workspace)."""
    return f'resource {resource} {{\n  count = terraform.workspace == "staging" ? 1 : 0\n{body}\n}}\n'


POLICY = '''  name = "fixture-staging-reader"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["s3:GetObject", "logs:PutLogEvents"], Resource = [%s] }]
  })'''


@pytest.mark.parametrize(("resources", "attribute", "covered"), [
    ('"arn:aws:s3:::fixture-*"', "policy.Statement[0].Resource[0]", "aws_s3_bucket.data"),
    ('"arn:aws:s3:::*"', "policy.Statement[0].Resource[0]", "aws_s3_bucket.data"),
    ('"arn:aws:s3:::fixture-*-data/*"', "policy.Statement[0].Resource[0]", "aws_s3_bucket.data"),
    ('"arn:aws:logs:us-east-1:123456789012:log-group:/fixture/*"', "policy.Statement[0].Resource[0]",
     "aws_cloudwatch_log_group.app"),
    ('"arn:aws:sns:*:*:fixture-prod*"', "policy.Statement[0].Resource[0]", "aws_sns_topic.alerts"),
])
def test_a_pattern_covering_another_environment_fails(tmp_path, resources, attribute, covered):
    found = run(tmp_path, staging_only('"aws_iam_policy" "reader"', POLICY % resources))
    bad = [f for f in found["staging"] if f.status == Status.FAIL]
    assert {(f.resource, f.attribute) for f in bad} == {("aws_iam_policy.reader[0]", attribute)}
    assert bad[0].actual == resources.strip('"') and f"production's {covered}" in bad[0].message
    assert bad[0].file.endswith("main.tf") and bad[0].line > 0
    assert failures(found["production"]) == set()


@pytest.mark.parametrize("resources", ['"arn:aws:s3:::fixture-staging-*"', '"*"',
                                       '"arn:aws:logs:*:*:log-group:/fixture/staging/*"'])
def test_a_pattern_covering_only_its_own_environment_passes(tmp_path, resources):
    found = run(tmp_path, staging_only('"aws_iam_policy" "reader"', POLICY % resources))
    assert failures(found["staging"]) == set() and failures(found["production"]) == set()


def test_a_bare_pattern_and_an_arn_naming_another_environment_fail(tmp_path):
    found = run(tmp_path, staging_only('"aws_ssm_parameter" "p"', '  name  = "/fixture/staging/p"\n'
                                       '  type  = "String"\n  value = "/fixture/*/app"') +
                staging_only('"aws_cloudwatch_metric_alarm" "a"', '  alarm_name    = "fixture-staging-alarm"\n'
                             '  alarm_actions = ["arn:aws:sns:us-east-1:123456789012:fixture-production-alerts"]'))
    assert failures(found["staging"]) == {("aws_ssm_parameter.p[0]", "value"),
                                          ("aws_cloudwatch_metric_alarm.a[0]", "alarm_actions[0]")}


def test_reading_another_environments_state_fails(tmp_path):
    found = run(tmp_path, '''
data "terraform_remote_state" "shared" {
  backend   = "s3"
  workspace = terraform.workspace == "default" ? "staging" : "default"
  config    = { bucket = "fixture-state", key = "app.tfstate", region = "us-east-1" }
}
''')
    for env in ("staging", "production"):
        bad = [f for f in found[env] if f.status == Status.FAIL]
        assert [(f.resource, f.attribute) for f in bad] == [("data.terraform_remote_state.shared", "workspace")]
        assert "reads the state of" in bad[0].message


def test_remote_state_without_workspace_reads_production(tmp_path):
    found = run(tmp_path, 'data "terraform_remote_state" "shared" {\n  backend = "local"\n'
                          '  config = { path = "other.tfstate" }\n}\n')
    assert failures(found["staging"]) == {("data.terraform_remote_state.shared", "workspace")}
    assert failures(found["production"]) == set()


def test_both_environments_claiming_one_identifier_fails(tmp_path):
    (tmp_path / "main.tf").write_text(BASE.replace('bucket = "fixture-${local.env}-data"',
                                                   'bucket = "fixture-shared-data"'))
    models = {n: load_hcl(tmp_path, e) for n, e in ENVS.items()}
    ctx = Context(models=models, docs=DOCS)
    for model in models.values():
        bad = [f for f in isolation.isolation(model, ctx) if f.status == Status.FAIL]
        assert [(f.resource, f.attribute, f.actual) for f in bad] == [("aws_s3_bucket.data", "bucket",
                                                                       "fixture-shared-data")]
        assert "both environments would manage one resource" in bad[0].message


def test_separate_environments_pass(tmp_path):
    found = run(tmp_path, "")
    assert all(f.status == Status.PASS for fs in found.values() for f in fs)
