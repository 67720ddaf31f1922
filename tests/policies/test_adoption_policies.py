"""The policies that follow the environments document for any repository (CKV_CD_12..14), on their fixtures.

Each fixture names resources pass_* and fail_*; CKV_CD_13 and CKV_CD_14 compare environments, so their fixtures are
evaluated twice (staging and production workspaces of the same configuration)."""

from dataclasses import replace

import pytest

from core.findings import Status
from core.project import Excuse
from policies import rules
from tests.policies.conftest import FIXTURES, context, fixture_model

POLICIES = {p.id: p for p in rules.POLICIES}


def two_envs(policy_id):
    return {env: fixture_model(policy_id, env) for env in ("production", "staging")}


def named(model, prefix):
    return {a for a, r in model.managed().items() if r.name.startswith(prefix)}


def failing(findings):
    return [f for f in findings if not f.status.ok]


def test_production_undeletable_names_resource_attribute_and_line():
    model = fixture_model("CKV_CD_12")
    findings = POLICIES["CKV_CD_12"].run(model, context({"production": model}))
    bad = {f.resource: f for f in failing(findings)}
    assert set(bad) == named(model, "fail")
    bucket = bad["aws_s3_bucket.fail_force_destroy"]
    assert (bucket.attribute, bucket.expected, bucket.actual) == ("force_destroy", False, True)
    assert bucket.file.endswith("tests/policies/fixtures/CKV_CD_12/main.tf") and bucket.line == 16
    alb = bad["aws_lb.fail_alb_without_deletion_protection"]
    assert (alb.attribute, alb.expected, alb.actual, alb.line) == ("enable_deletion_protection", True, None, 21)
    efs = bad["aws_efs_file_system.fail_efs_no_prevent_destroy"]
    assert efs.attribute == "lifecycle.prevent_destroy" and "DO NOT DESTROY PRODUCTION" in efs.message


def test_production_undeletable_applies_to_the_reference_environment_only():
    model = fixture_model("CKV_CD_12", "staging")
    assert [f.status for f in POLICIES["CKV_CD_12"].run(model, context({"staging": model}))] == [Status.PASS]


def test_an_excuse_with_a_reason_mutes_only_its_resource():
    model = fixture_model("CKV_CD_12")
    ctx = context({"production": model})
    excuse = Excuse("CKV_CD_12", "aws_s3_bucket.fail_force_destroy", ("production",),
                    "the bucket only holds a cache that is rebuilt from the database", "contract.yaml", 7)
    ctx = replace(ctx, project=replace(ctx.project, excuses=(excuse,)))
    findings = {f.resource: f for f in POLICIES["CKV_CD_12"].run(model, ctx)}
    muted = findings["aws_s3_bucket.fail_force_destroy"]
    assert muted.status == Status.MUTED and "contract.yaml:7" in muted.message and "cache" in muted.message
    assert findings["aws_lb.fail_alb_without_deletion_protection"].status == Status.FAIL


def test_fixed_account_wide_names_fail_in_every_environment():
    models = two_envs("CKV_CD_13")
    for env, model in models.items():
        findings = POLICIES["CKV_CD_13"].run(model, context(models))
        assert {f.resource for f in failing(findings)} == named(model, "fail"), env
        assert {f.resource for f in findings if f.status == Status.PASS} == {"aws_iam_user.pass_env_in_name",
                                                                             "aws_ssm_parameter.pass_env_path"}
        user = next(f for f in failing(findings) if f.resource == "aws_iam_user.fail_fixed_name")
        other = "staging" if env == "production" else "production"
        assert (user.attribute, user.actual, user.line) == ("name", "fixture-deployer", 2)
        assert f"aws_iam_user.fail_fixed_name in {other}" in user.message


def test_shared_key_pair_and_secret_fail():
    models = two_envs("CKV_CD_14")
    staging = failing(POLICIES["CKV_CD_14"].run(models["staging"], context(models)))
    assert {(f.resource, f.attribute, f.actual) for f in staging} == {
        ("aws_launch_template.fail_shared_key_pair", "key_name", "fixture-prod-ssh"),
        ("data.aws_secretsmanager_secret_version.shared_secret", "secret_id", "fixture/production/db")}
    key = next(f for f in staging if f.attribute == "key_name")
    assert key.file.endswith("fixtures/CKV_CD_14/main.tf") and key.line == 2
    assert "aws_launch_template.fail_shared_key_pair.key_name in production" in key.message


@pytest.mark.parametrize("policy_id", ["CKV_CD_13", "CKV_CD_14"])
def test_one_environment_alone_shares_nothing(policy_id):
    model = fixture_model(policy_id)
    assert not failing(POLICIES[policy_id].run(model, context({model.name: model})))


def test_fixtures_exist():
    assert all((FIXTURES / pid / "main.tf").is_file() for pid in ("CKV_CD_12", "CKV_CD_13", "CKV_CD_14"))


def test_prevent_destroy_is_read_from_the_source_when_the_model_is_a_plan():
    from core.model import EnvModel

    hcl = fixture_model("CKV_CD_12")
    stripped = {a: replace(r, values={k: v for k, v in r.values.items() if k != "lifecycle"})
                for a, r in hcl.resources.items()}
    plan = EnvModel(env=hcl.env, source="plan:fixture.json", root=hcl.root, resources=stripped)
    findings = {f.resource: f for f in POLICIES["CKV_CD_12"].run(plan, context({"production": plan}))}
    assert findings["aws_efs_file_system.pass_efs_prevent_destroy"].status == Status.PASS
    assert findings["aws_efs_file_system.fail_efs_no_prevent_destroy"].status == Status.FAIL
