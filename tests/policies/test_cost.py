"""Cost guard: the estimate from the dated price table, the document's Cost table, and what makes them disagree."""

import pytest

from core.errors import SuiteError
from core.findings import Status
from core.model import EnvSpec, load_hcl
from policies import cost
from tests.helpers import DOCS, copy_tf
from tests.policies.conftest import context, evaluate

BUDGET, TABLE = cost.POLICIES


def failing(findings):
    return [f for f in findings if f.status != Status.PASS]


def test_price_table_is_dated_and_sourced():
    prices = cost.load_prices()
    assert prices["date"] and prices["region"] == "us-east-1" and "aws.amazon.com" in cost.PRICES.read_text()
    assert 0 < prices["tolerance"]["relative"] <= 0.25
    assert not set(prices["free"]) & set(prices["usage_only"])


def test_document_cost_table_is_read_per_environment():
    table = cost.read_cost_table(DOCS, ["staging", "production"])
    staging = {c.category: c for c in table["staging"]}
    production = {c.category: c for c in table["production"]}
    assert (staging["total"].monthly, production["total"].monthly) == (41.0, 42.0)
    assert staging["ec2"].monthly == 8.0 and staging["route53"].monthly is None
    assert production["efs"].per_gb and production["efs"].monthly == 0.30
    assert production["acm"].monthly == 0.0


def test_bundled_estimate_matches_the_document(bundled):
    prices = cost.load_prices()
    costs, unpriced = cost.estimate(bundled["staging"], prices)
    assert not unpriced
    assert round(sum(c.monthly for c in costs), 2) == 41.46  # 7.59 EC2 + 15.44 RDS + 1.60 EBS + 16.43 ALB + 0.40 alarms
    for env, model in bundled.items():
        for policy in cost.POLICIES:
            assert not failing(policy.run(model, context(bundled))), env


def test_t3_small_in_staging_fails_budget_and_table(mutated):
    models = mutated.models("staging_t3_small")
    over = failing(BUDGET.run(models["staging"], context(models)))
    assert [(f.check, f.env, f.resource, f.attribute) for f in over] == \
        [("CKV_CD_30", "staging", "aws_instance.blue[0]", "instance_type")]
    assert over[0].actual == "$49.05/month" and "~$41/month" in over[0].message
    assert over[0].file.endswith("terraform/compute.tf") and over[0].line == 42
    table = failing(TABLE.run(models["staging"], context(models)))
    assert {(f.resource, f.actual) for f in table} == {("aws_instance.blue[0]", "$15.18/month"), ("", "$49.05/month")}
    assert not failing(BUDGET.run(models["production"], context(models)))


def test_document_that_disagrees_with_the_estimate(bundled, tmp_path):
    docs = tmp_path / "ENVIRONMENTS.md"
    docs.write_text(DOCS.read_text().replace("| ALB | ~$16/month | ~$16/month |", "| ALB | ~$26/month | ~$26/month |"))
    for env in ("staging", "production"):
        bad = failing(TABLE.run(bundled[env], context(bundled, docs)))
        alb = next(f for f in bad if f.resource == "aws_lb.main")
        assert alb.actual == "$16.43/month" and f"{docs.name}:66" in alb.expected
        assert alb.file.endswith("terraform/alb.tf") and alb.line == 1


def test_unreadable_line_and_missing_table(bundled, tmp_path):
    docs = tmp_path / "ENVIRONMENTS.md"
    docs.write_text(DOCS.read_text().replace("| ALB | ~$16/month |", "| ALB | about sixteen |"))
    bad = failing(TABLE.run(bundled["staging"], context(bundled, docs)))
    assert [(f.attribute, f.line) for f in bad] == [("ALB", 66)]
    docs.write_text("# no cost table here\n")
    with pytest.raises(SuiteError, match="no Cost table"):
        BUDGET.run(bundled["staging"], context(bundled, docs))


def test_unpriced_resource_type_fails_instead_of_being_skipped(tmp_path):
    (tmp_path / "main.tf").write_text('resource "aws_kinesis_stream" "events" {\n  name = "x"\n  shard_count = 1\n}\n')
    model = load_hcl(tmp_path, EnvSpec("staging", "staging", tag="staging"))
    bad = failing(BUDGET.run(model, context({"staging": model, "production": model})))
    assert [(f.check, f.resource, f.line) for f in bad] == [("CKV_CD_30", "aws_kinesis_stream.events", 1)]
    assert "not in policies/prices.yaml" in bad[0].message


def test_nat_gateway_breaks_the_budget_and_is_missing_from_the_table(tmp_path):
    tf = copy_tf(tmp_path)
    (tf / "network.tf").write_text((tf / "network.tf").read_text() +
                                   '\nresource "aws_nat_gateway" "main" {\n  subnet_id = aws_subnet.public[0].id\n}\n')
    models = evaluate(tf)
    for env in ("staging", "production"):
        over = failing(BUDGET.run(models[env], context(models)))
        assert [f.resource for f in over] == ["aws_nat_gateway.main"]
        table = failing(TABLE.run(models[env], context(models)))
        assert "aws_nat_gateway.main" in {f.resource for f in table}
