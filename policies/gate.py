"""The policies part of the gate, per run: checkov once for all environments, our policies, baseline, secrets, cost.

Everything expensive is computed once per run and kept in ``config.stash``. Each public function returns the
findings of one test (PASS included); ``conclude`` records them and fails the test on anything but PASS.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from core import session
from core.errors import SuiteError
from core.findings import CheckFailed, Finding, Status
from policies import baseline, catalog, checkov_run, secrets
from policies.checkov_run import CheckovError, Running, Scan
from policies.common import Context, repo_path

_scan_key = pytest.StashKey[object]()  # Running, then Scan or CheckovError
_exists_key = pytest.StashKey[dict]()
_warm_key = pytest.StashKey[object]()  # a checkov_run.Warm (or None) until start_checkov hands it the plans
_owner_key = pytest.StashKey[object]()  # under xdist: the lock held by the worker that runs checkov for all
_RESULT = "checkov.json"  # under xdist: checkov's answer, in the run's shared directory


def checked_envs(config: pytest.Config) -> list[str]:
    return session.selected_envs(config)


def context(config: pytest.Config) -> Context:
    return Context(models=session.models(config), docs=session.options(config).docs,
                   project=session.contract(config).project)


# ------------------------------------------------------------------------------------------------------ checkov
#
# One checkov run per gate run. Its interpreter starts when the run is configured (``warm_checkov``) and imports
# checkov while the Terraform is evaluated; it gets the plans as soon as the tests are collected (``start_checkov``).
# Under pytest-xdist one worker (the one that takes the lock first) runs it and writes its raw answer to the shared
# directory; the others wait for the lock and read that answer, so every worker parses the same output.


def warm_checkov(config: pytest.Config) -> None:
    """Start checkov's interpreter now (idempotent); under xdist only in the worker that will run it."""
    if _warm_key in config.stash or _scan_key in config.stash:
        return
    shared = session.shared_dir(config)
    if shared is not None:
        from filelock import FileLock, Timeout

        lock = FileLock(str(shared / "checkov.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            config.stash[_warm_key] = None  # another worker runs checkov
            return
        if (shared / _RESULT).exists():  # a late worker: the answer is already there
            lock.release()
            config.stash[_warm_key] = None
            return
        config.stash[_owner_key] = lock
    config.stash[_warm_key] = checkov_run.warm()
    config.add_cleanup(lambda: _stop_warm(config))


def _stop_warm(config: pytest.Config) -> None:
    warm = config.stash.get(_warm_key, None)
    config.stash[_warm_key] = None
    if warm is not None:
        warm.stop()


def _runs_checkov(config: pytest.Config) -> bool:
    return session.shared_dir(config) is None or _owner_key in config.stash


def start_checkov(config: pytest.Config) -> None:
    """Hand the plans to checkov, which runs in the background (idempotent); the policy tests wait for it."""
    if _scan_key in config.stash:
        return
    if not _runs_checkov(config):
        config.stash[_scan_key] = None  # read from the worker that runs it (checkov_scan)
        return
    models = session.models(config)
    warm = config.stash.get(_warm_key, None)
    config.stash[_warm_key] = None
    try:
        project = session.contract(config).project
        config.stash[_scan_key] = checkov_run.start(
            {e: models[e] for e in checked_envs(config)}, extra_dirs=project.check_dirs,
            settings={"CODEDETECT_HEALTH_CHECK_PATH": project.health_check_path}, warm=warm)
    except CheckovError as err:
        config.stash[_scan_key] = err
    except Exception as err:  # noqa: BLE001 - failing to prepare checkov's input is an ERROR finding, not a crash
        config.stash[_scan_key] = CheckovError(f"cannot write the plans for checkov ({type(err).__name__}: {err})")


def checkov_scan(config: pytest.Config) -> Scan:
    """The run's checkov results; raises CheckovError when checkov could not give a complete answer."""
    start_checkov(config)
    state = config.stash[_scan_key]
    if state is None:
        state = _shared_answer(config)
    elif isinstance(state, Running):
        state = _finish(config, state)
    if isinstance(state, Scan):
        try:
            _verify_custom_checks(state, config)
        except CheckovError as err:
            state = err
    config.stash[_scan_key] = state
    if isinstance(state, CheckovError):
        raise state
    return state


def _finish(config: pytest.Config, running: Running) -> Scan | CheckovError:
    """Wait for checkov; under xdist, publish its raw answer to the other workers and release the lock."""
    try:
        answer: dict = dict(zip(("returncode", "stdout", "stderr"), running.output(), strict=True))
    except CheckovError as err:
        answer = {"error": str(err)}
    _publish(config, answer)
    return _read(answer, running.names)


def _publish(config: pytest.Config, answer: dict) -> None:
    lock = config.stash.get(_owner_key, None)
    if lock is None:
        return
    shared = session.shared_dir(config)
    partial = shared / (_RESULT + ".partial")
    partial.write_text(json.dumps(answer))
    partial.replace(shared / _RESULT)
    lock.release()
    del config.stash[_owner_key]


def _read(answer: dict, names: dict[str, str]) -> Scan | CheckovError:
    if "error" in answer:
        return CheckovError(answer["error"])
    try:
        return checkov_run.result(answer["returncode"], answer["stdout"], answer["stderr"], names)
    except CheckovError as err:
        return err


def _shared_answer(config: pytest.Config) -> Scan | CheckovError:
    """Another worker's checkov answer; if that worker ended without one, this worker runs checkov itself."""
    from filelock import FileLock

    shared = session.shared_dir(config)
    with FileLock(str(shared / "checkov.lock")):
        names = checkov_run.file_names(checked_envs(config))
        if (shared / _RESULT).exists():
            return _read(json.loads((shared / _RESULT).read_text()), names)
        del config.stash[_scan_key]
        config.stash[_owner_key] = _Held()
        start_checkov(config)
        state = config.stash[_scan_key]
        return _finish(config, state) if isinstance(state, Running) else state


class _Held:
    """Stands for a lock this worker holds in a ``with`` block: publishing must not release it."""

    def release(self) -> None:
        pass


def stop_checkov(config: pytest.Config) -> None:
    """At the end of the run: under xdist the worker running checkov still publishes its answer (other workers
    may be waiting for it); otherwise a checkov nobody waited for (-x, -k, interrupt) is stopped."""
    state = config.stash.get(_scan_key, None)
    if isinstance(state, Running):
        if _owner_key in config.stash:
            config.stash[_scan_key] = _finish(config, state)
        else:
            state.stop()
            config.stash[_scan_key] = CheckovError("stopped before its results were read")
    lock = config.stash.get(_owner_key, None)
    if lock is not None:  # it never started checkov: let another worker run it
        lock.release()
        del config.stash[_owner_key]
    _stop_warm(config)


def _verify_custom_checks(scan: Scan, config: pytest.Config) -> None:
    models = session.models(config)
    missing = catalog.missing_results(scan, {e: models[e] for e in checked_envs(config)})
    if missing:
        raise CheckovError("; ".join(missing))


def _error(check: str, env: str, err: Exception) -> Finding:
    return Finding(check=check, kind="policy", status=Status.ERROR, env=env, expected="a complete checkov run",
                   actual="error", message=f"checkov: {err}")


def custom_check_findings(config: pytest.Config, check: str, env: str) -> list[Finding]:
    try:
        scan = checkov_scan(config)
    except CheckovError as err:
        return [_error(check, env, err)]
    model = session.models(config)[env]
    out = [checkov_run.to_finding(r, model) for r in scan.for_env(env) if r.check == check]
    return out or [Finding(check=check, kind="policy", status=Status.PASS, env=env,
                           message=f"no resource of the types {check} checks in {env}")]


def _check_exists(config: pytest.Config, check: str) -> bool | None:
    """Ask `checkov --list` whether a check id exists (only when a baseline entry saw no result)."""
    known = config.stash.setdefault(_exists_key, {})
    if "ids" not in known:
        known["ids"] = checkov_run.list_check_ids()
    return None if known["ids"] is None else check in known["ids"]


def builtin_findings(config: pytest.Config, env: str) -> list[Finding]:
    """checkov's built-in checks in one environment, failures excused only by a valid baseline entry."""
    try:
        scan = checkov_scan(config)
    except CheckovError as err:
        return [_error("checkov", env, err)]
    model = session.models(config)[env]
    path = session.contract(config).project.baseline
    skips, _ = baseline.load(path, list(session.contract(config).environments)) if path else ([], [])
    out = []
    for r in scan.for_env(env):
        if r.check.startswith("CKV_CD_"):
            continue
        skip = next((s for s in skips if s.covers(r.check, env, r.address)), None)
        if r.passed or skip is None:
            out.append(checkov_run.to_finding(r, model))
        else:  # recorded as MUTED, saying why: the baseline accepted this failure
            accepted = checkov_run.to_finding(r, model, message=f"accepted by {repo_path(path)}:"
                                              f"{skip.line}: {skip.reason}")
            out.append(replace(accepted, status=Status.MUTED))
    return out


def baseline_findings(config: pytest.Config) -> list[Finding]:
    """The baseline file itself: every entry justified, and none stale in the environments checked."""
    envs = list(session.contract(config).environments)
    path = session.contract(config).project.baseline
    if path is None:
        return [Finding(check="baseline", kind="policy", status=Status.PASS, env="", file=repo_path(
            session.options(config).contract), message="the project names no baseline: every built-in failure "
            "fails the gate (add `project: {baseline: FILE}` to the contract to accept some with reasons)")]
    skips, problems = baseline.load(path, envs)
    try:
        scan = checkov_scan(config)
    except CheckovError as err:
        return [*problems, _error("baseline", "", err)]
    failed = {(r.check, r.env, r.address) for r in scan.results if not r.passed}
    seen = {r.check for r in scan.results}
    problems += baseline.stale(skips, failed, seen, checked_envs(config), lambda c: _check_exists(config, c), path)
    return problems or [Finding(check="baseline", kind="policy", status=Status.PASS, env="",
                                file=repo_path(path), message=f"{len(skips)} justified skips")]


# ------------------------------------------------------------------------------------------------------ ours


def model_policy_findings(config: pytest.Config, policy_id: str, env: str) -> list[Finding]:
    policy = next(p for p in catalog.model_policies() + catalog.cost_policies() if p.id == policy_id)
    try:
        return policy.run(session.models(config)[env], context(config))
    except SuiteError as err:
        return [Finding(check=policy_id, kind=policy.kind, status=Status.ERROR, env=env, message=str(err))]


_secrets_key = pytest.StashKey[dict]()


def secret_findings(config: pytest.Config, rule: str) -> list[Finding]:
    if _secrets_key not in config.stash:
        config.stash[_secrets_key] = secrets.scan(session.options(config).tf_dir)
    return config.stash[_secrets_key][rule]


def conclude(config: pytest.Config, title: str, findings: list[Finding]) -> None:
    """Record every finding; fail the test with the failing ones (FAIL, ERROR, UNKNOWN)."""
    __tracebackhide__ = True
    session.record(config, findings)
    failing = [f for f in findings if not f.status.ok]
    if failing:
        raise CheckFailed(title, failing)
