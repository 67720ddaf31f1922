"""policies.sarif: SARIF 2.1.0 for policy, secret and cost findings (GitHub code scanning reads it)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from core.findings import Finding, Status
from reports.results import POLICY_KINDS, target

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {Status.FAIL: "error", Status.ERROR: "error", Status.DRIFT: "warning", Status.UNKNOWN: "note",
         Status.MUTED: "error"}


def _uri(file: str) -> tuple[str, bool]:
    """(uri, relative?) of a finding's file: relative paths stay relative to the source root."""
    path = PurePosixPath(file.replace("\\", "/"))
    if path.is_absolute():
        return Path(file).as_uri(), False
    return quote(str(path)), True


def _fingerprint(f: Finding) -> str:
    key = "\0".join((f.check, f.env, f.resource, f.attribute))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _message(f: Finding) -> str:
    parts = [f"{f.check} ({f.env or 'all environments'})"]
    if f.resource or f.attribute:
        parts.append(target(f))
    if f.message:
        parts.append(f.message)
    if f.kind != "secret" and (f.expected is not None or f.actual is not None):
        parts.append(f"expected {json.dumps(f.expected, default=str)}, actual {json.dumps(f.actual, default=str)}")
    return ": ".join(parts[:2]) + ("; " + "; ".join(parts[2:]) if len(parts) > 2 else "")


def rule_catalog() -> dict[str, tuple[str, str]]:
    """id -> (name, why) of every policy of ours (checkov checks, Python policies, secret rules, cost)."""
    from core.errors import SuiteError
    from policies import catalog, secrets

    out: dict[str, tuple[str, str]] = {}
    try:
        out.update({p.id: (p.name, p.why) for p in catalog.checkov_policies()})
    except SuiteError:
        pass  # a broken check file is already an error of this run
    out.update({p.id: (p.name, p.why) for p in [*catalog.model_policies(), *catalog.cost_policies()]})
    out.update({rid: (name, secrets.WHY.get(rid, "")) for rid, name in secrets.RULES.items()})
    return out


def fallback_location(tf_dir: str, source_root: str) -> str:
    """Where a finding without a file is shown: the Terraform root module's first file (relative to the source
    root when inside it), so every result has a location code scanning can show."""
    if not tf_dir or not Path(tf_dir).is_dir():
        return ""
    files = sorted(Path(tf_dir).glob("*.tf"))
    first = next((f for f in files if f.name in ("main.tf", "versions.tf")), files[0] if files else None)
    if first is None:
        return ""
    try:
        return first.resolve().relative_to(Path(source_root).resolve()).as_posix() if source_root else str(first)
    except ValueError:
        return str(first.resolve())


def _rule(check: str, mine: list[Finding], known: dict[str, tuple[str, str]]) -> dict[str, Any]:
    name, why = known.get(check, ("", ""))
    if not name:  # a checkov built-in: its decided results carry its title as the expected value
        name = next((f.expected for f in mine if isinstance(f.expected, str) and f.expected
                     and f.status in (Status.PASS, Status.FAIL, Status.MUTED)), "")
    f = mine[0]
    name = name or f.message or f"{check} ({f.kind})"
    full = f"{name}. Why: {why}" if why else name
    return {
        "id": check,
        "name": check,
        "shortDescription": {"text": name[:1000]},
        "fullDescription": {"text": full[:4000]},
        "help": {"text": f"{full}\nList every check with `codedetect-suite --list-checks`."},
        "defaultConfiguration": {"level": "error"},
        "properties": {"kind": f.kind},
    }


def build(findings: Sequence[Finding], source_root: str = "", tool_version: str = "", tf_dir: str = "",
          known: dict[str, tuple[str, str]] | None = None) -> dict[str, Any]:
    """A SARIF log with one run; results are the failing, erroring or undecided policy findings. Every rule has a
    full description (its name and why), every result a location (its file and line, else the Terraform root
    module's first file, line 1)."""
    if not tool_version:
        from core.cli import __version__ as tool_version
    known = rule_catalog() if known is None else known
    fallback = fallback_location(tf_dir, source_root)
    results_of = [f for f in findings if f.kind in POLICY_KINDS and f.status in LEVEL]
    rule_ids: list[str] = []
    rules: list[dict[str, Any]] = []
    for f in findings:
        if f.kind in POLICY_KINDS and f.check not in rule_ids:
            rule_ids.append(f.check)
            rules.append(_rule(f.check, [g for g in findings if g.check == f.check and g.kind in POLICY_KINDS],
                               known))
    results = []
    for f in results_of:
        result: dict[str, Any] = {
            "ruleId": f.check,
            "ruleIndex": rule_ids.index(f.check),
            "level": LEVEL[f.status],
            "kind": "fail" if f.status != Status.UNKNOWN else "review",
            "message": {"text": _message(f)},
            "partialFingerprints": {"codedetectFinding/v1": _fingerprint(f)},
            "properties": {"status": f.status.value, "env": f.env, "resource": f.resource,
                           "attribute": f.attribute, "kind": f.kind},
        }
        if f.status == Status.MUTED:  # shown to code scanning as suppressed, with the written reason
            result["suppressions"] = [{"kind": "external", "status": "accepted", "justification": f.message}]
        file, line = (f.file, f.line) if f.file else (fallback, 1)
        if file:
            uri, relative = _uri(file)
            location: dict[str, Any] = {"artifactLocation": {"uri": uri}}
            if relative and source_root:
                location["artifactLocation"]["uriBaseId"] = "SRCROOT"
            if line > 0:
                location["region"] = {"startLine": line}
            result["locations"] = [{"physicalLocation": location}]
        results.append(result)
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "codedetect", "version": tool_version, "rules": rules}},
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if source_root:
        run["originalUriBaseIds"] = {"SRCROOT": {"uri": Path(source_root).as_uri().rstrip("/") + "/"}}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def write(path: Path, log: dict[str, Any]) -> None:
    path.write_text(json.dumps(log, indent=2) + "\n")
