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
