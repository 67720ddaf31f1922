"""CKV_CD_11: environment isolation. Nothing in one environment names another environment's resources.

"Use fake data in staging": staging must not point at production's bucket, log group, topic, security groups or
domain, and production must not point at staging's. Each environment's identifiers come from its own evaluated
model (raw values, not normalised); every string an environment builds (resources, data sources, outputs) is searched
for the identifiers that only the other environments have.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from core.findings import Finding, Status
from core.model import EnvModel, is_unknown
from policies.common import Context, Policy, finding, source_file

ID = "CKV_CD_11"
# Attributes that name a resource (bucket name, log group, topic, security group, domain, ...).
IDENTIFYING = ("bucket", "name", "identifier", "creation_token", "domain_name", "dashboard_name", "alarm_name",
               "name_prefix", "cluster_identifier", "function_name", "topic_name", "zone_name")
MIN_LENGTH = 6  # shorter identifiers would match by accident


def identifiers(model: EnvModel) -> dict[str, str]:
    """Identifier -> address of the managed resource it names."""
    out: dict[str, str] = {}
    for r in model.managed().values():
        for key in IDENTIFYING:
            value = r.values.get(key)
            if isinstance(value, str) and not is_unknown(value) and len(value) >= MIN_LENGTH:
                out.setdefault(value, r.address)
    return out


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        try:  # a JSON document (an IAM policy, a dashboard): search its strings, with their paths
            parsed = json.loads(value) if value[:1] in "[{" else None
        except ValueError:
            parsed = None
        if parsed is None:
            yield path, value
        else:
            yield from _strings(parsed, path)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{path}.{k}" if path else str(k))


def foreign(model: EnvModel, models: dict[str, EnvModel]) -> dict[str, tuple[str, str]]:
    """Identifiers only other environments have -> (their environment, the resource they name)."""
    own = identifiers(model)
    out: dict[str, tuple[str, str]] = {}
    for name, other in models.items():
        if name == model.name:
            continue
        for ident, address in identifiers(other).items():
            if ident not in own and not any(ident in mine for mine in own):
                out.setdefault(ident, (name, address))
    return out


def isolation(model: EnvModel, ctx: Context) -> list[Finding]:
    forbidden = foreign(model, ctx.models)
    out = []
    for r in sorted(model.resources.values(), key=lambda r: r.address):
        for path, text in _strings(dict(r.values)):
            for ident, (other, address) in forbidden.items():
                if ident in text:
                    out.append(finding(ID, "policy", Status.FAIL, model, r, path, f"no identifier of {other}",
                                       ident, f"names {other}'s {address} (use fake data in staging: rule 2)"))
    for o in model.outputs.values():
        for _path, text in _strings(o.value):
            for ident, (other, address) in forbidden.items():
                if ident in text:
                    out.append(Finding(check=ID, kind="policy", status=Status.FAIL, env=model.name,
                                       resource=f"output.{o.name}", attribute="value",
                                       expected=f"no identifier of {other}", actual=ident,
                                       file=source_file(model, o.file), line=o.line,
                                       message=f"names {other}'s {address}"))
    if not out:
        others = ", ".join(sorted(n for n in ctx.models if n != model.name)) or "no other environment"
        out.append(finding(ID, "policy", Status.PASS, model,
                           message=f"none of {len(forbidden)} identifiers of {others} is named in {model.name}"))
    return out


POLICY = Policy(ID, "Environments are isolated: none names another environment's resources",
                "use fake data in staging; production never depends on staging (rule 2)", "policy", isolation)
