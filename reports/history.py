"""Nightly history: one dated JSON per live audit, read back to chart drift and to spot new findings.

A file is ``audit-YYYYMMDDTHHMMSSZ.json`` in the history directory (``--history-dir``, default
``<report-dir>/history``); CI restores the directory from a cache so that audits accumulate.
Findings are compared by check + env + resource + attribute. Expected/actual values are not kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.findings import Finding, Status
from reports.results import count_by_status, is_failing

NAME_RE = re.compile(r"^audit-(\d{8}T\d{6}Z)(?:-(\d+))?\.json$")
HISTORY_VERSION = 1


def key(f: Finding | dict) -> tuple[str, str, str, str]:
    if isinstance(f, Finding):
        return (f.check, f.env, f.resource, f.attribute)
    return (f.get("check", ""), f.get("env", ""), f.get("resource", ""), f.get("attribute", ""))


@dataclass(frozen=True)
class Audit:
    name: str
    time: datetime
    seq: int  # runs within the same second: 0, 1, 2...
    drift: int
    errors: int
    failing: frozenset[tuple[str, str, str, str]]  # keys of the findings that were not a pass
    status: str = ""


def stamp(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def audit_doc(findings: Sequence[Finding], now: datetime, status: str, envs: Sequence[str]) -> dict[str, Any]:
    return {
        "kind": "codedetect-audit",
        "history_version": HISTORY_VERSION,
        "time": now.astimezone(UTC).isoformat(timespec="seconds"),
        "status": status,
        "environments": list(envs),
        "counts": count_by_status(findings),
        "drift": sum(1 for f in findings if f.status == Status.DRIFT),
        "errors": sum(1 for f in findings if f.status == Status.ERROR),
        "findings": [
            {"check": f.check, "kind": f.kind, "status": f.status.value, "env": f.env, "resource": f.resource,
             "attribute": f.attribute, "location": f.location, "message": f.message}
            for f in findings if is_failing(f)
        ],
    }


def write_audit(directory: Path, doc: dict[str, Any], now: datetime) -> Path:
    """Write this audit next to the earlier ones; never overwrite one (a suffix separates same-second runs)."""
    directory.mkdir(parents=True, exist_ok=True)
    base = f"audit-{stamp(now)}"
    path, n = directory / f"{base}.json", 1
    while path.exists():
        path, n = directory / f"{base}-{n}.json", n + 1
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    return path


def load(directory: Path) -> tuple[list[Audit], list[str]]:
    """Earlier audits, oldest first, and one line per file that could not be read (shown in the report)."""
    audits, problems = [], []
    if not directory.is_dir():
        return audits, problems
    for path in sorted(directory.iterdir()):
        m = NAME_RE.match(path.name)
        if not m:
            continue
        try:
            doc = json.loads(path.read_text())
            audits.append(Audit(
                name=path.name,
                time=datetime.strptime(m.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC),
                seq=int(m.group(2) or 0),
                drift=int(doc["drift"]),
                errors=int(doc.get("errors", 0)),
                failing=frozenset(key(f) for f in doc.get("findings", [])),
                status=str(doc.get("status", "")),
            ))
        except (OSError, ValueError, KeyError, TypeError) as err:
            problems.append(f"{path.name}: unreadable audit ({type(err).__name__}: {err})")
    audits.sort(key=lambda a: (a.time, a.seq))
    return audits, problems


def new_since(findings: Iterable[Finding], previous: Audit | None) -> list[Finding]:
    """Failing findings of this run that the previous audit did not have (all of them without one)."""
    seen = previous.failing if previous else frozenset()
    return [f for f in findings if is_failing(f) and key(f) not in seen]
