"""The gate with the exact evaluator: `pytest -m "not live" parity policies --evaluator terraform`."""

import json

import pytest

from tests.helpers import ROOT, run_pytest

pytestmark = pytest.mark.slow


def test_gate_on_real_plans_of_both_environments_is_green(tmp_path):
    out = tmp_path / "reports"
    result = run_pytest("-m", "not live", "parity", "policies", "--evaluator", "terraform", "-q",
                        "--report-dir", str(out))
    assert result.returncode == 0, result.output
    assert "failed" not in result.output and "passed" in result.output
    doc = json.loads((out / "parity.json").read_text())
    assert doc["run"]["evaluators"] == {"production": "terraform", "staging": "terraform"}
    import jsonschema

    jsonschema.validate(doc, json.loads((ROOT / "reports" / "parity.schema.json").read_text()))
    assert "evaluator: production terraform, staging terraform" in (out / "summary.md").read_text()
    for report in out.iterdir():  # the placeholder of the required db_password is never shown
        if report.is_file():
            assert "codedetect-placeholder" not in report.read_text(errors="replace"), report.name
    assert "codedetect-placeholder" not in result.output


def test_auto_uses_the_fast_evaluator_where_terraform_cannot_run(tmp_path):
    out = tmp_path / "reports"
    env = {"CODEDETECT_TF_MIRROR": str(tmp_path / "no-mirror")}
    result = run_pytest("parity", "-q", "--evaluator", "auto", "--report-dir", str(out), env=env)
    assert result.returncode == 0, result.output
    assert json.loads((out / "parity.json").read_text())["run"]["evaluators"] == {
        "production": "fast", "staging": "fast"}


def test_terraform_evaluator_that_cannot_run_is_a_usage_error(tmp_path):
    env = {"CODEDETECT_TF_MIRROR": str(tmp_path / "no-mirror")}
    result = run_pytest("parity", "-q", "--evaluator", "terraform", "--report-dir", str(tmp_path / "r"), env=env)
    assert result.returncode == 4, result.output
    assert "--evaluator terraform cannot run: no provider filesystem mirror" in result.output
    assert "Traceback" not in result.output


def test_unknown_evaluator_is_refused():
    result = run_pytest("parity", "-q", "--evaluator", "exact")
    assert result.returncode == 4 and "invalid choice: 'exact'" in result.output, result.output


def test_auto_chooses_terraform_exactly_when_it_can_run(monkeypatch):
    import core.exact

    monkeypatch.setattr(core.exact, "unavailable_reason", lambda: None)
    assert core.exact.chosen_evaluator("auto") == "terraform"
    monkeypatch.setattr(core.exact, "unavailable_reason", lambda: "terraform is not on the PATH")
    assert core.exact.chosen_evaluator("auto") == "fast"
    assert core.exact.chosen_evaluator("terraform") == "terraform"  # asked for: runs, or stops with a usage error
    assert core.exact.chosen_evaluator("fast") == "fast"
