"""Per-run state shared by every part of the suite, kept in ``config.stash`` (built once per run)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from core.contract import Contract, load_contract
from core.errors import SuiteError
from core.findings import Finding
from core.model import EnvModel, load

ROOT = Path(__file__).resolve().parent.parent


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
    """Every environment's evaluated model, built once per run."""
    if _models_key not in config.stash:
        c, opts = contract(config), options(config)
        try:
            exact = _exact_models(config, opts, c)
            config.stash[_models_key] = {name: exact.get(name) or load(opts.tf_dir, env)
                                         for name, env in c.environments.items()}
        except SuiteError as err:
            raise pytest.UsageError(str(err)) from None
    return config.stash[_models_key]


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
    passed = [Finding(check=check, kind=kind, status=Status.PASS, env=env)
              for env in envs if not any(f.env == env for f in failing)]
    record(config, failing + passed)
    if failing:
        raise CheckFailed(f"{kind} check {check!r} failed", failing)
