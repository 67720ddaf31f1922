"""The writers on synthetic findings: each takes only findings, the contract's rows and the environments."""

import json
import re
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest

from core.findings import Finding, Status
from reports import history, html, json_report, markdown, sarif
from reports.results import Outcome, RunInfo, columns, matrix, overall

ROWS = ["Database Type", "Security Groups", "Instance Type"]
ENVS = ["production", "staging"]


def F(check, status, env="staging", kind="parity", **kw):
    return Finding(check=check, kind=kind, status=Status(status), env=env, **kw)


FINDINGS = [
    F("Database Type", "pass", "production"),
    F("Database Type", "pass", "staging"),
    F("Security Groups", "fail", "staging~production", resource="aws_security_group.app",
      attribute="ingress[1].from_port", expected=443, actual=22, file="terraform/security_groups.tf", line=14,
      message="differs between environments"),
    F("Instance Type", "fail", "staging", resource="aws_instance.blue[0]", attribute="instance_type",
      expected="t3.micro", actual="t3.small", file="terraform/staging.tfvars", line=5),
    F("unclaimed", "pass", "staging~production"),
    F("CKV_AWS_16", "fail", "production", kind="policy", resource="aws_db_instance.main",
      attribute="storage_encrypted", expected=True, actual=False, file="terraform/rds.tf", line=8,
      message="Ensure all data stored in the RDS is securely encrypted at rest"),
    F("CKV_AWS_16", "pass", "staging", kind="policy", resource="aws_db_instance.main", file="terraform/rds.tf",
      line=8),
    F("CKV_CD_3", "unknown", "staging", kind="policy", resource="aws_lb.main", file="terraform/alb.tf", line=3),
    F("hardcoded-secret", "fail", "staging", kind="secret", file="terraform/staging.tfvars", line=6,
      actual="(redacted)"),
]
RUN = RunInfo(started="2026-01-01T00:00:00+00:00", finished="2026-01-01T00:00:05+00:00", exitstatus=1,
              args=("parity", "policies"), tests=(
                  Outcome("parity/test_parity.py::test_same[Security Groups]", "failed", (2,)),
                  Outcome("parity/test_parity.py::test_different[Instance Type]", "failed", (3,)),
                  Outcome("parity/test_parity.py::test_same[Database Type]", "passed", (0, 1))))


def test_parity_json_validates_against_its_schema_and_keeps_every_finding():
    doc = json_report.build(FINDINGS, ROWS, ENVS, RUN)
    jsonschema.Draft202012Validator.check_schema(json_report.schema())
    jsonschema.validate(doc, json_report.schema())
    assert doc["schema_version"] == 1 and doc["status"] == "fail"
    assert len(doc["findings"]) == len(FINDINGS)
    sg = doc["findings"][2]
    assert (sg["check"], sg["resource"], sg["attribute"], sg["expected"], sg["actual"], sg["location"]) == (
        "Security Groups", "aws_security_group.app", "ingress[1].from_port", 443, 22, "terraform/security_groups.tf:14")
    assert sg["test"] == "parity/test_parity.py::test_same[Security Groups]"
    checks = {(c["check"], c["section"]): c for c in doc["checks"]}
    assert [c["check"] for c in doc["checks"]][:3] == ROWS  # contract order first
    assert checks[("Security Groups", "parity")]["environments"] == {"staging~production": "fail"}
    assert checks[("CKV_AWS_16", "policy")]["environments"] == {"production": "fail", "staging": "pass"}
    assert doc["environments"]["staging"]["status"] == "fail"


def test_schema_rejects_a_malformed_report():
    doc = json_report.build(FINDINGS, ROWS, ENVS, RUN)
    doc["findings"][0]["status"] = "green"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, json_report.schema())


def test_values_that_are_not_json_are_written_as_text():
    doc = json_report.build([F("Instance Type", "fail", expected={1, 2}, actual=datetime(2026, 1, 1))], ROWS, ENVS)
    jsonschema.validate(doc, json_report.schema())
    assert isinstance(doc["findings"][0]["expected"], str)


def test_matrix_columns_are_environments_then_comparisons_and_an_envless_finding_fills_the_row():
    findings = [*FINDINGS, F("Database Type", "error", "", message="test crashed")]
    cols = columns(findings, ENVS)
    assert cols == ["production", "staging", "staging~production"]
    table = {r[0].check: {c.env: c.word for c in r} for r in matrix(findings, ROWS, cols)}
    assert table["Database Type"] == {"production": "error", "staging": "error", "staging~production": "error"}
    assert table["Security Groups"] == {"production": "none", "staging": "none", "staging~production": "fail"}
    assert table["Instance Type"]["staging"] == "fail"


def test_overall_is_never_pass_when_pytest_failed():
    passed = [F("Database Type", "pass")]
    assert overall(passed, RunInfo("", "", 0, tests=(Outcome("t", "passed"),))) == "pass"
    assert overall(passed, RunInfo("", "", 1)) == "error"
    assert overall([], RunInfo("", "", 5)) == "error"
    assert overall([], RunInfo("", "", 0)) == "skipped"
    assert overall([*passed, F("CKV_CD_3", "unknown", kind="policy")]) == "unknown"


def test_summary_names_the_failing_rows_and_stays_short():
    text = markdown.render(FINDINGS, ROWS, ENVS, RUN)
    assert text.startswith("### ❌ codedetect gate: FAIL")
    assert "| Security Groups |" in text and "| Instance Type |" in text
    assert "| Database Type |" not in text.split("**Failing findings**")[0]  # passing rows are not listed
    assert "terraform/staging.tfvars:5" in text
    many = [F("Security Groups", "fail", resource=f"aws_security_group.sg{i}", actual="x" * 500) for i in range(500)]
    long = markdown.render(many, ROWS, ENVS, RUN)
    assert len(long) < 10_000 and "first 25 of 500" in long


def test_sarif_has_policy_results_pointing_at_file_and_line():
    log = sarif.build(FINDINGS, "/work/repo")
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["CKV_AWS_16", "CKV_CD_3", "hardcoded-secret"]
    results = {(r["ruleId"], r["properties"]["env"]): r for r in run["results"]}
    assert set(results) == {("CKV_AWS_16", "production"), ("CKV_CD_3", "staging"), ("hardcoded-secret", "staging")}
    rds = results[("CKV_AWS_16", "production")]
    assert rds["level"] == "error" and "encrypted" in rds["message"]["text"]
    loc = rds["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "terraform/rds.tf", "uriBaseId": "SRCROOT"}
    assert loc["region"] == {"startLine": 8}
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == "file:///work/repo/"
    assert results[("CKV_CD_3", "staging")]["level"] == "note"
    assert not any(r["ruleId"] in ("Security Groups", "Instance Type") for r in run["results"])


def test_html_is_self_contained_and_marks_the_failing_cell():
    page = html.render(FINDINGS, ROWS, ENVS, RUN)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page, re.I)
    assert "<script" not in page and "<link" not in page and "@import" not in page and "url(" not in page
    assert page.index("Parity matrix") < page.index("Policies")
    row_names = re.findall(r'<th scope="row">([^<]+)</th>', page)
    assert row_names[:3] == ROWS
    cell = re.search(r'<td class="cell fail failing" data-check="Instance Type" data-env="staging"[^>]*>'
                     r'<a href="#(d-parity-\d+-\d+)"', page)
    assert cell, page
    detail = page[page.index(f'id="{cell.group(1)}"'):]
    detail = detail[: detail.index("</div></td></tr>")]
    assert "aws_instance.blue[0]" in detail and "instance_type" in detail and "terraform/staging.tfvars:5" in detail
    assert "t3.micro" in detail and "t3.small" in detail and "<th>expected</th><th>actual</th>" in detail


def test_html_escapes_what_it_shows():
    page = html.render([F("Instance Type", "fail", actual="<img src=x onerror=alert(1)>")], ROWS, ENVS)
    assert "<img" not in page and "&lt;img" in page


def test_side_by_side_marks_only_the_lines_that_differ():
    block = html.side_by_side({"a": 1, "b": 2}, {"a": 1, "b": 3})
    assert '<span class="del">  &quot;b&quot;: 2</span>' in block
    assert '<span class="ins">  &quot;b&quot;: 3</span>' in block
    assert '<span class="del">  &quot;a&quot;' not in block


def test_history_round_trip_trend_and_new_findings(tmp_path):
    t0 = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
    drift_a = F("s3", "drift", resource="arn:aws:s3:::bucket", attribute="versioning", kind="live")
    drift_b = F("sg", "drift", resource="sg-1", attribute="ingress", kind="live")
    first = history.write_audit(tmp_path, history.audit_doc([drift_a, F("s3", "pass", kind="live")], t0, "drift",
                                                             ENVS), t0)
    history.write_audit(tmp_path, history.audit_doc([drift_a, drift_b], t0 + timedelta(days=1), "drift", ENVS),
                        t0 + timedelta(days=1))
    again = history.write_audit(tmp_path, history.audit_doc([], t0, "pass", ENVS), t0)  # same second: no overwrite
    assert first.name == "audit-20260101T030000Z.json" and again.name == "audit-20260101T030000Z-1.json"
    (tmp_path / "audit-20260103T030000Z.json").write_text("{not json")
    audits, problems = history.load(tmp_path)
    assert [a.drift for a in audits] == [1, 0, 2]
    assert problems and "audit-20260103T030000Z.json" in problems[0]
    assert history.new_since([drift_a, drift_b], audits[0]) == [drift_b]
    assert history.new_since([drift_a], None) == [drift_a]
    svg = html.chart_svg(audits)
    assert svg.startswith("<svg") and svg.count("<rect") == 3
    page = html.render([drift_a, drift_b], ROWS, ENVS, None,
                       html.HistoryView(audits=audits, new=[drift_b], previous=audits[0]))
    assert "Audit history" in page and "<svg" in page and "1</b> new failing finding(s)" in page
    assert json.loads(first.read_text())["findings"][0]["resource"] == "arn:aws:s3:::bucket"


def test_a_muted_finding_is_shown_suppressed_and_does_not_fail_the_run():
    """A built-in failure accepted by policies/baseline.yaml: visible with its reason, not a failure."""
    muted = F("CKV_AWS_157", "muted", "staging", kind="policy", resource="aws_db_instance.main",
              file="terraform/rds.tf", line=8, message="accepted by policies/baseline.yaml:40: single-AZ by design")
    (result,) = sarif.build([muted], "/work/repo")["runs"][0]["results"]
    assert result["suppressions"] == [{"kind": "external", "status": "accepted", "justification": muted.message}]
    passing = [F("Database Type", "pass", "staging"), muted]
    green = RunInfo(started=RUN.started, finished=RUN.finished, exitstatus=0, args=[], live=False, tests=[])
    assert overall(passing, green) == "pass"
    doc = json_report.build(passing, ROWS, ENVS, green)
    jsonschema.validate(doc, json_report.schema())
    assert doc["counts"]["muted"] == 1
