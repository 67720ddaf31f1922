"""A fixture per policy: in tests/policies/fixtures/<id>/main.tf, resources named pass_* must pass and fail_* fail.

The checkov checks run through the real checkov CLI on the fixture's evaluated plan JSON, exactly as in the gate.
"""

import ast
import re

import pytest

from core.findings import Status
from policies import catalog
from policies.checkov_run import CHECKS_DIR
from tests.policies.conftest import FIXTURES, checkov_findings, context, fixture_model

CHECKOV = [p.id for p in catalog.checkov_policies()]
# CKV_CD_11, 13 and 14 compare environments: their fixtures are evaluated as two (test_isolation_fixture and
# tests/policies/test_adoption_policies.py).
MODEL = [p.id for p in catalog.model_policies() if p.id not in ("CKV_CD_11", "CKV_CD_13", "CKV_CD_14")]


def named(model, prefix):
    return {a for a, r in model.managed().items() if r.name.startswith(prefix)}


def outcome(findings):
    failed = {f.resource for f in findings if f.status != Status.PASS and f.resource}
    passed = {f.resource for f in findings if f.status == Status.PASS and f.resource} - failed
    return passed, failed


@pytest.mark.parametrize("policy_id", CHECKOV)
def test_checkov_check_fixture(policy_id, checkov_batch):
    _, model = checkov_batch[f"fixture:{policy_id}"]
    passed, failed = outcome(checkov_findings(checkov_batch, f"fixture:{policy_id}", policy_id))
    assert failed == named(model, "fail"), failed
    assert passed == named(model, "pass"), passed


@pytest.mark.parametrize("policy_id", MODEL)
def test_model_policy_fixture(policy_id):
    model = fixture_model(policy_id)
    policy = next(p for p in catalog.model_policies() if p.id == policy_id)
    passed, failed = outcome(policy.run(model, context({model.name: model})))
    assert failed == named(model, "fail"), failed
    assert passed == named(model, "pass"), passed


def test_isolation_fixture():
    """Both environments build the same code; only staging may not name production's bucket and log group."""
    models = {env: fixture_model("CKV_CD_11", env) for env in ("production", "staging")}
    policy = next(p for p in catalog.model_policies() if p.id == "CKV_CD_11")
    staging = policy.run(models["staging"], context(models))
    assert outcome(staging)[1] == named(models["staging"], "fail")
    assert {f.actual for f in staging if f.status == Status.FAIL} == {"fixture-production-data", "/fixture/production"}
    production = policy.run(models["production"], context(models))
    assert [f.status for f in production] == [Status.PASS]


def test_failing_findings_point_at_the_fixture_block():
    model = fixture_model("CKV_CD_3")
    findings = catalog.model_policies()[1].run(model, context({"production": model}))
    bad = next(f for f in findings if f.resource == "aws_db_instance.fail_unprotected")
    assert bad.file.endswith("tests/policies/fixtures/CKV_CD_3/main.tf") and bad.line == 9
    assert (bad.check, bad.env, bad.attribute, bad.expected, bad.actual) == \
        ("CKV_CD_3", "production", "deletion_protection", True, False)


def test_every_policy_has_a_fixture():
    assert {p.name for p in FIXTURES.iterdir() if p.is_dir()} == set(CHECKOV) | {p.id for p in catalog.model_policies()}


def test_policy_ids_are_unique_and_well_formed():
    ids = catalog.all_ids()
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"CKV_CD_\d+", i) for i in ids)


@pytest.mark.parametrize("path", sorted(p for p in CHECKS_DIR.glob("*.py") if p.name != "__init__.py"),
                         ids=lambda p: p.name)
def test_checkov_check_files(path):
    """Unique file names carrying the id; module body is imports, constants, helpers, one class, `check = X()`."""
    policy = next(p for p in catalog.checkov_policies() if p.file == str(path))
    assert path.stem.startswith(policy.id.lower() + "_")
    assert "\n" not in policy.why and len(policy.name) < 120
    body = ast.parse(path.read_text()).body
    allowed = (ast.Import, ast.ImportFrom, ast.Assign, ast.FunctionDef, ast.ClassDef, ast.Expr)
    assert all(isinstance(node, allowed) for node in body)
    calls = [n for n in body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
             and ast.unparse(n.value.func) != "re.compile"]
    assert [ast.unparse(n.targets[0]) for n in calls] == ["check"], "only `check = X()` may run at import"
    assert isinstance(body[-1], ast.Assign) and ast.unparse(body[-1].targets[0]) == "check"


def test_ckv_cd_5_names_the_attribute_as_the_resource_has_it(checkov_batch):
    """A vpc_security_group_ingress_rule has cidr_ipv4, not a security group's cidr_blocks."""
    findings = checkov_findings(checkov_batch, "fixture:CKV_CD_5", "CKV_CD_5")
    failed = {f.resource: f.attribute for f in findings if f.status != Status.PASS}
    assert failed["aws_vpc_security_group_ingress_rule.fail_vpc_rule_postgres"] == "cidr_ipv4"
    assert all(a.endswith("cidr_blocks") or a.endswith("cidr_ipv4") or a.endswith("ipv6_cidr_blocks")
               for a in failed.values()), failed
