"""pytest plugin writing reports/ at the end of every run (also when it fails).

Files in ``--report-dir`` (default ``reports/out``): ``junit.xml`` (pytest's own, unless ``--junitxml`` points
elsewhere), ``parity.json`` (schema ``reports/parity.schema.json``), ``summary.md`` (also appended to
``$GITHUB_STEP_SUMMARY``), ``policies.sarif`` and ``index.html``. A run in which live tests ran is an audit:
it also writes ``audit-<UTC time>.json`` into ``--history-dir`` (default ``<report-dir>/history``).

The reports are the recorded findings (``core.session.record``) plus the test outcomes: a test that failed
or errored without recording a finding that is not a pass, a collection error, and a non-zero exit status
each become an ERROR (or FAIL) finding, so a failing run can never produce a green report.

A run of only the project's own tests (``pytest tests``) writes no reports unless ``--report-dir`` is given.

Under pytest-xdist (``-n``) each worker follows its own tests and sends what it recorded to the controller at
its end (``workeroutput``); the controller puts the tests back in collection order, so the reports are the same
as a serial run's. The controller also makes the directory the workers share for work done once per run
(``core.session.once``, the checkov run).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core import session
from core.findings import CheckFailed, Finding, Status
from core.redact import scrub, scrub_finding
from reports import history, html, json_report, junit, markdown, sarif
from reports.results import FAILING, Outcome, RunInfo, overall, tool_error

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REPORT_DIR = "reports/out"
FILES = {"junit": "junit.xml", "json": "parity.json", "markdown": "summary.md", "sarif": "policies.sarif",
         "html": "index.html"}
KIND_OF_MARKER = {"parity": "parity", "document": "document", "policy": "policy", "secrets": "secret",
                  "cost": "cost", "live": "live"}
KIND_OF_DIR = {"parity": "parity", "policies": "policy", "live_checks": "live"}
MAX_MESSAGE = 2000


@dataclass
class _Test:
    nodeid: str
    first: int  # the findings recorded while it ran are recorded[first:last]
    last: int = -1
    kind: str = "test"
    check: str = ""
    env: str = ""
    file: str = ""
    line: int = 0
    live: bool = False
    reports: list = field(default_factory=list)
    message: str = ""
    crashed: bool = False  # an exception other than an AssertionError in the call phase, or a setup/teardown error
    raised: list[Finding] = field(default_factory=list)  # findings of a CheckFailed it raised


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("codedetect-reports", "codedetect reports")
    group.addoption("--report-dir", default=None, metavar="DIR",
                    help=f"write junit.xml, parity.json, summary.md, policies.sarif, index.html here "
                         f"(default {DEFAULT_REPORT_DIR})")
    group.addoption("--history-dir", default=None, metavar="DIR",
                    help="dated JSON of each live audit, read back for the trend and new findings "
                         "(default <report-dir>/history)")


def _self_test_run(config: pytest.Config) -> bool:
    """Only the project's own tests (tests/) are run: their outcomes are not a report about terraform/."""
    tests_dir = ROOT / "tests"
    paths = [Path(config.invocation_params.dir, a.split("::", 1)[0]).resolve() for a in config.args]
    return bool(paths) and all(p == tests_dir or tests_dir in p.parents for p in paths)


_shared_key = pytest.StashKey[str]()


def _shared(config: pytest.Config) -> str:
    """xdist controller: one private directory per run, shared by its workers (removed at the end)."""
    if _shared_key not in config.stash:
        config.stash[_shared_key] = tempfile.mkdtemp(prefix="codedetect-xdist-")
        config.add_cleanup(lambda: shutil.rmtree(config.stash[_shared_key], ignore_errors=True))
    return config.stash[_shared_key]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    node.workerinput["codedetect_shared"] = _shared(node.config)


def pytest_sessionstart(session: pytest.Session) -> None:
    """xdist controller of a gate run: evaluate the Terraform here, before the workers start, so bad input stops
    the run with one line (a worker's usage error would be an xdist internal error) and no worker evaluates."""
    from core import session as suite

    config = session.config
    controller = bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")
    if controller and not _self_test_run(config):
        suite.share_models(config, Path(_shared(config)))


@pytest.hookimpl(tryfirst=True)  # before junitxml reads config.option.xmlpath
def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # xdist worker: it relays its findings, the controller writes the reports
        config.pluginmanager.register(ReportWriter(config, None, None, relay=True), "codedetect-reports")
        return
    given = config.getoption("--report-dir")
    if given is None and _self_test_run(config):
        return
    base = Path(config.invocation_params.dir)
    report_dir = (base / (given or DEFAULT_REPORT_DIR)).resolve()
    hist = config.getoption("--history-dir")
    try:  # an unwritable report directory is bad input: one line, the usage exit code
        report_dir.mkdir(parents=True, exist_ok=True)
        probe = report_dir / ".codedetect-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise pytest.UsageError(f"--report-dir {report_dir}: cannot write reports there "
                                f"({err.strerror or type(err).__name__}); pass a writable directory") from None
    if not getattr(config.option, "xmlpath", None):
        config.option.xmlpath = str(report_dir / FILES["junit"])
    config.pluginmanager.register(
        ReportWriter(config, report_dir, (base / hist).resolve() if hist else report_dir / "history"),
        "codedetect-reports")


class ReportWriter:
    """Follows the run (findings per test, outcomes, collection errors) and writes every report at the end."""

    def __init__(self, config: pytest.Config, report_dir: Path | None, history_dir: Path | None,
                 relay: bool = False):
        self.config = config
        self.relay = relay  # an xdist worker: send everything to the controller instead of writing
        self.relayed: list[dict] = []  # the controller: what each worker sent
        self.report_dir = report_dir
        self.history_dir = history_dir
        self.started = datetime.now(UTC)
        self.tests: dict[str, _Test] = {}
        self.collect_errors: list[tuple[str, str]] = []
        self.crashes: list[str] = []  # exceptions that stopped the run (a usage error in sessionstart...)
        self.session: pytest.Session | None = None
        self.written = False

    # ------------------------------------------------------------------ following the run

    def _watch(self, stage: str):
        """Remember an exception that escapes a stage of the run (it stops the run; pytest prints it)."""
        try:
            return (yield)
        except (pytest.Session.Interrupted, pytest.Session.Failed):
            raise  # the consequence of failures already reported (collection errors, --maxfail)
        except BaseException as exc:
            self.crashes.append(f"{stage}: {type(exc).__name__}: {exc}")
            raise

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionstart(self, session: pytest.Session):
        self.session = session
        return (yield from self._watch("session start"))

    @pytest.hookimpl(wrapper=True)
    def pytest_collection(self):
        return (yield from self._watch("collection"))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self):
        return (yield from self._watch("test loop"))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collect_errors.append((report.nodeid, _short(str(report.longrepr))))

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.tests[nodeid] = _Test(nodeid=nodeid, first=len(session.recorded(self.config)))

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        if nodeid in self.tests:
            self.tests[nodeid].last = len(session.recorded(self.config))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        t = self.tests.setdefault(item.nodeid, _Test(nodeid=item.nodeid, first=len(session.recorded(self.config))))
        if call.when == "setup":
            self._describe(item, t)
        if report.failed and call.excinfo is not None:
            exc = call.excinfo.value
            t.crashed = t.crashed or call.when != "call" or not isinstance(exc, AssertionError)
            if isinstance(exc, CheckFailed):
                t.raised.extend(exc.findings)
            text = f"{call.when}: {call.excinfo.exconly().strip()}"
            t.message = _short(f"{t.message}\n{text}" if t.message else text)
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # setdefault: under xdist a crashed worker's test is reported without a logstart
        self.tests.setdefault(report.nodeid, _Test(nodeid=report.nodeid, first=len(session.recorded(self.config))))
        self.tests[report.nodeid].reports.append(report)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        """xdist controller: a worker ended; keep what it recorded."""
        data = (getattr(node, "workeroutput", None) or {}).get("codedetect")
        if data:
            self.relayed.append(json.loads(data))

    def _describe(self, item: pytest.Item, t: _Test) -> None:
        """What a failure of this test is about: the contract row (and env) in its parameters, else the test id."""
        t.kind = _kind(item)
        t.live = item.get_closest_marker("live") is not None
        t.check = item.nodeid
        rows, envs = _contract_names(self.config)
        callspec = getattr(item, "callspec", None)
        if callspec is not None:
            if callspec.id in rows:
                t.check = callspec.id
            t.env = next((v for v in callspec.params.values() if isinstance(v, str) and v in envs), "")
        t.file = _relative(str(item.path), self._source_root())
        t.line = (item.location[1] or 0) + 1

    # ------------------------------------------------------------------ writing

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, exitstatus: int) -> None:
        self.written = True
        if self.relay:
            self.config.workeroutput["codedetect"] = json.dumps(self._relay(), default=str)
            return
        write_reports(self, int(exitstatus))

    def pytest_unconfigure(self) -> None:
        """pytest skips sessionfinish when sessionstart raised (a usage error): write the reports here."""
        if not self.written and not self.relay:
            self.written = True
            status = self.session.exitstatus if self.session is not None else pytest.ExitCode.INTERNAL_ERROR
            write_reports(self, int(status))

    def _relay(self) -> dict:
        """What this xdist worker recorded, for the controller (plain JSON)."""
        recorded = session.recorded(self.config)
        tests = {}
        for t in self.tests.values():
            d = {k: getattr(t, k) for k in _RELAYED}
            d["last"] = t.last if t.last >= 0 else len(recorded)
            d["raised"] = [_to_wire(f) for f in t.raised]
            tests[t.nodeid] = d
        order = [item.nodeid for item in getattr(self.session, "items", None) or ()]
        return {"order": order, "findings": [_to_wire(f) for f in recorded], "tests": tests}

    def merged(self) -> list[Finding]:
        """The controller's recorded findings: the workers' tests in collection order, each with its findings
        (then any recorded outside a test), as a serial run records them."""
        order: dict[str, int] = {}
        own: dict[str, list[Finding]] = {}
        loose: list[Finding] = []
        for part in self.relayed:
            for nodeid in part["order"]:
                order.setdefault(nodeid, len(order))
            found = [_from_wire(d) for d in part["findings"]]
            covered: set[int] = set()
            for nodeid, d in part["tests"].items():
                t = self.tests.setdefault(nodeid, _Test(nodeid=nodeid, first=0))
                for key in _RELAYED[2:]:
                    setattr(t, key, d[key])
                t.raised = [_from_wire(f) for f in d["raised"]]
                own[nodeid] = found[d["first"]:d["last"]]
                covered.update(range(d["first"], d["last"]))
            loose += [f for i, f in enumerate(found) if i not in covered]
        self.tests = dict(sorted(self.tests.items(), key=lambda kv: order.get(kv[0], len(order))))
        recorded: list[Finding] = []
        for nodeid, t in self.tests.items():
            t.first = len(recorded)
            recorded += own.get(nodeid, [])
            t.last = len(recorded)
        return recorded + loose

    def _source_root(self) -> Path:
        tf_dir = _tf_dir(self.config)
        if tf_dir is None or tf_dir == ROOT or ROOT in tf_dir.parents:
            return ROOT
        return tf_dir.parent  # a copy of terraform/ elsewhere: its files read as terraform/<file>.tf


_RELAYED = ("first", "last", "kind", "check", "env", "file", "line", "live", "message", "crashed")


def _to_wire(f: Finding) -> dict:
    # plain JSON types only: a Secret (a str subclass) crosses as its marker, never as anything else
    return {**json.loads(json.dumps(asdict(scrub_finding(f)), default=str)), "status": f.status.value}


def _from_wire(d: dict) -> Finding:
    return Finding(**{**d, "status": Status(d["status"])})


def _short(text: str) -> str:
    text = scrub(text).strip()
    return text if len(text) <= MAX_MESSAGE else "..." + text[-(MAX_MESSAGE - 3):]


def _kind(item: pytest.Item) -> str:
    for marker, kind in KIND_OF_MARKER.items():
        if item.get_closest_marker(marker):
            return kind
    return _kind_of_path(item.nodeid)


def _kind_of_path(nodeid: str) -> str:
    return KIND_OF_DIR.get(nodeid.replace("\\", "/").split("/", 1)[0], "test")


def _contract_names(config: pytest.Config) -> tuple[list[str], list[str]]:
    """The contract's row ids and environments; none when the contract cannot be loaded (that failure is
    already a collection or test error of this run)."""
    try:
        c = session.contract(config)
    except (pytest.UsageError, ValueError, KeyError, OSError):
        return [], []
    return [r.id for r in c.rows], list(c.environments)


def _tf_dir(config: pytest.Config) -> Path | None:
    try:
        return session.options(config).tf_dir
    except (ValueError, KeyError, pytest.UsageError):  # --tf-dir is not registered (a plugin test)
        return None


def _relative(file: str, source_root: Path, tf_dir: Path | None = None) -> str:
    """A finding's file relative to the source root when it is inside it, else absolute; '' stays ''."""
    if not file:
        return file
    path = Path(file)
    candidates = [path] if path.is_absolute() else [Path.cwd() / path, source_root / path, ROOT / path]
    if tf_dir is not None and not path.is_absolute():
        candidates.insert(0, tf_dir / path)
    for c in candidates:
        if c.exists():
            c = c.resolve()
            try:
                return c.relative_to(source_root).as_posix()
            except ValueError:
                return str(c)
    return file


def _outcome(reports: list) -> str:
    if any(r.failed and r.when != "call" for r in reports):
        return "error"
    if any(r.failed for r in reports):
        return "failed"
    if any(r.skipped for r in reports):
        return "xfailed" if any(hasattr(r, "wasxfail") for r in reports) else "skipped"
    if any(hasattr(r, "wasxfail") for r in reports):
        return "xpassed"
    return "passed"


def collect(writer: ReportWriter, exitstatus: int) -> tuple[list[Finding], RunInfo]:
    """Every finding of the run (recorded, then derived from outcomes) and the run's facts."""
    config = writer.config
    source_root = writer._source_root()
    tf_dir = _tf_dir(config)
    recorded = writer.merged() if writer.relayed else session.recorded(config)
    findings = [scrub_finding(replace(f, file=_relative(f.file, source_root, tf_dir))) for f in recorded]
    findings = [replace(f, actual="(redacted)") if f.kind == "secret" and isinstance(f.actual, str) else f
                for f in findings]
    derived: list[int] = []
    results: list[Outcome] = []

    def derive(f: Finding) -> int:
        findings.append(f)
        derived.append(len(findings) - 1)
        return len(findings) - 1

    for t in writer.tests.values():
        last = t.last if t.last >= 0 else len(recorded)
        mine = list(range(t.first, last))
        outcome = _outcome(t.reports)
        if outcome in ("failed", "error", "xpassed") and not any(findings[i].status in FAILING for i in mine):
            if t.raised and not t.crashed:
                mine += [derive(scrub_finding(replace(f, file=_relative(f.file, source_root, tf_dir))))
                         for f in t.raised]
            else:
                status = Status.FAIL if not t.crashed and outcome == "failed" else Status.ERROR
                mine.append(derive(Finding(
                    check=t.check or t.nodeid, kind=t.kind, status=status, env=t.env, file=t.file, line=t.line,
                    message=f"test {t.nodeid} {outcome} without recording a finding: "
                            f"{t.message or 'see junit.xml'}")))
        results.append(Outcome(nodeid=t.nodeid, outcome=outcome, findings=tuple(mine), message=t.message))

    for nodeid, message in writer.collect_errors:
        i = derive(Finding(check=nodeid or "collection", kind=_kind_of_path(nodeid), status=Status.ERROR, env="",
                           file=_relative(nodeid.split("::", 1)[0], source_root), message=f"collection error: "
                           f"{message}"))
        results.append(Outcome(nodeid=nodeid or "collection", outcome="error", findings=(i,), message=message))

    for crash in writer.crashes:
        derive(Finding(check="pytest", kind="run", status=Status.ERROR, env="", message=_short(crash)))

    if exitstatus != 0 and not any(f.status in FAILING for f in findings):
        derive(Finding(check="pytest", kind="run", status=Status.ERROR, env="",
                       message=f"pytest exited with status {exitstatus} ({_exit_name(exitstatus)}) "
                               "and no check reported why"))

    live = any(t.live and _outcome(t.reports) != "skipped" for t in writer.tests.values()) or \
        any(f.kind == "live" for f in recorded)
    run = RunInfo(started=writer.started.isoformat(timespec="seconds"),
                  finished=datetime.now(UTC).isoformat(timespec="seconds"), exitstatus=exitstatus,
                  args=tuple(config.invocation_params.args), tf_dir=str(tf_dir or ""),
                  source_root=str(source_root), live=live, tests=tuple(results), derived=tuple(derived),
                  evaluators=tuple(sorted(session.evaluators(config).items())))
    return findings, run


def _exit_name(status: int) -> str:
    try:
        return pytest.ExitCode(status).name.lower().replace("_", " ")
    except ValueError:
        return "unknown exit status"


def write_reports(writer: ReportWriter, exitstatus: int) -> None:
    findings, run = collect(writer, exitstatus)
    rows, envs = _contract_names(writer.config)
    out = writer.report_dir
    out.mkdir(parents=True, exist_ok=True)

    json_report.write(out / FILES["json"], json_report.build(findings, rows, envs, run))
    summary = markdown.render(findings, rows, envs, run)
    (out / FILES["markdown"]).write_text(summary)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as fh:
            fh.write(summary + "\n")
    sarif.write(out / FILES["sarif"], sarif.build(findings, run.source_root, tf_dir=run.tf_dir))
    xml = getattr(writer.config.option, "xmlpath", None)
    if xml:  # tool errors are JUnit errors, not failures
        junit.mark_errors(Path(xml), [t.nodeid for t in run.tests if t.outcome == "failed" and
                                      tool_error([findings[i] for i in t.findings])])

    view = None
    audits, problems = history.load(writer.history_dir)
    if run.live:
        now = datetime.now(UTC)
        doc = history.audit_doc(findings, now, overall(findings, run), envs)
        previous = audits[-1] if audits else None
        path = history.write_audit(writer.history_dir, doc, now)
        current = history.Audit(name=path.name, time=now, seq=0, drift=doc["drift"], errors=doc["errors"],
                                failing=frozenset(history.key(f) for f in doc["findings"]), status=doc["status"])
        view = html.HistoryView(audits=[*audits, current], new=history.new_since(findings, previous),
                                previous=previous, problems=problems)
    elif audits or problems:
        view = html.HistoryView(audits=audits, problems=problems)
    (out / FILES["html"]).write_text(html.render(findings, rows, envs, run, view))
