"""Real `terraform show -json` plans (formats 0.1 to 1.1) as an environment's model."""

import json

import pytest

from core.model import SENSITIVE, EnvSpec, is_unknown, load_plan
from tests.helpers import ROOT

PLANS = ROOT / "tests" / "fixtures" / "plan-json"
VALID = sorted(p.name for p in PLANS.glob("*.plan.json") if p.name != "tfjson-invalid.plan.json")
ENV = EnvSpec("staging", "staging")


def planned_addresses(doc: dict) -> set[str]:
    found = set()

    def walk(module):
        found.update(r["address"] for r in module.get("resources", []))
        for child in module.get("child_modules", []):
            walk(child)

    walk(doc["planned_values"]["root_module"])
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
        assert model.outputs[name].value == SENSITIVE


def test_sensitive_resource_attributes_are_masked(tmp_path):
    doc = json.loads((PLANS / "tfjson-120_basic.plan.json").read_text())
    resource = doc["planned_values"]["root_module"]["resources"][0]
    resource.setdefault("values", {})["password"] = "hunter2-do-not-print"
    resource["sensitive_values"] = {"password": True}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    model = load_plan(path, ENV)
    assert model.resources[resource["address"]].values["password"] == SENSITIVE
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
