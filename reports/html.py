"""index.html: one self-contained page (inline CSS, no script, no network) whose first screen is the parity matrix.

Contract rows down the side, environments across; a failing cell is a link to its detail row, shown by
CSS ``:target``, with each finding's expected and actual values side by side. Policies, live checks,
history and failed tests follow below.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from core.findings import Finding, Status
from reports.history import Audit
from reports.results import (
    FAILING,
    LIVE_KINDS,
    PARITY_KINDS,
    POLICY_KINDS,
    Cell,
    RunInfo,
    checks_in_order,
    columns,
    count_by_status,
    matrix,
    other_kinds,
    overall,
    row_status,
    section,
)

MARK = {"pass": "✓", "fail": "✗", "drift": "≠", "error": "!", "unknown": "?", "muted": "~",
        "not_checked": "–", "none": "·", "skipped": "–"}
MAX_DETAILS = 100  # findings shown per cell; parity.json has every one

CSS = """
*{box-sizing:border-box}
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;padding:12px 20px;
 color:#1f2328;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:20px 0 6px}
.facts{color:#57606a;margin:0 0 8px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:13px;color:#fff;vertical-align:middle}
table{border-collapse:collapse}
.matrix th,.matrix td{border:1px solid #d0d7de;padding:3px 10px;text-align:left}
.matrix thead th{background:#f6f8fa}
.matrix th[scope=row]{font-weight:600;white-space:nowrap}
.cell{text-align:center!important;white-space:nowrap;min-width:110px}
.cell a{color:inherit;text-decoration:none;display:block;font-weight:700}
.cell a:hover{text-decoration:underline}
.pass{background:#dafbe1;color:#116329}
.fail{background:#ffebe9;color:#a40e26;outline:2px solid #cf222e;outline-offset:-2px}
.drift{background:#fff8c5;color:#7d4e00;outline:2px solid #bf8700;outline-offset:-2px}
.error{background:#fbefff;color:#6639ba;outline:2px solid #8250df;outline-offset:-2px}
.unknown{background:#eaeef2;color:#424a53}.muted{background:#f6f8fa;color:#57606a}.none{color:#8c959f}.not_checked{background:#fff8c5;color:#7d4e00}.skipped{background:#eaeef2;color:#424a53}
.badge.pass{background:#1a7f37;color:#fff;outline:0}.badge.fail{background:#cf222e;color:#fff;outline:0}
.badge.drift{background:#bf8700;color:#fff;outline:0}.badge.error{background:#8250df;color:#fff;outline:0}
.badge.unknown,.badge.skipped,.badge.muted,.badge.not_checked{background:#6e7781;color:#fff;outline:0}
tr.detail{display:none;scroll-margin-top:120px}tr.detail:target{display:table-row}
tr.detail>td{background:#f6f8fa;padding:8px 12px}
.finding{margin:0 0 10px;border:1px solid #d0d7de;background:#fff;border-radius:6px;padding:6px 8px}
.finding .meta{margin-bottom:4px}.finding code{background:#eaeef2;padding:0 4px;border-radius:4px}
.sbs{width:100%;table-layout:fixed}.sbs th{text-align:left;font-weight:600;padding:2px 6px;background:#eaeef2}
.sbs td{vertical-align:top;padding:0;border:1px solid #d0d7de;width:50%}
pre{margin:0;padding:4px 6px;font:12px/1.35 ui-monospace,"DejaVu Sans Mono",monospace;white-space:pre-wrap;
 word-break:break-all;max-height:360px;overflow:auto}
.del{background:#ffebe9;display:block}.ins{background:#dafbe1;display:block}
.close{float:right;font-size:12px}
.legend span{margin-right:12px}.muted{color:#57606a}
.list td,.list th{border-bottom:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}
.new{color:#a40e26;font-weight:700}
"""


@dataclass(frozen=True)
class HistoryView:
    audits: Sequence[Audit] = ()  # oldest first; includes this run when it is an audit
    new: Sequence[Finding] | None = None  # failing findings not in the previous audit (None: not an audit)
    previous: Audit | None = None
    problems: Sequence[str] = field(default_factory=tuple)


def _json_lines(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.splitlines() or [""]
    return json.dumps(value, indent=2, sort_keys=True, default=str).splitlines()


def side_by_side(expected: Any, actual: Any, labels: tuple[str, str] = ("expected", "actual")) -> str:
    """Expected and actual as two columns, lines that differ highlighted."""
    left, right = _json_lines(expected), _json_lines(actual)
    lout: list[str] = []
    rout: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=left, b=right, autojunk=False).get_opcodes():
        lcls = "" if op == "equal" else "del"
        rcls = "" if op == "equal" else "ins"
        lout += [f'<span class="{lcls}">{escape(x) or " "}</span>' if lcls else escape(x) + "\n"
                 for x in left[i1:i2]]
        rout += [f'<span class="{rcls}">{escape(x) or " "}</span>' if rcls else escape(x) + "\n"
                 for x in right[j1:j2]]
    return (f'<table class="sbs"><tr><th>{escape(labels[0])}</th><th>{escape(labels[1])}</th></tr>'
            f'<tr><td><pre>{"".join(lout)}</pre></td><td><pre>{"".join(rout)}</pre></td></tr></table>')


def _finding_block(f: Finding) -> str:
    meta = [f'<span class="badge {f.status.value}">{f.status.value}</span>', f"<b>{escape(f.env or 'all')}</b>"]
    if f.resource:
        meta.append(f"<code>{escape(f.resource)}</code>")
    if f.attribute:
        meta.append(f"attribute <code>{escape(f.attribute)}</code>")
    if f.location:
        meta.append(f"at <code>{escape(f.location)}</code>")
    body = ""
    if f.expected is not None or f.actual is not None:
        labels = ("expected", "actual")
        if "~" in f.env:  # a comparison "staging~production": expected is the reference's value
            other, reference = f.env.split("~", 1)
            labels = (f"{reference} (reference)", other)
        body = side_by_side(f.expected, f.actual, labels)
    message = f'<div class="muted">{escape(f.message)}</div>' if f.message else ""
    return f'<div class="finding"><div class="meta">{" · ".join(meta)}</div>{message}{body}</div>'


def _cell_html(cell: Cell, anchor: str) -> str:
    word = cell.word
    text = f"{MARK[word]} {word}" if cell.status else MARK["none"]
    failing = cell.status in FAILING
    attrs = (f'class="cell {word}{" failing" if failing else ""}" data-check="{escape(cell.check)}" '
             f'data-env="{escape(cell.env)}" data-status="{word}"')
    if cell.status and cell.status != Status.PASS:
        n = sum(1 for f in cell.findings if f.status != Status.PASS)
        title = f"{n} finding(s): open the difference"
        return f'<td {attrs}><a href="#{anchor}" title="{escape(title)}">{text}</a></td>'
    return f"<td {attrs}>{text}</td>"


def _matrix_html(sid: str, title: str, findings: list[Finding], first: Sequence[str], envs: Sequence[str],
                 label: str) -> str:
    checks = checks_in_order(findings, first)
    if not checks:
        return ""
    cols = columns(findings, envs)
    rows = matrix(findings, checks, cols)
    failing = sum(1 for r in rows if row_status(r) in FAILING)
    head = "".join(f'<th scope="col">{escape(c.replace("~", " ↔ ") or "all")}</th>' for c in cols)
    body = []
    for i, r in enumerate(rows):
        anchors = [f"d-{sid}-{i}-{j}" for j in range(len(cols))]
        status = row_status(r)
        cls = f' class="row-{status.value}"' if status else ""
        body.append(f'<tr{cls}><th scope="row">{escape(r[0].check)}</th>'
                    + "".join(_cell_html(c, a) for c, a in zip(r, anchors, strict=True)) + "</tr>")
        for c, a in zip(r, anchors, strict=True):
            if c.status and c.status != Status.PASS:
                shown = [f for f in c.findings if f.status != Status.PASS]
                more = (f'<p class="muted">{len(shown) - MAX_DETAILS} more in parity.json</p>'
                        if len(shown) > MAX_DETAILS else "")
                body.append(
                    f'<tr id="{a}" class="detail"><td colspan="{len(cols) + 1}">'
                    f'<a class="close" href="#{sid}">close</a>'
                    f"<b>{escape(c.check)}</b> in <b>{escape(c.env or 'all')}</b>: {c.word}"
                    + "".join(_finding_block(f) for f in shown[:MAX_DETAILS]) + more + "</td></tr>")
    return (f'<section id="{sid}"><h2>{escape(title)} <span class="muted">({failing} of {len(rows)} failing)</span>'
            f'</h2><table class="matrix"><thead><tr><th scope="col">{escape(label)}</th>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></section>')


def chart_svg(audits: Sequence[Audit], width: int = 560, height: int = 120) -> str:
    """Drift found by each recent audit (bars; errors as a purple mark), oldest on the left."""
    audits = list(audits)[-30:]
    if not audits:
        return ""
    top = max([a.drift for a in audits] + [1])
    bar = max(4, min(40, (width - 40) // len(audits) - 4))
    parts = [f'<svg width="{width}" height="{height + 30}" role="img" '
             f'aria-label="drift per audit">',
             f'<line x1="30" y1="{height}" x2="{width}" y2="{height}" stroke="#8c959f"/>',
             f'<text x="0" y="12" font-size="11" fill="#57606a">{top}</text>',
             f'<text x="0" y="{height}" font-size="11" fill="#57606a">0</text>']
    for i, a in enumerate(audits):
        x = 34 + i * (bar + 4)
        h = round((height - 10) * a.drift / top)
        label = f"{a.time:%Y-%m-%d %H:%M}Z: {a.drift} drift, {a.errors} error(s)"
        parts.append(f'<rect x="{x}" y="{height - h}" width="{bar}" height="{h}" fill="#bf8700">'
                     f"<title>{escape(label)}</title></rect>")
        parts.append(f'<text x="{x + bar / 2}" y="{height - h - 2}" font-size="10" text-anchor="middle" '
                     f'fill="#1f2328">{a.drift}</text>')
        if a.errors:
            parts.append(f'<circle cx="{x + bar / 2}" cy="{height + 6}" r="3" fill="#8250df">'
                         f"<title>{escape(label)}</title></circle>")
        if i in (0, len(audits) - 1):
            parts.append(f'<text x="{x}" y="{height + 22}" font-size="10" fill="#57606a">{a.time:%m-%d}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _history_html(view: HistoryView | None) -> str:
    if view is None or (not view.audits and view.new is None and not view.problems):
        return ""
    out = ['<section id="history"><h2>Audit history</h2>']
    if view.audits:
        out.append(f'<p class="muted">Drift found by the last {min(len(view.audits), 30)} audit(s):</p>')
        out.append(chart_svg(view.audits))
    if view.new is not None:
        since = (f"since the previous audit ({view.previous.time:%Y-%m-%d %H:%M}Z)" if view.previous
                 else "(no previous audit: every failing finding is new)")
        out.append(f"<p><b>{len(view.new)}</b> new failing finding(s) {since}.</p>")
        if view.new:
            out.append('<table class="list"><tr><th>Check</th><th>Env</th><th>Status</th><th>Resource</th>'
                       "<th>Attribute</th><th>Where</th></tr>")
            out += [f'<tr class="new"><td>{escape(f.check)}</td><td>{escape(f.env)}</td><td>{f.status.value}</td>'
                    f"<td>{escape(f.resource)}</td><td>{escape(f.attribute)}</td><td>{escape(f.location)}</td></tr>"
                    for f in view.new]
            out.append("</table>")
    out += [f'<p class="muted">{escape(p)}</p>' for p in view.problems]
    out.append("</section>")
    return "".join(out)


def _tests_html(run: RunInfo | None) -> str:
    if run is None:
        return ""
    bad = [t for t in run.tests if t.outcome in ("failed", "error", "xpassed")]
    counts = ", ".join(f"{n} {k}" for k, n in sorted(run.counts().items())) or "no tests ran"
    out = [f'<section id="tests"><h2>Tests</h2><p>pytest exit status {run.exitstatus}; {escape(counts)}.</p>']
    if bad:
        out.append('<table class="list"><tr><th>Test</th><th>Outcome</th><th>Message</th></tr>')
        out += [f"<tr><td><code>{escape(t.nodeid)}</code></td><td>{t.outcome}</td>"
                f"<td><pre>{escape(t.message)}</pre></td></tr>" for t in bad]
        out.append("</table>")
    out.append("</section>")
    return "".join(out)


def render(findings: Sequence[Finding], rows: Sequence[str], envs: Sequence[str], run: RunInfo | None = None,
           history: HistoryView | None = None) -> str:
    findings = list(findings)
    status = overall(findings, run)
    name = "live audit" if run and run.live else "gate"
    counts = count_by_status(findings)
    facts = [", ".join(f"{n} {k}" for k, n in counts.items() if n) or "no findings"]
    if run is not None:
        facts.insert(0, f"run {escape(run.finished)}")
        facts.append(f"pytest exit {run.exitstatus}")
        if run.evaluators:
            facts.append("evaluator: " + escape(", ".join(f"{env} {kind}" for env, kind in run.evaluators)))
    legend = "".join(f'<span><span class="badge {s}">{MARK[s]}</span> {s}</span>'
                     for s in ("pass", "fail", "drift", "error", "unknown", "muted"))
    parity = section(findings, PARITY_KINDS)
    if parity or not findings:
        parity_html = _matrix_html("parity", "Parity matrix", parity, rows, envs, "Contract row")
    else:  # e.g. a live audit: its own matrix comes first
        parity_html = (f'<section id="parity"><h2>Parity matrix</h2><p class="muted">No static parity check ran '
                       f"in this run ({len(rows)} contract rows).</p></section>")
    live = _matrix_html("live", "Live checks", section(findings, LIVE_KINDS), (), envs, "Live check")
    sections = [
        *([live, parity_html] if run is not None and run.live else [parity_html, live]),
        _matrix_html("policies", "Policies", section(findings, POLICY_KINDS), (), envs, "Policy"),
        _matrix_html("other", "Other checks", other_kinds(findings), (), envs, "Check"),
        _history_html(history),
        _tests_html(run),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>codedetect {name}: {status.upper()}</title><style>{CSS}</style></head><body>"
        f'<header><h1>codedetect {name} <span class="badge {status}" id="status">{status.upper()}</span></h1>'
        f'<p class="facts">{" · ".join(facts)}</p><p class="legend muted">{legend} · click a marked cell '
        "for its differences</p></header>"
        + "".join(s for s in sections if s)
        + "</body></html>\n"
    )
