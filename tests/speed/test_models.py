"""Environments evaluated in worker processes give exactly the serial result, and errors the same one line;
under pytest-xdist the models are computed once for all workers."""

import pickle
import subprocess
import sys
from dataclasses import replace
from types import SimpleNamespace

import pytest

from core import evaluator, hcl, session
from core.contract import load_contract
from core.errors import SuiteError
from core.model import EnvSpec
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
    monkeypatch.setattr(evaluator, "Pool", lambda *a: pytest.fail("started a worker process"))
    assert set(session.evaluate(TF_DIR, environments(TF_DIR))) == {"production", "staging"}


DIES = "import sys; sys.stdin.buffer.read(1); sys.stderr.write('Traceback...\\nMemoryError\\n'); sys.exit(1)"


def test_worker_failure_is_not_a_silent_model(monkeypatch):
    """A worker process that dies says so (it never yields an empty model)."""
    monkeypatch.setattr(evaluator, "WORKER", [sys.executable, "-c", DIES])
    with pytest.raises(RuntimeError, match="evaluating production in a worker process failed: MemoryError"):
        session.evaluate(TF_DIR, environments(TF_DIR), jobs=2)


def test_a_parse_error_in_a_worker_is_the_same_one_line(tmp_path):
    """tfparse's error comes back from the worker as it would here: the same SuiteError, file and line."""
    tf = copy_tf(tmp_path)
    (tf / "broken.tf").write_text('resource "aws_s3_bucket" "x" {\n  bucket = \n}\n')
    envs = environments(tf)
    with pytest.raises(SuiteError) as serial:
        session.evaluate(tf, envs, jobs=1)
    with pytest.raises(SuiteError) as parallel:
        session.evaluate(tf, envs, jobs=2)
    assert str(parallel.value) == str(serial.value)
    assert "broken.tf" in str(serial.value)


def test_each_file_is_read_once_per_run(tmp_path):
    """The source is read by this process once, whatever the number of environments and workers."""
    tf, envs = _same_text_module(tmp_path)
    envs = {**envs, "dev": EnvSpec("dev", "dev", (), "dev")}
    before = hcl.parse_count
    session.evaluate(tf, envs, jobs=2)
    assert hcl.parse_count - before == len(list(tf.glob("*.tf"))) + len(list(tf.glob("*.tfvars")))


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


FRESH = """
import pickle, sys
from pathlib import Path
from core import session
tf, env = pickle.loads(bytes.fromhex(sys.argv[1]))
sys.stdout.buffer.write(pickle.dumps(session.evaluate(Path(tf), {env.name: env}, jobs=1)[env.name]))
"""


def _alone(tf, env):
    """One environment's model from a fresh process: no cache warmed by another environment."""
    arg = pickle.dumps((str(tf), env)).hex()
    proc = subprocess.run([sys.executable, "-c", FRESH, arg], cwd=ROOT, capture_output=True, check=True)
    return pickle.loads(proc.stdout)  # noqa: S301 - our own child's output


def test_environments_evaluated_together_equal_each_evaluated_alone(tmp_path):
    """Several environments share this process's caches (and workers); each model is the one a fresh process
    gives that environment alone, in any order."""
    for tf, envs in (_same_text_module(tmp_path), (TF_DIR, environments(TF_DIR))):
        together = session.evaluate(tf, envs, jobs=2)
        for name, env in envs.items():
            assert together[name] == _alone(tf, env), name
        reversed_order = session.evaluate(tf, dict(reversed(envs.items())), jobs=2)
        assert reversed_order == together


def test_secrets_seen_while_evaluating_in_workers_are_scrubbed_here(tmp_path):
    """Workers run tfparse only; the model is built here, so the sensitive values it meets are registered in this
    process and free text printed from it is scrubbed (they used to be registered in the workers only)."""
    from core.redact import SENSITIVE, scrub

    secret = "w0rker-s3cret-" + tmp_path.name
    tf = tmp_path / "tf"
    tf.mkdir()
    (tf / "main.tf").write_text(f'variable "token" {{\n  sensitive = true\n  default   = "{secret}"\n}}\n\n'
                                'resource "aws_ssm_parameter" "p" {\n  name  = "p"\n  type  = "String"\n'
                                '  value = "token=${var.token}"\n}\n')
    envs = {"production": EnvSpec("production", "default", (), "production"),
            "staging": EnvSpec("staging", "staging", (), "staging")}
    models = session.evaluate(tf, envs, jobs=2)
    assert str(models["staging"].resources["aws_ssm_parameter.p"].values["value"]) == SENSITIVE
    assert scrub(f"log line: token={secret}") == f"log line: token={SENSITIVE}"


def test_workers_started_are_stopped_when_a_later_one_cannot_start(monkeypatch):
    """Shown to fail before: the first worker was left running when the second could not be started."""
    started = []
    real = subprocess.Popen

    def second_fails(*args, **kwargs):
        if started:
            raise OSError("no more processes")
        started.append(real(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(subprocess, "Popen", second_fails)
    with pytest.raises(OSError, match="no more processes"):
        evaluator.Pool(2)
    assert started[0].wait(timeout=30) is not None  # (killed, and waited for)
