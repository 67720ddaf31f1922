"""Claims: the document's prose checked against the Terraform, and the document's code no claim covers reported."""

import pytest

from core.contract import Claim, load_contract
from core.findings import Status
from parity.claims import check_claim, uncovered
from parity.document import candidates
from tests.helpers import CONTRACT, DOCS, TF_DIR, copy_contract, copy_tf, mutate
from tests.policies.conftest import evaluate


@pytest.fixture(scope="module")
def bundled():
    return evaluate(TF_DIR)


@pytest.fixture(scope="module")
def contract():
    return load_contract(CONTRACT, TF_DIR)


def failing(findings):
    return [f for f in findings if not f.status.ok]


def claim(contract, text, line):
    return next(c for c in contract.claims if (c.text, c.line) == (text, line))


def test_bundled_claims_hold_and_cover_the_document(bundled, contract):
    assert len(contract.claims) == len(candidates(DOCS))
    for c in contract.claims:
        assert not failing(check_claim(c, contract, bundled, str(DOCS), contract.project)), c
    assert uncovered(contract, str(DOCS)) == []


def test_missing_documented_log_group_fails_naming_document_line(tmp_path, contract):
    tf = copy_tf(tmp_path)
    mutate(tf / "locals.tf", 'log_group_name = "/aws/ec2/${local.name}"', 'log_group_name = "/app/${local.name}"')
    models = evaluate(tf)
    bad = failing(check_claim(claim(contract, "/aws/ec2/codedetect-staging", 73), contract, models, str(DOCS)))
    assert [(f.env, f.resource, f.attribute, f.expected, f.actual) for f in bad] == \
        [("staging", "aws_cloudwatch_log_group", "name", "/aws/ec2/codedetect-staging",
          ["/app/codedetect-staging", "/aws/rds/instance/codedetect-staging-db/postgresql",
           "/aws/rds/instance/codedetect-staging-db/upgrade"])]
    assert bad[0].location.endswith("docs/ENVIRONMENTS.md:73") and "terraform/monitoring.tf:1" in bad[0].message


@pytest.mark.parametrize(("text", "line", "kind", "envs", "wrong"), [
    ("[PROD]", 74, "alarm_prefix", ("staging",), "alarm_name"),
    ("Environment=production", 75, "tag", ("staging",), "tags_all.Environment"),
    ("default", 10, "workspace", ("staging",), "workspace"),
    ("terraform/staging.tfvars", 11, "var_file", ("production",), "var_files"),
    ('terraform apply -var-file="staging.tfvars"', 12, "command", ("production",), "var_files"),
    ("TF_VAR_db_secret", 15, "variable", (), ""),
])
def test_each_kind_of_claim_fails_when_the_terraform_disagrees(bundled, contract, tmp_path, text, line, kind, envs,
                                                               wrong):
    doc = tmp_path / "ENVIRONMENTS.md"  # the document says TF_VAR_db_secret, a variable nobody declares
    doc.write_text(DOCS.read_text().replace("TF_VAR_db_password", "TF_VAR_db_secret"))
    bad = failing(check_claim(Claim(text=text, line=line, kind=kind, envs=envs), contract, bundled, str(doc),
                              contract.project))
    assert bad and all(f.status == Status.FAIL and f.line == line for f in bad), bad
    assert bad[0].attribute == wrong and bad[0].file.endswith("ENVIRONMENTS.md")


def test_claim_whose_line_moved_says_where_the_text_is_now(tmp_path, bundled, contract):
    doc = tmp_path / "ENVIRONMENTS.md"
    doc.write_text(DOCS.read_text().replace("## Monitoring\n", "## Monitoring\n\nSee below.\n"))
    bad = failing(check_claim(claim(contract, "/aws/ec2/codedetect-staging", 73), contract, bundled, str(doc)))
    assert len(bad) == 1 and "it is at line 75 now" in bad[0].message and bad[0].line == 73


def test_new_inline_code_in_the_document_is_reported_until_claimed(tmp_path, contract):
    doc = tmp_path / "ENVIRONMENTS.md"
    doc.write_text(DOCS.read_text().replace("- Dashboards:", "- Traces: `/aws/xray/codedetect`.\n- Dashboards:"))
    bad = uncovered(contract, str(doc))
    assert [(f.attribute, f.line) for f in bad if f.attribute == "/aws/xray/codedetect"] == \
        [("/aws/xray/codedetect", 75)]
    assert "no claim" in bad[0].message


def test_bad_claims_stop_with_one_line(tmp_path):
    from core.errors import SuiteError

    path = copy_contract(tmp_path)
    text = path.read_text()
    path.write_text(text.replace("kind: log_group", "kind: loggroup", 1))
    with pytest.raises(SuiteError, match=r"contract.yaml:\d+: claim '/aws/ec2/codedetect-staging': kind must be"):
        load_contract(path)
    path.write_text(text.replace('kind: ignore, why: "the suite\'s command; its tests are the claims themselves"',
                                 'kind: ignore, why: "x"'))
    with pytest.raises(SuiteError, match="kind ignore needs a reason"):
        load_contract(path)


def test_a_claim_listed_twice_is_refused(tmp_path):
    from core.errors import SuiteError

    path = copy_contract(tmp_path)
    text = path.read_text()
    dup = "  - {text: /aws/ec2/codedetect-staging, line: 73, kind: log_group, envs: [staging]}\n"
    path.write_text(text.replace(dup, dup + dup))
    with pytest.raises(SuiteError, match=r"contract.yaml:\d+: claim '/aws/ec2/codedetect-staging' at document line 73 "
                       "is listed twice"):
        load_contract(path)


def test_a_claim_about_an_environment_this_run_does_not_check(bundled, contract):
    found = check_claim(claim(contract, "/aws/ec2/codedetect-production", 73), contract,
                        {"staging": bundled["staging"]}, str(DOCS))
    assert [f.status for f in found] == [Status.PASS] and "not checked in this run" in found[0].message
