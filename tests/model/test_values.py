"""Value soundness of the fast evaluator (issue 8): each trap of tfparse has a test that fails without its fix."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from core import hcl
from core.errors import SuiteError
from core.model import UNKNOWN_INSTANCES, EnvSpec, _tfvars_names, load_hcl
from tests.helpers import copy_tf, mutate, run_pytest

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
    user_data = corpus["staging"].resources["aws_instance.app"].values["user_data"]
    assert user_data == ('#!/bin/bash\n# staging instance (workspace staging)\necho "listening on 8080" > /etc/motd\n'
                         'echo "account ${data.aws_caller_identity.me.account_id}" >> /etc/motd\n'
                         'echo "${HOME} stays a shell variable"\n')
    assert corpus["production"].outputs["user_data"].value.startswith("#!/bin/bash\n# production instance")


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


def test_every_resource_block_is_accounted_for(corpus):
    written = {f"{b.labels[0]}.{b.labels[1]}" if b.type == "resource" else f"data.{b.labels[0]}.{b.labels[1]}"
               for tf in CORPUS.glob("*.tf") for b in hcl.parse_file(tf).blocks if b.type in ("resource", "data")}
    for model in corpus.values():
        assert set(model.blocks) == written
        for block in model.blocks.values():
            assert block.instances or block.reason, block
            assert all(a in model.resources for a in block.instances)


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
