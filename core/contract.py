"""The machine-readable parity contract (parity/contract.yaml), loaded and checked for shape.

Every error is a one-line ``SuiteError`` naming the contract file and the line of the offending entry.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.errors import SuiteError
from core.model import EnvSpec
from core.project import Project, load_project
from core.redact import Secret


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
    return _glob(pattern).fullmatch(text) is not None


@functools.lru_cache(maxsize=4096)
def _glob(pattern: str) -> re.Pattern:
    return re.compile(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."))


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
    # env -> its AWS account and region for the live checks: profile, role_arn (+ external_id), region
    aws: dict[str, dict[str, str]] = field(default_factory=dict)

    def normaliser(self, env: str):
        """Function mapping a value of ``env`` into the reference environment's names."""
        pairs = sorted(self.normalise.get(env, ()), key=lambda p: -len(p[0]))
        if not pairs:
            return lambda v: v
        pattern = re.compile("|".join(re.escape(a) for a, _ in pairs))
        table = dict(pairs)
        done: dict[str, str] = {}  # each distinct text is renamed once (most repeat: keys, protocols, CIDRs)

        def text(value: str) -> str:
            if value not in done:
                done[value] = pattern.sub(lambda m: table[m.group(0)], value)
            return done[value]

        def norm(value: Any) -> Any:
            if type(value) is str:
                return text(value)
            if isinstance(value, Secret):  # compared as written: its text is only the marker
                return value
            if isinstance(value, str):
                return pattern.sub(lambda m: table[m.group(0)], value)
            if isinstance(value, list):
                return [norm(v) for v in value]
            if isinstance(value, dict):
                return {(text(k) if type(k) is str else norm(k)): (text(v) if type(v) is str else norm(v))
                        for k, v in value.items()}
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
AWS_KEYS = ("profile", "role_arn", "external_id", "region")


def _aws(name: str, e: dict, path: Path) -> dict[str, str]:
    """An environment's optional ``aws:`` mapping (where the live checks read it)."""
    raw = e.get("aws")
    if raw is None:
        return {}
    line = raw.get("__line__", e.get("__line__")) if isinstance(raw, dict) else e.get("__line__")
    if not isinstance(raw, dict):
        raise SuiteError(f"environment {name!r}: aws must be a mapping of {', '.join(AWS_KEYS)}", path=str(path),
                         line=line)
    out = {k: v for k, v in raw.items() if k != "__line__"}
    unknown = sorted(set(out) - set(AWS_KEYS))
    if unknown:
        raise SuiteError(f"environment {name!r}: unknown aws keys {unknown} (allowed: {', '.join(AWS_KEYS)})",
                         path=str(path), line=line)
    bad = sorted(k for k, v in out.items() if not isinstance(v, str) or not v)
    if bad:
        raise SuiteError(f"environment {name!r}: aws {', '.join(bad)} must be non-empty strings", path=str(path),
                         line=line)
    if "external_id" in out and "role_arn" not in out:
        raise SuiteError(f"environment {name!r}: aws external_id needs a role_arn", path=str(path), line=line)
    return out


SCHEMAS = Path(__file__).resolve().parent / "schemas"


def read_yaml(path: str | Path, schema: str, missing_hint: str = "") -> Any:
    """A YAML file (lines recorded as ``__line__``) validated by ``core/schemas/<schema>.schema.json``.

    Any problem is one ``SuiteError`` naming the file and the line: missing, not UTF-8, malformed, or not
    valid under the schema (unknown keys, wrong types, patterns that cover everything).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        raw = yaml.load(text, Loader=LineLoader)  # noqa: S506 - a SafeLoader subclass
    except FileNotFoundError:
        raise SuiteError(f"{schema} file does not exist", path=str(path), hint=missing_hint) from None
    except UnicodeDecodeError as err:
        raise SuiteError(f"not UTF-8 (byte 0x{err.object[err.start]:02x})", path=str(path),
                         line=err.object[:err.start].count(b"\n") + 1, hint="save the file as UTF-8") from None
    except OSError as err:
        raise SuiteError(f"cannot read ({err.strerror})", path=str(path)) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise SuiteError(f"malformed YAML: {getattr(err, 'problem', err)}", path=str(path),
                         line=mark.line + 1 if mark else None, hint="fix the YAML syntax") from None
    validate(raw, text, schema, path)
    return raw


def plain(value: Any) -> Any:
    """A loaded document without the ``__line__`` keys LineLoader adds."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k != "__line__"}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def validate(raw: Any, text: str, schema: str, path: Path) -> None:
    """Raise a one-line SuiteError (file:line) for the first schema violation, in file order."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(json.loads((SCHEMAS / f"{schema}.schema.json").read_text()))
    errors = [_deepest(e) for e in validator.iter_errors(plain(raw))]
    if not errors:
        return
    typos = {tuple(e.absolute_path) for e in errors if e.validator == "additionalProperties"}
    errors = [e for e in errors if e.validator != "required" or tuple(e.absolute_path) not in typos]  # a typo first
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    located = sorted((_line(root, e), _describe(e)) for e in errors)
    line, message = located[0]
    raise SuiteError(message, path=str(path), line=line, hint=f"see core/schemas/{schema}.schema.json")


def _deepest(error):
    """For oneOf/anyOf, the alternative's own error that got furthest (the one that names the key)."""
    import jsonschema

    while error.context:
        # the alternative of the instance's own type (a string selector's "too broad", not "must be a mapping")
        wrong_type = {e.schema_path[0] for e in error.context if e.validator == "type" and not e.relative_path}
        fitting = [e for e in error.context if e.schema_path[0] not in wrong_type]
        error = jsonschema.exceptions.best_match(fitting or error.context)
    return error


def _where(error) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p))
                   for i, p in enumerate(error.absolute_path)) or "the top level"


def _describe(error) -> str:
    where, value, schema = _where(error), error.instance, error.schema
    if error.validator == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        extra = sorted(k for k in value if k not in known and not any(
            re.search(p, k) for p in error.schema.get("patternProperties", {})))
        return f"{where}: unknown key {extra[0]!r}" + (f" (expected one of {', '.join(known)})" if known else "")
    if error.validator == "type":
        want = error.validator_value if isinstance(error.validator_value, str) else " or ".join(error.validator_value)
        names = {"object": "mapping", "array": "list", "string": "string", "number": "number", "boolean": "boolean",
                 "integer": "integer", "null": "null"}
        got = {dict: "mapping", list: "list", str: "string", bool: "boolean", int: "number", float: "number",
               type(None): "null"}.get(type(value), type(value).__name__)
        wanted = " or ".join(names.get(w, w) for w in want.split(" or "))
        return f"{where} must be {_a(wanted)}, not {_a(got)}"
    if error.validator == "not":
        why = error.validator_value.get("description") or schema.get("description") or "it covers everything"
        return f"{where}: {_short(value)} is too broad: {why}"
    if error.validator == "required":
        return f"{where}: {error.message}"
    if error.validator == "pattern" and schema.get("description"):
        return f"{where}: {_short(value)} is not allowed: {schema['description']}"
    return f"{where}: {error.message[:160]}"


def _a(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _line(node, error) -> int:
    """Line (1-based) of the YAML node at the error's path; for an unknown key, of that key."""
    line = node.start_mark.line + 1
    for part in error.absolute_path:
        node = _child(node, part)
        if node is None:
            return line
        line = node.start_mark.line + 1
    if error.validator == "additionalProperties" and isinstance(node, yaml.MappingNode):
        known = error.schema.get("properties", {})
        for key, _ in node.value:
            if key.value not in known and not any(re.search(p, key.value)
                                                  for p in error.schema.get("patternProperties", {})):
                return key.start_mark.line + 1
    return line


def _child(node, part):
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == part or (isinstance(part, str) and str(key.value) == part):
                return value
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None


def load_contract(path: str | Path, tf_dir: str | Path | None = None) -> Contract:
    path = Path(path)
    raw = read_yaml(path, "contract", missing_hint="pass it with --contract")
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
    aws: dict[str, dict[str, str]] = {}
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
        if _aws(name, e, path):
            aws[name] = _aws(name, e, path)
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
                    base64_attributes=tuple(raw.get("base64_attributes") or ()), aws=aws)


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
