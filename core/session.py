"""Per-run state shared by every part of the suite, kept in ``config.stash`` (built once per run)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from core import redact, sources
from core.contract import Contract, load_contract, read_yaml
from core.errors import SuiteError
from core.findings import Finding
from core.model import EnvModel, load

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
    """Every environment's evaluated model, built once per run."""
    if _models_key not in config.stash:
        c, opts = contract(config), options(config)
        try:
            sources.check(opts.tf_dir, [opts.tf_dir / vf for e in c.environments.values() for vf in e.var_files])
            loaded = {name: load(opts.tf_dir, env) for name, env in c.environments.items()}
        except SuiteError as err:
            raise pytest.UsageError(str(err)) from None
        # Redaction by taint: the literals the secret rules flag anywhere (var files outside the tf dir too)
        literals = redact.files_secrets(sources.files(opts.tf_dir, c.environments.values()))
        config.stash[_models_key] = {name: redact.redact_model(m, literals) for name, m in loaded.items()}
    return config.stash[_models_key]


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
