"""End to end: the real gate on a mutated terraform/ copy writes every report, and they agree with pytest."""

import json
import re
import xml.etree.ElementTree as ET

import jsonschema

from reports.json_report import schema
from tests.reports.conftest import PLANTED_SECRET

FILES = ["junit.xml", "parity.json", "summary.md", "policies.sarif", "index.html"]


def junit_outcomes(path):
    """nodeid-like 'module.path::name' -> (outcome, failure text) from pytest's JUnit XML."""
    out = {}
    for case in ET.parse(path).getroot().iter("testcase"):  # noqa: S314 - pytest wrote it in this test
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        kind = "passed" if bad is None else bad.tag
        if case.find("skipped") is not None:
            kind = "skipped"
        out[f'{case.get("classname")}::{case.get("name")}'] = (kind, "" if bad is None else bad.text or "")
    return out


def junit_id(nodeid):
    """pytest's JUnit naming: parity/test_parity.py::test_x[a] -> parity.test_parity::test_x[a]."""
    path, sep, name = nodeid.partition("::")
    module = re.sub(r"\.py$", "", path).replace("/", ".")
    return f"{module}::{name.replace('::', '.')}" if sep else f"::{module}"  # a module that failed to collect


def test_every_report_is_written_for_a_failing_gate(failing_gate):
    result, out, _ = failing_gate
    assert result.returncode == 1, result.output
    for name in FILES:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    doc = json.loads((out / "parity.json").read_text())
    jsonschema.validate(doc, schema())
    assert doc["status"] == "fail" and doc["run"]["exitstatus"] == 1


OK = ("pass", "muted")  # statuses that do not fail the gate


def test_parity_json_lists_exactly_what_pytest_reported(failing_gate):
    _, out, _ = failing_gate
    doc = json.loads((out / "parity.json").read_text())
    junit = junit_outcomes(out / "junit.xml")
    tests = {junit_id(t["nodeid"]): t for t in doc["tests"]}
    assert set(tests) == set(junit)
    failing_junit = {k for k, (kind, _) in junit.items() if kind in ("failure", "error")}
    failing_json = {k for k, t in tests.items() if t["outcome"] in ("failed", "error")}
    with_failing_findings = {junit_id(f["test"]) for f in doc["findings"] if f["status"] not in OK}
    assert failing_junit == failing_json == with_failing_findings
    assert "parity.test_parity::test_different[Instance Type]" in failing_junit
    for key in failing_junit:  # each "- [row] env resource.attribute ..." line pytest printed is one finding
        printed = re.findall(r"^(?:E)?\s+- (\[.*)$", junit[key][1], re.M)  # CheckFailed's table, however shown
        mine = [f for f in doc["findings"] if junit_id(f["test"]) == key and f["status"] not in OK]
        if not re.search(r"\d+ finding\(s\)", junit[key][1]):
            assert [f["origin"] for f in mine] == ["outcome"], key  # a crash: one finding made from it
            continue
        assert len(printed) == len(mine), key
        for f in mine:
            prefix = f"[{f['check']}] {f['env']} " + (
                f["resource"] + (f".{f['attribute']}" if f["attribute"] else "") + " " if f["resource"] else "")
            match = next((line for line in printed if line.startswith(prefix)), None)
            assert match, (key, prefix, printed)
            printed.remove(match)


def test_parity_json_has_the_difference_with_file_and_line(failing_gate):
    _, out, _ = failing_gate
    doc = json.loads((out / "parity.json").read_text())
    row = next(c for c in doc["checks"] if c["check"] == "Instance Type" and c["section"] == "parity")
    assert row["status"] == "fail" and row["environments"]["staging"] == "fail"
    assert row["environments"]["production"] == "pass"
    tfvars = [f for f in doc["findings"] if f["check"] == "Instance Type" and f["resource"] == "var.instance_type"]
    assert tfvars and tfvars[0]["actual"] == "t3.small" and tfvars[0]["expected"] == "t3.micro"
    assert tfvars[0]["location"] == "terraform/staging.tfvars:5"  # relative to the copy's root
    assert doc["rows"][0] == "Database Type" and "Instance Type" in doc["rows"]


def test_summary_names_the_failing_rows_only(failing_gate):
    _, out, _ = failing_gate
    summary = (out / "summary.md").read_text()
    assert summary.splitlines()[0].startswith("### ❌ codedetect gate: FAIL")
    table = summary.split("**Parity rows**", 1)[1].split("**", 1)[0]
    assert "| Instance Type |" in table
    assert "| Security Groups |" not in table and "| Database Type |" not in table
    assert len(summary) < 20_000


def test_sarif_points_at_the_tf_file_and_line(failing_gate):
    _, out, tf = failing_gate
    log = json.loads((out / "policies.sarif").read_text())
    assert log["version"] == "2.1.0"
    results = [r for r in log["runs"][0]["results"] if r["ruleId"] == "CKV_AWS_16"]
    assert results, [r["ruleId"] for r in log["runs"][0]["results"]]
    lines = (tf / "rds.tf").read_text().splitlines()
    for r in results:
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == "terraform/rds.tf"
        assert loc["artifactLocation"]["uriBaseId"] == "SRCROOT"
        line = lines[loc["region"]["startLine"] - 1]
        assert "storage_encrypted" in line or line.startswith('resource "aws_db_instance" "main"'), line
        assert r["level"] == "error"
    assert log["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"] == tf.parent.as_uri() + "/"
    assert not any(r["ruleId"] == "Instance Type" for r in log["runs"][0]["results"])  # parity is not SARIF


def test_no_report_contains_a_planted_secret(secret_gate):
    result, out, tf = secret_gate
    assert PLANTED_SECRET in (tf / "staging.tfvars").read_text()
    assert PLANTED_SECRET not in result.output
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= set(FILES)
    leaks = [str(p) for p in files if PLANTED_SECRET.encode() in p.read_bytes()]
    assert leaks == []
    doc = json.loads((out / "parity.json").read_text())
    assert doc["status"] != "pass"  # a password in a var file differs from production (and is a secret)


def test_a_usage_error_of_the_real_gate_is_not_green(tmp_path):
    from tests.helpers import run_pytest

    out = tmp_path / "reports"
    result = run_pytest("parity", "--env", "nosuch", "--report-dir", str(out), "-q")
    assert result.returncode != 0
    doc = json.loads((out / "parity.json").read_text())
    jsonschema.validate(doc, schema())
    assert doc["status"] == "error"
    assert any("nosuch" in f["message"] for f in doc["findings"] if f["status"] == "error"), doc["findings"]
    assert "ERROR" in (out / "summary.md").read_text().splitlines()[0]
    assert 'id="status">ERROR' in (out / "index.html").read_text()


def test_terraform_that_does_not_parse_is_an_error_naming_file_and_line(tmp_path):
    from tests.helpers import copy_tf, run_pytest

    tf = copy_tf(tmp_path)
    (tf / "broken.tf").write_text('resource "aws_s3_bucket" "x" {\n  bucket = \n}\n')
    out = tmp_path / "reports"
    result = run_pytest("parity", "--tf-dir", str(tf), "--report-dir", str(out), "-q")
    assert result.returncode == 4, result.output  # the model stops the run with one line
    doc = json.loads((out / "parity.json").read_text())
    jsonschema.validate(doc, schema())
    assert doc["status"] == "error" and doc["run"]["exitstatus"] == 4
    (error,) = [f for f in doc["findings"] if f["status"] == "error"]
    assert error["origin"] == "outcome" and re.search(r"broken\.tf:\d", error["message"]), error
    assert "broken.tf" in (out / "summary.md").read_text()
