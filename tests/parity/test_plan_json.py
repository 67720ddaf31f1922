"""Real `terraform show -json` plans (formats 0.1 to 1.1) as an environment's model."""

import json

import pytest

from core.model import EnvSpec, is_sensitive, is_unknown, load_plan
from tests.exact.plans import needs_terraform
from tests.helpers import ROOT

PLANS = ROOT / "tests" / "fixtures" / "plan-json"
VALID = sorted(p.name for p in PLANS.glob("*.plan.json") if p.name != "tfjson-invalid.plan.json")
ENV = EnvSpec("staging", "staging")


def planned_addresses(doc: dict) -> set[str]:
    """Every resource the plan plans, and every data source it read while planning (in prior_state)."""
    found = set()

    def walk(module, data_only=False):
        found.update(r["address"] for r in module.get("resources", []) if not data_only or r["mode"] == "data")
        for child in module.get("child_modules", []):
            walk(child, data_only)

    walk(doc["planned_values"]["root_module"])
    walk(((doc.get("prior_state") or {}).get("values") or {}).get("root_module") or {}, data_only=True)
    return found


@pytest.mark.parametrize("name", VALID)
def test_every_planned_resource_is_in_the_model(name):
    doc = json.loads((PLANS / name).read_text())
    model = load_plan(PLANS / name, ENV)
    assert set(model.resources) == planned_addresses(doc)
    assert model.source == f"plan:{PLANS / name}"
    for address, r in model.resources.items():
        assert address.endswith(f"{r.type}.{r.name}") or f"{r.type}.{r.name}[" in address


def test_modules_keep_their_full_address():
    model = load_plan(PLANS / "tfjson-deep_module.plan.json", ENV)
    assert list(model.resources) == ["module.foo.module.bar.null_resource.baz"]


def test_count_and_for_each_instances():
    model = load_plan(PLANS / "tfc-test_issue-456.plan.json", ENV)
    assert 'aws_iam_role.test_iam_role["repository_1"]' in model.resources
    model = load_plan(PLANS / "tfjson-120_basic.plan.json", ENV)
    assert {"null_resource.baz[0]", "null_resource.baz[1]", "null_resource.baz[2]"} <= set(model.resources)


def test_values_known_only_after_apply_are_marked_unknown():
    doc = json.loads((PLANS / "tfjson-120_basic.plan.json").read_text())
    model = load_plan(PLANS / "tfjson-120_basic.plan.json", ENV)
    for change in doc["resource_changes"]:
        for key, unknown in (change["change"].get("after_unknown") or {}).items():
            if unknown is True and change["address"] in model.resources:
                assert is_unknown(model.resources[change["address"]].values[key])


def test_sensitive_values_never_enter_the_model():
    path = PLANS / "tfjson-110_sensitive_values.plan.json"
    doc = json.loads(path.read_text())
    model = load_plan(path, ENV)
    sensitive_outputs = {k for k, o in doc["planned_values"]["outputs"].items() if o.get("sensitive")}
    assert sensitive_outputs
    for name in sensitive_outputs:
        assert is_sensitive(model.outputs[name].value)


def test_sensitive_resource_attributes_are_masked(tmp_path):
    doc = json.loads((PLANS / "tfjson-120_basic.plan.json").read_text())
    resource = doc["planned_values"]["root_module"]["resources"][0]
    resource.setdefault("values", {})["password"] = "hunter2-do-not-print"
    resource["sensitive_values"] = {"password": True}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    model = load_plan(path, ENV)
    assert is_sensitive(model.resources[resource["address"]].values["password"])
    assert "hunter2" not in repr(model)


def test_explicit_nulls_are_kept():
    model = load_plan(PLANS / "tfjson-explicit_null.plan.json", ENV)
    assert model.resources


def test_plan_resources_point_at_their_tf_source(tmp_path):
    (tmp_path / "main.tf").write_text('resource "null_resource" "bar" {}\n\nresource "null_resource" "baz" {\n}\n')
    model = load_plan(PLANS / "tfjson-120_basic.plan.json", ENV, tf_dir=tmp_path)
    assert (model.resources["null_resource.bar"].file, model.resources["null_resource.bar"].line) == ("main.tf", 1)
    assert model.resources["null_resource.baz[1]"].line == 3


def test_the_fixtures_are_the_shared_ones():
    """tests/fixtures/plan-json is a copy of shared/fixtures/plan-json: keep them identical when both exist."""
    shared = ROOT.parent / "shared" / "fixtures" / "plan-json"
    if not shared.is_dir():
        pytest.skip("shared/ is not beside this checkout")
    for path in shared.iterdir():
        assert (PLANS / path.name).read_bytes() == path.read_bytes(), path.name


# --------------------------------------------------------------------------- --plan-json in the gate
# Real plans, made here by real Terraform (offline, moto for data sources): tests/exact/plans.py.


@pytest.mark.slow
@needs_terraform
@pytest.mark.xfail(strict=True, reason="known limit: a real plan compared with HCL (one environment from "
                   "--plan-json, the other evaluated) differs in the provider defaults of nested blocks "
                   "(route[0].nat_gateway_id '' vs absent); give every environment a plan, or --evaluator terraform")
def test_gate_passes_with_a_real_plan_for_staging_only():
    from tests.exact.plans import bundled_plans
    from tests.helpers import run_pytest

    result = run_pytest("parity", "-q", "--plan-json", f"staging={bundled_plans().paths['staging']}")
    assert result.returncode == 0, result.output


@pytest.mark.slow
@needs_terraform
def test_gate_reads_the_plan_not_the_hcl(tmp_path):
    """The HCL says t3.micro; the real plan for staging (of a copy whose staging.tfvars says t3.small) says
    t3.small: the plan is what is checked, only that row fails, and findings still point at the .tf source."""
    import re

    from core.contract import load_contract
    from core.exact import exact_models
    from tests.exact.plans import bundled_plans
    from tests.helpers import CONTRACT, TF_DIR, copy_tf, run_pytest

    tf = copy_tf(tmp_path)
    (tf / "staging.tfvars").write_text((tf / "staging.tfvars").read_text() + 'instance_type = "t3.small"\n')
    staging = load_contract(CONTRACT, tf).environments["staging"]
    plan = exact_models(tf, {"staging": staging}, tmp_path)["staging"].env.plan_json
    result = run_pytest("parity", "-q", "--tf-dir", str(TF_DIR), "--plan-json", f"staging={plan}",
                        "--plan-json", f"production={bundled_plans().paths['production']}")
    assert result.returncode == 1
    failed = set(re.findall(r"^FAILED parity/test_parity\.py::(test_\w+(?:\[[^\]]*\])?)", result.output, re.M))
    assert failed == {"test_different[Instance Type]", "test_document[Instance Type]"}, result.output
    assert "production: t3.micro, staging: t3.small" in result.output
    assert "terraform/compute.tf:" in result.output


@pytest.mark.slow
@needs_terraform
def test_gate_with_real_plans_for_both_environments(tmp_path):
    from tests.exact.plans import bundled_plans
    from tests.helpers import run_pytest

    paths = bundled_plans().paths
    result = run_pytest("-m", "not live", "parity", "policies", "-q", "--report-dir", str(tmp_path),
                        "--plan-json", f"staging={paths['staging']}",
                        "--plan-json", f"production={paths['production']}")
    assert result.returncode == 0, result.output
    assert json.loads((tmp_path / "parity.json").read_text())["run"]["evaluators"] == {
        "production": "plan-json", "staging": "plan-json"}
