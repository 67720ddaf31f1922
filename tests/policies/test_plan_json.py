"""The model written as Terraform plan JSON: what checkov reads is what each environment will contain."""

import json

import pytest

from core.model import load
from policies.plan_json import clean_address, plan_json, references
from tests.helpers import copy_tf
from tests.policies.conftest import envs

SECRET = "Pl4nted-Pa55word-91ab"


@pytest.fixture(scope="module")
def plans(bundled):
    return {env: plan_json(model) for env, model in bundled.items()}


def resources(plan):
    return {r["address"]: r for r in plan["planned_values"]["root_module"]["resources"]}


def changes(plan):
    return {c["address"]: c["change"] for c in plan["resource_changes"]}


def test_shape_of_terraform_show_json(plans, bundled):
    for env, plan in plans.items():
        assert plan["format_version"].startswith("1.")
        assert set(resources(plan)) == {clean_address(a) for a in bundled[env].resources}
        assert set(changes(plan)) == set(resources(plan))
        blocks = {r["address"] for r in plan["configuration"]["root_module"]["resources"]}
        assert "aws_instance.blue" in blocks and "data.aws_ssm_parameter.al2023_ami" in blocks
        assert plan["variables"]["environment"]["value"] == env


def test_workspace_is_evaluated(plans):
    assert "aws_lb_listener.https[0]" in resources(plans["production"])
    assert "aws_lb_listener.https[0]" not in resources(plans["staging"])
    assert resources(plans["staging"])["aws_db_instance.main"]["values"]["deletion_protection"] is False
    assert resources(plans["production"])["aws_db_instance.main"]["values"]["deletion_protection"] is True


def test_unknown_values_are_left_out_and_marked(plans):
    plan = plans["staging"]
    values = resources(plan)["aws_instance.blue[0]"]["values"]
    after_unknown = changes(plan)["aws_instance.blue[0]"]["after_unknown"]
    assert "ami" not in values and after_unknown["ami"] is True
    assert "subnet_id" not in values and after_unknown["subnet_id"] is True
    assert values["instance_type"] == "t3.micro"


def test_references_connect_resources_for_checkov_graph_checks(plans):
    conf = {r["address"]: r for r in plans["staging"]["configuration"]["root_module"]["resources"]}
    bucket = conf["aws_s3_bucket_versioning.uploads"]["expressions"]["bucket"]
    assert bucket["references"][-1] == "aws_s3_bucket.uploads"
    groups = conf["aws_instance.blue"]["expressions"]["vpc_security_group_ids"]
    assert "aws_security_group.app.id" in groups["references"]
    assert references('${aws_lb_target_group.app["blue"]}') == ['aws_lb_target_group.app["blue"].id',
                                                                 'aws_lb_target_group.app["blue"]',
                                                                 "aws_lb_target_group.app"]
    assert references("${var.db_password}") == []


def test_tags_all_merges_default_tags_where_types_take_tags(plans):
    staging = resources(plans["staging"])
    assert staging["aws_s3_bucket.uploads"]["values"]["tags_all"] == {
        "Environment": "staging", "ManagedBy": "terraform", "Project": "codedetect",
        "Name": "codedetect-staging-uploads-2025"}
    assert staging["aws_lb_listener.http[0]"]["values"]["tags_all"]["Environment"] == "staging"
    assert "tags_all" not in staging["aws_s3_bucket_versioning.uploads"]["values"]


def test_no_secret_reaches_the_plan(tmp_path):
    tf = copy_tf(tmp_path)
    (tf / "staging.tfvars").write_text((tf / "staging.tfvars").read_text() + f'db_password = "{SECRET}"\n')
    model = load(tf, envs(tf)["staging"])
    plan = plan_json(model)
    assert SECRET not in json.dumps(plan)
    db = resources(plan)["aws_db_instance.main"]
    assert "password" not in db["values"] and db["sensitive_values"]["password"] is True


def test_checkov_reads_a_real_plan_without_its_secrets(tmp_path, bundled):
    """With --plan-json, checkov scans Terraform's own plan (references and all), minus every sensitive value."""
    from dataclasses import replace

    from policies.checkov_run import write_plans

    doc = plan_json(bundled["staging"])  # stands in for `terraform show -json`, which holds secrets in clear
    db = resources(doc)["aws_db_instance.main"]
    db["values"]["password"] = SECRET
    change = changes(doc)["aws_db_instance.main"]
    change["after"] = {**change["after"], "password": SECRET}
    change["after_sensitive"] = {"password": True}
    doc["variables"] = {"db_password": {"value": SECRET}}
    doc["prior_state"] = {"values": {"root_module": {"resources": [{"values": {"password": SECRET}}]}}}
    plan = tmp_path / "staging.plan.json"
    plan.write_text(json.dumps(doc))
    model = replace(bundled["staging"], env=replace(bundled["staging"].env, plan_json=str(plan)))
    out = tmp_path / "out"
    out.mkdir()
    assert write_plans({"staging": model}, out) == {"staging.json": "staging"}
    written = json.loads((out / "staging.json").read_text())
    assert SECRET not in json.dumps(written)
    assert set(resources(written)) == set(resources(doc)) and written["configuration"] == doc["configuration"]
    assert resources(written)["aws_db_instance.main"]["values"]["instance_class"] == "db.t3.micro"


def test_plan_links_resources_through_its_configuration(tmp_path, bundled):
    """A real plan leaves computed ids unknown; the model links them back to resources through the
    plan's `configuration` references, so the cross-resource policies still decide."""
    from core.findings import Status
    from core.model import load_plan
    from policies import rules
    from tests.policies.conftest import context

    plan = tmp_path / "staging.plan.json"
    plan.write_text(json.dumps(plan_json(bundled["staging"])))
    model = load_plan(plan, bundled["staging"].env)
    models = {"staging": model, "production": bundled["production"]}
    for policy in (rules.s3_protected, rules.db_only_from_app):
        assert {f.status for f in policy(model, context(models))} == {Status.PASS}, policy.__name__


def test_plan_without_references_is_unknown_not_pass(tmp_path, bundled):
    """Without references in the plan's configuration the model cannot link a bucket's settings or a
    database's security group to their resources: the policies say UNKNOWN (which fails), never PASS."""
    from core.findings import Status
    from core.model import load_plan
    from policies import rules
    from tests.policies.conftest import context

    doc = plan_json(bundled["staging"])
    for block in doc["configuration"]["root_module"]["resources"]:
        block["expressions"] = {}
    plan = tmp_path / "staging.plan.json"
    plan.write_text(json.dumps(doc))
    model = load_plan(plan, bundled["staging"].env)
    models = {"staging": model, "production": bundled["production"]}
    for policy in (rules.s3_protected, rules.db_only_from_app):
        statuses = {f.status for f in policy(model, context(models))}
        assert statuses == {Status.UNKNOWN}, policy.__name__
