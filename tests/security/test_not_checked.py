"""A row or check that compared nothing is reported as NOT CHECKED, never as PASS (issue 9)."""

import json

import pytest

from core.findings import Finding, Status
from reports import markdown
from reports.results import RunInfo, overall
from tests.helpers import run_pytest


@pytest.mark.slow
def test_only_the_reference_environment_shows_parity_as_not_checked(tmp_path):
    """`--env production` compared nothing with production: every parity row and the catch-all say not checked."""
    reports = tmp_path / "reports"
    result = run_pytest("parity", "--env", "production", "--report-dir", str(reports))
    assert result.returncode == 0, result.output  # not a failure of the gate...
    doc = json.loads((reports / "parity.json").read_text())
    rows = {c["check"]: c for c in doc["checks"] if c["section"] == "parity" and c["contract_row"]}
    assert len(rows) >= 16
    for check, c in [*rows.items(), ("unclaimed", next(c for c in doc["checks"] if c["check"] == "unclaimed"))]:
        assert c["status"] == "not_checked", (check, c)  # ...but never a pass
        assert c["environments"]["staging~production"] == "not_checked"
    assert doc["status"] == "not_checked" and doc["counts"]["not_checked"] == len(rows) + 1
    summary = (reports / "summary.md").read_text()
    assert "codedetect gate: NOT_CHECKED" in summary and f"{len(rows) + 1} not checked" in summary
    assert "| Instance Type | ✅ pass | · | ➖ not_checked |" in summary
    unclaimed = [t for t in doc["tests"] if t["nodeid"].endswith("test_unclaimed")]
    assert [t["outcome"] for t in unclaimed] == ["skipped"]


@pytest.mark.slow
def test_both_environments_are_compared_by_default(tmp_path):
    reports = tmp_path / "reports"
    result = run_pytest("parity", "-k", "unclaimed or Instance", "--report-dir", str(reports))
    assert result.returncode == 0, result.output
    doc = json.loads((reports / "parity.json").read_text())
    assert doc["counts"]["not_checked"] == 0 and doc["status"] == "pass"


def test_not_checked_is_never_shown_as_a_pass():
    run = RunInfo(started="2026-01-01T00:00:00+00:00", finished="2026-01-01T00:00:01+00:00", exitstatus=0)
    findings = [Finding(check="A", kind="parity", status=Status.PASS, env="production"),
                Finding(check="A", kind="parity", status=Status.NOT_CHECKED, env="staging~production",
                        message="not checked: staging was not compared")]
    assert Status.NOT_CHECKED.ok  # it does not fail the gate
    assert overall(findings, run) == "not_checked"
    text = markdown.render(findings, ["A"], ["production", "staging"], run)
    assert "NOT_CHECKED" in text and "1 not checked" in text and "| A | ✅ pass | · | ➖ not_checked |" in text
