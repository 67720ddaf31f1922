"""The contract and every rules file are validated by a JSON Schema (core/schemas/): unknown keys, wrong types and
patterns that cover everything are one-line errors naming the file and the line, before anything runs."""

import pytest

from core.contract import load_contract, read_yaml
from core.errors import SuiteError
from core.session import RULES_FILES
from tests.helpers import CONTRACT, run_pytest
from tests.parity.test_bad_input import assert_one_line_usage_error
from tests.security.planting import contract_text

STAGING = "  staging: {workspace: staging, var_files: [staging.tfvars], tag: staging}\n"
INSTANCE_TYPE = '      - {address: "aws_instance.*", attributes: [instance_type]}\n'
DELETION_ALLOW = "    allow: *deletion\n"


@pytest.mark.parametrize(("old", "new", "offset", "message"), [
    # unknown keys
    (STAGING, "  staging: {workspace: staging, var_file: [staging.tfvars], tag: staging}\n", 0,
     "environments.staging: unknown key 'var_file'"),
    ("  - id: Monitoring\n", "  - id: Monitoring\n    selectt: []\n", 1, "same[1]: unknown key 'selectt'"),
    ("version: 1\n", "version: 1\nrefrence: production\n", 1, "unknown key 'refrence'"),
    # wrong types: a list where a mapping is expected (a raw AttributeError before), a string where a list is
    # expected (split into characters before: "no matched resource has attribute 'h'")
    ("normalise:\n  staging:\n", "normalise:\n  - staging:\n", 1, "normalise must be a mapping, not a list"),
    (STAGING, "  staging: [staging, staging.tfvars]\n", 0, "environments.staging must be a mapping, not a list"),
    (INSTANCE_TYPE, '      - {address: "aws_instance.*", attributes: instance_type}\n', 0,
     "different[0].select[0].attributes must be a list, not a string"),
    ("json_attributes: [policy, assume_role_policy, dashboard_body]", "json_attributes: policy", 0,
     "json_attributes must be a list, not a string"),
    # patterns that cover everything
    (DELETION_ALLOW, '    allow: [{address: "*.*"}]\n', 0, 'different[7].allow[0].address: "*.*" is too broad'),
    (DELETION_ALLOW, "    allow: {address: aws_db_instance.main}\n", 0, "different[7].allow must be a list"),
    (INSTANCE_TYPE, '      - {address: "aws_instance.*", attributes: ["*"]}\n', 0,
     'different[0].select[0].attributes[0]: "*" is too broad'),
    (INSTANCE_TYPE, '      - {address: "*.*", attributes: [instance_type]}\n', 0,
     'different[0].select[0].address: "*.*" is too broad'),
    (INSTANCE_TYPE, '      - "*"\n', 0, 'different[0].select[0]: "*" is too broad'),
    ("ignore_unmanaged: []", 'ignore_unmanaged: [{arn_pattern: "arn:*", why: "anything goes"}]', 0,
     "ignore_unmanaged[0].arn_pattern"),
    ("ignore_unmanaged: []", 'ignore_unmanaged:\n  - {arn_pattern: "arn:aws:s3:::*", why: "all buckets"}', 1,
     "ignore_unmanaged[0].arn_pattern"),
    ("ignore_unmanaged: []", 'ignore_unmanaged:\n  - {arn_pattern: "*", why: "all"}', 1,
     "ignore_unmanaged[0].arn_pattern"),
])
def test_contract_schema_errors_name_file_and_line(tmp_path, old, new, offset, message):
    """``offset``: the line of the error, counted from the first line of the mutation."""
    text = contract_text()
    assert text.count(old) == 1, old
    line = text[: text.index(old)].count("\n") + 1 + offset
    path = tmp_path / "contract.yaml"
    path.write_text(text.replace(old, new))
    with pytest.raises(SuiteError) as err:
        load_contract(path)
    assert str(err.value).startswith(f"{path}:{line}: "), str(err.value)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_contract_accepts_the_aws_mapping_of_an_environment_and_a_narrow_ignore(tmp_path):
    text = contract_text().replace(
        STAGING, "  staging:\n    workspace: staging\n    var_files: [staging.tfvars]\n    tag: staging\n"
                 "    aws: {profile: stg, role_arn: 'arn:aws:iam::123456789012:role/audit', external_id: x1,"
                 " region: us-east-1}\n").replace(
        "ignore_unmanaged: []",
        'ignore_unmanaged:\n  - {arn_pattern: "arn:aws:ec2:*:*:instance/i-0abc*", why: "bastion", envs: [staging]}')
    path = tmp_path / "contract.yaml"
    path.write_text(text)
    contract = load_contract(path)
    assert contract.ignore_unmanaged[0]["arn_pattern"].endswith("i-0abc*")


def test_bundled_rules_files_are_valid():
    load_contract(CONTRACT)
    for schema, path in RULES_FILES.items():
        read_yaml(path, schema)


@pytest.mark.parametrize(("schema", "old", "new", "message"), [
    ("baseline", "    resources: [aws_iam_role_policy.app]\n", "    resources: aws_iam_role_policy.app\n",
     "skips[0].resources must be a list, not a string"),
    ("baseline", "    resources: [aws_iam_role_policy.app]\n", "    resources: ['*']\n",
     'skips[0].resources[0]: "*" is too broad'),
    ("baseline", "skips:\n", "skip:\n", "unknown key 'skip'"),
    ("prices", "hours_per_month: 730\n", "hours_per_month: [730]\n", "hours_per_month must be a number, not a list"),
    ("prices", "      t3.micro: 0.0104\n", "      t3.micro: cheap\n",
     "regions.us-east-1.ec2_hourly.t3.micro must be a number, not a string"),
    ("prices", "    alb_hourly: 0.0225", "    alb_hourlyy: 0.0225", "regions.us-east-1: unknown key 'alb_hourlyy'"),
    ("prices", "regions:\n", "regionz:\n", "unknown key 'regionz'"),
])
def test_rules_files_schema_errors(tmp_path, schema, old, new, message):
    original = RULES_FILES[schema]
    text = original.read_text()
    assert text.count(old) == 1, old
    path = tmp_path / original.name
    path.write_text(text.replace(old, new, 1))
    line = text[: text.index(old)].count("\n") + 1
    with pytest.raises(SuiteError) as err:
        read_yaml(path, schema)
    assert str(err.value).startswith(f"{path}:{line}: ") and message in str(err.value), str(err.value)


def test_wrong_type_in_the_contract_is_one_line_with_the_usage_exit_code(tmp_path):
    """A list where a mapping is expected ended in a raw AttributeError with no reports written."""
    path = tmp_path / "contract.yaml"
    text = contract_text()
    path.write_text(text.replace("normalise:\n  staging:\n", "normalise:\n  - staging:\n"))
    line = text[: text.index("normalise:\n  staging:\n")].count("\n") + 2
    reports = tmp_path / "reports"
    result = run_pytest("parity", "policies", "--contract", str(path), "--report-dir", str(reports))
    assert_one_line_usage_error(result, f"{path}:{line}:", "normalise must be a mapping, not a list")
    assert "AttributeError" not in result.output
    assert (reports / "summary.md").is_file() and "ERROR" in (reports / "summary.md").read_text()


REGIONAL = """\
date: "2025-01"
source: list prices
hours_per_month: 730
tolerance: {relative: 0.1, absolute: 1.0}
regions:
  us-east-1: &us
    ec2_hourly: {t3.micro: 0.0104}
    alb_hourly: 0.0225
  us-east-2: *us
  eu-west-1:
    ec2_hourly: {t3.micro: 0.0114}
free: [aws_vpc]
usage_only: [aws_s3_bucket]
"""


def test_a_price_table_per_region_is_valid_and_checked(tmp_path):
    """The regional layout h5b-adoption uses (regions: {<region>: <table>}) validates, with the same rules."""
    path = tmp_path / "prices.yaml"
    path.write_text(REGIONAL)
    read_yaml(path, "prices")
    path.write_text(REGIONAL.replace("    alb_hourly: 0.0225\n", "    alb_hourly: 0.0225\n    alb_hourlyy: 1\n"))
    with pytest.raises(SuiteError, match=r"prices\.yaml:9: regions\.us-east-1: unknown key 'alb_hourlyy'"):
        read_yaml(path, "prices")
    path.write_text(REGIONAL.replace("ec2_hourly: {t3.micro: 0.0114}", "ec2_hourly: [t3.micro]"))
    with pytest.raises(SuiteError, match=r"prices\.yaml:11: regions\.eu-west-1\.ec2_hourly must be a mapping"):
        read_yaml(path, "prices")


def test_the_adoption_keys_of_a_contract_validate(tmp_path):
    """claims: and base64_attributes: (h5b-adoption) are known keys with types."""
    extra = "base64_attributes: [user_data]\nclaims:\n  - {text: make gate, line: 5, kind: ignore, why: the command}"
    text = contract_text().replace("ignore_unmanaged: []", "ignore_unmanaged: []\n" + extra)
    path = tmp_path / "contract.yaml"
    path.write_text(text)
    read_yaml(path, "contract")
    path.write_text(text.replace("line: 5,", "line: five,"))
    with pytest.raises(SuiteError, match=r"claims\[0\]\.line must be an integer, not a string"):
        read_yaml(path, "contract")
