"""summary.md: a short Markdown summary for a pull-request comment or a GitHub step summary."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from core.findings import Finding, Status
from reports.results import (
    FAILING,
    LIVE_KINDS,
    PARITY_KINDS,
    POLICY_KINDS,
    RunInfo,
    checks_in_order,
    columns,
    count_by_status,
    is_failing,
    matrix,
    other_kinds,
    overall,
    row_status,
    section,
    target,
)

ICON = {"pass": "✅", "fail": "❌", "drift": "⚠️", "error": "❗", "unknown": "❔", "muted": "🔕", "not_checked": "➖",
        "skipped": "⏭️", "none": "·"}
MAX_FINDINGS = 25  # a PR comment stays readable; the HTML and JSON reports have them all


def _cell(text: Any, limit: int = 80) -> str:
    if text is None:
        return ""
    if not isinstance(text, str):
        text = json.dumps(text, sort_keys=True, default=str)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("|", "\\|").replace("`", "'")


def _failing_table(title: str, findings: list[Finding], first: Sequence[str], envs: Sequence[str]) -> list[str]:
    cols = columns(findings, envs)
    rows = [r for r in matrix(findings, checks_in_order(findings, first), cols) if r and row_status(r)]
    failing = [r for r in rows if row_status(r) in FAILING]
    unchecked = [r for r in rows if row_status(r) == Status.NOT_CHECKED]
    if not rows:
        return []
    out = [f"**{title}**: {len(failing)} of {len(rows)} failing" +
           (f", {len(unchecked)} not checked" if unchecked else ""), ""]
    failing += unchecked  # shown too: a row that compared nothing is not a pass
    if not failing:
        return out
    out += ["| | " + " | ".join(_cell(c or "all") for c in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for r in failing:
        out.append(f"| {_cell(r[0].check)} | " + " | ".join(f"{ICON[c.word]} {c.word}" if c.status else "·"
                                                            for c in r) + " |")
    return [*out, ""]


def render(findings: Sequence[Finding], rows: Sequence[str], envs: Sequence[str], run: RunInfo | None = None,
           title: str = "") -> str:
    findings = list(findings)
    status = overall(findings, run)
    name = title or ("live audit" if run and run.live else "gate")
    lines = [f"### {ICON.get(status, '')} codedetect {name}: {status.upper()}", ""]
    facts = []
    if run is not None:
        facts.append(f"pytest exit {run.exitstatus}")
        counts = run.counts()
        facts.append(f"{sum(counts.values())} tests: " +
                     (", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none ran"))
        if run.evaluators:
            facts.append("evaluator: " + ", ".join(f"{env} {kind}" for env, kind in run.evaluators))
    by_status = count_by_status(findings)
    facts.append("findings: " + ", ".join(f"{n} {k}" for k, n in by_status.items() if n) if findings
                 else "no findings")
    lines += [" · ".join(facts), ""]

    lines += _failing_table("Parity rows", section(findings, PARITY_KINDS), rows, envs)
    lines += _failing_table("Policies", section(findings, POLICY_KINDS), (), envs)
    lines += _failing_table("Live checks", section(findings, LIVE_KINDS), (), envs)
    lines += _failing_table("Other", other_kinds(findings), (), envs)

    failing = [f for f in findings if is_failing(f)]
    if failing:
        shown = failing[:MAX_FINDINGS]
        more = f" (first {len(shown)} of {len(failing)})" if len(failing) > len(shown) else ""
        lines += [f"**Failing findings**{more}", "",
                  "| Check | Env | Status | Resource | Expected | Actual | Where |", "|---|---|---|---|---|---|---|"]
        for f in shown:
            res = target(f)
            lines.append(f"| {_cell(f.check, 40)} | {_cell(f.env or 'all')} | {f.status.value} | {_cell(res, 60)} "
                         f"| {_cell(f.expected, 40)} | {_cell(f.actual, 40)} | {_cell(f.location or f.message, 120)} |")
        lines.append("")
    lines.append("Full report: `index.html` (matrix and differences), `parity.json`, `junit.xml`, `policies.sarif` "
                 "in the reports directory or the run's `reports` artifact.")
    return "\n".join(lines) + "\n"
