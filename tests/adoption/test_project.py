"""Per-project configuration: the contract's project section and document key, the price tables, the tag classes."""

import pytest

from core.contract import load_contract
from core.errors import SuiteError
from core.model import EnvSpec, load_hcl
from core.project import Project
from policies import cost, rules, tagging
from policies.common import Context
from tests.helpers import CONTRACT, ROOT, run_pytest

SAMPLE = ROOT / "tests" / "samples" / "webshop"
WEBSHOP = ROOT / "tests" / "adoption" / "webshop" / "contract.yaml"
REGIONS = ("us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1")


def webshop_models():
    c = load_contract(WEBSHOP, SAMPLE / "terraform")
    return c, {n: load_hcl(SAMPLE / "terraform", e) for n, e in c.environments.items()}


def one_line_usage_error(result, *needles):
    assert result.returncode == 4, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    for needle in needles:
        assert needle in errors[0], errors[0]


# ------------------------------------------------------------------------------------------------ the document


def test_the_contract_names_its_document_relative_to_itself():
    assert load_contract(WEBSHOP).document == str(SAMPLE / "docs" / "ENVIRONMENTS.md")
    assert load_contract(CONTRACT).document == str(ROOT / "docs" / "ENVIRONMENTS.md")


def test_no_document_and_no_docs_is_a_usage_error(tmp_path):
    contract = tmp_path / "contract.yaml"
    contract.write_text(WEBSHOP.read_text().replace("document: ../../samples/webshop/docs/ENVIRONMENTS.md\n", "")
                        .replace("baseline: baseline.yaml", f"baseline: {WEBSHOP.parent / 'baseline.yaml'}"))
    result = run_pytest("parity", "--collect-only", "-q", "--tf-dir", str(SAMPLE / "terraform"),
                        "--contract", str(contract))
    one_line_usage_error(result, "contract.yaml", "names no environments document", "--docs")


def test_docs_overrides_the_contracts_document(tmp_path):
    doc = tmp_path / "ENVIRONMENTS.md"
    doc.write_text((SAMPLE / "docs" / "ENVIRONMENTS.md").read_text().replace("| Web Servers | 1 | 2 |",
                                                                            "| Web Servers | 1 | 3 |"))
    result = run_pytest("parity", "-q", "--tb=short", "--tf-dir", str(SAMPLE / "terraform"), "--contract",
                        str(WEBSHOP), "--docs", str(doc), "-k", "test_document")
    assert result.returncode == 1 and "FAILED parity/test_parity.py::test_document[Web Servers]" in result.output
    assert "the document says '3', the contract '2'" in result.output


# ------------------------------------------------------------------------------------------------ the section


@pytest.mark.parametrize(("old", "new", "message"), [
    ("  baseline: baseline.yaml", "  baseline: missing.yaml", "baseline 'missing.yaml' does not exist"),
    ("  prices: {region: eu-west-1}", "  prices: {zone: eu-west-1}", "prices must be {region"),
    ("  baseline: baseline.yaml", "  baseline: baseline.yaml\n  colour: blue", "unknown keys ['colour']"),
    ("    required: [Environment, Team]", "    required: Environment", "tags.required must be a list"),
    ("  baseline: baseline.yaml", "  baseline: baseline.yaml\n  excuses: [{policy: CKV_CD_12, resource: aws_lb.shop, "
     "why: ok}]", "needs a written reason"),
    ("  baseline: baseline.yaml", "  baseline: baseline.yaml\n  excuses: [{policy: CKV_CD_12, resource: aws_lb.shop, "
     "envs: [qa], why: the load balancer is rebuilt from code}]", "unknown environment 'qa'"),
])
def test_a_malformed_project_section_is_one_line_naming_the_contract(tmp_path, old, new, message):
    contract = tmp_path / "contract.yaml"
    (tmp_path / "baseline.yaml").write_text("skips: []\n")
    contract.write_text(WEBSHOP.read_text().replace(old, new))
    with pytest.raises(SuiteError, match=r"contract\.yaml:\d+: project") as err:
        load_contract(contract)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_without_a_project_section_nothing_of_codedetect_applies(tmp_path):
    (tmp_path / "contract.yaml").write_text(WEBSHOP.read_text().split("project:")[0] + "environments:" +
                                            WEBSHOP.read_text().split("\nenvironments:", 1)[1])
    project = load_contract(tmp_path / "contract.yaml").project
    assert project == Project(reference="production", contract=str(tmp_path / "contract.yaml"))
    assert project.baseline is None and project.price_region == "" and project.required_tags == ("Environment",)
    _c, models = webshop_models()
    ctx = Context(models=models, docs=SAMPLE / "docs" / "ENVIRONMENTS.md", project=project)
    with pytest.raises(SuiteError, match="names no price region"):  # the gate makes it an ERROR finding
        cost.POLICIES[0].run(models["staging"], ctx)


@pytest.mark.slow
def test_without_a_baseline_every_builtin_failure_fails(tmp_path):
    """The bundled baseline muted another repository's failures with false reasons: now nothing is muted unless the
    project names its own baseline."""
    contract = tmp_path / "contract.yaml"
    contract.write_text(WEBSHOP.read_text().replace("  baseline: baseline.yaml\n", "")
                        .replace("document: ../../", f"document: {ROOT}/tests/"))
    result = run_pytest("policies", "-q", "--tb=short", "-k", "builtin or baseline", "--tf-dir",
                        str(SAMPLE / "terraform"), "--contract", str(contract), "--report-dir", str(tmp_path / "r"))
    assert "FAILED policies/test_policies.py::test_builtin[staging]" in result.output, result.output
    assert "test_baseline PASSED" in result.output or "FAILED policies/test_policies.py::test_baseline" not in \
        result.output
    assert "accepted by" not in result.output and "CKV_AWS_2]" in result.output


# ------------------------------------------------------------------------------------------------ prices


@pytest.mark.parametrize("region", REGIONS)
def test_every_bundled_region_is_dated_sourced_and_complete(region):
    prices = cost.load_prices(region=region)
    assert prices["region"] == region and prices["date"] and "aws.amazon.com" in cost.PRICES.read_text()
    assert prices["ec2_hourly"]["t3.micro"] > 0 and prices["rds_postgres_hourly"]["db.t3.micro"] > 0
    assert {"gp3", "gp2"} <= set(prices["ebs_gb_month"]) and prices["alb_hourly"] > 0


def test_unknown_region_is_named_with_the_regions_there_are():
    with pytest.raises(SuiteError, match=r"no prices for region .mars-1. .*eu-west-1"):
        cost.load_prices(region="mars-1")


def test_free_types_are_not_unpriced_and_asg_instances_are_priced():
    _c, models = webshop_models()
    prices = cost.load_prices(region="eu-west-1")
    costs, unpriced = cost.estimate(models["production"], prices)
    assert unpriced == []
    ec2 = [x for x in costs if x.category == "ec2"]
    assert [(x.resource.address, x.attribute, x.detail, round(x.monthly, 2)) for x in ec2] == \
        [("aws_autoscaling_group.web", "desired_capacity", "2 × t3.small (aws_launch_template.web)", 33.29)]
    ebs = [x for x in costs if x.category == "ebs"]
    assert [(x.detail, round(x.monthly, 2)) for x in ebs] == [("2 × 10 GB gp3", 1.76)]
    for free in ("aws_iam_role", "aws_security_group", "aws_vpc", "aws_vpc_security_group_ingress_rule",
                 "aws_launch_template", "aws_key_pair", "aws_iam_user"):
        assert free in prices["free"]


def test_an_asg_whose_capacity_is_unknown_is_unpriced_not_skipped(tmp_path):
    (tmp_path / "main.tf").write_text('resource "aws_launch_template" "t" {\n  instance_type = "t3.micro"\n}\n'
                                      'resource "aws_autoscaling_group" "g" {\n  max_size = 2\n'
                                      '  min_size = var.n\n  launch_template {\n    id = aws_launch_template.t.id\n'
                                      '  }\n}\nvariable "n" {}\n')
    model = load_hcl(tmp_path, EnvSpec("staging", "staging"))
    _, unpriced = cost.estimate(model, cost.load_prices())
    assert [(u.resource.address, u.attribute) for u in unpriced] == [("aws_autoscaling_group.g", "min_size")]


def test_cost_list_in_prose_is_read_and_an_unreadable_bullet_is_reported(tmp_path):
    doc = tmp_path / "ENVIRONMENTS.md"
    doc.write_text("# x\n\n## Costs\n\n- EC2: ~$8/month in staging, about $16 a month in production.\n"
                   "- ALB: ~$18/month in each environment.\n- RDS: $15/month.\n- Total: ~$41/month in staging, "
                   "~$34/month in production.\n\n## Next\n- EC2: $99/month in staging\n")
    table = cost.read_cost_table(doc, ["staging", "production"])
    staging = {c.item: (c.monthly, c.line) for c in table["staging"]}
    production = {c.item: (c.monthly, c.line) for c in table["production"]}
    assert staging == {"EC2": (8.0, 5), "ALB": (18.0, 6), "RDS": (None, -7), "Total": (41.0, 8)}
    assert production["EC2"] == (16.0, 5) and production["ALB"] == (18.0, 6)


# ------------------------------------------------------------------------------------------------ tags


def test_taggability_comes_from_the_provider_schema_and_the_project_adds_classes():
    assert tagging.takes_tags("aws_lambda_function") is True
    assert tagging.takes_tags("aws_autoscaling_group") is False  # `tag` blocks, no `tags` attribute
    assert tagging.takes_tags("random_id") is False and tagging.takes_tags("aws_made_up") is None
    project = Project(taggable=frozenset({"aws_made_up"}), untaggable=frozenset({"aws_lambda_function"}))
    assert tagging.takes_tags("aws_made_up", project) is True
    assert tagging.takes_tags("aws_lambda_function", project) is False
    assert "regenerate" in tagging.SCHEMA_LIST.read_text().splitlines()[1].lower()


def test_the_projects_required_tags_are_checked():
    c, models = webshop_models()
    ctx = Context(models=models, docs=SAMPLE / "docs" / "ENVIRONMENTS.md", project=c.project)
    assert not [f for f in rules.tags(models["staging"], ctx) if not f.status.ok]
    strict = Context(models=models, docs=ctx.docs, project=Project(required_tags=("Environment", "Owner")))
    bad = [f for f in rules.tags(models["staging"], strict) if not f.status.ok]
    assert bad and {f.attribute for f in bad} == {"tags_all.Owner"}


@pytest.mark.slow
def test_the_projects_own_check_directory_runs_in_checkov(tmp_path):
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "__init__.py").write_text("")
    (checks / "ws_lb_name.py").write_text('''from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class LbName(BaseResourceCheck):
    def __init__(self):
        super().__init__(name="Load balancer names start with shop-", id="CKV_WS_1",
                         categories=[CheckCategories.CONVENTION], supported_resources=["aws_lb"])

    def scan_resource_conf(self, conf):
        name = conf.get("name", [""])[0]
        return CheckResult.PASSED if str(name).startswith("shop-") else CheckResult.FAILED


check = LbName()
''')
    contract = tmp_path / "contract.yaml"
    contract.write_text(WEBSHOP.read_text().replace("document: ../../", f"document: {ROOT}/tests/")
                        .replace("baseline: baseline.yaml", f"baseline: {WEBSHOP.parent / 'baseline.yaml'}\n"
                                 "  checks: [checks]"))
    assert load_contract(contract).project.check_dirs == (checks,)
    result = run_pytest("policies", "-q", "--tb=short", "-k", "builtin", "--tf-dir", str(SAMPLE / "terraform"),
                        "--contract", str(contract), "--report-dir", str(tmp_path / "r"))
    assert "FAILED policies/test_policies.py::test_builtin[staging]" in result.output, result.output
    assert "[CKV_WS_1] staging aws_lb.shop" in result.output and "lb.tf:1" in result.output


@pytest.mark.slow
def test_the_cached_taggable_list_is_what_the_provider_schema_says(tmp_path):
    from core.terraform import unavailable_reason

    reason = unavailable_reason()
    if reason:
        pytest.skip(f"real Terraform is needed to read the provider schema: {reason}")
    assert tagging.regenerate(tmp_path / "aws_taggable.txt") == 0
    assert (tmp_path / "aws_taggable.txt").read_text() == tagging.SCHEMA_LIST.read_text()


def test_a_project_brings_its_own_price_table(tmp_path):
    import yaml

    bundled = yaml.safe_load(cost.PRICES.read_text())
    own = {k: v for k, v in bundled.items() if k != "regions"}
    own.update(bundled["regions"]["eu-west-1"], region="eu-west-1", date="2026-11", source="our negotiated prices")
    own["ec2_hourly"] = {**own["ec2_hourly"], "t3.small": 0.0100}
    (tmp_path / "prices.yaml").write_text(yaml.safe_dump(own))
    (tmp_path / "baseline.yaml").write_text("skips: []\n")
    contract = tmp_path / "contract.yaml"
    contract.write_text(WEBSHOP.read_text().replace("prices: {region: eu-west-1}", "prices: {table: prices.yaml}"))
    project = load_contract(contract).project
    assert project.price_table == tmp_path / "prices.yaml"
    _, models = webshop_models()
    ctx = Context(models=models, docs=SAMPLE / "docs" / "ENVIRONMENTS.md", project=project)
    prices = cost.project_prices(ctx)
    assert prices["source"] == "our negotiated prices" and prices["ec2_hourly"]["t3.small"] == 0.01
    over = [f for f in cost.POLICIES[1].run(models["production"], ctx) if not f.status.ok]
    assert any(f.resource == "aws_autoscaling_group.web" and f.actual == "$14.60/month" for f in over), over


def test_the_command_never_falls_back_to_a_default_document(tmp_path, monkeypatch):
    """`codedetect-suite gate` from the suite's own directory (which has docs/ENVIRONMENTS.md) with a contract that
    names no document: a usage error, not codedetect's document."""
    from core import cli

    contract = tmp_path / "contract.yaml"
    contract.write_text(WEBSHOP.read_text().replace("document: ../../samples/webshop/docs/ENVIRONMENTS.md\n", ""))
    monkeypatch.chdir(ROOT)
    with pytest.raises(cli.UsageError, match="names no environments document"):
        cli._docs(None, contract)
    assert cli._docs(None, WEBSHOP) == SAMPLE / "docs" / "ENVIRONMENTS.md"
