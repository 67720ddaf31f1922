"""checkov's interpreter starts early and gets the plans later: the same answer as a cold start, and every way it
can go wrong is still an ERROR (never a pass, never a leftover process)."""

import stat
import sys
import time

import pytest

from core import session
from core.contract import load_contract
from policies import checkov_run, gate
from policies.checkov_run import CheckovError
from tests.helpers import CONTRACT, TF_DIR


@pytest.fixture(scope="module")
def models():
    return session.evaluate(TF_DIR, load_contract(CONTRACT, TF_DIR).environments, jobs=1)


@pytest.mark.slow
def test_warm_start_gives_the_cold_start_answer(models):
    warm = checkov_run.warm()
    assert warm is not None, "the bundled checkov is its Python console script: it must start warm"
    hot = checkov_run.start(models, warm=warm).wait()
    cold = checkov_run.start(models).wait()
    assert hot.results == cold.results and len(hot.results) > 100
    assert {r.env for r in hot.results} == {"production", "staging"}
    assert any(not r.passed for r in hot.results)  # the bundled terraform/ has baselined failures


PROJECT_CHECK = """import os

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class TargetGroupPath(BaseResourceCheck):
    def __init__(self):
        super().__init__(name="health check path as the project says", id="CKV_WARM_1",
                         categories=[CheckCategories.CONVENTION], supported_resources=["aws_lb_target_group"])

    def scan_resource_conf(self, conf):
        wanted = os.environ.get("WARM_TEST_PATH")
        return CheckResult.PASSED if wanted == "/health" else CheckResult.FAILED


check = TargetGroupPath()
"""


@pytest.mark.slow
def test_warm_start_runs_the_projects_checks_with_its_settings_as_the_cli_does(models, tmp_path):
    """The warm interpreter runs checkov's plan runner itself (not its CLI): a project's own check directory and
    the settings the checks read reach it exactly as they reach `checkov --external-checks-dir`."""
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "__init__.py").write_text("")
    (checks / "warm_path.py").write_text(PROJECT_CHECK)
    for path, passed in (("/health", True), ("/elsewhere", False)):
        settings = {"WARM_TEST_PATH": path}
        hot = checkov_run.start(models, extra_dirs=[checks], settings=settings, warm=checkov_run.warm()).wait()
        cold = checkov_run.start(models, extra_dirs=[checks], settings=settings).wait()
        assert hot.version == cold.version and hot.results == cold.results
        own = [r for r in hot.results if r.check == "CKV_WARM_1"]
        assert {r.env for r in own} == {"production", "staging"} and {r.passed for r in own} == {passed}


@pytest.mark.slow
def test_a_warm_interpreter_that_died_falls_back_to_a_cold_start(models):
    warm = checkov_run.warm()
    warm.proc.kill()
    warm.proc.wait()
    scan = checkov_run.start(models, warm=warm).wait()
    assert {r.env for r in scan.results} == {"production", "staging"}


def script(tmp_path, monkeypatch, text):
    path = tmp_path / "checkov"
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("CODEDETECT_CHECKOV", str(path))
    return path


def test_a_stand_in_or_wrapper_is_not_started_warm(tmp_path, monkeypatch):
    script(tmp_path, monkeypatch, "#!/bin/sh\nexec checkov \"$@\"\n")
    assert checkov_run.warm() is None
    script(tmp_path, monkeypatch, f"#!{sys.executable}\nprint('not checkov')\n")
    assert checkov_run.warm() is None
    monkeypatch.setenv("CODEDETECT_CHECKOV", str(tmp_path / "missing"))
    assert checkov_run.warm() is None


def test_a_checkov_that_cannot_import_is_an_error(tmp_path, monkeypatch, models):
    """A console script whose interpreter has no checkov: warm start dies, the cold start dies too, ERROR."""
    script(tmp_path, monkeypatch, f"#!{sys.executable}\nfrom checkov.main import Checkov\nCheckov().run()\n")
    warm = checkov_run.warm()
    assert warm is not None
    with pytest.raises(CheckovError, match=r"printed no JSON report.*No module named 'checkov'"):
        checkov_run.start(models, warm=warm).wait()


class FakeConfig:
    def __init__(self):
        self.stash = pytest.Stash()
        self.cleanups = []

    def add_cleanup(self, fn):
        self.cleanups.append(fn)


def test_an_unused_warm_interpreter_is_stopped():
    config = FakeConfig()
    gate.warm_checkov(config)
    warm = config.stash[gate._warm_key]
    assert warm is not None and warm.proc.poll() is None
    gate.stop_checkov(config)
    deadline = time.monotonic() + 30
    while warm.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert warm.proc.poll() is not None
    assert config.cleanups  # and pytest's cleanup stops it even when the session never finishes


@pytest.mark.slow
def test_a_check_that_raises_is_an_error_not_a_missing_result(models, tmp_path):
    """checkov logs a check that raises and carries on without its result (exit code and JSON as if nothing
    happened): that is an ERROR naming the check, resource and environment, warm or cold."""
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "__init__.py").write_text("")
    (checks / "boom.py").write_text(PROJECT_CHECK.replace('wanted = os.environ.get("WARM_TEST_PATH")',
                                                          'raise RuntimeError("boom")'))
    message = r"checkov could not run CKV_WARM_1 on aws_lb_target_group\.app\S* in (production|staging)"
    for warm in (checkov_run.warm(), None):
        with pytest.raises(CheckovError, match=message):
            checkov_run.start(models, extra_dirs=[checks], warm=warm).wait()


@pytest.mark.slow
def test_a_check_file_that_cannot_be_imported_is_an_error(models, tmp_path):
    """checkov only logs an external check that fails to import (the project's own checks have no list of ids to
    demand results for): the run is incomplete, an ERROR naming the file."""
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "__init__.py").write_text("")
    (checks / "broken.py").write_text("import not_a_module_anywhere\n" + PROJECT_CHECK)
    for warm in (checkov_run.warm(), None):
        with pytest.raises(CheckovError, match=r"could not load the check file \S*broken\.py"):
            checkov_run.start(models, extra_dirs=[checks], warm=warm).wait()
