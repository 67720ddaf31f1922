"""The plan loader on real plans of terraform/ (made here by real Terraform against moto), and each of its
rules shown necessary by a plan that breaks it."""

import copy
import json

import pytest

from core.findings import Status
from core.model import is_sensitive, is_unknown, load_plan
from parity.engine import Comparison
from tests.helpers import CONTRACT, TF_DIR

pytestmark = pytest.mark.slow


def doc_of(real, env):
    return json.loads(real.paths[env].read_text())


def reload(tmp_path, real, env, doc, **kw):
    path = tmp_path / f"{env}.plan.json"
    path.write_text(json.dumps(doc))
    return load_plan(path, real.exact[env].env, tf_dir=TF_DIR, **kw)


# Instances the fast evaluator cannot see (issue 8: for_each over a value known only after apply, the ACM
# validation pattern); real Terraform plans them because the provider knows the certificate's domains.
FAST_MISSES = {"production": {'aws_route53_record.cert_validation["codedetect.example.com"]'}, "staging": set()}


def test_every_resource_and_data_source_is_planned_as_the_fast_evaluator_says(real):
    for env in ("staging", "production"):
        exact, fast = set(real.exact[env].resources), set(real.fast[env].resources)
        assert fast <= exact, (env, fast - exact)
        assert exact - fast <= FAST_MISSES[env], (env, exact - fast)
        assert real.exact[env].source == f"terraform:{TF_DIR}"


def test_data_sources_read_during_plan_are_in_the_model(real, tmp_path):
    """A real plan lists data sources read while planning only in prior_state."""
    doc = doc_of(real, "staging")
    planned = {r["address"] for r in doc["planned_values"]["root_module"]["resources"]}
    assert "data.aws_ssm_parameter.al2023_ami" not in planned  # where the old loader looked
    ami = real.exact["staging"].resources["data.aws_ssm_parameter.al2023_ami"]
    assert ami.mode == "data" and ami.file == "compute.tf" and ami.line > 0
    assert is_sensitive(ami.values["value"]) and ami.values["type"] == "String"
    doc["prior_state"] = {}
    assert "data.aws_ssm_parameter.al2023_ami" not in reload(tmp_path, real, "staging", doc).resources


def test_references_inside_nested_blocks_come_from_the_configuration(real, tmp_path):
    """A security group's ingress rule names its source group only in `configuration` (the plan says unknown)."""
    from policies import rules
    from tests.policies.conftest import context

    for env, model in real.exact.items():
        db = model.resources["aws_security_group.db"]
        assert db.values["ingress"][0]["security_groups"] == "${aws_security_group.app}", env
        found = rules.db_only_from_app(model, context(real.exact))
        assert {f.status for f in found} == {Status.PASS}, [f.one_line() for f in found]
    doc = doc_of(real, "staging")
    for block in doc["configuration"]["root_module"]["resources"]:
        if block["address"] == "aws_security_group.db":
            block["expressions"].pop("ingress")
    # without the configuration's references the fast evaluator's expression stands in ...
    model = reload(tmp_path, real, "staging", doc)
    assert model.resources["aws_security_group.db"].values["ingress"][0]["security_groups"] == \
        real.fast["staging"].resources["aws_security_group.db"].values["ingress"][0]["security_groups"]
    # ... and without both, the source group is unknown: the policy says UNKNOWN, never PASS
    from dataclasses import replace

    fast = real.fast["staging"]
    fast = replace(fast, resources={a: r for a, r in fast.resources.items() if a != "aws_security_group.db"})
    model = reload(tmp_path, real, "staging", doc, fast=fast)
    assert model.resources["aws_security_group.db"].values["ingress"][0]["security_groups"] == "${unknown}"
    found = rules.db_only_from_app(model, context({**real.exact, "staging": model}))
    assert Status.UNKNOWN in {f.status for f in found} and Status.PASS not in {f.status for f in found}


def test_hashed_user_data_is_compared_as_its_text(real, tmp_path):
    """The plan holds SHA-1(user_data), different per environment; the text whose SHA-1 it is comes back."""
    doc = doc_of(real, "staging")
    raw = next(r for r in doc["planned_values"]["root_module"]["resources"] if r["address"] == "aws_instance.blue[0]")
    assert len(raw["values"]["user_data"]) == 40
    for env in ("staging", "production"):
        text = real.exact[env].resources["aws_instance.blue[0]"].values["user_data"]
        assert text == real.fast[env].resources["aws_instance.blue[0]"].values["user_data"]
        assert "docker run" in text
    contract = __import__("core.contract", fromlist=["load_contract"]).load_contract(CONTRACT, TF_DIR)
    norm = contract.normaliser("staging")
    assert norm(real.exact["staging"].resources["aws_instance.blue[0]"].values["user_data"]) == \
        real.exact["production"].resources["aws_instance.blue[0]"].values["user_data"]


def test_a_text_that_does_not_hash_to_the_plan_is_never_used(real, tmp_path):
    """When the fast evaluator's text is not what Terraform hashed, the hash stays (and differs): never a
    false equal."""
    from dataclasses import replace

    fast = real.fast["staging"]
    blue = fast.resources["aws_instance.blue[0]"]
    wrong = replace(blue, values={**blue.values, "user_data": blue.values["user_data"] + "# not what terraform saw\n"})
    fast = replace(fast, resources={**fast.resources, "aws_instance.blue[0]": wrong})
    model = reload(tmp_path, real, "staging", doc_of(real, "staging"), fast=fast)
    value = model.resources["aws_instance.blue[0]"].values["user_data"]
    assert len(value) == 40 and "docker" not in value


def test_sensitive_values_are_compared_without_being_revealed(real, tmp_path):
    def with_password(secret):
        doc = doc_of(real, "staging")
        doc["variables"]["db_password"]["value"] = secret
        for r in doc["planned_values"]["root_module"]["resources"]:
            if r["address"] == "aws_db_instance.main":
                r["values"]["password"] = secret
        return doc

    a1 = reload(tmp_path, real, "staging", with_password("Hunter2-first-Secret"))
    a2 = reload(tmp_path, real, "staging", with_password("Hunter2-first-Secret"))
    b = reload(tmp_path, real, "staging", with_password("Hunter2-other-Secret"))
    pw = [m.resources["aws_db_instance.main"].values["password"] for m in (a1, a2, b)]
    assert all(is_sensitive(p) for p in pw)
    assert pw[0] == pw[1] and pw[0] != pw[2]  # equal / differs, and nothing more
    assert a1.variables["db_password"].value == a2.variables["db_password"].value != b.variables["db_password"].value
    for m in (a1, b):
        assert "Hunter2" not in repr(m)

    # the gate shows the difference with both values hidden
    production = reload(tmp_path, real, "production", with_password("Hunter2-first-Secret") | {
        "variables": {**doc_of(real, "production")["variables"],
                      "db_password": {"value": "Hunter2-first-Secret"}}})
    comparison = Comparison.build(__import__("core.contract", fromlist=["x"]).load_contract(CONTRACT, TF_DIR),
                                  {"production": production, "staging": b})
    var = [v for v in comparison.verdicts if v.diff.address == "var.db_password"]
    assert var and not var[0].allowed
    assert is_sensitive(var[0].diff.reference) and is_sensitive(var[0].diff.other)


def test_required_variable_gets_a_placeholder_that_is_never_shown(real):
    for model in real.exact.values():
        var = model.variables["db_password"]
        assert var.sensitive and is_sensitive(var.value)
        assert "codedetect-placeholder" not in repr(model)
        assert is_sensitive(model.resources["aws_db_instance.main"].values["password"])


def test_unknown_values_name_what_they_are_computed_from(real):
    blue = real.exact["staging"].resources["aws_instance.blue[0]"].values
    assert blue["subnet_id"] == "${aws_subnet.public}"
    assert blue["vpc_security_group_ids"] == "${aws_security_group.app}"  # the plan knows no list length
    assert not is_unknown(blue["instance_type"])


MODULE_ROOT = {
    "main.tf": '''terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}

provider "aws" {
  region = "us-east-1"
}

module "store" {
  source = "./modules/store"
  name   = "codedetect-${terraform.workspace}-files"
}
''',
    "modules/store/main.tf": '''variable "name" {
  type = string
}

data "aws_region" "here" {}

resource "aws_s3_bucket" "this" {
  bucket = var.name
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}
''',
}


def test_module_resources_have_terraform_addresses_and_their_configuration(tmp_path):
    from core.exact import exact_models
    from core.model import EnvSpec

    root = tmp_path / "root"
    for name, text in MODULE_ROOT.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    plans = tmp_path / "plans"
    plans.mkdir()
    model = exact_models(root, {"staging": EnvSpec("staging", "staging")}, plans)["staging"]
    bucket = model.resources["module.store.aws_s3_bucket.this"]
    assert (bucket.type, bucket.name, bucket.mode) == ("aws_s3_bucket", "this", "managed")
    assert bucket.values["bucket"] == "codedetect-staging-files"
    assert (bucket.file, bucket.line) == ("modules/store/main.tf", 7)
    assert bucket.configured == frozenset({"bucket"})
    versioning = model.resources["module.store.aws_s3_bucket_versioning.this"]
    assert versioning.values["bucket"] == "${module.store.aws_s3_bucket.this}"  # relative to its module
    assert model.resources["module.store.data.aws_region.here"].values["name"] == "us-east-1"


def test_plan_without_configuration_still_loads(real, tmp_path):
    doc = copy.deepcopy(doc_of(real, "production"))
    doc.pop("configuration")
    model = reload(tmp_path, real, "production", doc)
    assert set(model.resources) == set(real.exact["production"].resources)


def test_an_unknown_the_configuration_cannot_name_is_what_the_hcl_computes_it_from(real, tmp_path):
    """`dimensions = each.value.dimensions` (from a local): the plan says unknown and its configuration names no
    resource; one `${unknown}` in every environment would hide a blue/green difference, so the fast evaluator's
    expression stands in for it."""
    alarm = 'aws_cloudwatch_metric_alarm.this["unhealthy_hosts"]'
    for env in ("staging", "production"):
        dims = real.exact[env].resources[alarm].values["dimensions"]
        assert dims == real.fast[env].resources[alarm].values["dimensions"], env
        assert dims["TargetGroup"] == '${aws_lb_target_group.app["blue"].arn_suffix}'
    from dataclasses import replace

    fast = real.fast["staging"]  # without the fast evaluator's expression it stays unknown, never invented
    r = fast.resources[alarm]
    fast = replace(fast, resources={**fast.resources, alarm: replace(r, values={**r.values, "dimensions": None})})
    model = reload(tmp_path, real, "staging", doc_of(real, "staging"), fast=fast)
    assert model.resources[alarm].values["dimensions"] == "${unknown}"
