"""Plant secrets in a copy of terraform/ through the ways a value can travel, for the redaction tests.

Each path plants its own value per environment, so a test can tell which path leaked and whether the
difference between the two environments was still reported.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from tests.helpers import CONTRACT, ROOT, copy_tf, mutate

ENVS = ("staging", "production")


# name -> what it plants (each needs its own two secrets: staging, production)
PATHS = {
    "var_file": "a sensitive variable set in staging.tfvars and in production's tfvars.json, used in an ARN tag",
    "local_password": "a local map of per-environment password literals used as aws_db_instance.password",
    "sensitive_output": "an output marked sensitive whose value differs per environment",
    "jsonencode": "a sensitive variable inside a jsonencode() IAM policy",
    "heredoc": "a conditional literal exported in the user_data heredoc",
    "conditional": "a conditional literal as an SSM SecureString value",
    "tf_json": "a .tf.json file whose SSM parameter holds a per-environment literal",
    "outside_var_file": "a sensitive variable set in var files outside the Terraform directory, base64/sha256'd",
}


def contract_text() -> str:
    """parity/contract.yaml as a copy elsewhere reads it: its paths (relative to its directory) made absolute."""
    return CONTRACT.read_text().replace(": ../", f": {ROOT}/")


def secret(path: str, env: str, salt: str = "q7Zx") -> str:
    return f"Pl4nt-{path.replace('_', '')}-{env[:4]}-{salt}"


def derived(value: str) -> list[str]:
    raw = value.encode()
    return [value, base64.b64encode(raw).decode(), hashlib.sha1(raw).hexdigest(),  # noqa: S324 - a search term
            hashlib.sha256(raw).hexdigest()]


def _both(path: str, salt: str) -> str:
    """An HCL conditional choosing this path's secret for the environment."""
    return f'var.environment == "staging" ? "{secret(path, "staging", salt)}" : "{secret(path, "production", salt)}"'


def _per_env_local(name: str, path: str, salt: str) -> str:
    return (f'locals {{\n  {name} = {{\n    staging    = "{secret(path, "staging", salt)}"\n'
            f'    production = "{secret(path, "production", salt)}"\n  }}\n}}\n')


def plant(tmp: Path, paths: list[str], salt: str = "q7Zx") -> tuple[Path, Path]:
    """A mutated copy of terraform/ and a contract for it; returns (tf_dir, contract)."""
    tf = copy_tf(tmp)
    outside = tmp / "outside"
    outside.mkdir()
    extra_tf: list[str] = []
    variables: list[str] = []
    staging_vars: dict[str, str] = {}
    production_vars: dict[str, str] = {}
    outside_files = {"staging": [], "production": []}

    def sensitive_var(name: str, path: str) -> None:
        variables.append(f'variable "{name}" {{\n  type      = string\n  sensitive = true\n}}\n')
        staging_vars[name] = secret(path, "staging", salt)
        production_vars[name] = secret(path, "production", salt)

    if "var_file" in paths:
        sensitive_var("api_secret", "var_file")
        extra_tf.append('resource "aws_sns_topic" "planted" {\n  name = "${local.name}-planted"\n'
                        '  tags = { Check = "arn:${var.api_secret}" }\n}\n')
    if "local_password" in paths:
        mutate(tf / "rds.tf", "password = var.db_password", "password = local.db_passwords[var.environment]")
        extra_tf.append(_per_env_local("db_passwords", "local_password", salt))
    if "sensitive_output" in paths:
        extra_tf.append(_per_env_local("conn_suffix", "sensitive_output", salt) +
                        'output "db_url" {\n  value     = "postgres://app:${local.conn_suffix[var.environment]}@db"\n'
                        '  sensitive = true\n}\n')
    if "jsonencode" in paths:
        sensitive_var("policy_secret", "jsonencode")
        extra_tf.append('resource "aws_iam_policy" "planted" {\n  name   = "${local.name}-planted"\n'
                        '  policy = jsonencode({\n    Version = "2012-10-17"\n    Statement = [{\n'
                        '      Effect = "Allow", Action = "s3:GetObject", Resource = "*",\n'
                        '      Condition = { StringEquals = { "aws:UserAgent" = var.policy_secret } }\n'
                        '    }]\n  })\n}\n')
    if "heredoc" in paths:
        mutate(tf / "compute.tf", "    set -euo pipefail\n",
               f"    set -euo pipefail\n    export APP_SECRET=${{{_both('heredoc', salt)}}}\n")
    if "conditional" in paths:
        extra_tf.append('resource "aws_ssm_parameter" "planted" {\n  name  = "/codedetect/${var.environment}/token"\n'
                        f'  type  = "SecureString"\n  value = {_both("conditional", salt)}\n}}\n')
    if "tf_json" in paths:
        expr = _both("tf_json", salt)
        (tf / "planted.tf.json").write_text(json.dumps({"resource": {"aws_ssm_parameter": {"planted_json": {
            "name": "/codedetect/${var.environment}/json", "type": "SecureString", "value": "${" + expr + "}"}}}},
            indent=2) + "\n")
    if "outside_var_file" in paths:
        variables.append('variable "outside_secret" {\n  type      = string\n  sensitive = true\n}\n')
        extra_tf.append('resource "aws_sns_topic" "planted_outside" {\n  name = "${local.name}-outside"\n'
                        '  tags = {\n    B64    = base64encode(var.outside_secret)\n'
                        '    Sha256 = sha256(var.outside_secret)\n  }\n}\n')
        for env in ENVS:
            f = outside / f"{env}-secret.tfvars"
            f.write_text(f'outside_secret = "{secret("outside_var_file", env, salt)}"\n')
            outside_files[env].append(f"../outside/{env}-secret.tfvars")

    if variables:
        (tf / "variables.tf").write_text((tf / "variables.tf").read_text() + "\n" + "\n".join(variables))
    if extra_tf:
        (tf / "planted.tf").write_text("\n".join(extra_tf))
    if staging_vars:
        (tf / "staging.tfvars").write_text((tf / "staging.tfvars").read_text() +
                                           "".join(f'{k} = "{v}"\n' for k, v in staging_vars.items()))
    production_files = []
    if production_vars:
        (tf / "production.tfvars.json").write_text(json.dumps(production_vars, indent=2) + "\n")
        production_files.append("production.tfvars.json")
    production_files += outside_files["production"]

    contract = tmp / "contract.yaml"
    text = original = contract_text()
    text = text.replace("production: {workspace: default, var_files: [], tag: production}",
                        f"production: {{workspace: default, var_files: {json.dumps(production_files)}, "
                        "tag: production}")
    text = text.replace("staging: {workspace: staging, var_files: [staging.tfvars], tag: staging}",
                        f"staging: {{workspace: staging, var_files: "
                        f"{json.dumps(['staging.tfvars', *outside_files['staging']])}, tag: staging}}")
    assert text.count("var_files: [") == original.count("var_files: [") == 2
    assert "production: {workspace: default, var_files: [" in text and "staging.tfvars\"" in text
    contract.write_text(text)
    return tf, contract


def all_secrets(paths: list[str], salt: str = "q7Zx") -> dict[str, str]:
    return {f"{p}/{env}/{i}": form for p in paths for env in ENVS
            for i, form in enumerate(derived(secret(p, env, salt)))}
