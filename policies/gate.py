"""The policies part of the gate, per run: checkov once for all environments, our policies, baseline, secrets, cost.

Everything expensive is computed once per run and kept in ``config.stash``. Each public function returns the
findings of one test (PASS included); ``conclude`` records them and fails the test on anything but PASS.
"""

from __future__ import annotations

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


def checked_envs(config: pytest.Config) -> list[str]:
    return session.selected_envs(config)


def context(config: pytest.Config) -> Context:
    return Context(models=session.models(config), docs=session.options(config).docs,
                   project=session.contract(config).project)


# ------------------------------------------------------------------------------------------------------ checkov


def start_checkov(config: pytest.Config) -> None:
    """Start checkov in the background (idempotent); the policy tests wait for it."""
    if _scan_key in config.stash:
        return
    models = session.models(config)
    try:
        project = session.contract(config).project
        config.stash[_scan_key] = checkov_run.start(
            {e: models[e] for e in checked_envs(config)}, extra_dirs=project.check_dirs,
            settings={"CODEDETECT_HEALTH_CHECK_PATH": project.health_check_path})
    except CheckovError as err:
        config.stash[_scan_key] = err
    except Exception as err:  # noqa: BLE001 - failing to prepare checkov's input is an ERROR finding, not a crash
        config.stash[_scan_key] = CheckovError(f"cannot write the plans for checkov ({type(err).__name__}: {err})")


def checkov_scan(config: pytest.Config) -> Scan:
    """The run's checkov results; raises CheckovError when checkov could not give a complete answer."""
    start_checkov(config)
    state = config.stash[_scan_key]
    if isinstance(state, Running):
        try:
            state = state.wait()
            _verify_custom_checks(state, config)
        except CheckovError as err:
            state = err
        config.stash[_scan_key] = state
    if isinstance(state, CheckovError):
        raise state
    return state


def stop_checkov(config: pytest.Config) -> None:
    state = config.stash.get(_scan_key, None)
    if isinstance(state, Running):
        state.stop()
        config.stash[_scan_key] = CheckovError("stopped before its results were read")


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
