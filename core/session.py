"""Per-run state shared by every part of the suite, kept in ``config.stash`` (built once per run)."""

from __future__ import annotations

import gc
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from core import collector, evaluator, redact, sources
from core.contract import Contract, load_contract, read_yaml
from core.errors import SuiteError
from core.findings import Finding
from core.model import EnvModel, EnvSpec, load_all

ROOT = Path(__file__).resolve().parent.parent
# The bundled rules files besides the contract, each validated by core/schemas/<name>.schema.json.
RULES_FILES = {"baseline": ROOT / "policies" / "baseline.yaml", "prices": ROOT / "policies" / "prices.yaml"}


def rules_files(c: Contract) -> list[tuple[str, Path]]:
    """(schema, file) of the rules files this contract's run reads: its price table (the bundled one unless the
    project names its own) and its baseline, if it names one."""
    out = [("prices", Path(c.project.price_table or RULES_FILES["prices"]))]
    if c.project.baseline is not None and Path(c.project.baseline).is_file():
        out.append(("baseline", Path(c.project.baseline)))
    return out


@dataclass(frozen=True)
class Options:
    tf_dir: Path
    contract: Path
    docs: Path
    envs: tuple[str, ...]  # environments to check ("" = all in the contract)
    plan_json: dict[str, str]
    evaluator: str = "fast"  # fast (tfparse) | terraform (real plans) | auto (terraform when it can run here)


_options_key = pytest.StashKey[Options]()
_contract_key = pytest.StashKey[Contract]()
_models_key = pytest.StashKey[dict]()
_findings_key = pytest.StashKey[list]()


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("codedetect", "codedetect policy and parity suite")
    group.addoption("--tf-dir", default=str(ROOT / "terraform"), help="Terraform root module to audit")
    group.addoption("--contract", default=str(ROOT / "parity" / "contract.yaml"), help="parity contract (YAML)")
    group.addoption("--docs", default=None,
                    help="environments document (default: the contract's `document:`, relative to the contract)")
    group.addoption("--env", action="append", default=[], help="environment to check (repeatable; default: all)")
    group.addoption("--plan-json", action="append", default=[], metavar="ENV=PATH",
                    help="use a `terraform show -json` plan for ENV instead of evaluating the HCL")
    group.addoption("--evaluator", choices=("fast", "terraform", "auto"), default="fast",
                    help="fast: evaluate the HCL (tfparse, seconds; the pre-merge default); terraform: real "
                         "offline plans of every environment; auto: terraform when it and the aws provider "
                         "mirror are here, else fast")


def options(config: pytest.Config) -> Options:
    if _options_key not in config.stash:
        plans = {}
        for item in config.getoption("--plan-json"):
            env, sep, path = item.partition("=")
            if not sep or not env or not path:
                raise pytest.UsageError(f"--plan-json {item!r}: expected ENV=PATH, e.g. staging=plan.json")
            plans[env] = str(Path(path).resolve())
        contract_path = Path(config.getoption("--contract")).resolve()
        config.stash[_options_key] = Options(
            tf_dir=Path(config.getoption("--tf-dir")).resolve(),
            contract=contract_path,
            docs=_docs(config.getoption("--docs"), contract_path),
            envs=tuple(config.getoption("--env")),
            plan_json=plans,
            evaluator=config.getoption("--evaluator"),
        )
    return config.stash[_options_key]


def _docs(given: str | None, contract_path: Path) -> Path:
    """--docs if given, else the contract's `document:`; neither is a usage error (never a silent default)."""
    if given:
        return Path(given).resolve()
    try:
        document = load_contract(contract_path).document
    except SuiteError as err:
        raise pytest.UsageError(str(err)) from None
    if not document:
        raise pytest.UsageError(f"{contract_path}: the contract names no environments document; add "
                                "`document: <path relative to the contract>` or pass --docs")
    return Path(document)


def contract(config: pytest.Config) -> Contract:
    """The contract, with --plan-json applied; a bad contract stops the run with one line."""
    if _contract_key not in config.stash:
        opts = options(config)
        try:
            c = load_contract(opts.contract, opts.tf_dir)
            for schema, path in rules_files(c):  # every rules file the run reads, checked up front
                read_yaml(path, schema)
        except SuiteError as err:
            raise pytest.UsageError(str(err)) from None
        for env in list(opts.envs) + list(opts.plan_json):
            if env not in c.environments:
                raise pytest.UsageError(f"{opts.contract}: unknown environment {env!r} "
                                        f"(the contract declares {', '.join(c.environments)})")
        envs = {n: replace(e, plan_json=opts.plan_json.get(n)) for n, e in c.environments.items()}
        config.stash[_contract_key] = replace(c, environments=envs)
    return config.stash[_contract_key]


def selected_envs(config: pytest.Config) -> list[str]:
    c = contract(config)
    return list(options(config).envs) or list(c.environments)


def models(config: pytest.Config) -> dict[str, EnvModel]:
    """Every environment's evaluated model, built once per run (once for all workers under pytest-xdist)."""
    if _models_key not in config.stash:
        c, opts = contract(config), options(config)
        outcome = once(config, "models", lambda: _evaluated(config, opts, c))
        if isinstance(outcome, str):  # a SuiteError's one line (maybe from another xdist worker)
            raise pytest.UsageError(outcome)
        config.stash[_models_key] = outcome
    return config.stash[_models_key]


# Below this much Terraform source per environment, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 200_000


def _evaluated(config: pytest.Config, opts: Options, c: Contract) -> dict[str, EnvModel] | str:
    """The models, or the one line of the SuiteError that stops the run (so xdist workers can share either)."""
    try:
        sources.check(opts.tf_dir, [opts.tf_dir / vf for e in c.environments.values() for vf in e.var_files])
        exact = _exact_models(config, opts, c)  # --evaluator terraform/auto
        sealer = sealer_for(opts.tf_dir, c.environments)
        for name, model in exact.items():
            sealer.add(name, model)
        rest = {n: e for n, e in c.environments.items() if n not in exact}
        if rest:
            evaluate(opts.tf_dir, rest, sealer=sealer)
    except SuiteError as err:
        return str(err)
    sealed = finish(sealer)
    return {n: sealed[n] for n in c.environments}


def finish(sealer: redact.Sealer) -> dict[str, EnvModel]:
    """The sealed models: what every check reads."""
    with collector.paused():
        return sealer.models()


def sealer_for(tf_dir: Path, envs: dict[str, EnvSpec]) -> redact.Sealer:
    """Redaction of this run's models (core/redact.py ``Sealer``), with the literals the secret rules flag in the
    run's files (var files outside the tf dir too)."""
    return redact.Sealer(redact.files_secrets(sources.files(tf_dir, envs.values())))


def evaluate(tf_dir: Path, envs: dict[str, EnvSpec], jobs: int | None = None,
             sealer: redact.Sealer | None = None) -> dict[str, EnvModel]:
    """Each environment's model, in contract order. The source is read once, here; tfparse's runs (most of the
    time) go to ``jobs`` worker processes side by side (core/evaluator.py; default: one per CPU when there is
    enough Terraform to be worth it). The models, and the first SuiteError in contract order, are the same as
    evaluating the environments one after the other. ``sealer``: each model is given to it as soon as it is
    built (its redaction then overlaps the evaluation of the others)."""
    if jobs is None:
        size = sum(f.stat().st_size for f in Path(tf_dir).glob("*.tf")) if Path(tf_dir).is_dir() else 0
        jobs = min(len(envs), os.cpu_count() or 1) if size >= PARALLEL_MIN_BYTES else 1
    jobs = min(jobs, sum(1 for e in envs.values() if not e.plan_json))
    # Evaluation allocates millions of small objects and frees few: the cyclic collector's repeated passes over
    # that growing heap made large modules superlinear (bench/bench_scale.py). One collection at the end.
    with collector.paused():
        built = sealer.add if sealer is not None else None
        if jobs <= 1:
            outcomes = load_all(tf_dir, envs, built=built)
        else:
            with evaluator.Pool(jobs) as pool:
                outcomes = load_all(tf_dir, envs, pool.submit, built=built)
    gc.collect()
    for outcome in outcomes.values():
        if isinstance(outcome, SuiteError):
            raise outcome
    return outcomes


# --------------------------------------------------------------------------- pytest-xdist


def shared_dir(config: pytest.Config) -> Path | None:
    """Under pytest-xdist, the directory every worker of this run shares (made by the controller, see
    reports/plugin.py ``pytest_configure_node``); None otherwise."""
    path = (getattr(config, "workerinput", None) or {}).get("codedetect_shared")
    return Path(path) if path else None


def share_models(config: pytest.Config, shared: Path) -> None:
    """xdist controller: evaluate every environment before the workers start and leave the result where their
    ``once(config, "models", ...)`` finds it; bad input stops the run here with one line."""
    c, opts = contract(config), options(config)
    outcome = _evaluated(config, opts, c)
    _write_atomically(shared / "models.pickle", outcome)
    if isinstance(outcome, str):
        raise pytest.UsageError(outcome)
    config.stash[_models_key] = outcome  # the controller's reports say which evaluator built each model


def _write_atomically(path: Path, value: Any) -> None:
    partial = path.with_suffix(".partial")
    partial.write_bytes(pickle.dumps(value))
    partial.replace(path)


def once(config: pytest.Config, name: str, compute: Callable[[], Any]) -> Any:
    """``compute()``, run once per run: under pytest-xdist the first worker computes it under a file lock and
    the others read its result (the pattern of pytest-xdist's "making session-scoped fixtures execute only
    once"). Without xdist it is just ``compute()``; callers keep the value in ``config.stash``."""
    shared = shared_dir(config)
    if shared is None:
        return compute()
    from filelock import FileLock

    done = shared / f"{name}.pickle"
    with FileLock(str(shared / f"{name}.lock")):
        if done.exists():
            return pickle.loads(done.read_bytes())  # noqa: S301 - written by this run's own worker, in a private dir
        value = compute()
        _write_atomically(done, value)
        return value


def _exact_models(config: pytest.Config, opts: Options, c: Contract) -> dict[str, EnvModel]:
    """--evaluator terraform/auto: real plans of the environments no --plan-json gives (core/exact.py)."""
    from core.exact import chosen_evaluator, exact_models

    if chosen_evaluator(opts.evaluator) == "fast":
        return {}
    import shutil
    import tempfile

    envs = {n: e for n, e in c.environments.items() if not e.plan_json}
    plan_dir = tempfile.mkdtemp(prefix="codedetect-plans-")
    config.add_cleanup(lambda: shutil.rmtree(plan_dir, ignore_errors=True))
    return exact_models(opts.tf_dir, envs, plan_dir) if envs else {}


def evaluators(config: pytest.Config) -> dict[str, str]:
    """Which evaluator built each environment's model (fast, terraform, plan-json); {} before models are built."""
    kinds = {"hcl": "fast", "terraform": "terraform", "plan": "plan-json"}
    return {n: kinds.get(m.source.split(":", 1)[0], m.source) for n, m in config.stash.get(_models_key, {}).items()}


def record(config: pytest.Config, findings: list[Finding]) -> None:
    """Keep findings for the reports written at the end of the run."""
    config.stash.setdefault(_findings_key, []).extend(findings)


def recorded(config: pytest.Config) -> list[Finding]:
    return list(config.stash.get(_findings_key, []))


def conclude(config: pytest.Config, check: str, kind: str, envs: list[str], findings: list[Finding]) -> None:
    """Record a check's findings (a PASS per environment it passed in) and fail the test if any failed."""
    __tracebackhide__ = True
    from core.findings import CheckFailed, Status

    failing = [f for f in findings if not f.status.ok]
    shown = [f for f in findings if f.status in (Status.MUTED, Status.NOT_CHECKED)]  # ok, but never a PASS
    passed = [Finding(check=check, kind=kind, status=Status.PASS, env=env)
              for env in envs if not any(f.env == env for f in failing + shown)]
    record(config, failing + shown + passed)
    if failing:
        raise CheckFailed(f"{kind} check {check!r} failed", failing)
