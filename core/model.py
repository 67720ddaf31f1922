"""The evaluated model: the only code that turns Terraform into data.

For each environment the root module is evaluated once, exactly as Terraform
would for that workspace and those var files (tfparse: workspace, tfvars,
locals, conditionals, count, for_each, dynamic blocks, functions), or read from
a real ``terraform show -json`` plan. Parity, policies, live checks and reports
all read this model; none of them parses HCL again.

Conventions of ``Resource.values``:
- nested blocks are always lists of dicts (tfparse gives a dict for one block);
- a reference to another resource is the string ``"${<address>}"`` (tfparse gives
  random UUIDs; they are mapped back to addresses here);
- a value Terraform only knows after apply is a string ``"${<expression>}"``;
- a secret (the value of a ``sensitive`` variable, or a plan's sensitive value)
  is replaced by ``SENSITIVE`` before it enters the model, so no report can print it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import SuiteError

SENSITIVE = "(sensitive value)"
META_ARGUMENTS = {"count", "for_each", "provider", "depends_on", "id", "__tfmeta"}
_UNKNOWN_RE = re.compile(r"^\$\{.*\}$", re.S)
_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_unknown(value: Any) -> bool:
    """True for a value only known after apply (a reference or an unevaluated expression)."""
    return isinstance(value, str) and bool(_UNKNOWN_RE.match(value))


@dataclass(frozen=True)
class EnvSpec:
    """One environment as the contract declares it."""

    name: str
    workspace: str
    var_files: tuple[str, ...] = ()
    tag: str = ""
    plan_json: str | None = None  # a real `terraform show -json` output replaces HCL evaluation


@dataclass(frozen=True)
class Resource:
    address: str
    mode: str  # "managed" or "data"
    type: str
    name: str
    values: Mapping[str, Any]
    file: str
    line: int
    line_end: int = 0
    block_lines: Mapping[str, int] = field(default_factory=dict)
    # Plan JSON only: the attributes the configuration sets (the rest are provider defaults or computed).
    configured: frozenset[str] | None = None

    def line_of(self, path: str) -> int:
        """Line of the innermost nested block that contains attribute ``path`` (e.g. ``ingress[1].from_port``)."""
        best, best_len = self.line, -1
        for prefix, line in self.block_lines.items():
            inside = path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")
            if inside and len(prefix) > best_len:
                best, best_len = line, len(prefix)
        return best

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Variable:
    name: str
    value: Any
    sensitive: bool
    has_default: bool
    file: str
    line: int


@dataclass(frozen=True)
class Output:
    name: str
    value: Any
    sensitive: bool
    file: str
    line: int


@dataclass(frozen=True)
class EnvModel:
    env: EnvSpec
    source: str  # "hcl:<dir>" or "plan:<file>"
    root: str  # the Terraform directory (file paths below are relative to it)
    resources: Mapping[str, Resource]
    variables: Mapping[str, Variable] = field(default_factory=dict)
    outputs: Mapping[str, Output] = field(default_factory=dict)
    default_tags: Mapping[str, str] = field(default_factory=dict)
    default_tags_at: tuple[str, int] = ("", 0)  # file and line of the provider's default_tags block

    @property
    def name(self) -> str:
        return self.env.name

    def managed(self) -> dict[str, Resource]:
        return {a: r for a, r in self.resources.items() if r.mode == "managed"}

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.type in types and r.mode == "managed"]


# --------------------------------------------------------------------------- HCL


def _redactor(secrets: set[str]):
    secrets = {s for s in secrets if isinstance(s, str) and s}

    def redact(value: Any) -> Any:
        if isinstance(value, str):
            return SENSITIVE if any(s in value for s in secrets) else value
        if isinstance(value, list):
            return [redact(v) for v in value]
        if isinstance(value, dict):
            return {k: redact(v) for k, v in value.items()}
        return value

    return redact


def _split_address(address: str) -> tuple[str, str, str]:
    """'data.aws_x.y["k"]' -> ('data', 'aws_x', 'y')."""
    mode = "managed"
    rest = address
    if rest.startswith("data."):
        mode, rest = "data", rest[5:]
    rtype, _, name = rest.partition(".")
    return mode, rtype, name.split("[", 1)[0]


class _HclConverter:
    """Turns one tfparse result into Resources: blocks as lists, UUIDs as addresses, meta stripped."""

    def __init__(self, parsed: dict, redact):
        self.redact = redact
        self.ids: dict[str, str] = {}
        for _rtype, blocks in parsed.items():
            for block in blocks if isinstance(blocks, list) else [blocks]:
                meta = block.get("__tfmeta", {})
                if "id" in block and meta.get("path"):
                    path = meta["path"]
                    if meta.get("type") == "data" and not path.startswith("data."):
                        path = "data." + path
                    self.ids[block["id"]] = path

    def value(self, v: Any) -> Any:
        if isinstance(v, str) and v in self.ids:
            return "${" + self.ids[v] + "}"
        if isinstance(v, str) and _UUID_RE.search(v):  # a reference inside jsonencode() or a template
            return _UUID_RE.sub(lambda m: "${" + self.ids[m.group(0)] + "}" if m.group(0) in self.ids
                                else m.group(0), v)
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, dict):
            if "__attribute__" in v:  # tfparse could not evaluate this expression
                return "${" + str(v["__attribute__"]).replace(".[", "[") + "}"
            return {k: self.value(x) for k, x in v.items() if k not in ("__tfmeta", "id")}
        return v

    def block(self, body: dict, prefix: str, lines: dict[str, int], top: bool) -> dict:
        out: dict[str, Any] = {}
        for key, val in body.items():
            if key in META_ARGUMENTS and (top or key in ("__tfmeta", "id")):
                continue
            if _is_block(val):
                items = val if isinstance(val, list) else [val]
                out[key] = []
                for i, item in enumerate(items):
                    path = f"{prefix}{key}[{i}]"
                    lines[path] = item["__tfmeta"].get("line_start", 0)
                    out[key].append(self.block(item, path + ".", lines, top=False))
            else:
                out[key] = self.value(val)
        return self.redact(out)


def _is_block(val: Any) -> bool:
    if isinstance(val, dict):
        return "__tfmeta" in val
    return isinstance(val, list) and bool(val) and all(isinstance(x, dict) and "__tfmeta" in x for x in val)


def _tfvars_names(path: Path) -> list[tuple[str, int]]:
    """Top-level assignments of a .tfvars file with their lines (raw source, as written)."""
    names = []
    depth = 0
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        stripped = line.split("#", 1)[0].split("//", 1)[0]
        if depth == 0:
            m = re.match(r"\s*([A-Za-z_][A-Za-z0-9_-]*)\s*=", stripped)
            if m:
                names.append((m.group(1), lineno))
        depth += stripped.count("{") + stripped.count("[") - stripped.count("}") - stripped.count("]")
    return names


def _block_name(block) -> str:
    ident = block.children[0]
    return str(ident.children[0]) if hasattr(ident, "children") else str(ident)


def _block_label(block) -> str:
    for child in block.children[1:]:
        if getattr(child, "data", None) == "string":
            return "".join(str(t) for c in child.children if hasattr(c, "children") for t in c.children)
    return ""


def _unsafe_dynamic_blocks(tf_dir: Path) -> list[tuple[str, int, str]]:
    """`dynamic` blocks that tfparse evaluates wrongly, found in the raw source (python-hcl2 parse tree).

    tfparse (0.6.x) silently drops a `dynamic` block nested inside another block, and loses the
    last expansion of a `dynamic` block that is followed by a static block in the same body.
    Both would give a false green, so the model refuses them with the file and line.
    """
    import hcl2

    problems = []
    for tf in sorted(tf_dir.glob("*.tf")):
        text = tf.read_text()
        if "dynamic" not in text:
            continue
        try:
            tree = hcl2.parses_to_tree(text)
        except Exception:  # noqa: BLE001, S112 - syntax errors are reported by tfparse with their line
            continue

        def walk(body, depth: int, tf: Path = tf) -> None:
            blocks = [c for c in body.children if getattr(c, "data", None) == "block"]
            seen_dynamic = None
            for block in blocks:
                name = _block_name(block)
                inner = next(c for c in block.children if getattr(c, "data", None) == "body")
                if name == "dynamic":
                    label = _block_label(block)
                    if depth >= 1:
                        problems.append((tf.name, block.meta.line,
                                         f'dynamic "{label}" inside another block is dropped by the evaluator'))
                    seen_dynamic = seen_dynamic or (label, block.meta.line)
                    content = [c for c in inner.children if getattr(c, "data", None) == "block"]
                    for c in content:
                        walk(next(x for x in c.children if getattr(x, "data", None) == "body"), depth + 1, tf)
                    continue
                if seen_dynamic:
                    problems.append((tf.name, seen_dynamic[1],
                                     f'dynamic "{seen_dynamic[0]}" is followed by block "{name}" (line '
                                     f'{block.meta.line}): the evaluator loses its last expansion'))
                    seen_dynamic = None
                walk(inner, depth + 1, tf)

        for top in tree.children[0].children:
            if getattr(top, "data", None) == "block" and _block_name(top) in ("resource", "data"):
                walk(next(c for c in top.children if getattr(c, "data", None) == "body"), 0)
    return problems


@contextlib.contextmanager
def _quiet_stderr():
    """tfparse's Go code logs INFO lines (e.g. 'unknown block type' for `check`) straight to fd 2;
    keep them out of the gate's output but pass anything else through."""
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            for line in capture.read().decode(errors="replace").splitlines():
                if " level=INFO " not in line:
                    sys.stderr.write(line + "\n")


def _parse_error(err: Exception, tf_dir: Path) -> SuiteError:
    text = " ".join(str(err).split())
    m = re.search(r"([\w./-]+\.(?:tf|tfvars)):(\d+)", text)
    if m:
        path = m.group(1)
        full = Path(path) if Path(path).is_absolute() else tf_dir / Path(path).name
        return SuiteError(text[m.end():].lstrip(":,; ") or text, path=str(full), line=int(m.group(2)),
                          hint="fix the HCL syntax there")
    return SuiteError(text, path=str(tf_dir), hint="fix the Terraform so that `terraform validate` accepts it")


def load_hcl(tf_dir: str | os.PathLike, env: EnvSpec) -> EnvModel:
    """Evaluate the root module in ``tf_dir`` for one environment."""
    import tfparse

    tf_dir = Path(tf_dir)
    if not tf_dir.is_dir() or not any(tf_dir.glob("*.tf")):
        raise SuiteError("no Terraform files here", path=str(tf_dir), hint="pass the root module with --tf-dir")

    variables_declared: dict[str, dict] = {}
    for var_file in env.var_files:
        if not (tf_dir / var_file).is_file():
            raise SuiteError(f"var file of environment {env.name!r} does not exist", path=str(tf_dir / var_file),
                             hint="create it or fix var_files in the contract")

    for file, line, problem in _unsafe_dynamic_blocks(tf_dir):
        raise SuiteError(problem, path=str(tf_dir / file), line=line,
                         hint="write dynamic blocks last in their resource and never inside another block")

    for tf in sorted(tf_dir.glob("*.tf")):
        for lineno, text in enumerate(tf.read_text().splitlines(), 1):
            if re.search(r"\btemplatefile\s*\(", text.split("#", 1)[0].split("//", 1)[0]):
                raise SuiteError("templatefile() is not evaluated by tfparse (it yields null, which would compare "
                                 "equal everywhere)", path=str(tf), line=lineno,
                                 hint="write the template inline as a heredoc string")

    try:
        with _quiet_stderr():
            parsed = tfparse.load_from_path(str(tf_dir), stop_on_hcl_error=True, workspace_name=env.workspace,
                                            vars_paths=list(env.var_files))
    except tfparse.ParseError as err:
        raise _parse_error(err, tf_dir) from None

    for block in parsed.get("variable", []):
        variables_declared[block["__tfmeta"]["label"]] = block
    for var_file in env.var_files:
        for name, line in _tfvars_names(tf_dir / var_file):
            if name not in variables_declared:
                raise SuiteError(f"variable {name!r} is not declared", path=str(tf_dir / var_file), line=line,
                                 hint="declare it in variables.tf or remove it from the var file")

    # Secrets never enter the model: collect the values of sensitive variables first.
    secrets = {b.get("default") for b in variables_declared.values() if b.get("sensitive")}
    for var_file in env.var_files:
        secrets |= _tfvars_values(tf_dir / var_file, {n for n, b in variables_declared.items() if b.get("sensitive")})
    redact = _redactor({s for s in secrets if isinstance(s, str)})
    conv = _HclConverter(parsed, redact)

    raw = _raw_attributes(tf_dir)
    resources: dict[str, Resource] = {}
    for _rtype, blocks in parsed.items():
        for block in blocks if isinstance(blocks, list) else [blocks]:
            meta = block.get("__tfmeta", {})
            if meta.get("type") not in ("resource", "data"):
                continue
            address = meta["path"]
            if meta["type"] == "data" and not address.startswith("data."):
                address = "data." + address
            mode, rtype_, name = _split_address(address)
            lines: dict[str, int] = {}
            values = _mark_unevaluated(conv.block(block, "", lines, top=True),
                                       raw.get((mode, rtype_, name), {}), redact)
            resources[address] = Resource(address=address, mode=mode, type=rtype_, name=name, values=values,
                                          file=meta["filename"], line=meta.get("line_start", 0),
                                          line_end=meta.get("line_end", 0), block_lines=lines)

    given: dict[str, Any] = {}  # values the var files give (the last file wins, as in Terraform)
    for var_file in env.var_files:
        given.update(_tfvars(tf_dir / var_file))
    variables = {}
    for name, b in variables_declared.items():
        meta = b["__tfmeta"]
        value = given[name] if name in given else conv.value(b.get("default"))
        if b.get("sensitive"):
            value = SENSITIVE if value is not None else None
        variables[name] = Variable(name=name, value=redact(value), sensitive=bool(b.get("sensitive")),
                                   has_default="default" in b, file=meta["filename"], line=meta.get("line_start", 0))
    outputs = {}
    for b in parsed.get("output", []):
        meta = b["__tfmeta"]
        outputs[meta["label"]] = Output(name=meta["label"], value=redact(conv.value(b.get("value"))),
                                        sensitive=bool(b.get("sensitive")), file=meta["filename"],
                                        line=meta.get("line_start", 0))
    default_tags: dict[str, str] = {}
    default_tags_at = ("", 0)
    for p in parsed.get("provider", []):
        if p["__tfmeta"].get("label") == "aws":
            lines: dict[str, int] = {}
            dt = conv.block(p, "", lines, top=True).get("default_tags") or [{}]
            default_tags = dict(dt[0].get("tags") or {})
            default_tags_at = (p["__tfmeta"]["filename"], lines.get("default_tags[0]", p["__tfmeta"]["line_start"]))

    return EnvModel(env=env, source=f"hcl:{tf_dir}", root=str(tf_dir), resources=resources,
                    variables=variables, outputs=outputs, default_tags=default_tags, default_tags_at=default_tags_at)


def _raw_attributes(tf_dir: Path) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Each resource's top-level attributes as written (python-hcl2): expressions as ``${...}`` strings."""
    import hcl2
    from hcl2 import SerializationOptions

    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for tf in sorted(tf_dir.glob("*.tf")):
        try:
            doc = hcl2.loads(tf.read_text(), serialization_options=SerializationOptions(strip_string_quotes=True))
        except Exception:  # noqa: BLE001, S112 - syntax errors are reported by tfparse with their line
            continue
        for mode, key in (("managed", "resource"), ("data", "data")):
            for block in doc.get(key, []):
                for rtype, named in block.items():
                    for name, body in named.items():
                        out[(mode, rtype, name)] = {k: v for k, v in body.items() if not k.startswith("__")}
    return out


def _is_null_like(value: Any) -> bool:
    return value is None or (isinstance(value, list) and bool(value) and all(v is None for v in value))


def _mark_unevaluated(values: dict, raw: dict, redact) -> dict:
    """tfparse gives null (or a list of nulls) for some expressions it cannot evaluate (a `for` over
    values known after apply, a function it lacks). Where the source has an expression, the value is
    only known after apply: say so, instead of a null that compares equal everywhere."""
    for key, written in raw.items():
        if key in META_ARGUMENTS or (isinstance(written, list) and written and isinstance(written[0], dict)):
            continue  # nested blocks are compared as blocks
        if not isinstance(written, str) or not written.startswith("${") or written.strip() == "${null}":
            continue
        value = values.get(key)
        # jsonencode() over a value known after apply comes back with nulls the source never wrote
        lost_in_json = isinstance(value, str) and written.startswith("${jsonencode(") and \
            re.search(r"[:\[,]null[,\]}]", value) is not None and "null" not in written
        if _is_null_like(value) or lost_in_json:
            values[key] = redact(written)
    return values


def _tfvars(path: Path) -> dict[str, Any]:
    """The assignments of a var file (python-hcl2, quotes stripped)."""
    import hcl2
    from hcl2 import SerializationOptions

    try:
        data = hcl2.loads(path.read_text(), serialization_options=SerializationOptions(strip_string_quotes=True))
    except Exception as err:  # noqa: BLE001 - any parser failure becomes one line naming the file
        raise SuiteError(f"cannot parse var file ({type(err).__name__})", path=str(path),
                         hint="fix its HCL syntax") from None
    return {k: v for k, v in data.items() if not k.startswith("__")}


def _tfvars_values(path: Path, names: set[str]) -> set[str]:
    """Values given to sensitive variables in a var file, so they can be redacted everywhere."""
    return {str(v) for k, v in _tfvars(path).items() if k in names and v is not None} if names else set()


# --------------------------------------------------------------------------- plan JSON

_HASH_RE = re.compile(r"^[0-9a-f]{40}$")
_LOCAL_REFS = ("var.", "local.", "each.", "count.", "path.", "terraform.", "self.")
_SECRET_KEY = os.urandom(32)  # per process, never stored or printed: it only tells secrets apart
_SECRET_LABELS: dict[bytes, int] = {}


def hidden(value: Any) -> str:
    """A sensitive value as the model holds it: equal secrets give the same label, different secrets
    different labels (``(sensitive value)``, ``(sensitive value #2)``, ...); nothing is derived from the
    secret that could reveal it. Labels are numbered in the order secrets are first seen in the run."""
    import hashlib
    import hmac

    digest = hmac.new(_SECRET_KEY, json.dumps(value, sort_keys=True, default=str).encode(), hashlib.sha256).digest()
    n = _SECRET_LABELS.setdefault(digest, len(_SECRET_LABELS) + 1)
    return SENSITIVE if n == 1 else f"{SENSITIVE[:-1]} #{n})"


def is_sensitive(value: Any) -> bool:
    return isinstance(value, str) and (value == SENSITIVE or (value.startswith(SENSITIVE[:-1] + " #")
                                                              and value.endswith(")")))


def _read_plan(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise SuiteError("plan file does not exist", path=str(path),
                         hint="write it with `terraform show -json PLANFILE > FILE`") from None
    except json.JSONDecodeError as err:
        raise SuiteError(f"not valid JSON ({err.msg})", path=str(path), line=err.lineno,
                         hint="pass the output of `terraform show -json PLANFILE`") from None
    if not isinstance(doc, dict) or "format_version" not in doc or "planned_values" not in doc:
        raise SuiteError("not a Terraform plan (no format_version / planned_values)", path=str(path),
                         hint="pass the output of `terraform show -json PLANFILE` (a plan, not a state)")
    major = str(doc["format_version"]).split(".")[0]
    if major not in ("0", "1"):
        raise SuiteError(f"plan format_version {doc['format_version']} is not supported (0.x and 1.x are)",
                         path=str(path))
    return doc


def _config_blocks(module: dict, prefix: str = "", directory: str = "") -> dict[str, tuple[dict, str]]:
    """Every resource block of the configuration, root and child modules (``module_calls``):
    ``module.a.aws_b.c`` (no instance keys) -> (its expressions, the module's directory under the root)."""
    out = {f"{prefix}{c['address']}": (c.get("expressions") or {}, directory) for c in module.get("resources", [])}
    for name, call in (module.get("module_calls") or {}).items():
        source = str(call.get("source") or "")
        child_dir = os.path.normpath(os.path.join(directory, source)) if source.startswith(".") else ""
        out.update(_config_blocks(call.get("module") or {}, f"{prefix}module.{name}.", child_dir))
    return out


def load_plan(path: str | os.PathLike, env: EnvSpec, tf_dir: str | os.PathLike | None = None,
              fast: EnvModel | None = None, source: str | None = None) -> EnvModel:
    """Read a real ``terraform show -json`` plan (format 0.x/1.x) as one environment's model.

    - every resource Terraform plans, in the root and in child modules, and every data source it read
      while planning (``prior_state``);
    - values Terraform marks unknown become ``"${<address>}"`` when the configuration's references say
      which resource they come from (also inside nested blocks), else ``"${unknown}"``;
    - values it marks sensitive become labels (see ``hidden``): compared, never revealed;
    - attributes a provider stores as a SHA-1 (``user_data``) get their text back when the text the
      configuration gives (a constant, or the evaluated HCL of ``tf_dir`` / ``fast``) has that very hash;
      otherwise the hash stays, so a difference is never hidden.
    When ``tf_dir`` is given, each resource gets the file and line of its block there.
    """
    path = Path(path)
    doc = _read_plan(path)
    changes = {c["address"]: c for c in doc.get("resource_changes", [])}
    config_blocks = _config_blocks((doc.get("configuration") or {}).get("root_module") or {})
    sources = _source_index(tf_dir, {d for _e, d in config_blocks.values() if d})
    resources: dict[str, Resource] = {}
    fast_model: list[EnvModel | None] = [fast] if fast is not None else []

    def fast_values(address: str) -> Mapping[str, Any]:
        if not fast_model:
            try:
                fast_model.append(load_hcl(tf_dir, env) if tf_dir else None)
            except SuiteError:
                fast_model.append(None)  # the fast evaluator refuses this code: hashes stay hashes
        model = fast_model[0]
        r = model.resources.get(address) if model else None
        return r.values if r else {}

    def add(r: dict, unknown: Any, sensitive: Any) -> None:
        address = r["address"]
        block = _config_address(address)
        expressions, _directory = config_blocks.get(block, ({}, ""))
        values = _mask(r.get("values") or {}, unknown or {}, sensitive or {})
        values = _with_references(values, expressions, _module_prefix(address))
        for key, value in list(values.items()):
            if isinstance(value, str) and _HASH_RE.match(value) and key in expressions:
                values[key] = _unhash(value, (expressions[key] or {}).get("constant_value"),
                                      lambda key=key: fast_values(address).get(key))
        file, line = sources.get(block, (str(path), 0))
        resources[address] = Resource(address=address, mode=r.get("mode", "managed"), type=r["type"],
                                      name=r["name"], values=values, file=file, line=line,
                                      configured=frozenset(expressions) if block in config_blocks else None)

    def walk(module: dict, state: bool = False) -> None:
        for r in module.get("resources", []):
            if state and (r.get("mode") != "data" or r["address"] in resources):
                continue  # prior state: only the data sources read during plan
            change = changes.get(r["address"], {}).get("change", {})
            add(r, None if state else change.get("after_unknown"),
                r.get("sensitive_values") or ({} if state else change.get("after_sensitive")))
        for child in module.get("child_modules", []):
            walk(child, state)

    walk((doc.get("planned_values") or {}).get("root_module") or {})
    walk(((doc.get("prior_state") or {}).get("values") or {}).get("root_module") or {}, state=True)
    variables = {}
    config_vars = ((doc.get("configuration") or {}).get("root_module") or {}).get("variables") or {}
    for name, v in (doc.get("variables") or {}).items():
        sens = bool(config_vars.get(name, {}).get("sensitive"))
        file, line = sources.get(f"var.{name}", (str(path), 0))
        variables[name] = Variable(name=name, value=hidden(v.get("value")) if sens else v.get("value"),
                                   sensitive=sens, has_default="default" in config_vars.get(name, {}),
                                   file=file, line=line)
    outputs = {}
    for name, o in ((doc.get("planned_values") or {}).get("outputs") or {}).items():
        sens = bool(o.get("sensitive"))
        file, line = sources.get(f"output.{name}", (str(path), 0))
        outputs[name] = Output(name=name, value=hidden(o.get("value")) if sens else o.get("value"), sensitive=sens,
                               file=file, line=line)
    return EnvModel(env=env, source=source or f"plan:{path}", root=str(tf_dir or path.parent),
                    resources=resources, variables=variables, outputs=outputs,
                    default_tags=_plan_default_tags(doc, resources))


def _unhash(value: str, constant: Any, fast_value) -> str:
    """The text behind a provider's SHA-1 of an attribute, when a candidate text has exactly that hash."""
    import base64
    import binascii
    import hashlib

    def sha1(text: str) -> str:
        try:  # the aws provider hashes the decoded bytes of base64 text
            data = base64.b64decode(text, validate=True) if text else b""
        except (binascii.Error, ValueError):
            data = text.encode()
        return hashlib.sha1(data).hexdigest()  # noqa: S324 - the provider's hash, compared, not a protection

    for candidate in (constant, fast_value()):
        if isinstance(candidate, str) and not is_unknown(candidate) and sha1(candidate) == value:
            return candidate
    return value


def _module_prefix(address: str) -> str:
    """'module.a["x"].module.b.aws_c.d[0]' -> 'module.a["x"].module.b.' (references inside it are relative)."""
    m = re.match(r'^((?:module\.[A-Za-z0-9_-]+(?:\[[^\]]*\])?\.)*)', address)
    return m.group(1) if m else ""


def _plan_default_tags(doc: dict, resources: dict[str, Resource]) -> dict[str, str]:
    """The aws provider's default_tags: from its configuration when constant, else tags_all minus tags."""
    provider = ((doc.get("configuration") or {}).get("provider_config") or {}).get("aws") or {}
    blocks = (provider.get("expressions") or {}).get("default_tags") or []
    for block in blocks if isinstance(blocks, list) else [blocks]:
        tags = (block.get("tags") or {}).get("constant_value")
        if isinstance(tags, dict):
            return tags
    for r in resources.values():
        tags_all, tags = r.values.get("tags_all"), r.values.get("tags") or {}
        if isinstance(tags_all, dict) and isinstance(tags, dict):
            return {k: v for k, v in tags_all.items() if k not in tags}
    return {}


def _config_address(address: str) -> str:
    """module.a["x"].aws_b.c[0] -> module.a.aws_b.c (the block in the configuration)."""
    return re.sub(r"\[[^\]]*\]", "", address)


def _source_index(tf_dir, module_dirs: set[str] = frozenset()) -> dict[str, tuple[str, int]]:
    """Block address -> (file, line) from the raw source, to point plan findings at the .tf file."""
    if not tf_dir:
        return {}
    index = {}
    for tf in sorted(Path(tf_dir).glob("*.tf")):
        index.update(_block_lines(tf, tf.name))
    return index | _module_source_index(Path(tf_dir), module_dirs)


def _block_lines(tf: Path, name: str) -> dict[str, tuple[str, int]]:
    index = {}
    for lineno, line in enumerate(tf.read_text().splitlines(), 1):
        m = re.match(r'\s*(resource|data)\s+"([^"]+)"\s+"([^"]+)"', line)
        if m:
            key = ("data." if m.group(1) == "data" else "") + f"{m.group(2)}.{m.group(3)}"
            index[key] = (name, lineno)
        m = re.match(r'\s*(variable|output)\s+"([^"]+)"', line)
        if m:
            index[("var." if m.group(1) == "variable" else "output.") + m.group(2)] = (name, lineno)
    return index


def _module_source_index(tf_dir: Path, module_dirs: set[str]) -> dict[str, tuple[str, int]]:
    """Blocks of local child modules, keyed by their address from the root (``module.x.aws_y.z``)."""
    index: dict[str, tuple[str, int]] = {}
    if not module_dirs:
        return index
    for tf in sorted(tf_dir.glob("*.tf")):  # module "x" { source = "./dir" } in the root
        for m in re.finditer(r'module\s+"([^"]+)"\s*\{[^}]*?source\s*=\s*"(\.[^"]*)"', tf.read_text(), re.S):
            directory = os.path.normpath(m.group(2))
            for child in sorted((tf_dir / directory).glob("*.tf")):
                rel_name = os.path.join(directory, child.name)
                for key, where in _block_lines(child, rel_name).items():
                    index[f"module.{m.group(1)}.{key}"] = where
    return index


def _mask(values: Any, unknown: Any, sensitive: Any) -> Any:
    if sensitive is True:
        return hidden(values)
    if unknown is True:
        return "${unknown}"
    if isinstance(values, dict):
        keys = set(values) | (set(unknown) if isinstance(unknown, dict) else set())
        return {k: _mask(values.get(k), unknown.get(k) if isinstance(unknown, dict) else None,
                         sensitive.get(k) if isinstance(sensitive, dict) else None) for k in sorted(keys)}
    if isinstance(values, list):
        def pick(x, i):
            return x[i] if isinstance(x, list) and i < len(x) else None
        return [_mask(v, pick(unknown, i), pick(sensitive, i)) for i, v in enumerate(values)]
    return values


def _is_expression(expr: Any) -> bool:
    """A configuration expression (``references`` / ``constant_value``), not a map of a block's attributes."""
    return isinstance(expr, dict) and bool(expr) and set(expr) <= {"references", "constant_value"}


def _from_references(expr: Any, prefix: str) -> str | None:
    """``${<address>}`` of the resource an expression reads (several: ``${a | b}``); None if it reads none."""
    refs = [r for r in (expr or {}).get("references") or [] if not r.startswith(_LOCAL_REFS)]
    found = list(dict.fromkeys(prefix + _resource_of(r) for r in refs))
    # "aws_x.y[0].id" and "aws_x.y" both name aws_x.y's instances: keep the most specific of each resource
    found = [a for a in found if not any(b != a and b.startswith(a + "[") for b in found)]
    return "${" + " | ".join(found) + "}" if found else None


def _with_references(values: Any, expr: Any, prefix: str = "", flat: Any = None) -> Any:
    """A value known only after apply becomes ``${<address>}`` when the configuration says which
    resource it comes from. ``flat``: the one expression an enclosing attribute was written with
    (a block-like attribute such as a security group's ``ingress``, or a whole list), whose references
    are all the configuration says about the values inside it."""
    if _is_expression(expr) and isinstance(values, (dict, list)):
        flat, expr = expr, None
    if values == "${unknown}":
        return _from_references(expr if _is_expression(expr) else flat, prefix) or values
    if isinstance(values, dict):
        sub = expr if isinstance(expr, dict) else {}
        return {k: _with_references(v, sub.get(k), prefix, flat) for k, v in values.items()}
    if isinstance(values, list):
        if isinstance(expr, list) and len(expr) == len(values):
            return [_with_references(v, e, prefix, flat) for v, e in zip(values, expr, strict=True)]
        if _is_expression(flat) and values and all(v == "${unknown}" for v in values):  # [a.id, b.id]
            refs = [r for r in flat.get("references") or [] if not r.startswith(_LOCAL_REFS)]
            found = list(dict.fromkeys(prefix + _resource_of(r) for r in refs))
            if len(found) == len(values):
                return ["${" + r + "}" for r in found]
        one = expr[0] if isinstance(expr, list) and len(expr) == 1 else None
        return [_with_references(v, one, prefix, flat) for v in values]
    return values


def _resource_of(ref: str) -> str:
    """'aws_vpc.main.id' -> 'aws_vpc.main'; 'data.aws_x.y.value' -> 'data.aws_x.y'; keeps an index."""
    parts = ref.split(".")
    if parts[0] == "module":
        return ref
    return ".".join(parts[:3 if parts[0] == "data" else 2])


# --------------------------------------------------------------------------- entry point


def load(tf_dir: str | os.PathLike, env: EnvSpec) -> EnvModel:
    """One environment's model: from its plan JSON if the contract/CLI gives one, else from HCL."""
    if env.plan_json:
        return load_plan(env.plan_json, env, tf_dir=tf_dir)
    return load_hcl(tf_dir, env)
