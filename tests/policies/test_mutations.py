"""Each policy is shown to fail on a mutated copy of terraform/, naming the policy id, the environment, the resource
and file:line, through the same functions the gate calls (checkov policies: one real checkov run for all of them)."""

import pytest

from core.findings import Status
from policies import catalog
from tests.policies.conftest import CHECKOV_MUTATIONS, checkov_findings, context

POLICIES = {p.id: p for p in catalog.model_policies() + catalog.cost_policies()}


def line_of(tf, file, text, offset=0):
    """The line of ``text`` in ``tf/file`` (plus ``offset``): where a finding must point."""
    lines = (tf / file).read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line) + offset


def failing(mutated, checkov_batch, name, policy_id, env):
    if policy_id not in POLICIES:
        assert name in CHECKOV_MUTATIONS, f"add {name} to CHECKOV_MUTATIONS"
        findings = checkov_findings(checkov_batch, f"{name}:{env}", policy_id)
    else:
        models = mutated.models(name)
        findings = POLICIES[policy_id].run(models[env], context(models))
    return {(f.check, f.env, f.resource, f.file.rsplit("/terraform/", 1)[-1], f.line) for f in findings
            if f.status != Status.PASS}


# mutation, policy, environments where it fails, resource, file, line anchor (text, offset) in the mutated copy
CASES = [
    ("rds_unencrypted", "CKV_CD_2", ["staging", "production"], "aws_db_instance.main", "rds.tf",
     ('resource "aws_db_instance" "main"', 0)),
    ("db_open_in_staging_workspace", "CKV_CD_5", ["staging"], "aws_security_group.db", "security_groups.tf",
     ('"PostgreSQL from the app"', -1)),
    ("db_open_in_staging_workspace", "CKV_CD_6", ["staging"], "aws_security_group.db", "security_groups.tf",
     ('"PostgreSQL from the app"', -1)),
    ("health_check_root", "CKV_CD_7", ["staging", "production"], 'aws_lb_target_group.app["blue"]', "alb.tf",
     ("health_check {", 0)),
    ("old_tls_policy", "CKV_CD_8", ["production"], "aws_lb_listener.https[0]", "alb.tf",
     ('resource "aws_lb_listener" "https"', 0)),
    ("bucket_tagged_prod", "CKV_CD_1", ["staging", "production"], "aws_s3_bucket.uploads", "s3.tf",
     ('resource "aws_s3_bucket" "uploads"', 0)),
    ("production_deletable", "CKV_CD_3", ["production"], "aws_db_instance.main", "rds.tf",
     ('resource "aws_db_instance" "main"', 0)),
    ("bucket_unversioned", "CKV_CD_4", ["staging", "production"], "aws_s3_bucket.uploads", "s3.tf",
     ('resource "aws_s3_bucket" "uploads"', 0)),
    ("db_from_alb", "CKV_CD_6", ["staging", "production"], "aws_security_group.db", "security_groups.tf",
     ('"PostgreSQL from the app"', -1)),
    ("redirect_to_http", "CKV_CD_9", ["production"], "aws_lb_listener.http_redirect[0]", "alb.tf",
     ('type = "redirect"', -1)),
    ("alarm_prefix", "CKV_CD_10", ["production"], 'aws_cloudwatch_metric_alarm.this["rds_cpu"]', "monitoring.tf",
     ('resource "aws_cloudwatch_metric_alarm" "this"', 0)),
    ("staging_names_prod_bucket", "CKV_CD_11", ["staging"], "aws_iam_role_policy.app", "iam.tf",
     ('resource "aws_iam_role_policy" "app"', 0)),
    ("staging_t3_small", "CKV_CD_30", ["staging"], "aws_instance.blue[0]", "compute.tf",
     ('resource "aws_instance" "blue"', 0)),
    ("staging_t3_small", "CKV_CD_31", ["staging"], "aws_instance.blue[0]", "compute.tf",
     ('resource "aws_instance" "blue"', 0)),
]


@pytest.mark.parametrize(("name", "policy_id", "envs", "resource", "file", "anchor"), CASES,
                         ids=[f"{c[1]}-{c[0]}" for c in CASES])
def test_mutation_fails_the_policy(mutated, checkov_batch, name, policy_id, envs, resource, file, anchor):
    line = line_of(mutated.tf(name), file, *anchor)
    for env in ("staging", "production"):
        found = failing(mutated, checkov_batch, name, policy_id, env)
        if env in envs:
            assert (policy_id, env, resource, file, line) in found, found
        else:
            assert not found, f"{policy_id} must not fail in {env}: {found}"


def test_workspace_dependent_rule_is_caught_only_where_it_applies(mutated, checkov_batch):
    """`cidr_blocks = terraform.workspace == "staging" ? ["0.0.0.0/0"] : []` on the database port."""
    models = mutated.models("db_open_in_staging_workspace")
    assert models["staging"].resources["aws_security_group.db"].values["ingress"][0]["cidr_blocks"] == ["0.0.0.0/0"]
    assert not models["production"].resources["aws_security_group.db"].values["ingress"][0]["cidr_blocks"]
    staging = checkov_findings(checkov_batch, "db_open_in_staging_workspace:staging", "CKV_CD_5")
    bad = [f for f in staging if f.status == Status.FAIL]
    assert [f.resource for f in bad] == ["aws_security_group.db"]
    assert "5432" in bad[0].actual and "0.0.0.0/0" in bad[0].actual
    production = checkov_findings(checkov_batch, "db_open_in_staging_workspace:production", "CKV_CD_5")
    assert production and all(f.status == Status.PASS for f in production)


def test_bundled_terraform_passes_every_custom_check(checkov_batch):
    for env in ("staging", "production"):
        findings = [f for f in checkov_findings(checkov_batch, f"bundled:{env}") if f.check.startswith("CKV_CD_")]
        assert {f.check for f in findings} == {p.id for p in catalog.checkov_policies()}
        assert all(f.status == Status.PASS for f in findings), [f.one_line() for f in findings]


def test_bundled_terraform_passes_every_python_policy(bundled):
    for model in bundled.values():
        for policy in POLICIES.values():
            findings = policy.run(model, context(bundled))
            # MUTED only where parity/contract.yaml excuses a finding with a reason (project: excuses)
            excused = "excused by parity/contract.yaml:"
            assert findings and all(f.status == Status.PASS or (f.status == Status.MUTED and
                                                                f.message.startswith(excused))
                                    for f in findings), [f.one_line() for f in findings]
