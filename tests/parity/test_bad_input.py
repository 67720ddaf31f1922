"""Bad input gives one clear line naming the file (and line), never a traceback and never a pass."""

import shutil

import pytest

from core.contract import load_contract
from core.errors import SuiteError
from core.model import EnvSpec, load_hcl, load_plan
from parity.document import read_tables
from tests.helpers import CONTRACT, DOCS, ROOT, copy_tf, mutate, run_pytest

STAGING = EnvSpec("staging", "staging", ("staging.tfvars",), "staging")
PLANS = ROOT / "tests" / "fixtures" / "plan-json"


def assert_one_line_usage_error(result, *needles):
    assert result.returncode == 4, result.output  # pytest's usage error, not a pass and not a crash
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == 1, result.output
    for needle in needles:
        assert needle in errors[0], errors[0]


@pytest.fixture
def tf(tmp_path):
    return copy_tf(tmp_path)


def test_unknown_environment():
    assert_one_line_usage_error(run_pytest("parity", "--env", "qa"), "contract.yaml", "unknown environment 'qa'")


def test_malformed_hcl(tf):
    mutate(tf / "rds.tf", "  storage_encrypted = true\n", "  storage_encrypted = \n")
    assert_one_line_usage_error(run_pytest("parity", "--tf-dir", str(tf)), "rds.tf:")


def test_malformed_contract_yaml(tmp_path):
    contract = tmp_path / "contract.yaml"
    contract.write_text(CONTRACT.read_text().replace("reference: production", "reference: [production"))
    assert_one_line_usage_error(run_pytest("parity", "--contract", str(contract)), "contract.yaml:", "malformed YAML")


def test_missing_var_file_is_named_with_the_contract_line(tf, tmp_path):
    contract = tmp_path / "contract.yaml"
    shutil.copy(CONTRACT, contract)
    mutate(contract, "var_files: [staging.tfvars]", "var_files: [stagin.tfvars]")
    with pytest.raises(SuiteError, match=r"contract\.yaml:\d+: var file 'stagin\.tfvars' of environment 'staging'"):
        load_contract(contract, tf)


@pytest.mark.parametrize(("mutation", "message"), [
    ({"reference": "qa"}, "reference environment 'qa' is not declared"),
    ({"row_key": "selectt"}, "unknown keys ['selectt']"),
    ({"duplicate": True}, "duplicate row id 'Database Type'"),
    ({"allow_type": True}, "allowing a whole resource type"),
    ({"allow_all": True}, "must name an attribute path or a resource address"),
    ({"missing_value": True}, "must give a value for every environment"),
])
def test_contract_shape_errors(tmp_path, mutation, message):
    text = CONTRACT.read_text()
    if "reference" in mutation:
        text = text.replace("reference: production", "reference: qa")
    if "row_key" in mutation:
        text = text.replace("  - id: Monitoring\n", "  - id: Monitoring\n    selectt: []\n")
    if "duplicate" in mutation:
        text = text.replace("  - id: Monitoring\n", "  - id: Database Type\n")
    if "allow_type" in mutation:
        text = text.replace("    allow: *deletion", "    allow: [aws_db_instance.*]")
    if "allow_all" in mutation:
        text = text.replace("    allow: *deletion", "    allow: ['*']")
    if "missing_value" in mutation:
        text = text.replace("values: {staging: t3.micro, production: t3.micro}", "values: {production: t3.micro}")
    path = tmp_path / "contract.yaml"
    path.write_text(text)
    with pytest.raises(SuiteError, match=r"contract\.yaml(:\d+)?: ") as err:
        load_contract(path)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_terraform_dir(tmp_path):
    with pytest.raises(SuiteError, match="no Terraform files here"):
        load_hcl(tmp_path, STAGING)


def test_invalid_plan_json_names_file_and_line():
    with pytest.raises(SuiteError, match=r"tfjson-invalid\.plan\.json:\d+: not valid JSON"):
        load_plan(PLANS / "tfjson-invalid.plan.json", STAGING)


def test_state_json_is_not_a_plan(tmp_path):
    state = tmp_path / "state.json"
    state.write_text('{"format_version": "1.0", "values": {"root_module": {}}}')
    with pytest.raises(SuiteError, match="not a Terraform plan"):
        load_plan(state, STAGING)


def test_plan_json_option_needs_env_and_path():
    assert_one_line_usage_error(run_pytest("parity", "--plan-json", "plan.json"), "expected ENV=PATH")


def test_plan_json_for_unknown_environment():
    assert_one_line_usage_error(run_pytest("parity", "--plan-json", "qa=x.json"), "unknown environment 'qa'")


def test_document_without_tables(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("# nothing here\n")
    with pytest.raises(SuiteError, match=r"doc\.md: no 'Component \| Configuration'"):
        read_tables(doc, ["staging", "production"])


def test_document_table_row_with_missing_cell(tmp_path):
    doc = tmp_path / "doc.md"
    shutil.copy(DOCS, doc)
    mutate(doc, "| RDS Storage | 20 GB | 20 GB | Same (minimal) |", "| RDS Storage | 20 GB | Same (minimal) |")
    with pytest.raises(SuiteError, match=r"doc\.md:\d+: table row has 3 cells, its header 4"):
        read_tables(doc, ["staging", "production"])
