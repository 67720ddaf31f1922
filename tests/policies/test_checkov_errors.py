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
    """checkov only logs a check it cannot import (and exits as if all was well): the run is an ERROR naming the
    file; and, as a second line, the gate demands a result wherever one of our checks has resources."""
    checks = tmp_path / "checks"
    shutil.copytree(checkov_run.CHECKS_DIR, checks)
    broken = checks / "ckv_cd_7_health_check_path.py"
    broken.write_text(broken.read_text().replace("from checkov.common.models.enums", "from checkov.no_such_module"))
    with pytest.raises(CheckovError, match=r"could not load the check file \S*/ckv_cd_7_health_check_path\.py"):
        checkov_run.start(models, checks).wait()
    scan = checkov_run.start(models).wait()
    scan.results = [r for r in scan.results if r.check != "CKV_CD_7"]  # what the run returned without the file
    missing = catalog.missing_results(scan, models, checks)
    assert len(missing) == 1 and missing[0].startswith("CKV_CD_7 gave no result in staging")


@pytest.mark.parametrize("stderr", [
    # checkov's CLI log format, and the plain logging format of the warm interpreter
    "2026-12-02 00:51:47,964 [MainThread  ] [ERROR]  Failed to run check CKV_AWS_91 on /tmp/x/staging.json:"
    "aws_lb.app\nTraceback (most recent call last):\nKeyError: 'name'\n",
    "ERROR:root:Failed to run check CKV_AWS_91 on /staging.json:aws_lb.app\nERROR:root:Failed to run check "
    "CKV_AWS_91 on /staging.json:aws_lb.app\n",
])
def test_a_check_checkov_could_not_run_is_named_once(stderr):
    names = checkov_run.file_names(["production", "staging"])
    assert checkov_run.lost_results(stderr, names) == [
        "checkov could not run CKV_AWS_91 on aws_lb.app in staging (the check raised: its result is missing; "
        "run checkov with LOG_LEVEL=DEBUG)"]
    with pytest.raises(CheckovError, match=r"could not run CKV_AWS_91 on aws_lb\.app in staging"):
        checkov_run.result(1, json.dumps({"check_type": "terraform_plan", "results": {}}), stderr, names)


def test_a_clean_stderr_loses_nothing():
    assert checkov_run.lost_results("WARNING:root:something else\n", checkov_run.file_names(["staging"])) == []
