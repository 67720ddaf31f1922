"""The machine-readable parity contract (parity/contract.yaml), loaded and checked for shape.

Every error is a one-line ``SuiteError`` naming the contract file and the line of the offending entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.errors import SuiteError
from core.model import EnvSpec
from core.project import Project, load_project


@dataclass(frozen=True)
class Selector:
    """Resources by address glob (``aws_instance.*``) or type, and attribute paths inside them.

    No ``attributes`` means the whole resource (its existence and every attribute).
    ``envs`` limits where the selector must match something (e.g. production-only resources).
    """

    address: str
    attributes: tuple[str, ...] = ()
    envs: tuple[str, ...] = ()
    line: int = 0

    def matches_address(self, address: str) -> bool:
        return glob_match(address, self.address)

    def covers(self, address: str, path: str) -> bool:
        if not self.matches_address(address):
            return False
        if not self.attributes:
            return True
        return any(path_within(path, a) for a in self.attributes)


def glob_match(text: str, pattern: str) -> bool:
    """Shell-style ``*`` and ``?`` only: brackets are literal, as in ``aws_lb_listener.https[0]``."""
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, text) is not None


def path_within(path: str, prefix: str) -> bool:
    """``ingress[2].from_port`` is within ``ingress``, ``tags.Name`` within ``tags``; '' (existence) in none."""
    if not path:
        return False
    if glob_match(path, prefix):
        return True
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")


@dataclass(frozen=True)
class Measure:
    """How a documented value is read off the model: ``attribute`` of the selected resources, ``count``
    of them, ``exists`` (Enabled/Disabled), or a ``default_tag``."""

    kind: str  # attribute | count | exists | default_tag
    address: str = ""
    attribute: str = ""
    unit: str = ""  # the document writes "20 GB" for 20
    map: dict[str, Any] = field(default_factory=dict)  # document word -> model value (Enabled -> True)


@dataclass(frozen=True)
class Row:
    id: str  # the row's name in the document ("Security Groups"): the test id
    table: str  # "same" | "different"
    document: dict[str, str]  # the row's cells as the document writes them
    select: tuple[Selector, ...]
    values: dict[str, str] = field(default_factory=dict)  # different rows: document value per environment
    measure: Measure | None = None
    allow: tuple[Selector, ...] = ()  # different rows: the only paths/addresses allowed to differ
    line: int = 0


CLAIM_KINDS = ("log_group", "alarm_prefix", "tag", "workspace", "var_file", "output", "variable", "command", "value",
               "ignore")


@dataclass(frozen=True)
class Claim:
    """A statement of the document's prose (inline code or a command at ``line``) checked against the model."""

    text: str  # exactly as the document writes it (without backticks)
    line: int  # the document's line that says it
    kind: str  # one of CLAIM_KINDS; "ignore" = not about the Terraform (``why`` says so)
    envs: tuple[str, ...] = ()  # where it holds (all environments if empty)
    address: str = ""  # kind "value": what is read (``var.docker_image``, ``aws_lb.main``) ...
    attribute: str = ""  # ... and which attribute (``value`` for a variable)
    why: str = ""
    contract_line: int = 0


@dataclass(frozen=True)
class Contract:
    path: str
    document: str  # the environments document, resolved against the contract's directory ("" if not named)
    reference: str
    environments: dict[str, EnvSpec]
    normalise: dict[str, tuple[tuple[str, str], ...]]
    unordered: tuple[str, ...]
    json_attributes: tuple[str, ...]
    rows: tuple[Row, ...]
    ignore_unmanaged: tuple[dict, ...] = ()
    project: Project = field(default_factory=Project)
    claims: tuple[Claim, ...] = ()
    base64_attributes: tuple[str, ...] = ()  # e.g. a launch template's user_data: decoded before comparing

    def normaliser(self, env: str):
        """Function mapping a value of ``env`` into the reference environment's names."""
        pairs = sorted(self.normalise.get(env, ()), key=lambda p: -len(p[0]))
        if not pairs:
            return lambda v: v
        pattern = re.compile("|".join(re.escape(a) for a, _ in pairs))
        table = dict(pairs)

        def norm(value: Any) -> Any:
            if isinstance(value, str):
                return pattern.sub(lambda m: table[m.group(0)], value)
            if isinstance(value, list):
                return [norm(v) for v in value]
            if isinstance(value, dict):
                return {norm(k): norm(v) for k, v in value.items()}
            return value

        return norm


# ---------------------------------------------------------------------------- loading


class LineLoader(yaml.SafeLoader):
    """SafeLoader that records the line of every mapping as ``__line__``."""


def _construct_mapping(loader, node, deep=False):
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

_ROW_KEYS = {"id", "document", "select", "values", "measure", "allow", "__line__", "why"}
_SEL_KEYS = {"address", "attributes", "envs", "__line__"}


def load_contract(path: str | Path, tf_dir: str | Path | None = None) -> Contract:
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(), Loader=LineLoader)  # noqa: S506 - a SafeLoader subclass
    except FileNotFoundError:
        raise SuiteError("contract file does not exist", path=str(path), hint="pass it with --contract") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise SuiteError(f"malformed YAML: {getattr(err, 'problem', err)}", path=str(path),
                         line=mark.line + 1 if mark else None, hint="fix the YAML syntax") from None
    if not isinstance(raw, dict):
        raise SuiteError("contract must be a mapping", path=str(path), line=1)

    def need(d: dict, key: str, kind=None):
        if key not in d:
            raise SuiteError(f"missing key {key!r}", path=str(path), line=d.get("__line__"))
        if kind and not isinstance(d[key], kind):
            raise SuiteError(f"{key!r} must be a {kind.__name__}", path=str(path), line=d.get("__line__"))
        return d[key]

    envs_raw = need(raw, "environments", dict)
    environments: dict[str, EnvSpec] = {}
    for name, e in envs_raw.items():
        if name == "__line__":
            continue
        if not isinstance(e, dict) or "workspace" not in e:
            raise SuiteError(f"environment {name!r} needs a workspace", path=str(path), line=envs_raw["__line__"])
        var_files = tuple(e.get("var_files") or ())
        if tf_dir is not None:
            for vf in var_files:
                if not (Path(tf_dir) / vf).is_file():
                    raise SuiteError(f"var file {vf!r} of environment {name!r} does not exist in {tf_dir}",
                                     path=str(path), line=e["__line__"], hint="fix var_files or add the file")
        environments[name] = EnvSpec(name=name, workspace=str(e["workspace"]), var_files=var_files,
                                     tag=str(e.get("tag", name)))
    reference = need(raw, "reference", str)
    if reference not in environments:
        raise SuiteError(f"reference environment {reference!r} is not declared", path=str(path),
                         line=raw["__line__"])

    normalise: dict[str, tuple[tuple[str, str], ...]] = {}
    for env, pairs in (raw.get("normalise") or {}).items():
        if env == "__line__":
            continue
        if env not in environments:
            raise SuiteError(f"normalise names unknown environment {env!r}", path=str(path),
                             line=raw["normalise"]["__line__"])
        normalise[env] = tuple((str(k), str(v)) for k, v in pairs.items() if k != "__line__")

    rows: list[Row] = []
    seen: set[str] = set()
    for table in ("same", "different"):
        for r in need(raw, table, list):
            line = r.get("__line__", 0)
            unknown = set(r) - _ROW_KEYS
            if unknown:
                raise SuiteError(f"row has unknown keys {sorted(unknown)}", path=str(path), line=line)
            rid = need(r, "id", str)
            if rid in seen:
                raise SuiteError(f"duplicate row id {rid!r}", path=str(path), line=line)
            seen.add(rid)
            values = {k: str(v) for k, v in (r.get("values") or {}).items() if k != "__line__"}
            for env in values:
                if env not in environments:
                    raise SuiteError(f"row {rid!r} gives a value for unknown environment {env!r}",
                                     path=str(path), line=line)
            if table == "different" and set(values) != set(environments):
                raise SuiteError(f"row {rid!r} must give a value for every environment {sorted(environments)}",
                                 path=str(path), line=line)
            measure = None
            if r.get("measure"):
                m = r["measure"]
                if m.get("kind") not in ("attribute", "count", "exists", "default_tag"):
                    raise SuiteError(f"row {rid!r}: measure kind must be attribute, count, exists or default_tag",
                                     path=str(path), line=m.get("__line__", line))
                measure = Measure(kind=m["kind"], address=m.get("address", ""), attribute=m.get("attribute", ""),
                                  unit=str(m.get("unit", "")),
                                  map={k: v for k, v in (m.get("map") or {}).items() if k != "__line__"})
            rows.append(Row(id=rid, table=table,
                            document={k: str(v) for k, v in (r.get("document") or {}).items() if k != "__line__"},
                            select=tuple(_selector(s, path, rid, environments, line) for s in need(r, "select", list)),
                            values=values, measure=measure,
                            allow=tuple(_selector(s, path, rid, environments, line) for s in r.get("allow") or ()),
                            line=line))
            for a in rows[-1].allow:
                if a.address in ("*", "**") or (a.address.endswith("*") and not a.attributes and
                                                 a.address.count(".") == 0):
                    raise SuiteError(f"row {rid!r}: an allowed difference must name an attribute path or a "
                                     "resource address, not everything", path=str(path), line=a.line)
                if re.fullmatch(r"[a-z0-9_]+\.\*", a.address) and not a.attributes:
                    raise SuiteError(f"row {rid!r}: allowing a whole resource type ({a.address}) is not allowed; "
                                     "list addresses or attribute paths", path=str(path), line=a.line)

    document = ""
    if raw.get("document"):
        if not isinstance(raw["document"], str):
            raise SuiteError("'document' must be a path", path=str(path), line=raw["__line__"])
        document = str((path.resolve().parent / raw["document"]).resolve())
    return Contract(path=str(path), document=document, reference=reference,
                    environments=environments, normalise=normalise,
                    unordered=tuple(raw.get("unordered") or ()),
                    json_attributes=tuple(raw.get("json_attributes") or ()),
                    rows=tuple(rows),
                    ignore_unmanaged=tuple(raw.get("ignore_unmanaged") or ()),
                    project=load_project(raw.get("project"), path, list(environments), reference),
                    claims=_claims(raw.get("claims"), path, environments),
                    base64_attributes=tuple(raw.get("base64_attributes") or ()))


_CLAIM_KEYS = {"text", "line", "kind", "envs", "address", "attribute", "why", "__line__"}


def _claims(raw: Any, path: Path, environments) -> tuple[Claim, ...]:
    if raw is not None and not isinstance(raw, list):
        raise SuiteError("'claims' must be a list", path=str(path))
    claims, seen = [], set()
    for c in raw or ():
        claim = _claim(c, path, environments)
        if (claim.text, claim.line) in seen:
            raise SuiteError(f"claim {claim.text!r} at document line {claim.line} is listed twice", path=str(path),
                             line=claim.contract_line)
        seen.add((claim.text, claim.line))
        claims.append(claim)
    return tuple(claims)


def _claim(c: Any, path: Path, environments) -> Claim:
    line = c.get("__line__") if isinstance(c, dict) else None
    if not isinstance(c, dict) or not isinstance(c.get("text"), str) or not isinstance(c.get("line"), int):
        raise SuiteError("a claim needs text: (as the document writes it) and line: (the document's line)",
                         path=str(path), line=line)
    unknown = set(c) - _CLAIM_KEYS
    if unknown:
        raise SuiteError(f"claim {c['text']!r} has unknown keys {sorted(unknown)}", path=str(path), line=line)
    if c.get("kind") not in CLAIM_KINDS:
        raise SuiteError(f"claim {c['text']!r}: kind must be one of {', '.join(CLAIM_KINDS)}", path=str(path),
                         line=line)
    envs = tuple(c.get("envs") or ())
    for env in envs:
        if env not in environments:
            raise SuiteError(f"claim {c['text']!r} names unknown environment {env!r}", path=str(path), line=line)
    why = " ".join(str(c.get("why") or "").split())
    if c["kind"] == "ignore" and len(why) < 20:
        raise SuiteError(f"claim {c['text']!r}: kind ignore needs a reason (why:, at least 20 characters)",
                         path=str(path), line=line)
    if c["kind"] == "value" and not c.get("address"):
        raise SuiteError(f"claim {c['text']!r}: kind value needs an address (and attribute)", path=str(path),
                         line=line)
    return Claim(text=c["text"], line=c["line"], kind=c["kind"], envs=envs, address=str(c.get("address") or ""),
                 attribute=str(c.get("attribute") or ""), why=why, contract_line=line or 0)


def _selector(s: Any, path: Path, rid: str, environments, line: int) -> Selector:
    if isinstance(s, str):
        return Selector(address=s, line=line)
    if not isinstance(s, dict) or "address" not in s:
        raise SuiteError(f"row {rid!r}: a selector needs an address", path=str(path),
                         line=s.get("__line__") if isinstance(s, dict) else None)
    unknown = set(s) - _SEL_KEYS
    if unknown:
        raise SuiteError(f"row {rid!r}: selector has unknown keys {sorted(unknown)}", path=str(path),
                         line=s["__line__"])
    for env in s.get("envs") or ():
        if env not in environments:
            raise SuiteError(f"row {rid!r}: selector names unknown environment {env!r}", path=str(path),
                             line=s["__line__"])
    return Selector(address=str(s["address"]), attributes=tuple(s.get("attributes") or ()),
                    envs=tuple(s.get("envs") or ()), line=s["__line__"])
