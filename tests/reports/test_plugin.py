"""The plugin in real pytest runs (subprocesses): outcomes become findings, so a failing run is never green.

A small project in a temporary directory loads ``reports.plugin`` and the suite's options; its tests crash,
assert, raise CheckFailed without recording, record findings, or error in setup.
"""

import json
import re
import textwrap

import jsonschema
import pytest

from reports import history
from reports.json_report import schema
from tests.helpers import ROOT, run_pytest

CONFTEST = """
from core import session

pytest_plugins = ["reports.plugin"]


def pytest_addoption(parser):
    session.add_options(parser)


def pytest_configure(config):
    for marker in ("parity", "live"):
        config.addinivalue_line("markers", marker + ": test marker")
"""

TESTS = """
import pytest

from core import session
from core.findings import CheckFailed, Finding, Status


@pytest.mark.parity
@pytest.mark.parametrize("row", ["Security Groups"])
def test_row_crashes(row):
    raise RuntimeError("boom")


def test_plain_assert():
    assert 1 == 2


def test_raises_without_recording():
    raise CheckFailed("parity check 'Instance Type' failed", [Finding(
        check="Instance Type", kind="parity", status=Status.FAIL, env="staging", resource="aws_instance.blue[0]",
        attribute="instance_type", expected="t3.micro", actual="t3.small")])


def test_records_and_fails(pytestconfig):
    session.conclude(pytestconfig, "IAM Roles", "parity", ["staging"], [Finding(
        check="IAM Roles", kind="parity", status=Status.FAIL, env="staging", resource="aws_iam_role.app")])


@pytest.fixture
def broken():
    raise pytest.UsageError("--plan-json staging: not a plan")


def test_setup_error(broken):
    pass


def test_passes(pytestconfig):
    session.record(pytestconfig, [Finding(check="Monitoring", kind="parity", status=Status.PASS, env="staging")])
"""


def project(tmp_path, tests=TESTS, name="test_suite.py"):
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / name).write_text(textwrap.dedent(tests))
    return tmp_path


def run(path, *args, env=None):
    out = path / "out"
    result = run_pytest(str(path), "--report-dir", str(out), *args, cwd=path,
                        env={"PYTHONPATH": str(ROOT), **(env or {})})
    doc = json.loads((out / "parity.json").read_text())
    jsonschema.validate(doc, schema())
    return result, doc, out


def by_test(doc):
    return {t["nodeid"].split("::", 1)[-1]: [doc["findings"][i] for i in t["findings"]] for t in doc["tests"]}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    return run(project(tmp_path_factory.mktemp("mixed")))


def test_every_failed_test_has_a_failing_finding(mixed):
    result, doc, _ = mixed
    assert result.returncode == 1, result.output
    assert doc["status"] == "fail" and doc["run"]["exitstatus"] == 1
    outcomes = {t["nodeid"].split("::", 1)[-1]: t["outcome"] for t in doc["tests"]}
    assert outcomes == {"test_row_crashes[Security Groups]": "failed", "test_plain_assert": "failed",
                        "test_raises_without_recording": "failed", "test_records_and_fails": "failed",
                        "test_setup_error": "error", "test_passes": "passed"}
    for nodeid, findings in by_test(doc).items():
        failing = [f for f in findings if f["status"] != "pass"]
        assert bool(failing) == (outcomes[nodeid] != "passed"), (nodeid, findings)


def test_a_crash_is_an_error_of_its_contract_row(mixed):
    (crash,) = by_test(mixed[1])["test_row_crashes[Security Groups]"]
    assert (crash["check"], crash["kind"], crash["status"], crash["origin"]) == (
        "Security Groups", "parity", "error", "outcome")
    assert "RuntimeError: boom" in crash["message"] and re.search(r"test_suite\.py:\d+$", crash["location"])
    sg = next(c for c in mixed[1]["checks"] if c["check"] == "Security Groups")
    assert sg["status"] == "error" and sg["contract_row"]


def test_an_assertion_is_a_fail_and_a_setup_error_an_error(mixed):
    tests = by_test(mixed[1])
    assert [f["status"] for f in tests["test_plain_assert"]] == ["fail"]
    assert tests["test_plain_assert"][0]["check"].endswith("test_suite.py::test_plain_assert")
    (setup,) = tests["test_setup_error"]
    assert setup["status"] == "error" and "not a plan" in setup["message"]


def test_checkfailed_findings_are_kept_even_when_not_recorded(mixed):
    (f,) = by_test(mixed[1])["test_raises_without_recording"]
    assert (f["check"], f["status"], f["resource"], f["expected"], f["actual"]) == (
        "Instance Type", "fail", "aws_instance.blue[0]", "t3.micro", "t3.small")


def test_recorded_findings_are_not_duplicated(mixed):
    findings = by_test(mixed[1])["test_records_and_fails"]
    assert [(f["check"], f["status"], f["origin"]) for f in findings] == [("IAM Roles", "fail", "recorded")]


def test_all_reports_are_written_and_name_the_failures(mixed):
    _, _, out = mixed
    assert {p.name for p in out.iterdir()} >= {"junit.xml", "parity.json", "summary.md", "policies.sarif",
                                                "index.html"}
    summary = (out / "summary.md").read_text()
    assert "FAIL" in summary.splitlines()[0]
    for row in ("Security Groups", "Instance Type", "IAM Roles"):
        assert f"| {row} |" in summary
    page = (out / "index.html").read_text()
    assert 'data-check="Security Groups"' in page and "cell error failing" in page


def test_a_collection_error_is_an_error(tmp_path):
    path = project(tmp_path, "def test_x(:\n", name="test_broken.py")
    result, doc, _ = run(path)
    assert result.returncode == 2, result.output
    assert doc["status"] == "error"
    (f,) = [f for f in doc["findings"] if f["status"] != "pass"]
    assert f["check"] == "test_broken.py" and "SyntaxError" in f["message"]


def test_no_test_ran_is_not_green(tmp_path):
    result, doc, out = run(project(tmp_path), "-k", "no_such_test")
    assert result.returncode == 5, result.output
    assert doc["status"] == "error"
    assert any(f["check"] == "pytest" and "status 5" in f["message"] for f in doc["findings"])
    assert "ERROR" in (out / "summary.md").read_text().splitlines()[0]


def test_a_green_run_is_green_and_appends_the_step_summary(tmp_path):
    step = tmp_path / "step-summary.md"
    step.write_text("earlier step\n")
    result, doc, out = run(project(tmp_path), "-k", "test_passes", env={"GITHUB_STEP_SUMMARY": str(step)})
    assert result.returncode == 0, result.output
    assert doc["status"] == "pass" and doc["counts"]["pass"] == 1
    assert step.read_text() == "earlier step\n" + (out / "summary.md").read_text() + "\n"
    assert "PASS" in step.read_text()


LIVE = """
import os

import pytest

from core import session
from core.findings import Finding, Status


@pytest.mark.live
def test_live(pytestconfig):
    drift = [Finding(check="s3_versioning", kind="live", status=Status.DRIFT, env="staging",
                     resource="arn:aws:s3:::" + name, attribute="versioning", expected="Enabled", actual="Suspended")
             for name in os.environ["DRIFTED"].split(",") if name]
    session.record(pytestconfig, drift or [Finding(check="s3_versioning", kind="live", status=Status.PASS,
                                                   env="staging")])
    assert not drift
"""


def test_live_runs_keep_a_history_and_show_new_drift(tmp_path):
    path = project(tmp_path, LIVE)
    hist = tmp_path / "restored-history"
    run(path, "--history-dir", str(hist), env={"DRIFTED": "a"})
    run(path, "--history-dir", str(hist), env={"DRIFTED": ""})
    result, doc, out = run(path, "--history-dir", str(hist), env={"DRIFTED": "a,b"})
    assert result.returncode == 1 and doc["run"]["live"] and doc["status"] == "drift"
    audits, problems = history.load(hist)  # oldest first, runs within one second in order
    assert [a.drift for a in audits] == [1, 0, 2] and not problems
    page = (out / "index.html").read_text()
    assert "Audit history" in page and page.count("<rect") == 3
    assert "2</b> new failing finding(s) since the previous audit" in page
    assert not (out / "history").exists()  # --history-dir replaces <report-dir>/history


def test_a_run_without_live_tests_writes_no_audit(mixed):
    assert not mixed[1]["run"]["live"]
    assert not (mixed[2] / "history").exists()
