"""What every writer shares: the run's test outcomes, status ordering and the check x environment matrix.

Writers read only findings (``core.findings.Finding``), the contract's row ids, the environment names
and, where they show it, ``RunInfo``. Nothing here knows about pytest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.findings import Finding, Status

SCHEMA_VERSION = 1

PARITY_KINDS = ("parity", "document", "contract")
POLICY_KINDS = ("policy", "secret", "cost")
LIVE_KINDS = ("live",)

# Which status a cell shows when it holds several findings: the first one present in this order.
SEVERITY = (Status.FAIL, Status.DRIFT, Status.ERROR, Status.UNKNOWN, Status.NOT_CHECKED, Status.MUTED, Status.PASS)
FAILING = (Status.FAIL, Status.DRIFT, Status.ERROR, Status.UNKNOWN)  # not a pass: the gate fails on each


@dataclass(frozen=True)
class Outcome:
    """One pytest test (or collector that failed to collect) and the findings it recorded."""

    nodeid: str
    outcome: str  # passed | failed | error | skipped | xfailed | xpassed
    findings: tuple[int, ...] = ()  # indices into the run's findings
    message: str = ""


@dataclass(frozen=True)
class RunInfo:
    started: str  # ISO 8601, UTC
    finished: str
    exitstatus: int
    args: tuple[str, ...] = ()
    tf_dir: str = ""
    source_root: str = ""  # finding files are relative to this directory
    live: bool = False  # live tests ran (not only skipped): this run is an audit
    tests: tuple[Outcome, ...] = ()
    derived: tuple[int, ...] = ()  # findings made from a failed test's outcome (it recorded no failing one)
    evaluators: tuple[tuple[str, str], ...] = ()  # (environment, fast | terraform | plan-json) per model built

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.tests:
            out[t.outcome] = out.get(t.outcome, 0) + 1
        return out


def target(f: Finding) -> str:
    """``resource.attribute``, or whichever of the two is known."""
    return ".".join(p for p in (f.resource, f.attribute) if p)


def worst(statuses: Iterable[Status]) -> Status | None:
    present = set(statuses)
    return next((s for s in SEVERITY if s in present), None)


def is_failing(f: Finding) -> bool:
    return f.status in FAILING


def tool_error(findings: Sequence[Finding]) -> bool:
    """A failed test whose failing findings are all ERROR: the check could not decide (a tool error)."""
    failing = [f for f in findings if f.status in FAILING]
    return bool(failing) and all(f.status == Status.ERROR for f in failing)


def overall(findings: Sequence[Finding], run: RunInfo | None = None) -> str:
    """The run's one word: the worst status found; never "pass" for a run pytest failed, nor for one in which
    a check compared nothing ("not_checked")."""
    status = worst(f.status for f in findings)
    if run is not None and run.exitstatus != 0 and status not in FAILING:
        return Status.ERROR.value
    if status is None:
        return "pass" if run is not None and any(t.outcome == "passed" for t in run.tests) else "skipped"
    return Status.PASS.value if status == Status.MUTED else status.value  # accepted exceptions pass the run


def columns(findings: Iterable[Finding], envs: Sequence[str]) -> list[str]:
    """Environments across: the given ones in order, then any other env value (pairs like "a~b") as seen.

    A finding without an environment applies to every column of its row.
    """
    cols = list(envs)
    singles, pairs = [], []
    envless = False
    for f in findings:
        envless = envless or not f.env
        if f.env and f.env not in cols and f.env not in singles and f.env not in pairs:
            (pairs if "~" in f.env else singles).append(f.env)
    cols += singles + pairs
    return cols or ([""] if envless else [])  # "": one column "all" when nothing names an environment


def section(findings: Iterable[Finding], kinds: Sequence[str]) -> list[Finding]:
    return [f for f in findings if f.kind in kinds]


def other_kinds(findings: Iterable[Finding]) -> list[Finding]:
    known = (*PARITY_KINDS, *POLICY_KINDS, *LIVE_KINDS)
    return [f for f in findings if f.kind not in known]


def checks_in_order(findings: Iterable[Finding], first: Sequence[str] = ()) -> list[str]:
    """``first`` (the contract's rows, in contract order), then every other check id as first seen."""
    order = list(first)
    for f in findings:
        if f.check not in order:
            order.append(f.check)
    return order


@dataclass(frozen=True)
class Cell:
    check: str
    env: str
    status: Status | None  # None: no finding for this check in this environment
    findings: tuple[Finding, ...]

    @property
    def word(self) -> str:
        return self.status.value if self.status else "none"


def matrix(findings: Sequence[Finding], checks: Sequence[str], cols: Sequence[str]) -> list[list[Cell]]:
    """One list of cells per check, one cell per column; a cell's status is its worst finding's."""
    table = []
    for check in checks:
        mine = [f for f in findings if f.check == check]
        row = []
        for col in cols:
            here = tuple(f for f in mine if f.env == col or not f.env)
            row.append(Cell(check, col, worst(f.status for f in here), here))
        table.append(row)
    return table


def row_status(cells: Sequence[Cell]) -> Status | None:
    return worst(c.status for c in cells if c.status)


def count_by_status(findings: Iterable[Finding]) -> dict[str, int]:
    out = {s.value: 0 for s in Status}
    for f in findings:
        out[f.status.value] += 1
    return out
