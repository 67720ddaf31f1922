"""Value soundness of the fast evaluator (issue 8): each trap of tfparse has a test that fails without its fix."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from core import hcl
from core.errors import SuiteError
from core.model import UNKNOWN_INSTANCES, EnvSpec, _tfvars_names, load_hcl
from tests.helpers import TF_DIR, copy_tf, mutate, run_pytest

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "values" / "app"
PROD = EnvSpec("production", "default", (), "production")
STAGING = EnvSpec("staging", "staging", ("staging.tfvars",), "staging")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def corpus():
    return {"production": load_hcl(CORPUS, PROD), "staging": load_hcl(CORPUS, STAGING)}


def test_template_with_an_unknown_part_is_evaluated_not_raw(corpus):
    """tfparse returns "${data...}-${var.environment}" verbatim (the same in every environment)."""
    prod, stg = (corpus[e].resources["aws_instance.app"].values["tags"]["Account"] for e in ("production", "staging"))
    assert prod == "${data.aws_caller_identity.me.account_id}-production"
    assert stg == "${data.aws_caller_identity.me.account_id}-staging"


def test_heredoc_mixing_known_and_unknown_parts(corpus):
    value = corpus["staging"].resources["aws_ssm_parameter.bootstrap"].values["value"]
    assert value == ("environment=staging\nsecurity_group=${aws_security_group.app.id}\n"
                     "account=${data.aws_caller_identity.me.account_id}\n")


def test_templatefile_is_evaluated(corpus):
    """tfparse yields null for templatefile(): known parts, functions and directives are evaluated now."""
    user_data = corpus["staging"].resources["aws_instance.app"].values["user_data"]
    assert user_data == ('#!/bin/bash\n# staging instance (workspace staging)\necho "listening on 8080" > /etc/motd\n'
                         'echo "account ${data.aws_caller_identity.me.account_id}" >> /etc/motd\n'
                         'echo "allow 22 for STAGING" >> /etc/motd\necho "allow 443 for STAGING" >> /etc/motd\n'
                         'echo "not production"\necho "${HOME} stays a shell variable"\n')
    prod = corpus["production"].outputs["user_data"].value
    assert prod.startswith("#!/bin/bash\n# production instance") and 'echo "production only"' in prod
    assert 'allow 443 for PRODUCTION' in prod and "allow 80" not in prod


def test_templatefile_with_a_missing_file_is_refused_by_name(tmp_path):
    (tmp_path / "main.tf").write_text('output "x" {\n  value = templatefile("nope.tftpl", {})\n}\n')
    with pytest.raises(SuiteError, match=r"templatefile\(\): no file 'nope.tftpl'"):
        load_hcl(tmp_path, PROD)


def test_random_uuid_and_timestamp_are_deterministic_unknowns(tmp_path):
    (tmp_path / "main.tf").write_text('''resource "random_password" "p" {
  length = 8
}
resource "aws_ssm_parameter" "x" {
  name  = "n"
  type  = "String"
  value = random_password.p.result
  tags  = { Run = "run-${uuid()}", At = timestamp(), Pw = "pw-${random_password.p.result}" }
}
''')
    first, second = (load_hcl(tmp_path, PROD).resources["aws_ssm_parameter.x"].values for _ in range(2))
    assert first == second
    assert first["value"] == "${random_password.p.result}"
    assert first["tags"] == {"Run": "run-${uuid()}", "At": "${timestamp()}", "Pw": "pw-${random_password.p.result}"}


def test_no_tfparse_uuid_reaches_any_value(corpus):
    for model in corpus.values():
        text = json.dumps([r.values for r in model.resources.values()] + [o.value for o in model.outputs.values()])
        assert not UUID.search(text), UUID.search(text)


def test_acm_validation_for_each_is_an_unknown_instance_set(corpus):
    prod = corpus["production"].blocks["aws_route53_record.cert_validation"]
    assert prod.instances == () and prod.reason == UNKNOWN_INSTANCES
    assert "aws_acm_certificate.main[0].domain_validation_options" in prod.expression
    stg = corpus["staging"].blocks["aws_route53_record.cert_validation"]
    assert stg.reason == "for_each is empty"  # (false ? ... : []) is known to be empty
    assert corpus["staging"].blocks["aws_acm_certificate.main"].reason == "count is 0"


@pytest.mark.parametrize("directory", [CORPUS, CORPUS.parent / "dynamic", TF_DIR], ids=["app", "dynamic", "terraform"])
def test_every_resource_block_is_accounted_for(directory):
    written = {f"{b.labels[0]}.{b.labels[1]}" if b.type == "resource" else f"data.{b.labels[0]}.{b.labels[1]}"
               for tf in directory.glob("*.tf") for b in hcl.parse_file(tf).blocks if b.type in ("resource", "data")}
    for env in (PROD, STAGING):
        model = load_hcl(directory, env)
        assert set(model.blocks) == written
        for block in model.blocks.values():
            assert block.instances or block.reason, block
            assert all(a in model.resources for a in block.instances)
        assert {a for b in model.blocks.values() for a in b.instances} == set(model.resources)


def test_parity_sees_an_unknown_instance_set(corpus):
    from parity.engine import entries

    ents = entries(corpus["production"], _bare_contract())
    assert ents["aws_route53_record.cert_validation[*]"]["instances"].startswith("${unknown instance set: for_each")
    assert "aws_route53_record.cert_validation[*]" not in entries(corpus["staging"], _bare_contract())


def _bare_contract():
    class C:
        json_attributes = ()
    return C()


def test_terraform_gate_accounts_for_the_acm_records(tmp_path):
    """terraform/: production's validation records are an unknown set the Domain/SSL row must cover."""
    tf = copy_tf(tmp_path)
    model = load_hcl(tf, PROD)
    assert model.blocks["aws_route53_record.cert_validation"].unknown


def test_non_ascii_identifier_does_not_hide_a_nested_dynamic_block(tmp_path):
    """python-hcl2 could not parse this file and the guard skipped it: the nested dynamic was dropped."""
    (tmp_path / "main.tf").write_text('''locals {
  größe = 443
}
resource "aws_lb_listener" "l" {
  load_balancer_arn = "arn"
  default_action {
    type = "redirect"
    dynamic "redirect" {
      for_each = [local.größe]
      content {
        port = tostring(redirect.value)
      }
    }
  }
}
''', encoding="utf-8")
    action = load_hcl(tmp_path, PROD).resources["aws_lb_listener.l"].values["default_action"][0]
    assert action["redirect"] == [{"port": "443"}]


def test_a_file_the_reader_cannot_parse_is_refused_by_name(tmp_path):
    (tmp_path / "main.tf").write_text('resource "aws_vpc" "v" {\n  cidr_block = "10.0.0.0/16"\n}\n')
    (tmp_path / "bad.tf").write_text('resource "aws_vpc" "w" {\n  cidr_block = "10.0.0.0/16\n}\n')
    with pytest.raises(SuiteError, match=r"bad\.tf:2"):
        load_hcl(tmp_path, PROD)


def test_each_file_is_parsed_once_per_run(tmp_path):
    tf = copy_tf(tmp_path)
    before = hcl.parse_count
    load_hcl(tf, PROD)
    after_one = hcl.parse_count
    load_hcl(tf, STAGING)
    assert after_one - before == len(list(tf.glob("*.tf")))  # every .tf once
    assert hcl.parse_count - after_one == 1  # staging adds only its var file


def test_tfvars_names_ignore_braces_inside_strings(tmp_path):
    path = tmp_path / "x.tfvars"
    path.write_text('a = "{ not a block"\nb = "}}"\nc = <<EOT\n{\nEOT\nd = { e = 1 }\nf = 2 # }\n')
    assert _tfvars_names(path) == [("a", 1), ("b", 2), ("c", 3), ("d", 6), ("f", 7)]


def test_undeclared_var_file_variable_is_a_finding_not_a_stop(tmp_path):
    tf = copy_tf(tmp_path)
    mutate(tf / "staging.tfvars", 'enable_ssl', 'instance_typo = "t3.micro"\nenable_ssl')
    result = run_pytest("parity", "--tf-dir", str(tf), "--report-dir", str(tmp_path / "out"))
    assert result.returncode == 1, result.output  # findings, not a usage error
    assert "FAILED parity/test_parity.py::test_model_warnings" in result.output, result.output
    assert "staging.tfvars:4" in result.output and "'instance_typo' is set but not declared" in result.output
    assert " passed" in result.output  # the rest of the gate ran


@pytest.mark.slow
def test_two_runs_give_identical_parity_findings(tmp_path):
    tf = copy_tf(tmp_path)
    (tf / "extra.tf").write_text('resource "aws_ssm_parameter" "run" {\n  name  = "run"\n  type  = "String"\n'
                                 '  value = "${uuid()}-${timestamp()}-${terraform.workspace}"\n}\n')
    docs = []
    for n in (1, 2):
        out = tmp_path / f"out{n}"
        run_pytest("parity", "--tf-dir", str(tf), "-q", "--report-dir", str(out))
        docs.append(json.loads((out / "parity.json").read_text()))
    findings = [sorted(json.dumps(f, sort_keys=True) for f in _findings(d)) for d in docs]
    assert findings[0] == findings[1]
    assert any("aws_ssm_parameter.run" in f for f in findings[0])  # the workspace-dependent value is seen


def _findings(doc) -> list:
    out = []

    def walk(x):
        if isinstance(x, dict):
            if "status" in x and "check" in x:
                out.append(x)
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(doc)
    return out


def test_var_file_values_are_read_without_python_hcl2(tmp_path):
    """python-hcl2 was most of the evaluation time (issue 12) and skipped what it could not parse."""
    import subprocess
    import sys

    code = ("import sys; from core.model import load_hcl, EnvSpec; "
            "load_hcl('terraform', EnvSpec('s', 'staging', ('staging.tfvars',))); print('hcl2' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=CORPUS.parent.parent.parent.parent)
    assert out.stdout.strip() == "False"


def test_var_file_value_that_is_not_a_constant_is_refused_with_its_line(tmp_path):
    (tmp_path / "main.tf").write_text('variable "a" {\n  default = "x"\n}\nvariable "b" {\n  default = "y"\n}\n')
    (tmp_path / "s.tfvars").write_text('a = "fine"\nb = "${var.a}-x"\n')
    with pytest.raises(SuiteError, match=r"s\.tfvars:2: the value of 'b' is not a constant"):
        load_hcl(tmp_path, EnvSpec("s", "s", ("s.tfvars",)))


def test_a_wrong_part_of_a_map_is_replaced_the_map_kept(tmp_path):
    """tfparse writes null (or raw text) for one part of a map: only that part is unknown, tags stay a map."""
    (tmp_path / "main.tf").write_text('''variable "env" {
  default = "prod"
}
data "aws_caller_identity" "me" {}
locals {
  common = { Env = var.env, Team = "core" }
  alarms = { a = { dims = { Acct = data.aws_caller_identity.me.account_id }, name = "n-${var.env}" } }
}
resource "aws_vpc" "v" {
  cidr_block = "10.0.0.0/16"
}
resource "aws_instance" "a" {
  tags = merge(local.common, { Name = "x-${data.aws_caller_identity.me.account_id}-${var.env}", Vpc = aws_vpc.v.arn })
  d    = local.alarms
  c    = cidrsubnet("10.0.0.0/16", 8, 1)
}
''')
    values = load_hcl(tmp_path, PROD).resources["aws_instance.a"].values
    assert values["tags"] == {"Env": "prod", "Team": "core", "Name": "x-${data.aws_caller_identity.me.account_id}-prod",
                              "Vpc": "${aws_vpc.v.arn}"}
    assert values["d"] == {"a": {"dims": {"Acct": "${data.aws_caller_identity.me.account_id}"}, "name": "n-prod"}}
    assert values["c"] == "10.0.1.0/24"  # what tfparse evaluates stays its value


def test_module_values_are_evaluated_with_the_module_inputs(tmp_path):
    (tmp_path / "modules" / "app").mkdir(parents=True)
    (tmp_path / "main.tf").write_text('''variable "env" {
  default = "production"
}
module "app" {
  source = "./modules/app"
  label  = "app-${var.env}"
}
''')
    (tmp_path / "staging.tfvars").write_text('env = "staging"\n')
    (tmp_path / "modules" / "app" / "main.tf").write_text('''variable "label" {
  type = string
}
data "aws_caller_identity" "me" {}
data "aws_subnets" "all" {}
resource "aws_ssm_parameter" "p" {
  name  = "/x"
  type  = "String"
  value = "${data.aws_caller_identity.me.account_id}:${var.label}:${uuid()}"
}
resource "aws_route53_record" "r" {
  for_each = toset(data.aws_subnets.all.ids)
  name     = each.key
}
''')
    prod, stg = load_hcl(tmp_path, PROD), load_hcl(tmp_path, EnvSpec("staging", "staging", ("staging.tfvars",)))
    assert prod.resources["module.app.aws_ssm_parameter.p"].values["value"] == \
        "${data.aws_caller_identity.me.account_id}:app-production:${uuid()}"
    assert stg.resources["module.app.aws_ssm_parameter.p"].values["value"] == \
        "${data.aws_caller_identity.me.account_id}:app-staging:${uuid()}"
    block = prod.blocks["module.app.aws_route53_record.r"]
    assert block.unknown and block.file == "modules/app/main.tf" and "data.aws_subnets.all.ids" in block.expression


def test_instance_count_from_a_condition_with_comments_and_parentheses_in_strings(tmp_path):
    (tmp_path / "main.tf").write_text('''variable "ami_type" {
  default = "AL2_x86_64"
}
locals {
  parts = [
    # a comment with "quotes" and (a parenthesis
    { content = "echo (hi" },
  ]
}
resource "aws_ssm_parameter" "p" {
  count = startswith(var.ami_type, "AL2023_") && length(local.parts) > 0 ? 1 : 0
  name  = "p"
  type  = "String"
  value = "v"
}
''')
    assert load_hcl(tmp_path, PROD).blocks["aws_ssm_parameter.p"].reason == "count is 0"
