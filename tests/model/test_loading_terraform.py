"""Real Terraform is the oracle of the loading rules: the corpus planned by terraform (offline, against moto)
gives the same resources, addresses and values as the fast model, in both environments.

What the corpus (tests/corpus/loading/shop) exercises: terraform.tfvars < *.auto.tfvars < *.auto.tfvars.json <
the contract's var file; override.tf and *_override.tf (an argument, a nested block type, a local value, a
variable's default); a .tf.json file; child modules with for_each, count and a nested module; data sources in
modules; a JSON override file (zz_ops_override.tf.json).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core import terraform
from core.model import EnvSpec, is_unknown, load_hcl

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "loading" / "shop"
ENVS = {"production": EnvSpec("production", "default", (), "production"),
        "staging": EnvSpec("staging", "staging", ("staging.tfvars",), "staging")}
# `terraform init -get=false` (core/terraform.py) needs the module manifest even for local modules: this is
# what `terraform init` writes for the corpus.
MODULES_JSON = {"Modules": [
    {"Key": "", "Source": "", "Dir": "."},
    {"Key": "web", "Source": "./modules/web", "Dir": "modules/web"},
    {"Key": "web.logs", "Source": "./modules/logs", "Dir": "modules/web/modules/logs"},
    {"Key": "worker", "Source": "./modules/web", "Dir": "modules/web"},
    {"Key": "worker.logs", "Source": "./modules/logs", "Dir": "modules/web/modules/logs"},
]}

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(terraform.unavailable_reason() is not None,
                                 reason=f"real Terraform unavailable: {terraform.unavailable_reason()}")]


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> dict[str, dict]:
    from moto.server import ThreadedMotoServer

    root = tmp_path_factory.mktemp("oracle") / "shop"
    shutil.copytree(CORPUS, root)
    (root / ".terraform" / "modules").mkdir(parents=True)
    (root / ".terraform" / "modules" / "modules.json").write_text(json.dumps(MODULES_JSON))
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{server._server.server_port}"
        with terraform.Workdir(root, endpoint) as wd:
            return {name: wd.plan(env.workspace, env.var_files) for name, env in ENVS.items()}
    finally:
        server.stop()


@pytest.fixture(scope="module")
def models():
    return {name: load_hcl(CORPUS, env) for name, env in ENVS.items()}


def _data_addresses(module: dict) -> set[str]:
    found = {r["address"] for r in module.get("resources", []) if r.get("mode") == "data"}
    for child in module.get("child_modules", []):
        found |= _data_addresses(child)
    return found


def _mismatches(model_value, plan_value, unknown, path: str) -> list[str]:
    """Where the model's known value disagrees with Terraform's (values Terraform only knows after apply, and the
    provider defaults a plan adds, are not compared)."""
    if is_unknown(model_value) or unknown is True:
        return []
    if isinstance(model_value, dict) and isinstance(plan_value, dict):
        return [m for k, v in model_value.items()
                for m in _mismatches(v, plan_value.get(k), unknown.get(k) if isinstance(unknown, dict) else None,
                                     f"{path}.{k}")]
    if isinstance(model_value, list) and isinstance(plan_value, list) and len(model_value) == len(plan_value):
        return [m for i, (a, b) in enumerate(zip(model_value, plan_value, strict=True))
                for m in _mismatches(a, b, unknown[i] if isinstance(unknown, list) and i < len(unknown) else None,
                                     f"{path}[{i}]")]
    return [] if model_value == plan_value else [f"{path}: model {model_value!r}, terraform {plan_value!r}"]


@pytest.mark.parametrize("env", sorted(ENVS))
def test_variables_are_terraforms(plans, models, env):
    """Var files in Terraform's order, JSON ones included, and an overridden default."""
    assert {k: v.value for k, v in models[env].variables.items()} == \
        {k: v["value"] for k, v in plans[env]["variables"].items()}


@pytest.mark.parametrize("env", sorted(ENVS))
def test_resources_and_addresses_are_terraforms(plans, models, env):
    plan, model = plans[env], models[env]
    assert set(model.managed()) == {c["address"] for c in plan["resource_changes"] if c["mode"] == "managed"}
    data = {a for a, r in model.resources.items() if r.mode == "data"}
    assert data == _data_addresses(plan["prior_state"]["values"]["root_module"])


@pytest.mark.parametrize("env", sorted(ENVS))
def test_values_are_terraforms(plans, models, env):
    """Every value the model knows is the value Terraform plans (overrides merged, modules' inputs passed)."""
    after = {c["address"]: c["change"]["after"] for c in plans[env]["resource_changes"]}
    unknown = {c["address"]: c["change"]["after_unknown"] for c in plans[env]["resource_changes"]}
    problems = [m for address, r in models[env].managed().items()
                for m in _mismatches(dict(r.values), after[address], unknown[address], address)]
    assert problems == []
    # the values the loading rules decide, named so that a regression reads plainly
    assert after["aws_db_instance.main"]["instance_class"] == "db.r6g.large"  # override.tf
    assert [i["description"] for i in after["aws_security_group.app"]["ingress"]] == ["https only"]
    assert after["aws_sqs_queue.orders"]["message_retention_seconds"] == 86400  # .tf.json + overridden default
    assert [i["from_port"] for i in after["aws_security_group.internal"]["ingress"]] == [9443]  # static wins
    assert sorted(i["from_port"] for i in after["aws_security_group.metrics"]["ingress"]) == [9100, 9200]
    assert after["aws_security_group.admin"]["ingress"][0]["cidr_blocks"] == ["10.20.0.0/16"]  # overridden local
    assert after["aws_security_group.admin"]["tags"] == {"Access": "vpn", "Name": f"shop-{env}-admin"}  # JSON


def test_provider_region_is_terraforms(plans, models):
    for env in ENVS:
        region = plans[env]["configuration"]["provider_config"]["aws"]["expressions"]["region"]
        assert region == {"references": ["var.aws_region"]}
        assert models[env].providers["aws"]["region"] == plans[env]["variables"]["aws_region"]["value"]
