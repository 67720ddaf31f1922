"""A synthetic root module and parity contract of any size, for the scale benchmark (bench/bench_scale.py).

``generate(dest, resources=N, envs=E)`` writes ``dest/terraform/`` (N resources, a quarter each of security groups
with inline rules, S3 buckets, CloudWatch log groups and IAM policies, every name carrying the environment through
``terraform.workspace``) and ``dest/contract.yaml`` of the same shape as parity/contract.yaml: a reference
environment (production, workspace ``default``) and E-1 others (workspace and var file each), names normalised, rule
and statement lists unordered, policies parsed as JSON, "same" rows per type and one "different" row (log retention,
set in each var file). Everything is derived from N and E: the same arguments give the same files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

TYPES = ("aws_security_group", "aws_s3_bucket", "aws_cloudwatch_log_group", "aws_iam_policy")
PER_FILE = 250  # resources per .tf file


def env_names(envs: int) -> list[str]:
    """production first (the reference), then staging, then dev1, dev2, ..."""
    return ["production", "staging", *[f"dev{i}" for i in range(1, envs - 1)]][:envs]


def _resource(kind: str, i: int) -> str:
    if kind == "aws_security_group":
        return f'''resource "aws_security_group" "sg_{i}" {{
  name        = "codedetect-${{local.env}}-sg-{i}"
  description = "synthetic group {i}"
  vpc_id      = "vpc-0123456789abcdef0"

  ingress {{
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.{i % 250}.0.0/16", "10.{(i + 1) % 250}.0.0/16"]
  }}

  ingress {{
    from_port   = {8000 + i % 1000}
    to_port     = {8000 + i % 1000}
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }}

  egress {{
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }}

  tags = {{ Name = "codedetect-${{local.env}}-sg-{i}", Environment = local.env }}
}}
'''
    if kind == "aws_s3_bucket":
        return f'''resource "aws_s3_bucket" "bucket_{i}" {{
  bucket = "codedetect-${{local.env}}-bucket-{i}"
  tags   = {{ Name = "codedetect-${{local.env}}-bucket-{i}", Environment = local.env }}
}}
'''
    if kind == "aws_cloudwatch_log_group":
        return f'''resource "aws_cloudwatch_log_group" "logs_{i}" {{
  name              = "/codedetect/${{local.env}}/app-{i}"
  retention_in_days = var.log_retention_days
  tags              = {{ Environment = local.env }}
}}
'''
    return f'''resource "aws_iam_policy" "policy_{i}" {{
  name = "codedetect-${{local.env}}-policy-{i}"
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [
      {{ Effect = "Allow", Action = ["s3:GetObject", "s3:PutObject"],
         Resource = ["arn:aws:s3:::codedetect-${{local.env}}-bucket-{i}/*"] }},
      {{ Effect = "Allow", Action = ["logs:PutLogEvents"],
         Resource = ["arn:aws:logs:us-east-1:123456789012:log-group:/codedetect/${{local.env}}/app-{i}:*"] }},
    ]
  }})
  tags = {{ Environment = local.env }}
}}
'''


def _contract(envs: list[str]) -> str:
    others = envs[1:]
    env_lines = "\n".join(f"  {e}: {{workspace: {e}, var_files: [{e}.tfvars], tag: {e}}}" for e in others)
    normalise = "\n".join(f"  {e}:\n    {e}: production" for e in others)
    values = ", ".join(f"{e}: 7 days" for e in others)
    return f"""# Synthetic contract (bench/synth.py): the shape of parity/contract.yaml.
version: 1
document: ENVIRONMENTS.md
reference: production

environments:
  production: {{workspace: default, var_files: [], tag: production}}
{env_lines}

normalise:
{normalise}

unordered: [ingress, egress, cidr_blocks, Statement, Action, Resource]
json_attributes: [policy]

same:
  - id: Security Groups
    document: {{Component: Security Groups, Configuration: Same rules}}
    select: [aws_security_group.*]
  - id: Buckets
    document: {{Component: Buckets, Configuration: Same buckets}}
    select: [aws_s3_bucket.*]
  - id: Policies
    document: {{Component: Policies, Configuration: Same policies}}
    select: [aws_iam_policy.*]
  - id: Log Groups
    document: {{Component: Log Groups, Configuration: Same groups}}
    select: [aws_cloudwatch_log_group.*, provider.aws]

different:
  - id: Log Retention
    document: {{Component: Log Retention, Reason: Cost}}
    values: {{production: 30 days, {values}}}
    select:
      - {{address: "aws_cloudwatch_log_group.*", attributes: [retention_in_days]}}
      - var.log_retention_days
    allow:
      - {{address: "aws_cloudwatch_log_group.*", attributes: [retention_in_days]}}
      - {{address: var.log_retention_days, attributes: [value]}}
"""


def generate(dest: Path, resources: int, envs: int) -> tuple[Path, Path]:
    """Write the module and the contract under ``dest``; returns (terraform dir, contract path)."""
    tf = dest / "terraform"
    tf.mkdir(parents=True, exist_ok=True)
    names = env_names(envs)
    (tf / "main.tf").write_text('''terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
}

provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = { Project = "codedetect" }
  }
}

locals {
  env = terraform.workspace == "default" ? "production" : terraform.workspace
}

variable "log_retention_days" {
  type    = number
  default = 30
}
''')
    blocks = [_resource(TYPES[i % len(TYPES)], i) for i in range(resources)]
    for start in range(0, resources, PER_FILE):
        (tf / f"r{start // PER_FILE:03d}.tf").write_text("\n".join(blocks[start:start + PER_FILE]))
    for e in names[1:]:
        (tf / f"{e}.tfvars").write_text("log_retention_days = 7\n")
    contract = dest / "contract.yaml"
    contract.write_text(_contract(names))
    return tf, contract


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--resources", type=int, default=100)
    parser.add_argument("--envs", type=int, default=2)
    args = parser.parse_args(argv)
    tf, contract = generate(args.dest, args.resources, args.envs)
    print(f"{tf} and {contract}: {args.resources} resources, {args.envs} environments")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
