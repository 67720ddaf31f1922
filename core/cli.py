"""``codedetect-suite``: the suite as one command, the way checkov or tflint are used.

    codedetect-suite gate  [--tf-dir DIR] [--contract FILE] [--docs FILE] [--env NAME] [--report-dir DIR] [-- ARGS]
    codedetect-suite live  [... the same] [--aws-profile P] [--aws-region R] [--aws-endpoint URL] [--require-live]
    codedetect-suite init  --tf-dir DIR --docs FILE [--output FILE] [--force]
    codedetect-suite show  [--tf-dir DIR] [--contract FILE] [--env A [--env B]] [--address GLOB]
    codedetect-suite --list-checks [--contract FILE] [--docs FILE]
    codedetect-suite --version

``gate`` and ``live`` run pytest on the suite's own test modules (``parity/``, ``policies/``, ``live_checks/``
of this package, wherever it is installed) with the options given; the reports go to ``--report-dir``
(default ``reports/out`` under the current directory).

Exit codes: 0 every check passed; 1 findings (a check failed, drifted or could not be decided before apply);
2 usage or tool error (bad input, no tests collected, checkov missing, AWS errors: the run is incomplete).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

from core.errors import SuiteError
from core.findings import Finding, Status

__version__ = "0.1.0"
PROG = "codedetect-suite"
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
EXIT_PASS, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
DEFAULT_CONTRACTS = ("parity/contract.yaml", "contract.yaml")
DEFAULT_REPORT_DIR = "reports/out"


class UsageError(Exception):
    """A mistake in how the command was called: one line, exit code 2."""


# --------------------------------------------------------------------------- inputs


def _tf_dir(given: str | None) -> Path:
    if given:
        path = Path(given)
    else:
        path = Path("terraform") if Path("terraform").is_dir() else Path(".")
    if not path.is_dir() or not any(path.glob("*.tf")):
        raise UsageError(f"{path}: no Terraform files here; pass the root module with --tf-dir DIR")
    return path.resolve()


def _contract(given: str | None) -> Path:
    if given:
        if not Path(given).is_file():
            raise UsageError(f"{given}: contract file does not exist; pass it with --contract FILE "
                             f"(write a starting one with `{PROG} init`)")
        return Path(given).resolve()
    for name in DEFAULT_CONTRACTS:
        if Path(name).is_file():
            return Path(name).resolve()
    raise UsageError(f"no contract found ({' or '.join(DEFAULT_CONTRACTS)} here): pass --contract FILE, "
                     f"or write a starting one with `{PROG} init --tf-dir DIR --docs FILE`")


def _docs(given: str | None, contract: Path) -> Path:
    """--docs, else the contract's ``document:`` (relative to the contract, as core.session reads it); never a
    default document: a contract that names none needs --docs."""
    if given:
        if not Path(given).is_file():
            raise UsageError(f"{given}: environments document does not exist; pass it with --docs FILE")
        return Path(given).resolve()
    try:
        named = (yaml.safe_load(contract.read_text()) or {}).get("document")
    except (yaml.YAMLError, AttributeError):
        named = None  # the gate reports a malformed contract with its line
    if not isinstance(named, str) or not named:
        raise UsageError(f"{contract}: the contract names no environments document; add `document: <path relative "
                         "to the contract>` or pass --docs FILE")
    if not (contract.parent / named).is_file():
        raise UsageError(f"{contract}: its document {named!r} does not exist (relative to the contract's directory); "
                         "fix `document:` or pass --docs FILE")
    return (contract.parent / named).resolve()


def checkov_found() -> str | None:
    """The checkov CLI the policy checks will run (see policies.checkov_run.checkov_binary), if it exists."""
    from policies.checkov_run import checkov_binary

    binary = checkov_binary()
    return binary if Path(binary).is_file() and os.access(binary, os.X_OK) else None


# --------------------------------------------------------------------------- gate and live


def pytest_args(command: str, args: argparse.Namespace) -> list[str]:
    tf_dir = _tf_dir(args.tf_dir)
    contract = _contract(args.contract)
    docs = _docs(args.docs, contract)
    paths = [PACKAGE_ROOT / d for d in (("parity", "policies") if command == "gate" else ("live_checks",))]
    out = [*map(str, paths),
           "-p", "core.plugin", "-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", str(PACKAGE_ROOT),
           "--strict-markers", "-m", "not live" if command == "gate" else "live",
           "-q", "--tb=no", "--no-summary",  # the command prints its own summary, root cause first
           "--tf-dir", str(tf_dir), "--contract", str(contract), "--docs", str(docs),
           "--report-dir", str(Path(args.report_dir).resolve())]
    for env in args.env:
        out += ["--env", env]
    for plan in args.plan_json:
        out += ["--plan-json", plan]
    out += ["--evaluator", args.evaluator]
    if command == "live":
        for opt in ("aws_profile", "aws_region", "aws_endpoint", "history_dir"):
            if getattr(args, opt):
                out += [f"--{opt.replace('_', '-')}", getattr(args, opt)]
        if args.require_live:
            out.append("--require-live")
    return out + list(args.pytest_args)


def _rank(f: Finding) -> tuple:
    """Root cause first: a var-file line, then a variable's declaration, then the Terraform it reaches, then the
    document and contract lines that disagree with it, then findings without a location."""
    rank = 0 if f.file.endswith(".tfvars") else 1 if f.resource.startswith("var.") else 2 if f.file.endswith(".tf") \
        else 3 if f.file else 4
    return rank, f.file, f.line, f.check, f.resource, f.attribute


def root_cause_first(findings: Sequence[Finding]) -> list[str]:
    """The failing findings, one line each, the var-file line edited before the resources it reaches."""
    failing = [f for f in findings if not f.status.ok]
    return [f"{f.status.value.upper():<7} {f.one_line()}" for f in sorted(failing, key=_rank)]


def summarise(report_dir: Path, pytest_status: int, started: float = 0.0) -> tuple[int, list[str]]:
    """The exit code and the failing findings of a finished run, read back from the parity.json it wrote
    (one older than ``started`` is a previous run's and is not read)."""
    tool_failed = pytest_status in (2, 3, 4, 5)  # interrupted (collection errors), internal, usage, no tests
    path = report_dir / "parity.json"
    try:
        if path.stat().st_mtime < started:
            raise FileNotFoundError(f"{path} was not written by this run")
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        return EXIT_ERROR, [] if pytest_status == 4 else [f"ERROR   no readable report in {report_dir} ({err})"]
    fields = set(Finding.__dataclass_fields__)
    found = [Finding(**{**{k: v for k, v in f.items() if k in fields}, "status": Status(f["status"])})
             for f in doc.get("findings", [])]
    failing = [f for f in found if not f.status.ok]
    if pytest_status == 5:
        return EXIT_ERROR, ["ERROR   no test was collected (check -k, -m and --env)"]
    if tool_failed:
        return EXIT_ERROR, root_cause_first(failing)
    if pytest_status == 0 and not failing and doc.get("status") == "skipped":
        from live_checks.plugin import NO_CREDENTIALS

        return EXIT_ERROR, [f"ERROR   nothing was checked: every test was skipped (live checks: {NO_CREDENTIALS}; "
                            "or pass --require-live to make that a failure)"]
    if pytest_status == 0 and not failing:
        return EXIT_PASS, []
    code = EXIT_ERROR if any(f.status == Status.ERROR for f in failing) else EXIT_FINDINGS
    return code, root_cause_first(failing)


def run_suite(command: str, args: argparse.Namespace) -> int:
    argv = pytest_args(command, args)
    if command == "gate" and checkov_found() is None:
        print(f"{PROG}: ERROR: checkov not found: set CODEDETECT_CHECKOV to the checkov CLI or put checkov on "
              "PATH (install it in its own virtualenv); the policy checks will report ERROR", file=sys.stderr)
    # pytest runs in its own process: this one has imported the suite's modules, which pytest must import first
    # (to rewrite their asserts); the suite's packages are importable there whether installed or a checkout.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(PACKAGE_ROOT), os.environ.get("PYTHONPATH"))
                                                        if p)}
    sys.stdout.flush()
    started = time.time() - 1  # file times may be rounded to the second
    status = subprocess.run([sys.executable, "-m", "pytest", *argv], env=env, check=False).returncode
    report_dir = Path(args.report_dir).resolve()
    code, lines = summarise(report_dir, status, started)
    word = {EXIT_PASS: "PASS", EXIT_FINDINGS: "FAIL", EXIT_ERROR: "ERROR"}[code]
    if lines:
        print(f"\n{PROG}: {len(lines)} failing finding(s), root cause first:")
        print("\n".join(lines))
    print(f"{PROG}: {word} (exit {code}); reports in {report_dir}")
    return code


# --------------------------------------------------------------------------- list of checks


def list_checks(contract: Path | None, docs: Path | None) -> list[tuple[str, str, str, str]]:
    """(id, kind, name, why) of every check the gate and the live checks run."""
    from live_checks.run import CHECKS
    from policies import catalog, secrets

    out: list[tuple[str, str, str, str]] = []
    if contract is not None:
        from core.contract import load_contract
        from parity.document import read_tables

        c = load_contract(contract)
        cells = {}
        if docs is not None:
            try:
                cells = {(d.table, d.component): d.cells for d in read_tables(docs, list(c.environments))}
            except SuiteError:
                cells = {}
        for r in c.rows:
            doc = cells.get((r.table, r.id), r.document)
            why = next((v for k, v in doc.items() if k.lower() in ("reason", "why same?", "why")), "")
            if r.table == "same":
                name = f"the same in every environment: {doc.get('Configuration', '')}".rstrip(": ")
            else:
                name = "documented values: " + ", ".join(f"{e} {v}" for e, v in r.values.items())
            out.append((r.id, f"parity/{r.table}", name, why or "a row of the environments document"))
        out.append(("unclaimed", "parity", "every difference between environments is allowed by a row",
                    "default deny: a difference nobody documented is a finding"))
        out.append(("document rows", "document", "every row of the document's tables has a contract rule",
                    "a documented promise nobody checks guards nothing"))
    for p in catalog.checkov_policies():
        out.append((p.id, "policy", p.name, p.why))
    for p in catalog.model_policies():
        out.append((p.id, p.kind, p.name, p.why))
    out.append(("CKV_AWS_*", "policy", "checkov's built-in checks on each environment's plan",
                "a failure passes only where the baseline excuses it with a written reason"))
    for rid, name in secrets.RULES.items():
        out.append((rid, "secret", name, secrets.WHY.get(rid, "")))
    for p in catalog.cost_policies():
        out.append((p.id, p.kind, p.name, p.why))
    for name, (types, _services) in CHECKS.items():
        out.append((f"live:{name}", "live", f"deployed {', '.join(types)} match what Terraform declares",
                    "drift: what runs is not what was reviewed"))
    out.append(("live:unmanaged", "live", "no resource tagged with an environment that Terraform does not declare",
                "unmanaged resources cost money and escape review"))
    out.append(("live:parity", "live", "the deployed environments differ only as the contract allows",
                "staging tests what production runs"))
    return out


def _print_checks(args: argparse.Namespace) -> int:
    contract = None
    try:
        contract = _contract(args.contract)
    except UsageError:
        if args.contract:
            raise
    docs = None
    if contract is not None:
        try:
            docs = _docs(args.docs, contract)
        except UsageError:
            if args.docs:
                raise
    rows = list_checks(contract, docs)
    width = max(len(r[0]) for r in rows)
    kinds = max(len(r[1]) for r in rows)
    for cid, kind, name, why in rows:
        print(f"{cid:<{width}}  {kind:<{kinds}}  {name} (why: {why})")
    return EXIT_PASS


# --------------------------------------------------------------------------- init and show


def run_init(args: argparse.Namespace) -> int:
    from parity import init

    path = init.write(_tf_dir(args.tf_dir), args.docs, args.output, force=args.force)
    text = path.read_text()
    unclaimed = sum(1 for line in text.splitlines() if line.startswith("#   unclaimed:"))
    print(f"{PROG}: wrote {path}: {unclaimed} difference(s) unclaimed; review it, then "
          f"`{PROG} gate --tf-dir {args.tf_dir or '.'} --contract {args.output} --docs {args.docs}`")
    return EXIT_PASS


def run_show(args: argparse.Namespace) -> int:
    from core import show
    from core.contract import load_contract
    from core.model import load

    tf_dir, contract_path = _tf_dir(args.tf_dir), _contract(args.contract)
    contract = load_contract(contract_path, tf_dir)
    envs = args.env or [contract.reference]
    if len(envs) > 2:
        raise UsageError("show takes one --env (its model) or two (their difference)")
    plans = {}
    for item in args.plan_json:
        env, sep, path = item.partition("=")
        if not (sep and env and path):
            raise UsageError(f"--plan-json {item!r}: expected ENV=PATH, e.g. staging=plan.json")
        plans[env] = path
    models = {}
    for e in envs:
        if e not in contract.environments:
            raise UsageError(f"{contract_path}: unknown environment {e!r} (the contract declares "
                             f"{', '.join(contract.environments)})")
        spec = contract.environments[e]
        if e in plans:
            from dataclasses import replace

            spec = replace(spec, plan_json=str(Path(plans[e]).resolve()))
        models[e] = load(tf_dir, spec)
    if len(envs) == 1:
        text = show.model_text(models[envs[0]], args.address)
    else:
        text = show.diff_text(contract, models[envs[0]], models[envs[1]], args.address)
    sys.stdout.write(text)
    return EXIT_PASS


# --------------------------------------------------------------------------- arguments


def _suite_options(p: argparse.ArgumentParser, live: bool) -> None:
    p.add_argument("--tf-dir", metavar="DIR", help="Terraform root module (default: ./terraform, else .)")
    p.add_argument("--contract", metavar="FILE", help=f"parity contract (default: {' or '.join(DEFAULT_CONTRACTS)})")
    p.add_argument("--docs", metavar="FILE",
                   help="environments document (default: the contract's document:, relative to the contract)")
    p.add_argument("--env", action="append", default=[], metavar="NAME",
                   help="check only this environment (repeatable)")
    p.add_argument("--plan-json", action="append", default=[], metavar="ENV=FILE",
                   help="use a `terraform show -json` plan for ENV instead of evaluating the HCL")
    p.add_argument("--evaluator", choices=("fast", "terraform", "auto"), default="fast",
                   help="fast (tfparse, default), terraform (real plans, offline), auto (terraform when available)")
    p.add_argument("--report-dir", default=DEFAULT_REPORT_DIR, metavar="DIR",
                   help=f"where the reports are written (default {DEFAULT_REPORT_DIR})")
    p.add_argument("--list-checks", action="store_true", help="list every check with its id, name and why, and exit")
    if live:
        p.add_argument("--aws-profile", metavar="NAME")
        p.add_argument("--aws-region", metavar="REGION")
        p.add_argument("--aws-endpoint", metavar="URL", help="an AWS-compatible endpoint (a sandbox)")
        p.add_argument("--require-live", action="store_true", help="fail, instead of skip, without credentials")
        p.add_argument("--history-dir", metavar="DIR", help="audit history (default <report-dir>/history)")
    p.add_argument("pytest_args", nargs="*", metavar="-- PYTEST ARGS", help="passed to pytest as they are")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog=PROG, description="Policy and parity checks of a two-environment Terraform "
                                  "repository against its environments document.",
                                  epilog="exit codes: 0 pass, 1 findings, 2 usage or tool error")
    top.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    top.add_argument("--list-checks", action="store_true", help="list every check with its id, name and why")
    top.add_argument("--contract", metavar="FILE", help="with --list-checks: the contract whose rows to list")
    top.add_argument("--docs", metavar="FILE", help="with --list-checks: the environments document")
    sub = top.add_subparsers(dest="command", metavar="{gate,live,init,show}")
    _suite_options(sub.add_parser("gate", help="the static gate: parity, document, policies, secrets, cost"), False)
    _suite_options(sub.add_parser("live", help="read-only checks of deployed AWS, and live parity"), True)
    p = sub.add_parser("init", help="write a starting contract from a Terraform dir and its environments document")
    p.add_argument("--tf-dir", metavar="DIR", help="Terraform root module (default: ./terraform, else .)")
    p.add_argument("--docs", metavar="FILE", required=True, help="the environments document (its two tables)")
    p.add_argument("--output", "-o", default="contract.yaml", metavar="FILE", help="where to write (contract.yaml)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p = sub.add_parser("show", help="an environment's evaluated model, or the difference between two")
    p.add_argument("--tf-dir", metavar="DIR", help="Terraform root module (default: ./terraform, else .)")
    p.add_argument("--contract", metavar="FILE", help=f"contract (default: {' or '.join(DEFAULT_CONTRACTS)})")
    p.add_argument("--env", action="append", default=[], metavar="NAME",
                   help="one: its model; two: what differs (default: the reference environment)")
    p.add_argument("--address", default="", metavar="GLOB", help="only addresses matching this glob")
    p.add_argument("--plan-json", action="append", default=[], metavar="ENV=FILE", help="read ENV from a plan")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:  # everything after -- goes to pytest untouched
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    args = parser().parse_args(argv)  # a usage error exits 2 (argparse)
    try:
        if getattr(args, "list_checks", False):
            return _print_checks(args)
        if args.command is None:
            parser().print_usage(sys.stderr)
            print(f"{PROG}: error: a command is required (gate, live, init or show)", file=sys.stderr)
            return EXIT_ERROR
        if args.command in ("gate", "live"):
            if args.pytest_args:
                raise UsageError(f"unexpected argument(s) {' '.join(args.pytest_args)}; put pytest's after --")
            args.pytest_args = extra
            return run_suite(args.command, args)
        if extra:
            raise UsageError(f"{args.command} passes nothing to pytest: remove `-- {' '.join(extra)}`")
        return run_init(args) if args.command == "init" else run_show(args)
    except (UsageError, SuiteError) as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
