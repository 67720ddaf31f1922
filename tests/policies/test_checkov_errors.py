"""checkov failing to give a complete answer is an ERROR that fails the gate, never a pass."""

import json
import shutil
import stat

import pytest

from policies import catalog, checkov_run
from policies.checkov_run import CheckovError
from tests.policies.conftest import fixture_model


@pytest.fixture(scope="module")
def models():
    return {"staging": fixture_model("CKV_CD_7")}


def fake_checkov(tmp_path, monkeypatch, script):
    path = tmp_path / "checkov"
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("CODEDETECT_CHECKOV", str(path))


def report(files, parsing_errors=()):
    results = [{"check_id": "CKV_CD_7", "check_name": "n", "file_path": f"/{f}", "resource": "aws_lb_target_group.pass",
                "check_result": {"result": "PASSED"}} for f in files]
    return json.dumps({"check_type": "terraform_plan", "summary": {"checkov_version": "3.3.30"},
                       "results": {"passed_checks": results, "failed_checks": [],
                                   "parsing_errors": list(parsing_errors)}})


def test_missing_binary(models, monkeypatch, tmp_path):
    monkeypatch.setenv("CODEDETECT_CHECKOV", str(tmp_path / "no-such-checkov"))
    with pytest.raises(CheckovError, match="cannot start checkov"):
        checkov_run.start(models)


@pytest.mark.parametrize(("script", "message"), [
    ("echo 'Traceback: boom' >&2; exit 2", "exited with code 2: Traceback: boom"),
    ("echo 'this is not json'; exit 0", "printed no JSON report"),
    ("echo '{\"passed\": 0, \"failed\": 0, \"resource_count\": 0}'; exit 0", "no terraform_plan results"),
    (f"echo '{report(['staging.json'], ['staging.json'])}'", "could not parse"),
    (f"echo '{report(['other.json'])}'", "a file it was not given"),
])
def test_broken_runs_are_errors(models, monkeypatch, tmp_path, script, message):
    fake_checkov(tmp_path, monkeypatch, script)
    with pytest.raises(CheckovError, match=message):
        checkov_run.start(models).wait()


def test_environment_without_results(monkeypatch, tmp_path):
    both = {"staging": fixture_model("CKV_CD_7"), "production": fixture_model("CKV_CD_7", "production")}
    fake_checkov(tmp_path, monkeypatch, f"echo '{report(['staging.json'])}'; exit 1")
    with pytest.raises(CheckovError, match=r"no result for environment.*production"):
        checkov_run.start(both).wait()


def test_custom_check_that_fails_to_import_is_an_error(tmp_path, models):
    """checkov only logs a check it cannot import; the gate demands a result wherever the check has resources."""
    checks = tmp_path / "checks"
    shutil.copytree(checkov_run.CHECKS_DIR, checks)
    broken = checks / "ckv_cd_7_health_check_path.py"
    broken.write_text(broken.read_text().replace("from checkov.common.models.enums", "from checkov.no_such_module"))
    scan = checkov_run.start(models, checks).wait()  # checkov itself exits as if all was well
    assert "CKV_CD_7" not in {r.check for r in scan.results}
    missing = catalog.missing_results(scan, models, checks)
    assert len(missing) == 1 and missing[0].startswith("CKV_CD_7 gave no result in staging")
