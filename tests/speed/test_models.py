"""Environments evaluated in worker processes give exactly the serial result, and errors the same one line;
under pytest-xdist the models are computed once for all workers."""

import subprocess
import sys
from dataclasses import replace
from types import SimpleNamespace

import pytest

from core import session
from core.contract import load_contract
from core.errors import SuiteError
from tests.helpers import CONTRACT, ROOT, TF_DIR, copy_tf


def environments(tf_dir):
    return load_contract(CONTRACT, tf_dir).environments


@pytest.mark.slow
def test_parallel_evaluation_equals_serial():
    envs = environments(TF_DIR)
    serial = session.evaluate(TF_DIR, envs, jobs=1)
    parallel = session.evaluate(TF_DIR, envs, jobs=2)
    assert list(parallel) == list(serial) == list(envs)  # contract order
    for name in envs:
        assert parallel[name] == serial[name], name
    assert parallel["staging"].resources["aws_instance.blue[0]"].values == \
        serial["staging"].resources["aws_instance.blue[0]"].values


@pytest.mark.slow
def test_parallel_evaluation_reports_the_same_bad_input(tmp_path):
    """Both environments broken differently: the first in contract order is the one line, as when serial."""
    tf = copy_tf(tmp_path)
    envs = environments(tf)
    (tf / "staging.tfvars").write_text((tf / "staging.tfvars").read_text() + "not valid hcl {{{\n")
    broken = {"production": replace(envs["production"], var_files=("missing.tfvars",)), "staging": envs["staging"]}
    with pytest.raises(SuiteError) as serial:
        session.evaluate(tf, broken, jobs=1)
    with pytest.raises(SuiteError) as parallel:
        session.evaluate(tf, broken, jobs=2)
    assert str(parallel.value) == str(serial.value)
    assert "missing.tfvars" in str(serial.value) and "\n" not in str(serial.value)


def test_small_modules_are_evaluated_in_process(monkeypatch):
    """Below PARALLEL_MIN_BYTES of .tf source, starting workers costs more than it saves."""
    monkeypatch.setattr(session, "_load_in_process", lambda *a: pytest.fail("started a worker process"))
    assert set(session.evaluate(TF_DIR, environments(TF_DIR))) == {"production", "staging"}


def test_worker_failure_is_not_a_silent_model(monkeypatch):
    """A worker process that dies says so (it never yields an empty model)."""
    def died(*_a, **_k):
        return subprocess.CompletedProcess([], 1, b"", b"Traceback...\nMemoryError")

    monkeypatch.setattr(session.subprocess, "run", died)
    with pytest.raises(RuntimeError, match="evaluating production in a worker process failed: MemoryError"):
        session.evaluate(TF_DIR, environments(TF_DIR), jobs=2)


ONCE = """
import sys, time
from types import SimpleNamespace
from pathlib import Path
from core import session
shared = Path(sys.argv[1])
def compute():
    with open(shared / "computed", "a") as fh:
        fh.write("x")
    time.sleep(0.5)
    return {"value": 42}
config = SimpleNamespace(workerinput={"codedetect_shared": str(shared)})
print(session.once(config, "thing", compute)["value"])
"""


def test_once_computes_once_for_all_workers(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", ONCE, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True) for _ in range(3)]
    outputs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert outputs == ["42", "42", "42"]
    assert (tmp_path / "computed").read_text() == "x"  # one computation, two readers


def test_once_without_xdist_just_computes():
    calls = []
    assert session.once(SimpleNamespace(), "x", lambda: calls.append(1) or 7) == 7
    assert session.once(SimpleNamespace(), "x", lambda: calls.append(1) or 7) == 7
    assert calls == [1, 1]  # callers keep the value in config.stash


# --------------------------------------------------------------------------- memoised source-text work (issue 12)

SAME_TEXT = '''resource "aws_ssm_parameter" "%s" {
  name  = "${var.prefix}-%s"
  type  = "String"
  value = "${data.aws_caller_identity.me.account_id}-${var.prefix}-${terraform.workspace}"
  tags  = { Owner = "${data.aws_caller_identity.me.account_id}-${var.prefix}" }
}
'''


ACCOUNT = "data.aws_caller_identity.me.account_id"


def _same_text_module(tmp_path):
    """The same expression texts in two files and two environments, with values that differ by environment."""
    tf = tmp_path / "tf"
    tf.mkdir()
    account = 'data "aws_caller_identity" "me" {}\n\n\n\n'
    (tf / "main.tf").write_text('variable "prefix" {\n  default = "prod"\n}\n\n' + account + SAME_TEXT % ("a", "a"))
    (tf / "other.tf").write_text("\n\n\n" + SAME_TEXT % ("b", "b"))  # same text, other file, other lines
    (tf / "staging.tfvars").write_text('prefix = "stg"\n')
    from core.model import EnvSpec

    return tf, {"production": EnvSpec("production", "default", (), "production"),
                "staging": EnvSpec("staging", "staging", ("staging.tfvars",), "staging")}


def test_the_same_expression_text_still_gets_each_environments_value(tmp_path):
    """tfparse returns these templates as their raw text, the same everywhere; they are evaluated again from
    source, whose scans are memoised by expression text: the values must still be each environment's."""
    tf, envs = _same_text_module(tmp_path)
    models = session.evaluate(tf, envs, jobs=1)
    for name, prefix, workspace in (("production", "prod", "default"), ("staging", "stg", "staging")):
        for r in ("a", "b"):
            values = models[name].resources[f"aws_ssm_parameter.{r}"].values
            assert values["value"] == f"${{{ACCOUNT}}}-{prefix}-{workspace}", (name, r)
            assert values["tags"] == {"Owner": f"${{{ACCOUNT}}}-{prefix}"}, (name, r)
    lines = {r: models["staging"].resources[f"aws_ssm_parameter.{r}"].line for r in ("a", "b")}
    assert lines == {"a": 9, "b": 4}


def test_environments_in_one_worker_equal_each_evaluated_alone(tmp_path):
    """A worker evaluates several environments with its caches warm; each model is the one a fresh process gives."""
    for tf, envs in (_same_text_module(tmp_path), (TF_DIR, environments(TF_DIR))):
        together = dict(session._load_in_process(tf, list(envs.items())))
        for name, env in envs.items():
            alone = dict(session._load_in_process(tf, [(name, env)]))
            assert together[name] == alone[name], name
        reversed_order = dict(session._load_in_process(tf, list(reversed(envs.items()))))
        assert reversed_order == together
