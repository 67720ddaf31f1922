"""parity.json: the machine-readable report (schema: reports/parity.schema.json, versioned by ``schema_version``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.findings import Finding
from reports.results import (
    LIVE_KINDS,
    PARITY_KINDS,
    POLICY_KINDS,
    SCHEMA_VERSION,
    RunInfo,
    columns,
    count_by_status,
    overall,
    worst,
)

SCHEMA_PATH = Path(__file__).with_name("parity.schema.json")


def _section(kind: str) -> str:
    if kind in PARITY_KINDS:
        return "parity"
    if kind in POLICY_KINDS:
        return "policy"
    if kind in LIVE_KINDS:
        return "live"
    return "other"


def _jsonable(value: Any) -> Any:
    """Expected/actual values as JSON (anything that is not JSON already becomes its str())."""
    return json.loads(json.dumps(value, default=str))


def build(findings: Sequence[Finding], rows: Sequence[str], envs: Sequence[str],
          run: RunInfo | None = None) -> dict[str, Any]:
    """The report as a dict: per environment, per check (contract rows first, in contract order) and finding."""
    derived = set(run.derived) if run else set()
    test_of: dict[int, str] = {}
    for t in run.tests if run else ():
        for i in t.findings:
            test_of[i] = t.nodeid
    cols = columns(findings, envs)

    checks = []
    order: list[tuple[str, str]] = [(r, "parity") for r in rows]
    for f in findings:
        key = (f.check, _section(f.kind))
        if key not in order:
            order.append(key)
    for check, sec in order:
        mine = [f for f in findings if f.check == check and _section(f.kind) == sec]
        by_env = {}
        for col in cols:
            status = worst(f.status for f in mine if f.env == col or not f.env)
            if status is not None:
                by_env[col] = status.value
        status = worst(f.status for f in mine)
        checks.append({
            "check": check,
            "section": sec,
            "contract_row": sec == "parity" and check in rows,
            "kinds": sorted({f.kind for f in mine}),
            "status": status.value if status else "none",
            "environments": by_env,
            "counts": count_by_status(mine),
        })

    environments = {}
    for col in cols:
        mine = [f for f in findings if f.env == col or not f.env]
        status = worst(f.status for f in mine)
        environments[col] = {"status": status.value if status else "none", "counts": count_by_status(mine)}

    doc: dict[str, Any] = {
        "$schema": "parity.schema.json",
        "schema_version": SCHEMA_VERSION,
        "status": overall(findings, run),
        "environments": environments,
        "contract_environments": list(envs),
        "rows": list(rows),
        "checks": checks,
        "counts": count_by_status(findings),
        "findings": [
            {
                "id": i,
                "check": f.check,
                "kind": f.kind,
                "status": f.status.value,
                "env": f.env,
                "resource": f.resource,
                "attribute": f.attribute,
                "expected": _jsonable(f.expected),
                "actual": _jsonable(f.actual),
                "file": f.file,
                "line": f.line,
                "location": f.location,
                "message": f.message,
                "test": test_of.get(i, ""),
                "origin": "outcome" if i in derived else "recorded",
            }
            for i, f in enumerate(findings)
        ],
    }
    if run is not None:
        doc["run"] = {
            "started": run.started,
            "finished": run.finished,
            "exitstatus": run.exitstatus,
            "args": list(run.args),
            "tf_dir": run.tf_dir,
            "source_root": run.source_root,
            "live": run.live,
            "test_counts": run.counts(),
        }
        if run.evaluators:
            doc["run"]["evaluators"] = dict(run.evaluators)
        doc["tests"] = [{"nodeid": t.nodeid, "outcome": t.outcome, "findings": list(t.findings),
                         "message": t.message} for t in run.tests]
    return doc


def write(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc, indent=2, sort_keys=False, default=str) + "\n")


def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())
