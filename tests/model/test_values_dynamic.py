"""`dynamic` blocks in any order and nested are evaluated (tfparse alone drops or truncates them), checked
against real Terraform's plan of tests/corpus/values/dynamic/."""

from __future__ import annotations

import json
import shutil

import pytest

from core import terraform
from core.model import EnvSpec, load_hcl
from tests.helpers import TF_DIR, copy_tf, mutate

from .test_values import CORPUS as VALUES_CORPUS

CORPUS = VALUES_CORPUS.parent / "dynamic"
PROD = EnvSpec("production", "default", (), "production")
STAGING = EnvSpec("staging", "staging", ("staging.tfvars",), "staging")


@pytest.fixture(scope="module")
def models():
    return {"production": load_hcl(CORPUS, PROD), "staging": load_hcl(CORPUS, STAGING)}


def test_dynamic_followed_by_a_static_block_keeps_every_expansion(models):
    ingress = models["production"].resources["aws_security_group.web"].values["ingress"]
    assert [(r["description"], r["from_port"]) for r in ingress] == [
        ("public http", 80), ("public https", 443), ("health checks", 8080)]  # source order


def test_dynamic_inside_a_static_block_is_not_dropped(models):
    prod = models["production"].resources["aws_lb_listener.http"].values["default_action"][0]
    assert prod["redirect"] == [{"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}]
    assert "fixed_response" not in prod
    stg = models["staging"].resources["aws_lb_listener.http"].values["default_action"][0]
    assert stg["fixed_response"] == [{"content_type": "text/plain", "message_body": "ok", "status_code": "200"}]


def test_dynamic_inside_a_dynamic_block_with_an_iterator(models):
    rules = models["production"].resources["aws_s3_bucket_lifecycle_configuration.logs"].values["rule"]
    assert [r["id"] for r in rules] == ["logs", "tmp"]
    assert rules[0]["transition"] == [{"days": 30, "storage_class": "STANDARD_IA"},
                                      {"days": 90, "storage_class": "GLACIER"}]
    assert rules[0]["filter"] == [{"prefix": "logs/"}] and rules[0]["expiration"] == [{"days": 365}]
    assert "transition" not in rules[1]


def test_expanded_blocks_have_their_source_lines(models):
    r = models["production"].resources["aws_s3_bucket_lifecycle_configuration.logs"]
    text = (CORPUS / "main.tf").read_text().splitlines()
    assert 'dynamic "rule"' in text[r.line_of("rule[1].id") - 1]
    assert 'dynamic "transition"' in text[r.line_of("rule[0].transition[1].days") - 1]


def test_dynamic_over_a_value_known_after_apply_is_unknown(tmp_path):
    (tmp_path / "main.tf").write_text('''data "aws_subnets" "all" {}
resource "aws_security_group" "x" {
  name = "x"
  dynamic "ingress" {
    for_each = data.aws_subnets.all.ids
    content {
      from_port = 1
      to_port   = 1
      protocol  = "tcp"
    }
  }
}
''')
    value = load_hcl(tmp_path, PROD).resources["aws_security_group.x"].values["ingress"]
    assert value == "${dynamic ingress: for_each = data.aws_subnets.all.ids}"


def test_nested_dynamic_on_terraform_dir_is_evaluated(tmp_path):
    """The old refusal (tests/parity/test_bad_input.py): now the redirect is evaluated, not dropped."""
    tf = copy_tf(tmp_path)
    mutate(tf / "alb.tf", '''    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }''', '''    dynamic "redirect" {
      for_each = [1]
      content {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }''')
    before = load_hcl(TF_DIR, PROD).resources["aws_lb_listener.http_redirect[0]"].values
    assert load_hcl(tf, PROD).resources["aws_lb_listener.http_redirect[0]"].values == before


def test_static_block_after_dynamic_on_terraform_dir(tmp_path):
    tf = copy_tf(tmp_path)
    mutate(tf / "security_groups.tf", '''  tags = { Name = "${local.name}-alb" }''', '''  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["10.0.0.0/16"]
  }

  tags = { Name = "${local.name}-alb" }''')
    values = load_hcl(tf, PROD).resources["aws_security_group.alb"].values
    assert [r["from_port"] for r in values["ingress"]] == [80, 443]
    assert [r["from_port"] for r in values["egress"]] == [5000, 0]


def test_user_files_are_never_written(tmp_path):
    target = tmp_path / "dynamic"
    shutil.copytree(CORPUS, target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    load_hcl(target, STAGING)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before


# --------------------------------------------------------------------------- against real Terraform


@pytest.fixture(scope="module")
def plans():
    from moto.server import ThreadedMotoServer

    reason = terraform.unavailable_reason()
    if reason:
        pytest.skip(f"exact evaluator unavailable: {reason}")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        with terraform.Workdir(CORPUS, f"http://127.0.0.1:{server._server.server_port}") as wd:
            yield {"production": wd.plan("default"), "staging": wd.plan("staging", ["staging.tfvars"])}
    finally:
        server.stop()


def _project(model_value, planned):
    """The planned value restricted to what the model has (a plan adds provider defaults)."""
    if isinstance(model_value, dict) and isinstance(planned, dict):
        return {k: _project(v, planned.get(k)) for k, v in model_value.items()}
    if isinstance(model_value, list) and isinstance(planned, list):
        if len(model_value) != len(planned):
            return planned
        return [_project(m, p) for m, p in zip(model_value, planned, strict=True)]
    return planned


def _canon(blocks):
    return sorted(json.dumps(b, sort_keys=True) for b in blocks)


@pytest.mark.slow
@pytest.mark.parametrize("env", ["production", "staging"])
@pytest.mark.parametrize(("address", "key", "ordered"), [
    ("aws_security_group.web", "ingress", False),  # a set in the provider schema
    ("aws_security_group.web", "egress", False),
    ("aws_s3_bucket_lifecycle_configuration.logs", "rule", True),
    ("aws_lb_listener.http", "default_action", True),
])
def test_blocks_agree_with_terraform(plans, models, env, address, key, ordered):
    change = next(c["change"] for c in plans[env]["resource_changes"] if c["address"] == address)
    planned = list(change["after"][key])
    mine = models[env].resources[address].values[key]
    if not ordered:
        planned = sorted(planned, key=lambda b: json.dumps(_project(mine[0], b), sort_keys=True))
        mine = sorted(mine, key=lambda b: json.dumps(b, sort_keys=True))
    assert len(mine) == len(planned)
    projected = [_project(m, p) for m, p in zip(mine, planned, strict=True)]
    # empty nested lists in the plan are blocks the model leaves out
    assert (_canon(projected) if not ordered else projected) == (_canon(mine) if not ordered else mine)
    for m, p in zip(mine, planned, strict=True):
        for nested, value in p.items():
            if isinstance(value, list) and value and isinstance(value[0], dict) and nested not in m:
                pytest.fail(f"{address}.{key}: Terraform has {nested} blocks the model lost: {value}")
