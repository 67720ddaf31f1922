"""Every parity check is shown to fail: each mutation of terraform/, the document or the contract
makes the real gate (pytest parity, in a subprocess) fail, naming the row, resource, attribute,
expected and actual values and file:line. Equivalent refactors keep it green."""

import re
import shutil

import pytest

from tests.helpers import DOCS, copy_contract, copy_tf, mutate, run_pytest

pytestmark = pytest.mark.slow


def gate(tf, *extra):
    return run_pytest("parity", "--tf-dir", str(tf), "-q", "--tb=short", *extra)


def failed_ids(output: str) -> set[str]:
    return set(re.findall(r"^FAILED parity/test_parity\.py::(test_\w+(?:\[[^\]]*\])?)", output, re.M))


@pytest.fixture
def tf(tmp_path):
    return copy_tf(tmp_path)


def test_bundled_terraform_passes():
    result = run_pytest("parity", "-q")
    assert result.returncode == 0, result.output
    assert "passed" in result.output and "failed" not in result.output


def test_each_documented_row_is_its_own_test_id():
    result = run_pytest("parity", "--collect-only", "-q")
    for test_id in ["test_same[Security Groups]", "test_same[ALB Health Checks]", "test_different[Instance Type]",
                    "test_different[Domain/SSL]", "test_document[RDS Instance]", "test_unclaimed"]:
        assert f"parity/test_parity.py::{test_id}" in result.output


def test_staging_instance_type_in_tfvars(tf):
    (tf / "staging.tfvars").write_text((tf / "staging.tfvars").read_text() + 'instance_type = "t3.small"\n')
    result = gate(tf)
    assert result.returncode == 1
    assert "test_different[Instance Type]" in failed_ids(result.output)
    out = result.output
    assert "aws_instance.blue[0].instance_type" in out and "t3.small" in out and "t3.micro" in out
    assert re.search(r"staging\.tfvars:5\b", out), out  # the line that set it
    assert "staging~production" in out


def test_ingress_rule_only_in_staging_workspace(tf):
    mutate(tf / "security_groups.tf", '''    security_groups = [aws_security_group.app.id]
  }

  tags = { Name = "${local.name}-db" }''', '''    security_groups = [aws_security_group.app.id]
  }

  dynamic "ingress" {
    for_each = terraform.workspace == "staging" ? [1] : []
    content {
      from_port   = 5432
      to_port     = 5432
      protocol    = "tcp"
      cidr_blocks = ["10.0.0.0/8"]
    }
  }

  tags = { Name = "${local.name}-db" }''')
    result = gate(tf)
    assert failed_ids(result.output) == {"test_same[Security Groups]"}, result.output
    assert "aws_security_group.db.ingress[" in result.output and "10.0.0.0/8" in result.output
    assert "security_groups.tf:" in result.output


def test_iam_statement_only_in_production(tf):
    mutate(tf / "iam.tf", '''    Statement = [
      {
        Sid      = "UploadsBucketList"''', '''    Statement = concat(var.environment == "production" ? [{
      Sid      = "ProdOnly"
      Effect   = "Allow"
      Action   = ["s3:*"]
      Resource = ["*"]
    }] : [], [
      {
        Sid      = "UploadsBucketList"''')
    mutate(tf / "iam.tf", '''    ]
  })
}

resource "aws_iam_role_policy_attachment" "cloudwatch_agent"''', '''    ])
  })
}

resource "aws_iam_role_policy_attachment" "cloudwatch_agent"''')
    result = gate(tf)
    assert failed_ids(result.output) == {"test_same[IAM Roles]"}, result.output
    assert "aws_iam_role_policy.app.policy.Statement[" in result.output and "ProdOnly" in result.output


def test_rds_engine_changed_in_one_environment(tf):
    mutate(tf / "rds.tf", 'engine         = "postgres"',
           'engine         = terraform.workspace == "staging" ? "mysql" : "postgres"')
    result = gate(tf)
    ids = failed_ids(result.output)
    assert "test_same[Database Type]" in ids and "test_document[Database Type]" in ids, result.output
    assert "aws_db_instance.main.engine" in result.output and "mysql" in result.output
    assert "rds.tf:" in result.output


def test_health_check_path_changed_in_one_environment(tf):
    mutate(tf / "alb.tf", 'path                = "/api/health"',
           'path                = terraform.workspace == "staging" ? "/healthz" : "/api/health"')
    result = gate(tf)
    assert failed_ids(result.output) == {"test_same[ALB Health Checks]"}, result.output
    assert 'aws_lb_target_group.app["blue"].health_check[0].path' in result.output
    assert "/healthz" in result.output and re.search(r"alb\.tf:2\d\b", result.output)


def test_new_resource_in_one_environment_only(tf):
    (tf / "queue.tf").write_text('''resource "aws_sqs_queue" "jobs" {
  count = terraform.workspace == "staging" ? 1 : 0
  name  = "${local.name}-jobs"
}
''')
    result = gate(tf)
    assert failed_ids(result.output) == {"test_unclaimed"}, result.output
    assert "aws_sqs_queue.jobs[0]" in result.output and "exists only in staging" in result.output
    assert "queue.tf:1" in result.output


def test_document_rds_instance_row_says_db_t3_small(tf, tmp_path):
    doc = tmp_path / "ENVIRONMENTS.md"
    shutil.copy(DOCS, doc)
    mutate(doc, "| RDS Instance | db.t3.micro | db.t3.micro |", "| RDS Instance | db.t3.small | db.t3.micro |")
    result = gate(tf, "--docs", str(doc))
    assert failed_ids(result.output) == {"test_document[RDS Instance]"}, result.output
    assert "db.t3.small" in result.output and "db.t3.micro" in result.output
    assert "ENVIRONMENTS.md:" in result.output


def test_different_rows_expected_value_broken(tf, tmp_path):
    contract = copy_contract(tmp_path)
    mutate(contract, "values: {staging: t3.micro, production: t3.micro}",
           "values: {staging: t3.nano, production: t3.micro}")
    result = gate(tf, "--contract", str(contract))
    ids = failed_ids(result.output)
    assert {"test_different[Instance Type]", "test_document[Instance Type]"} <= ids, result.output
    assert "t3.nano" in result.output and "t3.micro" in result.output


def test_contract_selector_that_matches_nothing(tf, tmp_path):
    contract = copy_contract(tmp_path)
    mutate(contract, "      - aws_efs_file_system.uploads\n", "      - aws_efs_filesystem.uploads\n")
    result = gate(tf, "--contract", str(contract))
    assert "test_same[S3 Integration]" in failed_ids(result.output), result.output
    assert "'aws_efs_filesystem.uploads' matches nothing" in result.output
    assert "contract.yaml:" in result.output


def test_document_row_without_contract_rule(tf, tmp_path):
    doc = tmp_path / "ENVIRONMENTS.md"
    shutil.copy(DOCS, doc)
    mutate(doc, "| ALB Health Checks | Same configuration | Tests load balancer routing |",
           "| ALB Health Checks | Same configuration | Tests load balancer routing |\n"
           "| Cache | ElastiCache Redis | Tests caching |")
    result = gate(tf, "--docs", str(doc))
    assert failed_ids(result.output) == {"test_document_rows_covered"}, result.output
    assert "'Cache'" in result.output and "no contract rule covers it" in result.output


def test_gate_audits_the_seed_document_too():
    """The team's original document (without our Deletion Protection row) is reported, not silently passed."""
    from tests.helpers import ROOT

    seed = ROOT / "tests" / "fixtures" / "staging-vs-production.md"  # a copy of shared/seed/
    result = run_pytest("parity", "-q", "--docs", str(seed))
    assert failed_ids(result.output) == {"test_document[Deletion Protection]"}, result.output


# --------------------------------------------------------------------------- refactors stay green

REFACTORS = {
    "reorder security-group rules": [("security_groups.tf", '''  egress {
    description      = "Outbound HTTPS (Docker Hub, S3, CloudWatch)"
    from_port        = 443
    to_port          = 443
    protocol         = "tcp"
    cidr_blocks      = ["0.0.0.0/0"]
    ipv6_cidr_blocks = ["::/0"]
  }

  egress {
    description = "PostgreSQL inside the VPC"
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }''', '''  egress {
    description = "PostgreSQL inside the VPC"
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }

  egress {
    description      = "Outbound HTTPS (Docker Hub, S3, CloudWatch)"
    from_port        = 443
    to_port          = 443
    protocol         = "tcp"
    ipv6_cidr_blocks = ["::/0"]
    cidr_blocks      = ["0.0.0.0/0"]
  }''')],
    "reorder dynamic rules": [("security_groups.tf", "for_each = { http = 80, https = 443 }",
                               "for_each = { https = 443, http = 80 }")],
    "reorder policy actions": [("iam.tf", 'Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]',
                                'Action   = ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]')],
    "same value another way": [("rds.tf", "allocated_storage = var.db_allocated_storage",
                                "allocated_storage = var.db_allocated_storage * 2 / 2"),
                               ("compute.tf", "instance_type               = var.instance_type\n",
                                'instance_type               = "t3.${split(".", var.instance_type)[1]}"\n', 2)],
    "rename a local": [("locals.tf", "  alarm_prefix   = local.is_production",
                        "  env_prefix     = local.is_production"),
                       ("monitoring.tf", "${local.alarm_prefix}", "${local.env_prefix}")],
}


@pytest.mark.parametrize("name", list(REFACTORS))
def test_equivalent_refactor_stays_green(tf, name):
    for file, old, new, *count in REFACTORS[name]:
        mutate(tf / file, old, new, *count)
    result = gate(tf)
    assert result.returncode == 0, result.output


def test_moving_and_reordering_resources_stays_green(tf):
    """The EFS resources move to another file, in the opposite order."""
    file_system, mount_targets = (tf / "efs.tf").read_text().split('resource "aws_efs_mount_target"')
    (tf / "efs.tf").unlink()
    (tf / "storage.tf").write_text('resource "aws_efs_mount_target"' + mount_targets + "\n" + file_system)
    result = gate(tf)
    assert result.returncode == 0, result.output
