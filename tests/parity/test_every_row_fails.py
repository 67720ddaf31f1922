"""Every contract row is shown to fail: for each row, a mutation of a terraform/ copy that breaks what the
row guards makes that row's check fail, naming the resource and attribute. A new contract row without a
mutation here fails `test_every_contract_row_has_a_breaking_mutation`."""

import pytest

from core.contract import load_contract
from core.model import load
from parity.engine import Comparison
from parity.test_parity import _row_findings
from tests.helpers import CONTRACT, copy_tf, mutate

STAGING_IN_WORKSPACE = 'terraform.workspace == "staging"'

# row -> (edits: (file, old, new) or (file, None, appended line), resource, attribute the failure must name)
BREAKS = {
    "Database Type": ([("rds.tf", "engine_version = var.db_engine_version",
                        f'engine_version = {STAGING_IN_WORKSPACE} ? "15.7" : var.db_engine_version')],
                      "aws_db_instance.main", "engine_version"),
    "Monitoring": ([("monitoring.tf", "  period              = 300",
                     f"  period              = {STAGING_IN_WORKSPACE} ? 60 : 300")],
                   'aws_cloudwatch_metric_alarm.this["alb_5xx"]', "period"),
    "Deployment Method": ([("staging.tfvars", None, 'active_environment = "green"')],
                          "var.active_environment", "value"),
    "Docker Images": ([("staging.tfvars", None, 'docker_tag = "staging-test"')], "aws_instance.blue[0]", "user_data"),
    "Security Groups": ([("security_groups.tf", "    from_port       = var.app_port",
                          f"    from_port       = {STAGING_IN_WORKSPACE} ? 5001 : var.app_port")],
                        "aws_security_group.app", "ingress"),
    "IAM Roles": ([("iam.tf", '"s3:GetObject", "s3:PutObject", "s3:DeleteObject"',
                    f'"s3:GetObject", "s3:PutObject", {STAGING_IN_WORKSPACE} ? "s3:*" : "s3:DeleteObject"')],
                  "aws_iam_role_policy.app", "policy.Statement"),
    "S3 Integration": ([("s3.tf", '    status = "Enabled"\n  }\n}',
                         f'    status = {STAGING_IN_WORKSPACE} ? "Suspended" : "Enabled"\n  }}\n}}')],
                       "aws_s3_bucket_versioning.uploads", "versioning_configuration[0].status"),
    "ALB Health Checks": ([("alb.tf", "    interval            = 30",
                            f"    interval            = {STAGING_IN_WORKSPACE} ? 10 : 30")],
                          'aws_lb_target_group.app["blue"]', "health_check[0].interval"),
    "Instance Type": ([("staging.tfvars", None, 'instance_type = "t3.small"')], "aws_instance.blue[0]",
                      "instance_type"),
    "Instance Count": ([("staging.tfvars", None, "instance_count = 2")], "aws_instance.blue[1]", ""),
    "RDS Instance": ([("staging.tfvars", None, 'db_instance_class = "db.t3.small"')], "aws_db_instance.main",
                     "instance_class"),
    "RDS Storage": ([("staging.tfvars", None, "db_allocated_storage = 30")], "aws_db_instance.main",
                    "allocated_storage"),
    "Domain/SSL": ([("staging.tfvars", "enable_ssl     = false", "enable_ssl     = true")],
                   "aws_lb_listener.https[0]", ""),
    "S3 Bucket": ([("staging.tfvars", '"codedetect-staging-uploads-2025"', '"codedetect-prod-uploads-2025"')],
                  "aws_s3_bucket.uploads", "bucket"),
    "Environment Tag": ([("locals.tf", "    Environment = var.environment", '    Environment = "production"')],
                        "provider.aws", "Environment"),
    "Deletion Protection": ([("rds.tf", "deletion_protection       = local.is_production",
                              "deletion_protection       = true")], "aws_db_instance.main", "deletion_protection"),
}


def failing_findings(tf, row_id):
    contract = load_contract(CONTRACT, tf)
    models = {name: load(tf, env) for name, env in contract.environments.items()}
    row = next(r for r in contract.rows if r.id == row_id)
    comparison = Comparison.build(contract, models)
    return [f for f in _row_findings(row, contract, models, list(models), comparison) if not f.status.ok]


def test_every_contract_row_has_a_breaking_mutation():
    assert {r.id for r in load_contract(CONTRACT).rows} == set(BREAKS)


def test_the_bundled_terraform_passes_every_row(tmp_path):
    tf = copy_tf(tmp_path)
    for row in BREAKS:
        assert failing_findings(tf, row) == [], row


@pytest.mark.parametrize("row", list(BREAKS))
def test_breaking_what_a_row_guards_fails_that_row(tmp_path, row):
    tf = copy_tf(tmp_path)
    edits, resource, attribute = BREAKS[row]
    for file, old, new in edits:
        if old is None:
            (tf / file).write_text((tf / file).read_text() + new + "\n")
        else:
            mutate(tf / file, old, new)
    found = failing_findings(tf, row)
    assert found, f"breaking {row} went unnoticed"
    assert any(f.resource == resource and f.attribute.startswith(attribute) and f.check == row for f in found), \
        [f.one_line() for f in found]
    assert all(f.file and (f.line or f.kind == "contract") for f in found), [f.one_line() for f in found]
