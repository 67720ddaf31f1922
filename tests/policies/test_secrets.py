"""Secret hygiene on the raw source: each rule fails on a planted secret, at its file:line, without printing it."""

import json

import pytest

from core.findings import Status
from policies import secrets
from tests.helpers import TF_DIR, copy_tf, mutate, run_pytest
from tests.security.planting import contract_text

SECRET = "Pl4nted-Pa55word-0c7f"
ACCESS_KEY = "AKIA" + "Q3EXAMPLE7TESTKEY"[:16]


def failing(findings: dict, rule: str) -> set:
    return {(f.file.rsplit("/terraform/", 1)[-1], f.line, f.resource) for f in findings[rule]
            if f.status != Status.PASS}


def assert_value_not_shown(findings: dict, *values: str) -> None:
    text = json.dumps([f.to_dict() for fs in findings.values() for f in fs], default=str)
    text += "\n".join(f.one_line() for fs in findings.values() for f in fs)
    for value in values:
        assert value not in text


@pytest.fixture
def tf(tmp_path):
    return copy_tf(tmp_path)


def test_bundled_terraform_is_clean():
    findings = secrets.scan(TF_DIR)
    assert set(findings) == set(secrets.RULES)
    for rule, fs in findings.items():
        assert fs and all(f.status == Status.PASS for f in fs), (rule, [f.one_line() for f in fs])
    assert any(f.resource == "var.db_password" for f in findings["CKV_CD_20"])


def test_secret_variable_must_be_sensitive_without_default(tf):
    mutate(tf / "variables.tf", '  type        = string\n  sensitive   = true\n}',
           f'  type        = string\n  default     = "{SECRET}"\n}}')
    findings = secrets.scan(tf)
    assert failing(findings, "CKV_CD_20") == {("variables.tf", 122, "var.db_password"),
                                              ("variables.tf", 125, "var.db_password")}
    assert ("variables.tf", 125, "var.db_password") in failing(findings, "CKV_CD_22")  # a literal default
    assert_value_not_shown(findings, SECRET)


def test_variable_named_like_a_secret_counts_as_one(tf):
    variables = tf / "variables.tf"
    variables.write_text(variables.read_text() + '\nvariable "api_token" {\n  type = string\n}\n')
    findings = secrets.scan(tf)
    assert ("variables.tf", 158, "var.api_token") in failing(findings, "CKV_CD_20")


def test_password_in_a_var_file(tf):
    (tf / "staging.tfvars").write_text((tf / "staging.tfvars").read_text() + f'db_password    = "{SECRET}"\n')
    (tf / "prod.auto.tfvars.json").write_text(json.dumps({"db_password": SECRET}))
    findings = secrets.scan(tf)
    assert failing(findings, "CKV_CD_21") == {("staging.tfvars", 5, "var.db_password"),
                                              ("prod.auto.tfvars.json", 1, "var.db_password")}
    assert ("staging.tfvars", 5, "var.db_password") in failing(findings, "CKV_CD_22")
    assert all(f.actual == secrets.NOT_SHOWN for f in findings["CKV_CD_21"] if f.status == Status.FAIL)
    assert_value_not_shown(findings, SECRET)


def test_keys_and_password_literals_anywhere(tf):
    mutate(tf / "rds.tf", "password = var.db_password", f'password = "{SECRET}"')
    (tf / "locals.tf").write_text((tf / "locals.tf").read_text() + f'\nlocals {{\n  legacy = "{ACCESS_KEY}"\n}}\n')
    (tf / "files").mkdir()
    (tf / "files" / "deploy.pem").write_text("-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n")
    findings = secrets.scan(tf)
    assert failing(findings, "CKV_CD_22") == {("rds.tf", 20, "aws_db_instance.main"), ("locals.tf", 34, ""),
                                              ("files/deploy.pem", 1, "")}
    assert_value_not_shown(findings, SECRET, ACCESS_KEY)


def test_output_exposing_a_secret_must_be_sensitive(tf):
    mutate(tf / "outputs.tf", "value       = aws_db_instance.main.endpoint",
           "value       = aws_db_instance.main.password")
    (tf / "outputs.tf").write_text((tf / "outputs.tf").read_text() +
                                   '\noutput "db_password" {\n  value     = var.db_password\n  sensitive = true\n}\n')
    findings = secrets.scan(tf)
    assert failing(findings, "CKV_CD_23") == {("outputs.tf", 21, "output.db_endpoint")}
    assert any(f.resource == "output.db_password" and f.status == Status.PASS for f in findings["CKV_CD_23"])


def test_unparseable_file_is_an_error_and_quotes_nothing(tf):
    (tf / "broken.tf").write_text(f'resource "aws_x" "y" {{\n  password = "{SECRET}"\n  = = \n')
    findings = secrets.scan(tf)
    for rule in secrets.RULES:
        assert any(f.status == Status.ERROR and f.file.endswith("broken.tf") for f in findings[rule])
    assert_value_not_shown(findings, SECRET)


# ------------------------------------------------------------------ the rules see what Terraform sees (issue 9)


def test_tf_json_is_read(tf):
    (tf / "extra.tf.json").write_text(json.dumps({
        "variable": {"api_token": {"type": "string", "default": SECRET}},
        "resource": {"aws_db_instance": {"replica": {"password": SECRET, "engine": "postgres"}}},
    }, indent=2) + "\n")
    findings = secrets.scan(tf)
    assert ("extra.tf.json", 3, "var.api_token") in failing(findings, "CKV_CD_20")
    assert {("extra.tf.json", 5, "var.api_token"), ("extra.tf.json", 11, "aws_db_instance.replica")} <= \
        failing(findings, "CKV_CD_22")
    assert_value_not_shown(findings, SECRET)


def test_literal_in_a_user_data_heredoc(tf):
    mutate(tf / "compute.tf", "    set -euo pipefail\n", f"    set -euo pipefail\n    export DB_PASSWORD={SECRET}\n")
    findings = secrets.scan(tf)
    assert ("compute.tf", 13, "") in failing(findings, "CKV_CD_22")
    assert_value_not_shown(findings, SECRET)


def test_template_files_are_read_wherever_they_are(tf, tmp_path):
    (tf / "templates").mkdir()
    (tf / "templates" / "app.env.tftpl").write_text(f"APP_ENV=${{env}}\nAPI_SECRET='{SECRET}'\n")
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "db.yaml.tpl").write_text(f"database:\n  password: {SECRET}x\n")
    (tf / "templates.tf").write_text('locals {\n  env_file = file("${path.module}/templates/app.env.tftpl")\n'
                                     '  db_file  = file("${path.module}/../shared/db.yaml.tpl")\n}\n')
    findings = secrets.scan(tf)
    found = {(f.file.rsplit("/", 2)[-2:][-1], f.line) for f in findings["CKV_CD_22"] if f.status == Status.FAIL}
    assert {("app.env.tftpl", 2), ("db.yaml.tpl", 2)} <= found
    assert_value_not_shown(findings, SECRET)


def test_locals_outputs_and_conditionals(tf):
    (tf / "extra.tf").write_text(
        f'locals {{\n  db_passwords = {{\n    staging    = "{SECRET}-s"\n    production = "{SECRET}-p"\n  }}\n}}\n\n'
        f'resource "aws_elasticache_replication_group" "x" {{\n'
        f'  auth_token = var.environment == "staging" ? "{SECRET}-1" : "{SECRET}-2"\n}}\n\n'
        f'output "admin_password" {{\n  value     = "{SECRET}-o"\n  sensitive = true\n}}\n')
    findings = secrets.scan(tf)
    assert {("extra.tf", 3, ""), ("extra.tf", 4, ""), ("extra.tf", 9, ""), ("extra.tf", 13, "output.admin_password")} \
        <= failing(findings, "CKV_CD_22")
    assert_value_not_shown(findings, SECRET)


def test_var_files_outside_the_terraform_directory(tf, tmp_path):
    outside = tmp_path / "secrets" / "prod.tfvars"
    outside.parent.mkdir()
    outside.write_text(f'db_password = "{SECRET}"\n')
    findings = secrets.scan(tf, [tf / "../secrets/prod.tfvars"])
    assert {(f.file.rsplit("/", 1)[-1], f.line) for f in findings["CKV_CD_21"] if f.status == Status.FAIL} == \
        {("prod.tfvars", 1)}
    assert any(f.file.endswith("prod.tfvars") for f in findings["CKV_CD_22"] if f.status == Status.FAIL)
    assert_value_not_shown(findings, SECRET)


def test_any_size(tf):
    big = tf / "files" / "big.sh"
    big.parent.mkdir()
    big.write_text("# padding\n" * 250_000 + f"export AWS_ACCESS_KEY_ID={ACCESS_KEY}\n")
    assert big.stat().st_size >= 2_000_000
    findings = secrets.scan(tf)
    assert ("files/big.sh", 250_001, "") in failing(findings, "CKV_CD_22")
    assert_value_not_shown(findings, ACCESS_KEY)


def test_the_gate_scans_the_contracts_var_files_outside_the_tf_dir(tf, tmp_path):
    outside = tmp_path / "outside" / "staging-secret.tfvars"
    outside.parent.mkdir()
    outside.write_text(f'db_password = "{SECRET}"\n')
    contract = tmp_path / "contract.yaml"
    contract.write_text(contract_text().replace("var_files: [staging.tfvars]",
                                                     "var_files: [staging.tfvars, ../outside/staging-secret.tfvars]"))
    result = run_pytest("policies", "-k", "test_secret", "--tf-dir", str(tf), "--contract", str(contract),
                        "--report-dir", str(tmp_path / "reports"))
    assert result.returncode == 1, result.output
    assert "[CKV_CD_21]  var.db_password" in result.output and "staging-secret.tfvars:1" in result.output
    assert SECRET not in result.output


def test_no_var_file_is_not_checked_not_a_pass(tf):
    (tf / "staging.tfvars").unlink()
    findings = secrets.scan(tf)["CKV_CD_21"]
    assert [f.status for f in findings] == [Status.NOT_CHECKED] and "no var file" in findings[0].message
