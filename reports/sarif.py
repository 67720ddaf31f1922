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


def build(findings: Sequence[Finding], source_root: str = "", tool_version: str = "1") -> dict[str, Any]:
    """A SARIF log with one run; results are the failing, erroring or undecided policy findings."""
    results_of = [f for f in findings if f.kind in POLICY_KINDS and f.status in LEVEL]
    rule_ids: list[str] = []
    rules: list[dict[str, Any]] = []
    for f in findings:
        if f.kind in POLICY_KINDS and f.check not in rule_ids:
            rule_ids.append(f.check)
            described = f.message or (f.expected if isinstance(f.expected, str) else "")  # checkov: its name
            rules.append({
                "id": f.check,
                "name": f.check,
                "shortDescription": {"text": f"{f.check} ({f.kind})"},
                "fullDescription": {"text": described[:1000] or f.check},
                "defaultConfiguration": {"level": "error"},
                "properties": {"kind": f.kind},
            })
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
        if f.file:
            uri, relative = _uri(f.file)
            location: dict[str, Any] = {"artifactLocation": {"uri": uri}}
            if relative and source_root:
                location["artifactLocation"]["uriBaseId"] = "SRCROOT"
            if f.line > 0:
                location["region"] = {"startLine": f.line}
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
