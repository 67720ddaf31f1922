"""Run checkov once over every environment's plan JSON and read its results back as findings.

checkov runs as a CLI from its own virtualenv (it pins bc-python-hcl2, which clashes with python-hcl2 8.x here).
Anything that keeps checkov from giving a full answer (missing binary, crash, timeout, unparseable output, a
parsing error, an environment or one of our checks with no result) raises ``CheckovError``: an ERROR, never a pass.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from core.findings import Finding, Status
from core.model import EnvModel
from policies.common import ROOT, source_file
from policies.plan_json import clean_address, plan_json

CHECKS_DIR = ROOT / "policies" / "checks"
DEFAULT_CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
TIMEOUT = 600


class CheckovError(Exception):
    """checkov could not give a complete answer."""


@dataclass(frozen=True)
class Result:
    check: str
    name: str
    env: str
    address: str
    passed: bool
    evaluated: tuple[str, ...] = ()
    details: tuple[str, ...] = ()


@dataclass
class Scan:
    version: str
    results: list[Result] = field(default_factory=list)

    def for_env(self, env: str) -> list[Result]:
        return [r for r in self.results if r.env == env]


def checkov_binary() -> str:
    """The checkov CLI: $CODEDETECT_CHECKOV, else .venv-checkov/bin/checkov of a checkout, else a checkov on PATH
    (an installed suite); when none exists, the default path, whose start fails as an ERROR."""
    given = os.environ.get("CODEDETECT_CHECKOV")
    if given:
        return given
    if DEFAULT_CHECKOV.exists():
        return str(DEFAULT_CHECKOV)
    return shutil.which("checkov") or str(DEFAULT_CHECKOV)


def _file_name(env: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", env) + ".json"


def write_plans(models: dict[str, EnvModel], directory: Path) -> dict[str, str]:
    """One plan JSON per environment in ``directory`` (the model written as a plan, or the real plan the model was
    read from); returns file name -> environment."""
    names = {}
    for env, model in models.items():
        name = _file_name(env)
        if name in names:
            raise CheckovError(f"environments {names[name]!r} and {env!r} map to the same file name {name}")
        if model.env.plan_json:  # a real `terraform show -json`: checkov reads it as Terraform wrote it, minus secrets
            doc = json.loads(Path(model.env.plan_json).read_text())
            (directory / name).write_text(json.dumps(without_secrets(doc)))
        else:
            (directory / name).write_text(json.dumps(plan_json(model), indent=1, sort_keys=True))
        names[name] = env
    return names


def _mask(values, sensitive):
    if sensitive is True:
        return None
    if isinstance(values, dict) and isinstance(sensitive, dict):
        return {k: _mask(v, sensitive.get(k)) for k, v in values.items()}
    if isinstance(values, list) and isinstance(sensitive, list):
        return [_mask(v, sensitive[i] if i < len(sensitive) else None) for i, v in enumerate(values)]
    return values


def _no_empty_blocks(values):
    """A real plan writes an absent nested block as ``[]`` (a public Route 53 zone has ``vpc: []``); checkov's
    ``exists`` conditions count that as present (CKV2_AWS_39 then passes a public zone). Absent, as in the HCL."""
    return {k: v for k, v in values.items() if v != []} if isinstance(values, dict) else values


def without_secrets(doc: dict) -> dict:
    """A real plan without what checkov does not need and a secret may hide in: variable values, prior state,
    outputs, values before the change, and every value the plan marks sensitive; absent blocks left out."""
    def module(m: dict) -> dict:
        return {**m, "resources": [{**r, "values": _no_empty_blocks(_mask(r.get("values"), r.get("sensitive_values")))}
                                   for r in m.get("resources", [])],
                "child_modules": [module(c) for c in m.get("child_modules", [])]}

    config = dict(doc.get("configuration") or {})
    config["root_module"] = {k: v for k, v in (config.get("root_module") or {}).items() if k != "variables"}
    changes = [{**c, "change": {**c.get("change", {}), "before": None,
                                "after": _no_empty_blocks(_mask(c.get("change", {}).get("after"),
                                                                c.get("change", {}).get("after_sensitive")))}}
               for c in doc.get("resource_changes", [])]
    planned = {"root_module": module((doc.get("planned_values") or {}).get("root_module") or {})}
    return {"format_version": doc.get("format_version"), "terraform_version": doc.get("terraform_version"),
            "planned_values": planned, "resource_changes": changes, "configuration": config}


def command(files: list[Path], checks_dir: Path = CHECKS_DIR, extra_dirs=()) -> list[str]:
    cmd = [checkov_binary(), "--framework", "terraform_plan", "--skip-download", "-o", "json", "--compact",
           "--external-checks-dir", str(checks_dir)]
    for d in extra_dirs:  # the project's own checks (contract `project: {checks: [...]}`)
        cmd += ["--external-checks-dir", str(d)]
    for f in files:
        cmd += ["-f", str(f)]
    return cmd


def _environment(settings: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "LOG_LEVEL": "WARNING", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false", **(settings or {})}


# A checkov interpreter started early: it imports checkov's terraform_plan runner (most of checkov's start-up)
# while the suite evaluates the Terraform, then reads one JSON line {"files": [...], "external_checks_dirs": [...],
# "cwd": ..., "env": {...}}, runs that runner as `checkov --framework terraform_plan -f ... --external-checks-dir
# ...` does (no API key: every checkov policy, nothing downloaded) and prints the report as `-o json` prints it.
# It imports only that runner, not checkov.main and its thirty other frameworks, and it skips the interpreter's
# teardown (about a second less than a CLI run; tests/speed/test_checkov_warm.py shows it gives the CLI's answer).
# An empty line or end of input makes it exit without scanning; any exception exits non-zero with a traceback.
_WARM_CODE = """
import json, os, sys, warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=SyntaxWarning)
    from checkov.common.util.json_utils import CustomJSONEncoder
    from checkov.runner_filter import RunnerFilter
    from checkov.terraform.plan_runner import Runner
request = sys.stdin.readline()
if not request.strip():
    sys.exit(0)
request = json.loads(request)
os.environ.update(request.get("env") or {})
os.chdir(request["cwd"])
try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=SyntaxWarning)
        report = Runner().run(root_folder=None, files=request["files"],
                              external_checks_dir=request["external_checks_dirs"],
                              runner_filter=RunnerFilter(framework=["terraform_plan"],
                                                         include_all_checkov_policies=True, show_progress_bar=False))
    sys.stdout.write(json.dumps(report.get_dict(), cls=CustomJSONEncoder))
except BaseException:
    import traceback
    traceback.print_exc()
    sys.stderr.flush()
    os._exit(2)  # a crash, never "some check failed" (1)
sys.stdout.flush()
os._exit(0)
"""


@dataclass
class Warm:
    """A checkov interpreter importing checkov in the background, waiting for the plans (see ``warm``)."""

    proc: subprocess.Popen

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


def _warm_command(binary: str) -> list[str] | None:
    """``[python, -c, code]`` when ``binary`` is checkov's own console script (a Python script calling
    ``Checkov().run()``); None for anything else (a wrapper, a stand-in), which then runs as a plain command."""
    try:
        with open(binary, encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    first = head.splitlines()[0] if head else ""
    if not first.startswith("#!") or "python" not in first or "from checkov.main import Checkov" not in head:
        return None
    return [*shlex.split(first[2:]), "-c", _WARM_CODE]


def warm() -> Warm | None:
    """Start checkov's interpreter now so that its imports overlap the Terraform evaluation; ``start`` hands it
    the plans. None when the checkov binary is not checkov's Python console script or cannot be started."""
    cmd = _warm_command(checkov_binary())
    if cmd is None:
        return None
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=_environment())
    except OSError:
        return None  # start() reports it, starting the binary itself
    return Warm(proc)


def start(models: dict[str, EnvModel], checks_dir: Path = CHECKS_DIR, extra_dirs=(),
          settings: dict[str, str] | None = None, warm: Warm | None = None) -> Running:
    """Write the plans and start checkov in the background (the gate's other checks run meanwhile); with a
    ``warm`` interpreter (see ``warm``), hand the plans to it instead of starting checkov from scratch."""
    tmp = tempfile.TemporaryDirectory(prefix="codedetect-plans-")
    try:
        names = write_plans(models, Path(tmp.name))
    except BaseException:
        tmp.cleanup()
        if warm is not None:
            warm.stop()
        raise
    files = [Path(tmp.name) / n for n in sorted(names)]
    cmd = command(files, checks_dir, extra_dirs)
    if warm is not None:
        request = {"files": [str(f) for f in files], "external_checks_dirs": [str(checks_dir), *map(str, extra_dirs)],
                   "cwd": tmp.name, "env": settings or {}}
        proc = _hand_over(warm, request)
        if proc is not None:
            return Running(proc, tmp, names)
    try:
        proc = subprocess.Popen(cmd, cwd=tmp.name, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=_environment(settings))
    except OSError as err:
        tmp.cleanup()
        raise CheckovError(f"cannot start checkov ({cmd[0]}): {err.strerror or err}; install it with "
                           "`make venvs`, point CODEDETECT_CHECKOV at the checkov CLI or put checkov on PATH") from None
    return Running(proc, tmp, names)


def _hand_over(warm: Warm, request: dict) -> subprocess.Popen | None:
    """Send the plans, check directories and the environment variables a plain start would add to the warm
    interpreter; None (and it is stopped) if it is no longer waiting."""
    proc = warm.proc
    if proc.poll() is None:
        try:
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.close()
            proc.stdin = None  # closed: communicate() must not flush it again
            return proc
        except (BrokenPipeError, OSError):
            pass
    warm.stop()  # it died while importing checkov: start checkov itself, which reports why
    return None


@dataclass
class Running:
    proc: subprocess.Popen
    tmp: tempfile.TemporaryDirectory
    names: dict[str, str]  # plan file name -> environment

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()
        self.tmp.cleanup()

    def output(self) -> tuple[int, str, str]:
        """checkov's exit code, stdout and stderr, once it has finished."""
        try:
            out, err = self.proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise CheckovError(f"checkov did not finish within {TIMEOUT} s") from None
        finally:
            self.tmp.cleanup()
        return self.proc.returncode, out, err

    def wait(self) -> Scan:
        return result(*self.output(), self.names)


def result(returncode: int, out: str, err: str, names: dict[str, str]) -> Scan:
    """A finished checkov run as a Scan; anything but a complete answer raises CheckovError."""
    if returncode not in (0, 1):  # 1 = some check failed; anything else is a crash
        raise CheckovError(f"checkov exited with code {returncode}: {_tail(err)}")
    lost = lost_results(err, names)
    if lost:
        raise CheckovError("; ".join(lost))
    return parse(out, names, err)


# checkov logs a check that raises, or an external check file that fails to import, and carries on without its
# result (exit code and JSON as if nothing happened): each such line is a result lost, so the run is incomplete.
_FAILED_CHECK = re.compile(r"Failed to run check (?P<check>\S+) on (?P<file>[^\s:]+):(?P<entity>\S+)")
_UNLOADED_CHECK = re.compile(r"Cannot load external check '(?P<name>[^']*)' from (?P<path>\S+)")


def lost_results(stderr: str, names: dict[str, str]) -> list[str]:
    """One line per check whose result checkov dropped (see above), in order of appearance, without repeats."""
    lost: list[str] = []
    for line in (stderr or "").splitlines():
        if m := _FAILED_CHECK.search(line):
            env = names.get(Path(m["file"]).name, m["file"])
            text = (f"checkov could not run {m['check']} on {clean_address(m['entity'])} in {env} (the check raised: "
                    "its result is missing; run checkov with LOG_LEVEL=DEBUG)")
        elif m := _UNLOADED_CHECK.search(line):
            text = f"checkov could not load the check file {m['path']} (it raised on import: none of its checks ran)"
        else:
            continue
        if text not in lost:
            lost.append(text)
    return lost


def file_names(envs: list[str]) -> dict[str, str]:
    """Plan file name -> environment, as ``write_plans`` names them."""
    return {_file_name(e): e for e in envs}


def _tail(text: str, lines: int = 5) -> str:
    kept = [line for line in (text or "").strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept) or "(no output)"


def parse(stdout: str, names: dict[str, str], stderr: str = "") -> Scan:
    """checkov's ``-o json`` output -> a Scan; anything incomplete raises CheckovError."""
    try:
        doc = json.loads(stdout)
    except json.JSONDecodeError:
        raise CheckovError(f"checkov printed no JSON report: {_tail(stderr or stdout)}") from None
    reports = doc if isinstance(doc, list) else [doc]
    reports = [r for r in reports if isinstance(r, dict) and r.get("check_type") == "terraform_plan"]
    if not reports:
        raise CheckovError("checkov's report has no terraform_plan results (it found no resources in the plans): "
                           f"{_tail(stderr)}")
    scan = Scan(version=str(reports[0].get("summary", {}).get("checkov_version", "")))
    for report in reports:
        res = report.get("results") or {}
        if res.get("parsing_errors"):
            raise CheckovError(f"checkov could not parse {', '.join(map(str, res['parsing_errors']))}")
        for key, passed in (("passed_checks", True), ("failed_checks", False)):
            for r in res.get(key) or []:
                env = names.get(Path(str(r.get("file_path", ""))).name)
                if env is None:
                    raise CheckovError(f"checkov reported a file it was not given: {r.get('file_path')}")
                address = r.get("resource_address") or r.get("resource") or ""
                # checkov keeps evaluated keys in a set: sorted, so the same input gives the same findings
                keys = tuple(sorted((r.get("check_result") or {}).get("evaluated_keys") or ()))
                details = tuple(str(d) for d in r.get("details") or ())
                scan.results.append(Result(check=r["check_id"], name=r.get("check_name", ""), env=env,
                                           address=clean_address(address), passed=passed, evaluated=keys,
                                           details=details))
    # checkov's order varies from run to run (its graph checks): sorted, so the same input gives the same findings
    scan.results.sort(key=lambda r: (r.env, r.check, r.address, r.passed, r.evaluated, r.details))
    missing = sorted(set(names.values()) - {r.env for r in scan.results})
    if missing:
        raise CheckovError(f"checkov returned no result for environment(s) {', '.join(missing)}")
    return scan


def list_check_ids() -> set[str] | None:
    """Every check id this checkov knows (`checkov --list`), or None when checkov cannot tell."""
    try:
        out = subprocess.run([checkov_binary(), "--list", "--framework", "terraform", "--skip-download"],
                             capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return set(re.findall(r"\|\s*\d+\s*\|\s*(CKV2?_[A-Z0-9]+_\d+)\s*\|", out)) or None


def attribute_path(evaluated_key: str) -> str:
    """checkov's ``ingress/[0]/cidr_blocks`` -> the model's ``ingress[0].cidr_blocks``."""
    path = re.sub(r"/\[(\d+)\]", r"[\1]", evaluated_key)
    return path.replace("/", ".")


def to_finding(result: Result, model: EnvModel, kind: str = "policy", message: str = "") -> Finding:
    """A checkov result as a Finding located at the resource's block in terraform/."""
    resource = model.resources.get(result.address) or model.resources.get("data." + result.address)
    attribute = attribute_path(next((k for k in result.evaluated if k != "resource_type"), "")) \
        if result.evaluated else ""
    file, line = "", 0
    if resource is not None:
        file = source_file(model, resource.file)
        line = resource.line_of(attribute) if attribute else resource.line
    detail = "; ".join(result.details)
    return Finding(check=result.check, kind=kind, status=Status.PASS if result.passed else Status.FAIL,
                   env=result.env, resource=result.address, attribute=attribute, expected=result.name,
                   actual="passes" if result.passed else (detail or "fails"), file=file, line=line,
                   message=message)
