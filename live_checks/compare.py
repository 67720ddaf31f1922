"""One normalisation for expected and deployed values, and the attribute-by-attribute difference."""

from __future__ import annotations

import json
from typing import Any

from core.model import is_unknown
from live_checks.expected import parse_ref

MAPS = {"tags", "dimensions"}  # maps: every key counts; other dicts are blocks (Terraform defaults unset keys)
POLICY_LISTS = ("Action", "NotAction", "Resource", "NotResource")
SETS = {"targets", "managed_policy_arns", "inline_policy_names"}  # derived attributes whose order means nothing


class Canon:
    """AWS ids -> Terraform references, JSON documents parsed, set-like lists sorted, SG rules flattened."""

    def __init__(self, refs: dict[str, str], labels: dict[str, str], unordered, json_attributes):
        self.refs, self.labels = refs, labels
        self.unordered, self.json_attributes = set(unordered) | SETS, set(json_attributes)

    def value(self, v: Any, key: str = "") -> Any:
        if key in self.json_attributes and v is not None and not is_unknown(v):
            return self.value(_policy(json.loads(v) if isinstance(v, str) else v))
        if isinstance(v, str):
            return self.refs.get(v) or self.labels.get(v) or v
        if isinstance(v, dict):
            return {k: self.value(x, k) for k, x in v.items()}
        if isinstance(v, list):
            items = [self.value(x, key) for x in v]
            return sorted(items, key=_sort_key) if key in self.unordered else items
        return v

    def resource(self, rtype: str, values: dict) -> dict:
        out = {k: self.value(v, k) for k, v in values.items()}
        if rtype == "aws_security_group":
            for key in ("ingress", "egress"):
                if isinstance(out.get(key), list):
                    out[key] = sorted(r for block in out[key] for r in _rule_strings(block))
        return out


def _sort_key(v: Any) -> str:
    return json.dumps(v, sort_keys=True, default=str)


def _policy(doc: Any) -> Any:
    """Single statements and single actions/resources as lists, as IAM treats them."""
    if not isinstance(doc, dict):
        return doc
    statements = doc.get("Statement")
    statements = [statements] if isinstance(statements, dict) else statements or []
    out = []
    for s in statements:
        s = dict(s)
        for key in POLICY_LISTS:
            if isinstance(s.get(key), str):
                s[key] = [s[key]]
        out.append(s)
    return {**doc, "Statement": out}


def _rule_strings(block: dict) -> list[str]:
    """One security-group rule block -> 'tcp 443-443 from 0.0.0.0/0 "description"' per source."""
    protocol = str(block.get("protocol", "")).lower()
    if protocol in ("-1", "all"):
        protocol, ports = "all", "all"
    else:
        ports = f"{block.get('from_port')}-{block.get('to_port')}"
    sources = [*(block.get("cidr_blocks") or []), *(block.get("ipv6_cidr_blocks") or []),
               *(block.get("security_groups") or []), *(block.get("prefix_list_ids") or [])]
    if block.get("self"):
        sources.append("self")
    return [f'{protocol} {ports} from {s} "{block.get("description") or ""}"' for s in sources]


def comparable(v: Any, managed: set[str]) -> bool:
    """Known before apply, or a reference to a managed resource (observers map AWS ids to those)."""
    if isinstance(v, str) and is_unknown(v):
        parsed = parse_ref(v)
        return parsed is not None and parsed[0] in managed
    if isinstance(v, dict):
        return all(comparable(x, managed) for x in v.values())
    if isinstance(v, list):
        return all(comparable(x, managed) for x in v)
    return True


def diff(a: Any, b: Any, path: str = "", both: bool = False) -> list[tuple[str, Any, Any]]:
    """Differences (path, a, b). ``both`` compares two deployments (every key on either side counts);
    otherwise ``a`` is what Terraform declares and only the keys it sets (that AWS reports) are compared."""
    if isinstance(a, dict) and isinstance(b, dict):
        is_map = path.rsplit(".", 1)[-1] in MAPS
        keys = a.keys() | b.keys() if both or is_map else a.keys() & b.keys()
        out = []
        for k in sorted(keys):
            if not both and not is_map and a.get(k) is None:
                continue  # null in Terraform: the provider's default, not declared
            out += diff(a.get(k), b.get(k), f"{path}.{k}" if path else k, both)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and all(
            isinstance(x, dict) for x in a + b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in diff(x, y, f"{path}[{i}]", both)]
    return [] if a == b else [(path, a, b)]
