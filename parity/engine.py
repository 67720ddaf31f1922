"""The parity engine: compare each environment with the reference environment under the contract.

Default deny: every difference between two environments (an attribute, a nested block, a whole
resource present in one environment only) must be allowed by a row of the "different" table, or
it fails. Differences are attributed to the contract rows whose selectors cover them (the most
specific selector wins), and those no row covers fail the catch-all.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepdiff import DeepDiff

from core import collector
from core.contract import Contract, Row, Selector, path_within
from core.findings import Finding, Status
from core.loading import var_file_names
from core.model import UNKNOWN_INSTANCES, EnvModel, is_sensitive, is_unknown

EXISTS = ""  # the attribute path of a difference in existence
_MISSING = object()
_PATH_PART = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")

# --------------------------------------------------------------------------- comparable entries


def entries(model: EnvModel, contract: Contract) -> dict[str, dict[str, Any]]:
    """Everything comparable in one environment, keyed by address: resources, ``var.*``, ``output.*``,
    and each ``provider "aws"`` block's configuration (``provider.aws``, aliased ones ``provider.aws.<alias>``;
    ``default_tags`` as the tag map); JSON documents parsed."""
    out: dict[str, dict[str, Any]] = {}
    for address, r in model.resources.items():
        out[address] = _parse_json(_decode_base64(dict(r.values), getattr(contract, "base64_attributes", ())),
                                   contract.json_attributes)
    for name, v in model.variables.items():
        out[f"var.{name}"] = {"value": v.value}
    for name, o in model.outputs.items():
        out[f"output.{name}"] = {"value": o.value}
    for key, config in model.providers.items():
        out[f"provider.{key}"] = {**_parse_json(dict(config), contract.json_attributes),
                                  "default_tags": _tag_map(config)}
    out["provider.aws"] = {**out.get("provider.aws", {}), "default_tags": dict(model.default_tags)}
    for address, block in model.blocks.items():  # instances known only after apply: compared as such
        if block.unknown:
            out[address + "[*]"] = {"instances": "${" + UNKNOWN_INSTANCES + ": " + block.expression + "}"}
    return out


def _decode_base64(values: dict, keys: tuple[str, ...]) -> dict:
    """Attributes written as base64encode(...) (a launch template's user_data) compared as the text they encode."""
    import base64
    import binascii

    for key in keys:
        if isinstance(values.get(key), str) and not is_unknown(values[key]):
            try:
                values[key] = base64.b64decode(values[key], validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                pass  # not base64 after all: compared as written
    return values


def _tag_map(provider: dict) -> Any:
    """A provider's ``default_tags { tags = ... }`` as the tag map (or the unknown it is)."""
    blocks = provider.get("default_tags")
    if isinstance(blocks, list) and blocks and isinstance(blocks[0], dict):
        tags = blocks[0].get("tags")
        return dict(tags) if isinstance(tags, dict) else (tags or {})
    return {}


def _parse_json(values: dict, keys: tuple[str, ...]) -> dict:
    for key in keys:
        if isinstance(values.get(key), str) and not is_unknown(values[key]):
            try:
                values[key] = json.loads(values[key])
            except json.JSONDecodeError:
                pass  # not JSON after all: compared as a string
    return values


def _kind(model: EnvModel) -> str:
    return model.source.split(":", 1)[0]


def comparable(model: EnvModel, contract: Contract, mixed: bool) -> dict[str, dict[str, Any]]:
    """``entries``, made comparable with an environment from the other kind of source.

    A plan holds provider defaults and computed attributes that HCL evaluation does not, and HCL
    evaluation writes a reference where a plan says "known after apply". When one side is a plan and
    the other HCL, a plan resource keeps only the attributes its configuration sets, and every value
    known only after apply compares as the same unknown.
    """
    ents = entries(model, contract)
    if not mixed:
        return ents
    out = {}
    for address, values in ents.items():
        if address.startswith("provider."):  # a plan holds provider configuration as expressions, not values
            values = {"default_tags": values.get("default_tags", {})}
        r = model.resources.get(address)
        if r is not None and r.configured is not None:
            values = {k: v for k, v in values.items() if k in r.configured}
        out[address] = _collapse_unknown(values)
    return out


def _collapse_unknown(value: Any) -> Any:
    """Unknown and sensitive values are not comparable across sources: both become one unknown
    (a list of unknowns too, since a plan marks such a list unknown as a whole)."""
    if is_unknown(value) or is_sensitive(value):
        return "${unknown}"
    if isinstance(value, list):
        items = [_collapse_unknown(v) for v in value]
        return "${unknown}" if items and all(i == "${unknown}" for i in items) else items
    if isinstance(value, dict):
        return {k: _collapse_unknown(v) for k, v in value.items()}
    return value


def _align_unknowns(a: Any, b: Any) -> tuple[Any, Any]:
    """Where one source knows a value the other only knows after apply (tfparse resolves some ids that
    a plan leaves unknown), the two cannot be compared: both become unknown."""
    if a == "${unknown}" or b == "${unknown}":
        return "${unknown}", "${unknown}"
    if isinstance(a, dict) and isinstance(b, dict):
        pairs = {k: _align_unknowns(a[k], b[k]) for k in a.keys() & b.keys()}
        return ({k: pairs.get(k, (v, None))[0] for k, v in a.items()},
                {k: pairs.get(k, (None, v))[1] for k, v in b.items()})
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        pairs = [_align_unknowns(x, y) for x, y in zip(a, b, strict=True)]
        return [x for x, _ in pairs], [y for _, y in pairs]
    return a, b


# --------------------------------------------------------------------------- differences


@dataclass(frozen=True)
class Difference:
    address: str
    path: str  # attribute path ("ingress[1].from_port"); EXISTS for a resource present in one env only
    reference: Any  # value in the reference environment
    other: Any  # value in the other environment, after name normalisation


def format_path(parts: list) -> str:
    text = ""
    for p in parts:
        text += f"[{p}]" if isinstance(p, int) else (f".{p}" if text else str(p))
    return text


def diff_entries(ref: dict[str, dict], other: dict[str, dict], unordered: tuple[str, ...] = ()) -> list[Difference]:
    """All differences between two environments' entries (``other`` already normalised)."""
    unordered_set = set(unordered)

    def ignore_order(level) -> bool:
        keys = [k for k in level.path(output_format="list") if isinstance(k, str)]
        return bool(keys) and keys[-1] in unordered_set

    found: list[Difference] = []
    for address in sorted(set(ref) | set(other)):
        if address not in other:
            found.append(Difference(address, EXISTS, "present", "absent"))
            continue
        if address not in ref:
            found.append(Difference(address, EXISTS, "absent", "present"))
            continue
        a, b = ref[address], other[address]
        if _identical(a, b):
            continue  # most resources: nothing for DeepDiff to find (and it is the slow part)
        if type(a) is dict and type(b) is dict:  # only the differing attributes; plain scalars need no DeepDiff
            keys = [k for k in a.keys() | b.keys() if k not in a or k not in b or not _identical(a[k], b[k])]
            scalars = [k for k in keys if k in a and k in b and _plain(a[k]) and _plain(b[k])]
            found += [Difference(address, format_path([k]), a[k], b[k]) for k in scalars]
            a, b = ({k: x[k] for k in keys if k in x and k not in scalars} for x in (a, b))
            if not a and not b:
                continue
        dd = DeepDiff(a, b, ignore_order_func=ignore_order, view="tree", verbose_level=2,
                      threshold_to_diff_deeper=0)
        for _kind, levels in dd.items():
            for level in levels:
                t1 = None if type(level.t1).__name__ == "NotPresent" else level.t1
                t2 = None if type(level.t2).__name__ == "NotPresent" else level.t2
                found.append(Difference(address, format_path(level.path(output_format="list")), t1, t2))
    return sorted(found, key=lambda d: (d.address, d.path))


def _plain(value: Any) -> bool:
    """A value DeepDiff reports as one change at its own path when it differs (``str`` subclasses such as
    ``Secret`` are not: DeepDiff compares them as their text)."""
    return type(value) in _SCALARS


def _identical(a: Any, b: Any) -> bool:
    """Equal with the same types all the way down (DeepDiff reports 1 vs 1.0 vs True and list vs tuple,
    which ``==`` does not), so skipping DeepDiff here cannot lose a difference."""
    t = type(a)
    if t is not type(b):
        return False
    if t in _SCALARS:
        return a == b
    if isinstance(a, dict):
        if a.keys() != b.keys():
            return False
        for k, v in a.items():
            if not _identical(v, b[k]):
                return False
        return True
    if isinstance(a, list | tuple):
        if len(a) != len(b):
            return False
        for x, y in zip(a, b, strict=True):
            if not _identical(x, y):
                return False
        return True
    return a == b


_SCALARS = frozenset({str, int, float, bool, type(None)})


# --------------------------------------------------------------------------- attribution


def _specificity(sel: Selector, address: str, path: str) -> tuple[int, int] | None:
    """How precisely ``sel`` covers this difference (None: not at all)."""
    if not sel.matches_address(address):
        return None
    literal = len(re.sub(r"[*?\[\]]", "", sel.address))
    if not sel.attributes:
        return (0, literal)
    best = [len(a) for a in sel.attributes if path_within(path, a)]
    return (max(best), literal) if best else None


def owners(contract: Contract, diff: Difference) -> list[Row]:
    """The rows that report this difference: those whose covering selector is the most specific."""
    scored: list[tuple[tuple[int, int], Row]] = []
    for row in contract.rows:
        scores = [s for sel in row.select + row.allow if (s := _specificity(sel, diff.address, diff.path))]
        if scores:
            scored.append((max(scores), row))
    if not scored:
        return []
    top = max(s for s, _ in scored)
    return [row for s, row in scored if s == top]


def allowed(row: Row, diff: Difference) -> bool:
    return any(sel.covers(diff.address, diff.path) or (not sel.attributes and sel.matches_address(diff.address))
               for sel in row.allow)


@dataclass(frozen=True)
class Verdict:
    diff: Difference
    env: str
    rows: tuple[str, ...]  # owning row ids; () = no row covers it (catch-all)
    allowed: bool


def judge(contract: Contract, ref: dict, other: dict, env: str) -> list[Verdict]:
    verdicts = []
    for d in diff_entries(ref, other, contract.unordered):
        rows = owners(contract, d)
        ok = bool(rows) and all(allowed(r, d) for r in rows)
        verdicts.append(Verdict(d, env, tuple(r.id for r in rows), ok))
    return verdicts


# --------------------------------------------------------------------------- the run


@dataclass
class Comparison:
    """Every environment compared with the reference, once per run; tests read slices of it."""

    contract: Contract
    models: dict[str, EnvModel]
    envs: list[str]  # environments compared with the reference
    verdicts: list[Verdict]
    raw: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # env -> its entries, not normalised

    def as_written(self, env: str, diff: Difference) -> Any:
        """The other environment's value at a difference as its source writes it (``diff.other`` is renamed
        into the reference's names: ``prod-latest`` where staging writes ``staging-latest``)."""
        value = self.raw.get(env, {}).get(diff.address, _MISSING)
        norm = self.contract.normaliser(env)
        for key in _PATH_PART.findall(diff.path) if diff.path != EXISTS else ():
            index, name = key
            if index and isinstance(value, list) and int(index) < len(value):
                value = value[int(index)]
            elif name and isinstance(value, dict):
                value = next((v for k, v in value.items() if k == name or norm(k) == name), _MISSING)
            else:
                value = _MISSING
            if value is _MISSING:
                break
        if value is _MISSING or norm(value) != diff.other:
            return diff.other  # not found as written (a value aligned across sources): the compared one
        return value

    @classmethod
    def build(cls, contract: Contract, models: dict[str, EnvModel], envs: list[str] | None = None) -> Comparison:
        with collector.paused():  # (core/collector.py: the models are large, and the diff allocates)
            return cls._build(contract, models, envs)

    @classmethod
    def _build(cls, contract: Contract, models: dict[str, EnvModel], envs: list[str] | None) -> Comparison:
        envs = [e for e in (envs or contract.environments) if e != contract.reference]
        reference = models[contract.reference]
        verdicts = []
        raw: dict[str, dict[str, dict[str, Any]]] = {}
        refs: dict[bool, dict[str, dict[str, Any]]] = {}  # the reference's entries, built once per kind of pair
        for env in envs:
            mixed = _kind(models[env]) != _kind(reference)
            if mixed not in refs:
                refs[mixed] = comparable(reference, contract, mixed)
            ref = dict(refs[mixed])  # (a mixed pair drops and aligns entries of its own copy; none is mutated)
            norm = contract.normaliser(env)
            raw[env] = {norm(a): v for a, v in comparable(models[env], contract, mixed).items()}
            other = {a: norm(v) for a, v in raw[env].items()}
            if mixed:  # variables and outputs a plan does not list are not compared
                for key in [k for k in set(ref) ^ set(other) if k.startswith(("var.", "output."))]:
                    ref.pop(key, None)
                    other.pop(key, None)
                for key in set(ref) & set(other):
                    ref[key], other[key] = _align_unknowns(ref[key], other[key])
            verdicts += judge(contract, ref, other, env)
        return cls(contract, models, envs, verdicts, raw)

    def pair(self, env: str) -> str:
        return f"{env}~{self.contract.reference}"

    def findings_for(self, row_id: str | None) -> list[Finding]:
        """Disallowed differences owned by ``row_id`` (None: those no row owns, the catch-all)."""
        out = []
        for v in self.verdicts:
            if v.allowed:
                continue
            if (row_id is None and not v.rows) or (row_id is not None and row_id in v.rows):
                out.append(self._finding(v, row_id or "unclaimed"))
        return out

    def _finding(self, v: Verdict, check: str) -> Finding:
        d = v.diff
        file, line = self.locate(v.env, d.address, d.path)
        written = self.as_written(v.env, d)
        if d.path == EXISTS:
            present_in = self.contract.reference if d.reference == "present" else v.env
            message = f"exists only in {present_in}"
        else:
            message = "differs between environments" + differing_lines(d.reference, d.other, written)
        if not v.rows:
            message += "; no contract row covers it (add a row, or make the environments equal)"
        else:
            message += "; not an allowed difference"
        return Finding(check=check, kind="parity", status=Status.FAIL, env=self.pair(v.env), resource=d.address,
                       attribute=d.path, expected=d.reference, actual=written, file=file, line=line,
                       message=message)

    def locate(self, env: str, address: str, path: str) -> tuple[str, int]:
        """file:line of the difference in ``env``'s source (or the reference's, if absent there)."""
        for name in (env, self.contract.reference):
            model = self.models[name]
            if address.startswith("var."):
                var = address[4:]
                for vf in reversed(model.var_files or model.env.var_files):
                    for n, line in var_file_names(Path(model.root) / vf):
                        if n == var:
                            return rel(model.root, vf), line
                if var in model.variables:
                    return rel(model.root, model.variables[var].file), model.variables[var].line
            elif address.startswith("provider.") and address[9:] in model.providers_at:
                file, line = model.providers_at[address[9:]]
                if address == "provider.aws" and path.startswith("default_tags") and model.default_tags_at[0]:
                    file, line = model.default_tags_at
                return rel(model.root, file), line
            elif address.startswith("output."):
                o = model.outputs.get(address[7:])
                if o:
                    return rel(model.root, o.file), o.line
            elif address in model.resources:
                r = model.resources[address]
                return rel(model.root, r.file), r.line_of(path)
            elif address.endswith("[*]") and address[:-3] in model.blocks:
                b = model.blocks[address[:-3]]
                return rel(model.root, b.file), b.line
        return "", 0


def differing_lines(reference: Any, other: Any, written: Any = None, limit: int = 5) -> str:
    """For two multi-line strings, '' or " in line N: <reference's line> -> <other's line>": the lines that differ
    once renamed (``other``), shown as the other environment writes them (``written``, same number of lines)."""
    if not (isinstance(reference, str) and isinstance(other, str) and ("\n" in reference or "\n" in other)):
        return ""
    a, b = reference.splitlines(), other.splitlines()
    shown_b = written.splitlines() if isinstance(written, str) and len(written.splitlines()) == len(b) else b
    changed = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op != "equal":
            changed.append(f"{i1 + 1}: {' | '.join(x.strip() for x in a[i1:i2]) or '(none)'} -> "
                           f"{' | '.join(x.strip() for x in shown_b[j1:j2]) or '(none)'}")
    shown = "; ".join(changed[:limit]) + (f"; and {len(changed) - limit} more" if len(changed) > limit else "")
    return f" in line {shown}" if changed else ""


def rel(root: str, file: str) -> str:
    """A source path as the user will open it: relative to the working directory when inside it."""
    full = os.path.normpath(os.path.join(root, file))
    try:
        relative = os.path.relpath(full)
    except ValueError:
        return full
    return full if relative.startswith("..") else relative
