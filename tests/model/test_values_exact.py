"""Differential: the fast evaluator's values on the value corpus against real Terraform's plan (the oracle).

Wherever Terraform knows a value at plan time the fast model has the same value; wherever Terraform only
knows it after apply, the fast model says unknown (``${...}``), never a guess; and the instances of every
resource block agree (an unknown instance set excepted, which the model states as such).
"""

from __future__ import annotations

import re
import shutil

import pytest

from core import terraform
from core.model import EnvSpec, load_hcl
from tests.model.test_values import CORPUS, PROD, STAGING

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(terraform.unavailable_reason() is not None,
                                 reason=f"exact evaluator unavailable: {terraform.unavailable_reason()}")]


@pytest.fixture(scope="module")
def exact_dir(tmp_path_factory):
    """The corpus without random.tf (the random provider is not in the mirror)."""
    target = tmp_path_factory.mktemp("corpus") / "app"
    shutil.copytree(CORPUS, target, ignore=shutil.ignore_patterns("random.tf"))
    return target


@pytest.fixture(scope="module")
def plans(exact_dir):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{server._server.server_port}"
        with terraform.Workdir(exact_dir, endpoint) as wd:
            yield {"production": wd.plan("default"), "staging": wd.plan("staging", ["staging.tfvars"])}
    finally:
        server.stop()


def _env(name: str) -> EnvSpec:
    return PROD if name == "production" else STAGING


@pytest.mark.parametrize("env", ["production", "staging"])
def test_outputs_agree_with_terraform(plans, exact_dir, env):
    model = load_hcl(exact_dir, _env(env))
    planned = plans[env]["planned_values"].get("outputs", {})
    unknown = {k for k, c in plans[env].get("output_changes", {}).items() if c.get("after_unknown") is True}
    assert set(model.outputs) == set(planned) | unknown
    for name, output in model.outputs.items():
        if name in unknown:
            assert "${" in str(output.value), f"output {name}: Terraform knows it only after apply"
        else:
            assert output.value == planned[name]["value"], f"output {name}"


@pytest.mark.parametrize("env", ["production", "staging"])
def test_instances_agree_with_terraform(plans, exact_dir, env):
    model = load_hcl(exact_dir, _env(env))
    planned = {c["address"] for c in plans[env]["resource_changes"]}
    read = ((plans[env].get("prior_state") or {}).get("values") or {}).get("root_module") or {}
    planned |= {r["address"] for r in read.get("resources", [])}  # data sources read during plan
    for address, block in model.blocks.items():
        exact = {a for a in planned if re.sub(r"\[[^\]]*\]$", "", a) == address}
        if block.unknown:
            assert not block.instances  # stated as unknown; Terraform may know more (here: the ACM records)
            continue
        assert set(block.instances) == exact, address


@pytest.mark.parametrize("env", ["production", "staging"])
def test_known_values_agree_and_unknowns_are_said(plans, exact_dir, env):
    model = load_hcl(exact_dir, _env(env))
    changes = {c["address"]: c["change"] for c in plans[env]["resource_changes"]}
    checked = 0
    for address, resource in model.resources.items():
        if resource.mode != "managed":
            continue
        after, unknown = changes[address]["after"] or {}, changes[address]["after_unknown"] or {}
        for key, value in resource.values.items():
            if (key not in after and key not in unknown) or key == "user_data":  # user_data: a hash in plans
                continue
            if unknown.get(key) is True:
                assert "${" in str(value), f"{address}.{key}: Terraform knows it only after apply, model {value!r}"
            elif isinstance(value, str) and "${" in value:
                continue  # the model is less sure than Terraform (a data source Terraform read): never wrong
            elif not isinstance(unknown.get(key), dict | list):
                assert after[key] == value, f"{address}.{key}"
            checked += 1
    assert checked > 10
