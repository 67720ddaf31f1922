"""Terraform's loading rules in the fast model (core/loading.py, core/model.py): var files, override files,
.tf.json, child modules, remote modules, provider configuration. Each test breaks the rule it guards.

The corpus tests/corpus/loading/shop is also planned by real Terraform in test_loading_terraform.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core.contract import load_contract
from core.errors import SuiteError
from core.model import EnvSpec, load_hcl
from parity.engine import Comparison, entries
from tests.helpers import DOCS

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "loading" / "shop"
PRODUCTION = EnvSpec("production", "default", (), "production")
STAGING = EnvSpec("staging", "staging", ("staging.tfvars",), "staging")


@pytest.fixture(scope="module")
def prod():
    return load_hcl(CORPUS, PRODUCTION)


@pytest.fixture(scope="module")
def staging():
    return load_hcl(CORPUS, STAGING)


@pytest.fixture
def shop(tmp_path) -> Path:
    """A private copy of the corpus to mutate."""
    target = tmp_path / "shop"
    shutil.copytree(CORPUS, target)
    return target


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)
    return directory


VAR = 'variable "v" {\n  default = "default"\n}\nresource "aws_sqs_queue" "q" {\n  name = var.v\n}\n'

# --------------------------------------------------------------------------- var files


def test_auto_loaded_var_files_in_terraforms_order(prod, staging):
    assert prod.var_files == ("terraform.tfvars", "a-sites.auto.tfvars", "b-logs.auto.tfvars.json")
    assert staging.var_files == (*prod.var_files, "staging.tfvars")
    assert prod.variables["instance_type"].value == "t3.small"  # terraform.tfvars
    assert prod.variables["sites"].value == ["shop", "admin"]  # a-sites.auto.tfvars
    assert prod.variables["log_retention_days"].value == 30  # the JSON auto file beats terraform.tfvars (14)
    assert staging.variables["instance_type"].value == "t3.micro"  # the contract's var file wins
    assert set(prod.resources) >= {'module.web["admin"].aws_instance.this', 'module.web["shop"].aws_instance.this'}


@pytest.mark.parametrize(("files", "expected"), [
    ({"terraform.tfvars": 'v = "hcl"\n', "terraform.tfvars.json": '{"v": "json"}'}, "json"),
    ({"b.auto.tfvars": 'v = "b"\n', "a.auto.tfvars.json": '{"v": "a"}'}, "b"),
    ({"z.auto.tfvars": 'v = "z"\n', "terraform.tfvars": 'v = "t"\n'}, "z"),
    ({"x.auto.tfvars": 'v = "auto"\n', "env.tfvars.json": '{\n  "v": "given"\n}\n'}, "given"),
], ids=["tfvars.json-after-tfvars", "auto-lexical", "auto-after-terraform.tfvars", "contract-json-last"])
def test_var_file_precedence(tmp_path, files, expected):
    write(tmp_path, {"main.tf": VAR, **files})
    env = EnvSpec("e", "default", ("env.tfvars.json",) if "env.tfvars.json" in files else ())
    model = load_hcl(tmp_path, env)
    assert model.variables["v"].value == expected
    assert model.resources["aws_sqs_queue.q"].values["name"] == expected


def test_the_users_environment_is_never_read(tmp_path, monkeypatch):
    """Terraform would read TF_VAR_v; the gate must not depend on who runs it."""
    write(tmp_path, {"main.tf": VAR})
    monkeypatch.setenv("TF_VAR_v", "from-the-shell")
    assert load_hcl(tmp_path, EnvSpec("e", "default")).variables["v"].value == "default"


def test_json_var_file_lines_locate_a_difference(tmp_path):
    write(tmp_path, {"main.tf": VAR, "staging.tfvars.json": '{\n  "v":\n    "staging"\n}\n',
                     "contract.yaml": CONTRACT})
    contract = load_contract(tmp_path / "contract.yaml", tmp_path)
    models = {n: load_hcl(tmp_path, e) for n, e in contract.environments.items()}
    found = {(f.resource, f.file.rsplit("/", 1)[-1], f.line) for f in Comparison.build(contract, models)
             .findings_for(None)}
    assert ("var.v", "staging.tfvars.json", 2) in found


def test_malformed_json_var_file_is_named(tmp_path):
    write(tmp_path, {"main.tf": VAR, "terraform.tfvars.json": '{"v": }'})
    with pytest.raises(SuiteError, match=r"terraform\.tfvars\.json:1: not valid JSON"):
        load_hcl(tmp_path, EnvSpec("e", "default"))


CONTRACT = """
version: 1
document: ""
reference: production
environments:
  production: {workspace: default, var_files: []}
  staging: {workspace: staging, var_files: [staging.tfvars.json]}
same: []
different: []
"""

# --------------------------------------------------------------------------- override files


def test_override_argument_replaces_and_the_rest_stays(prod):
    db = prod.resources["aws_db_instance.main"]
    assert db.values["instance_class"] == "db.r6g.large"  # override.tf
    assert db.values["engine"] == "postgres" and db.values["allocated_storage"] == 20
    assert (db.file, db.line) == ("main.tf", 37)


def test_override_nested_block_type_replaces_every_block_of_that_type(prod):
    sg = prod.resources["aws_security_group.app"]
    assert [i["description"] for i in sg.values["ingress"]] == ["https only"]  # security_override.tf
    assert [e["protocol"] for e in sg.values["egress"]] == ["-1"]  # a block type the override lacks stays
    assert sg.line_of("egress[0].protocol") == 27  # lines still point into main.tf


def test_override_replaces_static_and_dynamic_blocks_alike(prod):
    """Terraform 1.11 (asked): a static override block replaces a base's dynamic blocks of that type, and an
    override's dynamic block replaces static ones."""
    internal, metrics = prod.resources["aws_security_group.internal"], prod.resources["aws_security_group.metrics"]
    assert [i["from_port"] for i in internal.values["ingress"]] == [9443]
    assert [i["from_port"] for i in metrics.values["ingress"]] == [9100, 9200]
    assert [e["protocol"] for e in metrics.values["egress"]] == ["-1"]  # a new block type, merged before dynamic


def test_override_local_value_and_variable_default(prod):
    assert prod.resources["aws_security_group.admin"].values["ingress"][0]["cidr_blocks"] == ["10.20.0.0/16"]
    assert prod.variables["queue_retention"].value == 86400
    assert prod.resources["aws_sqs_queue.orders"].values["message_retention_seconds"] == 86400


def test_override_files_apply_in_lexical_order_and_lifecycle_merges(tmp_path):
    write(tmp_path, {
        "main.tf": ('resource "aws_sqs_queue" "q" {\n  name = "base"\n  delay_seconds = 1\n'
                    '  lifecycle {\n    prevent_destroy = true\n  }\n}\n\n'
                    'resource "aws_sqs_queue" "after" {\n  name = "after"\n}\n'),
        "b_override.tf": 'resource "aws_sqs_queue" "q" {\n  name = "b"\n}\n',
        "a_override.tf": ('resource "aws_sqs_queue" "q" {\n  name = "a"\n  delay_seconds = 5\n'
                          '  lifecycle {\n    create_before_destroy = true\n  }\n}\n'),
    })
    model = load_hcl(tmp_path, EnvSpec("e", "default"))
    q = model.resources["aws_sqs_queue.q"].values
    assert (q["name"], q["delay_seconds"]) == ("b", 5)
    assert q["lifecycle"] == [{"prevent_destroy": True, "create_before_destroy": True}]
    assert model.resources["aws_sqs_queue.after"].line == 9  # a block after a merged one keeps its line


@pytest.mark.parametrize(("override", "message"), [
    ('resource "aws_sqs_queue" "nothing" {\n  name = "x"\n}\n',
     r"override\.tf:1: resource aws_sqs_queue nothing overrides nothing"),
    ('locals {\n  nothing = 1\n}\n', r"override\.tf:2: local value 'nothing' overrides nothing"),
])
def test_override_without_base_is_refused_like_terraform(tmp_path, override, message):
    write(tmp_path, {"main.tf": VAR, "override.tf": override})
    with pytest.raises(SuiteError, match=message):
        load_hcl(tmp_path, EnvSpec("e", "default"))


def test_json_override_file_is_merged(prod):
    """zz_ops_override.tf.json: a nested block (the base has `ingress` blocks) and an object argument (the base
    sets `tags`), and a variable default applied after security_override.tf's (lexical order, .tf and .tf.json
    together)."""
    admin = prod.resources["aws_security_group.admin"]
    assert admin.values["description"] == "administration from the VPN"
    assert admin.values["ingress"] == [{"cidr_blocks": ["10.20.0.0/16"], "description": "ssh from the VPN",
                                        "from_port": 22, "protocol": "tcp", "to_port": 22, "ipv6_cidr_blocks": [],
                                        "prefix_list_ids": [], "security_groups": [], "self": False}]
    assert admin.values["tags"] == {"Access": "vpn", "Name": "shop-production-admin"}
    assert prod.variables["queue_retention"].value == 86400


def test_json_override_that_json_cannot_decide_is_refused_by_name(tmp_path):
    """An object for a key the base block neither sets nor has as a block: Terraform would ask the schema."""
    write(tmp_path, {"main.tf": VAR, "override.tf.json":
                     '{"resource": {"aws_sqs_queue": {"q": {\n  "redrive_policy_block": {"x": 1}}}}}'})
    with pytest.raises(SuiteError, match=r"override\.tf\.json:1: 'redrive_policy_block': JSON does not say"):
        load_hcl(tmp_path, EnvSpec("e", "default"))


def test_override_of_a_block_written_in_json_is_refused_by_name(tmp_path):
    write(tmp_path, {"main.tf.json": json.dumps({"resource": {"aws_sqs_queue": {"q": {"name": "j"}}}}),
                     "override.tf": 'resource "aws_sqs_queue" "q" {\n  name = "o"\n}\n'})
    with pytest.raises(SuiteError, match=r"override\.tf:1: overrides a block written in main\.tf\.json"):
        load_hcl(tmp_path, EnvSpec("e", "default"))


def test_override_in_a_child_module_is_merged(shop):
    write(shop, {"modules/web/size_override.tf": 'resource "aws_instance" "this" {\n  instance_type = "m5.large"\n}\n'})
    model = load_hcl(shop, PRODUCTION)
    assert model.resources['module.web["shop"].aws_instance.this'].values["instance_type"] == "m5.large"
    assert (model.resources['module.web["shop"].aws_instance.this'].file,
            model.resources['module.web["shop"].aws_instance.this'].line) == ("modules/web/main.tf", 3)

# --------------------------------------------------------------------------- .tf.json


def test_tf_json_configuration_is_loaded(prod, tmp_path):
    q = prod.resources["aws_sqs_queue.orders"]
    assert (q.file, q.values["name"]) == ("queues.tf.json", "shop-production-orders")
    write(tmp_path, {"main.tf.json": json.dumps({"resource": {"aws_sqs_queue": {"only": {"name": "json"}}}})})
    assert load_hcl(tmp_path, EnvSpec("e", "default")).resources["aws_sqs_queue.only"].values == {"name": "json"}

# --------------------------------------------------------------------------- child modules


def test_module_resources_have_terraform_addresses(prod, staging):
    r = prod.resources['module.web["shop"].aws_instance.this']
    assert (r.mode, r.type, r.name) == ("managed", "aws_instance", "this")
    assert (r.file, r.line) == ("modules/web/main.tf", 3)
    d = prod.resources['module.web["shop"].data.aws_region.current']
    assert (d.mode, d.type, d.name) == ("data", "aws_region", "current")
    nested = prod.resources["module.worker[0].module.logs.aws_cloudwatch_log_group.app"]
    assert (nested.type, nested.file, nested.values["retention_in_days"]) == \
        ("aws_cloudwatch_log_group", "modules/web/modules/logs/main.tf", 30)
    assert not any(a.startswith("module.worker") for a in staging.resources)  # count = 0 in staging
    assert not any(".data.module." in a or a.startswith("data.module") for a in prod.resources)
    assert {r.address for r in prod.of_type("aws_instance")} == {
        'module.web["admin"].aws_instance.this', 'module.web["shop"].aws_instance.this',
        "module.worker[0].aws_instance.this"}


def test_module_variables_and_outputs_are_not_the_roots(prod):
    assert set(prod.variables) == {"aws_region", "environment", "instance_type", "sites", "db_instance_class",
                                   "queue_retention", "log_retention_days"}
    assert set(prod.outputs) == {"db_endpoint"}


def test_references_to_module_resources_are_restored(prod):
    alarm = prod.resources['module.web["shop"].aws_cloudwatch_metric_alarm.cpu']
    assert alarm.values["dimensions"] == {"InstanceId": '${module.web["shop"].aws_instance.this}'}
    assert prod.resources['module.web["shop"].aws_instance.this'].values["vpc_security_group_ids"] == \
        ["${aws_security_group.app}"]


def test_plan_json_writes_module_resources_as_terraform_does(prod):
    from policies.plan_json import plan_json

    doc = plan_json(prod)
    children = {c["address"]: c for c in doc["planned_values"]["root_module"]["child_modules"]}
    assert set(children) == {'module.web["admin"]', 'module.web["shop"]', "module.worker[0]"}
    shop = children['module.web["shop"]']
    assert {r["address"] for r in shop["resources"]} >= {'module.web["shop"].aws_instance.this',
                                                          'module.web["shop"].data.aws_region.current'}
    assert [c["address"] for c in shop["child_modules"]] == ['module.web["shop"].module.logs']
    change = next(c for c in doc["resource_changes"] if c["address"] == 'module.web["shop"].aws_instance.this')
    assert (change["module_address"], change["type"], change["name"]) == ('module.web["shop"]', "aws_instance",
                                                                         "this")
    assert change["change"]["after"]["tags_all"] == {"Environment": "production", "Project": "shop",
                                                      "Name": "shop-production-shop"}
    calls = doc["configuration"]["root_module"]["module_calls"]
    assert {r["address"] for r in calls["web"]["module"]["resources"]} >= {"aws_instance.this"}
    assert "logs" in calls["web"]["module"]["module_calls"]
    assert not any(r["address"].startswith("module.") for r in doc["planned_values"]["root_module"]["resources"])


def test_plan_json_references_inside_a_module_are_relative(prod):
    """As Terraform writes a module's configuration: the alarm refers to `aws_instance.this` of its module."""
    from policies.plan_json import plan_json

    calls = plan_json(prod)["configuration"]["root_module"]["module_calls"]
    alarm = next(r for r in calls["web"]["module"]["resources"] if r["address"] == "aws_cloudwatch_metric_alarm.cpu")
    assert alarm["expressions"]["dimensions"]["InstanceId"] == {"references": ["aws_instance.this.id",
                                                                              "aws_instance.this"]}


def test_parity_sees_a_module_resource_differ(shop):
    from tests.helpers import mutate

    mutate(shop / "modules/web/main.tf", "  monitoring             = true\n",
           '  monitoring             = terraform.workspace == "default"\n')
    contract = load_contract(shop / "contract.yaml", shop)
    models = {n: load_hcl(shop, e) for n, e in contract.environments.items()}
    findings = Comparison.build(contract, models).findings_for("Web")
    hits = [f for f in findings if f.attribute == "monitoring"]
    assert {f.resource for f in hits} == {'module.web["admin"].aws_instance.this',
                                          'module.web["shop"].aws_instance.this'}
    assert all((f.expected, f.actual, f.file.endswith("modules/web/main.tf"), f.line) == (True, False, True, 3)
               for f in hits), hits


def test_parity_corpus_is_green_as_written(prod, staging):
    contract = load_contract(CORPUS / "contract.yaml", CORPUS)
    comparison = Comparison.build(contract, {"production": prod, "staging": staging})
    failing = [f.one_line() for row in [*contract.rows, None]
               for f in comparison.findings_for(row.id if row else None)]
    assert failing == []


def test_tag_policy_sees_module_resources(shop):
    from policies import rules
    from tests.helpers import mutate
    from tests.policies.conftest import context

    mutate(shop / "versions.tf", '      Project     = "shop"\n', "")
    model = load_hcl(shop, PRODUCTION)
    failed = {(f.resource, f.attribute, f.file.rsplit("shop/", 1)[-1], f.line)
              for f in rules.tags(model, context({"production": model})) if f.status.value == "fail"}
    assert ('module.web["shop"].aws_s3_bucket.assets', "tags_all.Project", "modules/web/main.tf", 22) in failed
    assert ("module.worker[0].module.logs.aws_cloudwatch_log_group.app", "tags_all.Project",
            "modules/web/modules/logs/main.tf", 9) in failed


def test_cost_sees_module_resources(prod):
    from policies.cost import estimate, load_prices

    costs, _unpriced = estimate(prod, load_prices())
    priced = {c.resource.address for c in costs}
    assert {'module.web["shop"].aws_instance.this', "module.worker[0].aws_instance.this",
            'module.web["admin"].aws_cloudwatch_metric_alarm.cpu'} <= priced

DYNAMIC_SG = '''variable "ports" {
  type = list(number)
}

resource "aws_security_group" "this" {
  name = "svc"

  dynamic "ingress" {
    for_each = var.ports
    content {
      from_port   = ingress.value
      to_port     = ingress.value
      protocol    = "tcp"
      cidr_blocks = ["10.0.0.0/8"]
    }
  }

  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["10.1.0.0/16"]
  }
}
'''


@pytest.mark.parametrize("with_override", [False, True], ids=["plain", "with-override"])
def test_dynamic_blocks_in_a_module_outside_the_root(tmp_path, with_override):
    """envs/prod uses ../../modules/svc (the layout of multi-environment repositories): the module's dynamic
    block is expanded (tfparse alone would lose its last expansion) in a copy that keeps the layout."""
    write(tmp_path, {
        "envs/prod/main.tf": 'module "svc" {\n  source = "../../modules/svc"\n  ports  = [80, 443]\n}\n',
        "modules/svc/main.tf": DYNAMIC_SG,
        **({"envs/prod/override.tf": 'module "svc" {\n  ports = [80, 443, 8443]\n}\n'} if with_override else {}),
    })
    model = load_hcl(tmp_path / "envs" / "prod", EnvSpec("production", "default"))
    sg = model.resources["module.svc.aws_security_group.this"]
    assert [i["from_port"] for i in sg.values["ingress"]] == ([80, 443, 8443] if with_override else [80, 443]) + [22]
    assert (sg.file, sg.line) == ("../../modules/svc/main.tf", 5)


# --------------------------------------------------------------------------- remote and missing modules

REMOTE = 'module "vpc" {\n  source  = "terraform-aws-modules/vpc/aws"\n  version = "5.0.0"\n  name = "x"\n}\n'


def test_remote_module_not_downloaded_is_refused_by_name(tmp_path):
    write(tmp_path, {"main.tf": VAR + "\n" + REMOTE})
    with pytest.raises(SuiteError, match=r'main\.tf:8: module "vpc" \(source terraform-aws-modules/vpc/aws\) is not '
                                         r"downloaded: run terraform init"):
        load_hcl(tmp_path, EnvSpec("e", "default"))


def test_the_gate_stops_with_one_line_on_a_module_not_downloaded(shop):
    from tests.helpers import run_pytest

    (shop / "network.tf").write_text(REMOTE)
    # the corpus has no environments document: any will do, the run stops at the model
    result = run_pytest("parity", "--tf-dir", str(shop), "--contract", str(shop / "contract.yaml"),
                        "--docs", str(DOCS))
    errors = [line for line in result.output.splitlines() if line.startswith("ERROR: ")]
    assert (result.returncode, len(errors), "Traceback" in result.output) == (4, 1, False), result.output
    assert 'network.tf:1: module "vpc" (source terraform-aws-modules/vpc/aws) is not downloaded' in errors[0]


def test_remote_module_read_from_terraform_modules(tmp_path):
    write(tmp_path, {
        "main.tf": VAR + "\n" + REMOTE,
        ".terraform/modules/vpc/main.tf": 'variable "name" {}\nresource "aws_vpc" "this" {\n'
                                          '  cidr_block = "10.0.0.0/16"\n  tags = { Name = var.name }\n}\n',
        ".terraform/modules/modules.json": json.dumps({"Modules": [
            {"Key": "", "Source": "", "Dir": "."},
            {"Key": "vpc", "Source": "registry.terraform.io/terraform-aws-modules/vpc/aws", "Version": "5.0.0",
             "Dir": ".terraform/modules/vpc"}]}),
    })
    model = load_hcl(tmp_path, EnvSpec("e", "default"))
    vpc = model.resources["module.vpc.aws_vpc.this"]
    assert (vpc.type, vpc.file, vpc.values["tags"]) == ("aws_vpc", ".terraform/modules/vpc/main.tf", {"Name": "x"})


def test_missing_local_module_is_refused_by_name(shop):
    shutil.rmtree(shop / "modules" / "web" / "modules" / "logs")
    with pytest.raises(SuiteError, match=r'modules/web/main\.tf:\d+: module "logs" \(source \./modules/logs\)'):
        load_hcl(shop, PRODUCTION)

def test_syntax_error_in_a_module_is_named_not_skipped(shop):
    """tfparse would silently leave the whole module out (a false green): the model names file and line."""
    text = (shop / "modules/web/main.tf").read_text()
    (shop / "modules/web/main.tf").write_text(text + 'resource "aws_sqs_queue" "broken" {\n')
    with pytest.raises(SuiteError, match=r"modules/web/main\.tf:\d+: missing '\}'"):
        load_hcl(shop, PRODUCTION)

# --------------------------------------------------------------------------- provider configuration


ALIASED = '''provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = { Environment = "production", Project = "shop" }
  }
}

provider "aws" {
  alias  = "dr"
  region = "us-west-2"
  default_tags {
    tags = { Environment = "production", Project = "shop-dr" }
  }
}

resource "aws_sqs_queue" "main" {
  name = "main"
}

resource "aws_sqs_queue" "dr" {
  provider = aws.dr
  name     = "dr"
}

module "replica" {
  source    = "./replica"
  providers = { aws = aws.dr }
}

module "plain" {
  source = "./replica"
}
'''


def test_each_resource_gets_the_default_tags_of_its_provider(tmp_path):
    """`provider = aws.dr` and a module called with `providers = { aws = aws.dr }` get dr's default_tags."""
    from policies.tagging import tags_all

    write(tmp_path, {"main.tf": ALIASED,
                     "replica/main.tf": 'resource "aws_s3_bucket" "copy" {\n  bucket = "copy"\n}\n'})
    model = load_hcl(tmp_path, PRODUCTION)
    project = {a: tags_all(r, model)["Project"] for a, r in model.resources.items()}
    assert project == {"aws_sqs_queue.main": "shop", "aws_sqs_queue.dr": "shop-dr",
                       "module.replica.aws_s3_bucket.copy": "shop-dr", "module.plain.aws_s3_bucket.copy": "shop"}
    assert model.resources["module.replica.aws_s3_bucket.copy"].provider == "aws.dr"


def test_provider_configuration_is_in_the_model_and_compared(tmp_path, prod):
    assert prod.providers["aws"]["region"] == "us-east-1"
    ents = entries(prod, load_contract(CORPUS / "contract.yaml", CORPUS))
    assert ents["provider.aws"]["region"] == "us-east-1"
    assert ents["provider.aws"]["default_tags"] == {"Environment": "production", "Project": "shop"}
    write(tmp_path, {
        "main.tf": VAR + ('provider "aws" {\n  region = terraform.workspace == "default" ? "us-east-1" : '
                          '"eu-west-1"\n}\n\nprovider "aws" {\n  alias  = "dr"\n  region = "us-west-2"\n'
                          '  assume_role {\n    role_arn = "arn:aws:iam::123456789012:role/${terraform.workspace}"\n'
                          '  }\n}\n'),
        "contract.yaml": CONTRACT.replace("var_files: [staging.tfvars.json]", "var_files: []"),
    })
    contract = load_contract(tmp_path / "contract.yaml", tmp_path)
    models = {n: load_hcl(tmp_path, e) for n, e in contract.environments.items()}
    assert models["production"].providers["aws.dr"]["region"] == "us-west-2"
    found = {(f.resource, f.attribute, f.expected, f.actual, f.file.rsplit("/", 1)[-1], f.line)
             for f in Comparison.build(contract, models).findings_for(None)}
    assert ("provider.aws", "region", "us-east-1", "eu-west-1", "main.tf", 7) in found
    assert ("provider.aws.dr", "assume_role[0].role_arn", "arn:aws:iam::123456789012:role/default",
            "arn:aws:iam::123456789012:role/staging", "main.tf", 11) in found

# --------------------------------------------------------------------------- checkov


ADMIN_SG = '''resource "aws_security_group" "admin" {
  name        = "${var.name}-admin"
  description = "administration"

  ingress {
    description = "ssh from anywhere"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
'''


@pytest.mark.slow
def test_checkov_sees_module_resources(shop):
    """checkov (a CKV_CD check and a built-in) reads module resources from the plan JSON with their addresses;
    a security group opened in the module fails CKV_CD_5 at the module's file:line."""
    from policies import checkov_run

    write(shop, {"modules/web/admin.tf": ADMIN_SG})
    model = load_hcl(shop, PRODUCTION)
    scan = checkov_run.start({"production": model}).wait()
    results = {(r.check, r.address): r for r in scan.results}
    failed = results[("CKV_CD_5", 'module.web["shop"].aws_security_group.admin')]
    assert not failed.passed
    finding = checkov_run.to_finding(failed, model)
    assert (finding.file.endswith("modules/web/admin.tf"), finding.line) == (True, 5)  # the ingress block
    assert results[("CKV_CD_5", "aws_security_group.app")].passed
    assert results[("CKV_AWS_79", "module.worker[0].aws_instance.this")].passed  # IMDSv2 required, in the module


# --------------------------------------------------------------------------- count/for_each cycles

CYCLES = {
    "resources": ('resource "aws_s3_bucket" "a" {\n  count = length(aws_s3_bucket.b)\n}\n\n'
                  'resource "aws_s3_bucket" "b" {\n  for_each = toset([for x in aws_s3_bucket.a : x.id])\n}\n',
                  "aws_s3_bucket.a and aws_s3_bucket.b", 1),
    "through a module": ('resource "aws_s3_bucket" "a" {\n  for_each = module.m.names\n}\n\n'
                         'module "m" {\n  source   = "./m"\n  for_each = aws_s3_bucket.a\n}\n',
                         "aws_s3_bucket.a and module.m", 1),
}


@pytest.mark.parametrize("name", sorted(CYCLES))
def test_a_count_or_for_each_cycle_is_refused_by_name(name, tmp_path):
    """Terraform refuses the cycle (`Error: Cycle: aws_s3_bucket.a, aws_s3_bucket.b`); tfparse recurses through
    it until its Go runtime aborts the whole process. Refused first, with the block's line."""
    text, blocks, line = CYCLES[name]
    (tmp_path / "main.tf").write_text(text)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "main.tf").write_text('output "names" {\n  value = {}\n}\n')
    with pytest.raises(SuiteError) as err:
        load_hcl(tmp_path, PRODUCTION)
    assert str(err.value) == (f"{tmp_path / 'main.tf'}:{line}: the count/for_each of {blocks} read each other: "
                              "a cycle, which Terraform refuses; make one of them not read the other")


def test_a_reference_in_a_comment_or_a_string_is_no_cycle(tmp_path):
    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "a" {\n  count = 1 # not aws_s3_bucket.b\n'
                                      '  bucket = "a"\n}\n\nresource "aws_s3_bucket" "b" {\n'
                                      '  count = length(aws_s3_bucket.a) + length("aws_s3_bucket.a")\n}\n')
    assert set(load_hcl(tmp_path, PRODUCTION).blocks) == {"aws_s3_bucket.a", "aws_s3_bucket.b"}


ABORTS = """
import sys
from pathlib import Path
from core import loading
from core.model import EnvSpec, load_hcl
loading.check_cycles = lambda root: None
load_hcl(Path(sys.argv[1]), EnvSpec("production", "default", (), "production"))
"""


def test_without_the_check_tfparse_aborts_the_process(tmp_path):
    """Shown to fail: the refusal is what keeps the run alive."""
    import subprocess
    import sys

    (tmp_path / "main.tf").write_text(CYCLES["resources"][0])
    proc = subprocess.run([sys.executable, "-c", ABORTS, str(tmp_path)], cwd=Path(__file__).resolve().parents[2],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -6  # SIGABRT: killed by its Go runtime (its dump goes where tfparse logs)
