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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from core import dynamic, evaluator, hcl, loading, partition, templates, unknowns
from core.errors import SuiteError
from core.redact import SENSITIVE, Secret, register  # SENSITIVE: the marker every Secret prints as

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
    # The provider configuration it uses: "aws", or "aws.<alias>" (its `provider`, or its module's `providers`).
    provider: str = "aws"

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
class BlockInfo:
    """One ``resource``/``data`` block and what became of it in an environment."""

    address: str  # the block's address without instance keys (``aws_route53_record.cert_validation``)
    file: str
    line: int
    instances: tuple[str, ...]  # the addresses of its instances in ``EnvModel.resources``
    reason: str = ""  # why it has none: "count is 0", "for_each is empty", "unknown instance set"
    expression: str = ""  # for an unknown instance set: its count/for_each with the known inputs substituted

    @property
    def unknown(self) -> bool:
        return self.reason == UNKNOWN_INSTANCES


UNKNOWN_INSTANCES = "unknown instance set"


@dataclass(frozen=True)
class Diagnostic:
    message: str
    file: str
    line: int
    hint: str = ""


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
    # Every `provider "aws"` block's configuration, keyed "aws" / "aws.<alias>", and where each is written.
    providers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    providers_at: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    # The var files applied, in Terraform's order (auto-loaded ones first, then the contract's).
    var_files: tuple[str, ...] = ()
    # Every resource/data block of the source: its instances, or why it has none (HCL only).
    blocks: Mapping[str, BlockInfo] = field(default_factory=dict)
    # What Terraform would only warn about (e.g. a var-file variable nothing declares): reported, not fatal.
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def name(self) -> str:
        return self.env.name

    def default_tags_for(self, resource: Resource) -> Mapping[str, Any]:
        """The default_tags of the provider configuration ``resource`` uses."""
        if resource.provider == "aws" or resource.provider not in self.providers:
            return self.default_tags
        blocks = self.providers[resource.provider].get("default_tags")
        tags = blocks[0].get("tags") if isinstance(blocks, list) and blocks and isinstance(blocks[0], dict) else {}
        return tags if isinstance(tags, dict) else {}

    def managed(self) -> dict[str, Resource]:
        return {a: r for a, r in self.resources.items() if r.mode == "managed"}

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.type in types and r.mode == "managed"]


# --------------------------------------------------------------------------- HCL


def _unchanged(value: Any) -> Any:
    return value


def _redactor(secrets: set[str]):
    secrets = register({s for s in secrets if isinstance(s, str) and s})  # with base64, digests... (core.redact)
    if not secrets:
        return _unchanged  # (no sensitive value to find: nothing to walk)

    def redact(value: Any) -> Any:
        if isinstance(value, str):
            return Secret(value) if any(s in value for s in secrets) else value
        if isinstance(value, list):
            return [redact(v) for v in value]
        if isinstance(value, dict):
            return {k: redact(v) for k, v in value.items()}
        return value

    return redact


_MODULE_PREFIX_RE = re.compile(r'^((?:module\.[^.\[]+(?:\[(?:"[^"]*"|[^\]]*)\])?\.)*)(.*)$')


def _split_address(address: str) -> tuple[str, str, str]:
    """'data.aws_x.y["k"]' -> ('data', 'aws_x', 'y'); 'module.m["a"].data.aws_x.y' -> ('data', 'aws_x', 'y')."""
    rest = _MODULE_PREFIX_RE.match(address).group(2)
    mode = "managed"
    if rest.startswith("data."):
        mode, rest = "data", rest[5:]
    rtype, _, name = rest.partition(".")
    return mode, rtype, name.split("[", 1)[0]


def module_address(address: str) -> tuple[str, str]:
    """'module.a["x"].module.b.aws_c.d[0]' -> ('module.a["x"].module.b', 'aws_c.d[0]'); root: ('', address)."""
    prefix, rest = _MODULE_PREFIX_RE.match(address).groups()
    return prefix[:-1], rest


def _address(meta: dict) -> str:
    """A block's Terraform address from tfparse's path: data sources get their ``data.`` after the module path."""
    prefix, rest = _MODULE_PREFIX_RE.match(meta.get("path", "")).groups()
    if meta.get("type") == "data" and not rest.startswith("data."):
        rest = "data." + rest
    return prefix + rest


class _HclConverter:
    """Turns one tfparse result into Resources: blocks as lists, UUIDs as addresses, meta stripped."""

    def __init__(self, parsed: dict, redact):
        self.redact = redact
        self.ids: dict[str, str] = {}
        self.probes: dict[tuple[str, str], dynamic.Probe] = {}  # `dynamic` blocks rewritten as attributes
        for _rtype, blocks in parsed.items():
            for block in blocks if isinstance(blocks, list) else [blocks]:
                meta = block.get("__tfmeta", {})
                if "id" in block and meta.get("path"):
                    self.ids[block["id"]] = _address(meta)
        for block_id, block in getattr(parsed, "copies", {}).items():  # (core/partition.py)
            meta = block.get("__tfmeta", {})
            if meta.get("path"):
                self.ids.setdefault(block_id, _address(meta))

    def value(self, v: Any) -> Any:
        if isinstance(v, str) and v in self.ids:
            return "${" + self.ids[v] + "}"
        # a reference inside jsonencode() or a template (a UUID has four hyphens: most strings are skipped at once)
        if isinstance(v, str) and v.count("-") >= 4 and _UUID_RE.search(v):
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
        filename = (body.get("__tfmeta") or {}).get("filename", "")
        probes = [self.probes[(filename, k)] for k in body if k.startswith(dynamic.PREFIX)
                  and (filename, k) in self.probes]
        statics: dict[str, list] = {}
        for key, val in body.items():
            if key.startswith(dynamic.PREFIX) or (key in META_ARGUMENTS and (top or key in ("__tfmeta", "id"))):
                continue
            if _is_block(val):
                statics[key] = val if isinstance(val, list) else [val]
                out[key] = []
            else:
                out[key] = self.value(val)
        for p in probes:
            out.setdefault(p.type, [])
        for btype in [k for k, v in out.items() if v == [] and (k in statics or any(p.type == k for p in probes))]:
            out[btype] = self._blocks(body, btype, statics.get(btype, []), [p for p in probes if p.type == btype],
                                      prefix, lines)
            if out[btype] == []:
                del out[btype]  # no block of this type, as when none is written
        return self.redact(out)

    def _blocks(self, body: dict, btype: str, statics: list, probes: list, prefix: str, lines: dict[str, int]):
        """The blocks of one type in source order: static ones and the expansions of `dynamic` ones."""
        if any(not isinstance(body.get(p.name), list) for p in probes):  # for_each known only after apply
            p = next(p for p in probes if not isinstance(body.get(p.name), list))
            lines[f"{prefix}{btype}"] = p.line
            return "${dynamic " + btype + ": for_each = " + " ".join(p.for_each.split()) + "}"
        order: list[tuple[str, Any, Any]] = []
        used = 0
        for p in sorted(probes, key=lambda p: p.line):
            while used < min(p.before_static, len(statics)):
                order.append(("static", statics[used], None))
                used += 1
            order += [("probe", item, p.shape) for item in body[p.name]]
        order += [("static", x, None) for x in statics[used:]]
        items = []
        for i, (kind, item, shape) in enumerate(order):
            path = f"{prefix}{btype}[{i}]"
            if kind == "static":
                lines[path] = item["__tfmeta"].get("line_start", 0)
                items.append(self.block(item, path + ".", lines, top=False))
            else:
                items.append(self._expanded(item, shape, path, lines))
        return items

    def _expanded(self, item: Any, shape: dynamic.Shape, path: str, lines: dict[str, int]) -> Any:
        lines[path] = shape.line
        if not isinstance(item, dict):
            return self.value(item)
        out: dict[str, Any] = {}
        for key, val in item.items():
            sub = shape.blocks.get(key)
            if sub is None:
                out[key] = self.value(val)
            elif isinstance(val, list):
                if val:
                    out[key] = [self._expanded(x, sub, f"{path}.{key}[{j}]", lines) for j, x in enumerate(val)]
            else:
                lines[f"{path}.{key}"] = sub.line
                out[key] = "${dynamic " + key + "}"
        return self.redact(out)


def _is_block(val: Any) -> bool:
    if isinstance(val, dict):
        return "__tfmeta" in val
    return isinstance(val, list) and bool(val) and all(isinstance(x, dict) and "__tfmeta" in x for x in val)


def _tfvars_names(path: Path) -> list[tuple[str, int]]:
    """Top-level assignments of a .tfvars file with their lines (core/hcl.py: strings and heredocs are
    skipped as such, so braces inside them do not count)."""
    if path.suffix == ".json":
        return []
    try:
        doc = hcl.parse_file(path)
    except hcl.HclSyntaxError as err:
        raise SuiteError(f"cannot parse var file: {err.message}", path=str(path), line=err.line,
                         hint="fix its HCL syntax") from None
    return sorted(((a.name, a.line) for a in doc.attrs.values()), key=lambda x: x[1])


def _prepare(tf_dir: Path) -> tuple[Path, dict[tuple[str, str], dynamic.Probe]]:
    """The directory tfparse should read: ``tf_dir`` itself, or a prepared copy (core/loading.py) in which
    `dynamic` blocks are rewritten as `for` expressions (core/dynamic.py: nested ones and those followed by
    a static block are evaluated, not dropped) and templatefile() calls are inlined (core/templates.py).
    Returns the probes of the dynamic blocks by (file name as tfparse names it, attribute)."""
    dirs = loading.module_dirs(tf_dir)  # the root and its child modules (files keyed as tfparse names them)
    rewritten, probes = {}, {}
    for tf in [f for d in dirs for f in sorted(d.glob("*.tf"))]:
        rel = os.path.relpath(tf, tf_dir.resolve())
        text = tf.read_text(encoding="utf-8")
        new = text
        if "dynamic" in text:
            try:
                new, found = dynamic.rewrite(text, str(tf))
            except hcl.HclSyntaxError:
                return tf_dir, {}  # tfparse reports the syntax error with its line
            except dynamic.RewriteError as err:
                raise SuiteError(str(err), path=str(tf), line=err.line, hint="Terraform rejects it too") from None
            probes.update({(rel, p.name): p for p in found})
        if "templatefile" in new:
            try:
                new = templates.rewrite(new, tf.parent)
            except hcl.HclSyntaxError:
                return tf_dir, {}
        if new != text:
            rewritten[rel] = new
    if not rewritten:
        return tf_dir, {}
    return loading.prepared_copy(tf_dir, rewritten), probes


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
    """Evaluate the root module in ``tf_dir`` for one environment, loaded by Terraform's rules
    (core/loading.py: auto-loaded var files, override files merged, child modules)."""
    outcome = load_all(tf_dir, {env.name: env}, plans=False)[env.name]  # (load_plan asks it for its unknowns)
    if isinstance(outcome, SuiteError):
        raise outcome
    return outcome


def load_all(tf_dir: str | os.PathLike, envs: Mapping[str, EnvSpec],
             submit: Callable[[Path, str, list[str]], evaluator.Later] = evaluator.later_here,
             plans: bool = True,
             built: Callable[[str, EnvModel], None] | None = None) -> dict[str, EnvModel | SuiteError]:
    """Each environment's model, or the SuiteError that stops it (what ``load`` of that environment alone would
    raise), in the order given; an environment with a plan JSON is read from it (unless ``plans`` is False).
    What does not depend on the environment is done once: the override merge, the prepared copy, reading the
    source. Every environment's tfparse run is submitted (``submit``: in this process when asked for, or an
    ``evaluator.Pool``) before the first model is built from its result; ``built`` is given each model as soon
    as it is built."""
    tf_dir = Path(tf_dir)
    outcomes: dict[str, EnvModel | SuiteError] = {}
    pending: dict[str, tuple[tuple[str, ...], evaluator.Later]] = {}
    shared: tuple[loading.Prepared, Path, dict] | SuiteError | None = None
    with contextlib.ExitStack() as stack:
        for name, env in envs.items():
            if env.plan_json and plans:
                continue
            try:
                _check_inputs(tf_dir, env)
                if shared is None:
                    try:
                        prep = stack.enter_context(loading.prepared(tf_dir))
                        loading.check_cycles(prep.dir)
                        run_dir, probes = _prepare(prep.dir)
                        shared = (prep, run_dir, probes, stack.enter_context(partition.split(prep.dir, run_dir)))
                    except SuiteError as err:
                        shared = err
                if isinstance(shared, SuiteError):
                    raise shared
                var_files = tuple(loading.var_files(tf_dir, env.var_files))
                for var_file in var_files:  # bad syntax is named here, before the evaluator's less precise message
                    _tfvars(tf_dir / var_file)
                pending[name] = (var_files, _submit(submit, tf_dir, shared[1], shared[3], env.workspace, var_files))
            except SuiteError as err:
                outcomes[name] = err
        for name, env in envs.items():
            try:
                if env.plan_json and plans:
                    outcomes[name] = load_plan(env.plan_json, env, tf_dir=tf_dir)
                elif name in pending:
                    prep, run_dir, probes, _parts = shared
                    outcomes[name] = _load_hcl(tf_dir, env, prep, run_dir, probes, *pending.pop(name))
            except SuiteError as err:
                outcomes[name] = err
            if built is not None and isinstance(outcomes.get(name), EnvModel):
                built(name, outcomes[name])
    return {name: outcomes[name] for name in envs}


def _submit(submit: Callable[[Path, str, list[str]], evaluator.Later], tf_dir: Path, run_dir: Path,
            parts: list[partition.Part] | None, workspace: str, var_files: tuple[str, ...]) -> evaluator.Later:
    """One environment's tfparse run, or its parts' runs joined; should any part fail (or hold a block it was
    not given), one run here instead: its result, or its error exactly as one run gives it."""
    if not parts:
        return submit(run_dir, workspace, _vars_paths(tf_dir, var_files, run_dir))
    import tfparse

    laters = [submit(p.dir, workspace, _vars_paths(tf_dir, var_files, p.dir)) for p in parts]

    def joined() -> dict:
        try:
            return partition.merge(parts, [later() for later in laters])
        except (tfparse.ParseError, partition.Disagree):
            return evaluator.here(run_dir, workspace, _vars_paths(tf_dir, var_files, run_dir))
    return joined


def _check_inputs(tf_dir: Path, env: EnvSpec) -> None:
    if not tf_dir.is_dir() or not any(loading.config_files(tf_dir)[0]):
        raise SuiteError("no Terraform files here", path=str(tf_dir), hint="pass the root module with --tf-dir")
    for var_file in env.var_files:
        if not (tf_dir / var_file).is_file():
            raise SuiteError(f"var file of environment {env.name!r} does not exist", path=str(tf_dir / var_file),
                             hint="create it or fix var_files in the contract")


def _vars_paths(tf_dir: Path, var_files: tuple[str, ...], directory: Path) -> list[str]:
    """tfparse joins var-file paths to the directory it reads: relative to a copy, they still find the files."""
    return [os.path.relpath((tf_dir / vf).resolve(), directory.resolve()) for vf in var_files]


def _load_hcl(tf_dir: Path, env: EnvSpec, prep: loading.Prepared, run_dir: Path,
              probes: dict[tuple[str, str], dynamic.Probe], var_files: tuple[str, ...],
              later: evaluator.Later) -> EnvModel:
    import tfparse

    variables_declared: dict[str, dict] = {}

    def evaluate(directory: Path) -> dict:
        return evaluator.here(directory, env.workspace, _vars_paths(tf_dir, var_files, directory))

    def user_error(err: Exception) -> SuiteError:  # a path in a prepared copy is named as the user's file
        text = str(err)
        for directory in (run_dir, prep.dir):
            text = text.replace(str(directory), str(tf_dir))
        return _parse_error(tfparse.ParseError(text), tf_dir)

    try:
        parsed = later()
    except evaluator.WorkerDied as err:
        raise RuntimeError(f"evaluating {env.name} in a worker process failed: {err.tail}") from None
    except tfparse.ParseError as err:
        if run_dir == prep.dir:
            raise user_error(err) from None
        try:  # the user's own files are at fault, or the rewrite is: say which
            evaluate(prep.dir)
        except tfparse.ParseError as err2:
            raise user_error(err2) from None
        m = re.search(r"([\w./-]+\.tf):(\d+)", str(err))
        if m:
            file, line = prep.origin(m.group(1), int(m.group(2)))
        else:
            first = min(probes.values(), key=lambda p: (p.file, p.line)) if probes else None
            file, line = prep.origin(os.path.relpath(first.file, prep.dir.resolve()), first.line) if first \
                else ("", None)
        raise SuiteError("the evaluator cannot expand the dynamic blocks or templatefile() calls here "
                         f"({' '.join(str(err).split())[:200]})", path=str(tf_dir / file), line=line,
                         hint="report this with the block; --plan-json with a real plan works meanwhile") from None
    loading.check_modules(parsed, tf_dir)

    for block in parsed.get("variable", []):
        if block["__tfmeta"].get("path") == "variable." + block["__tfmeta"]["label"]:  # the root's, not a module's
            variables_declared[block["__tfmeta"]["label"]] = block
    diagnostics = []  # Terraform only warns about a value for a variable nothing declares
    for var_file in var_files:
        for name, line in loading.var_file_names(tf_dir / var_file):
            if name not in variables_declared:
                diagnostics.append(Diagnostic(f"variable {name!r} is set but not declared (Terraform warns and "
                                              "ignores it)", file=str(tf_dir / var_file), line=line,
                                              hint="declare it in variables.tf or remove it from the var file"))

    # Secrets never enter the model: collect the values of sensitive variables first.
    secrets = {b.get("default") for b in variables_declared.values() if b.get("sensitive")}
    for var_file in var_files:
        secrets |= _tfvars_values(tf_dir / var_file, {n for n, b in variables_declared.items() if b.get("sensitive")})
    redact = _redactor({s for s in secrets if isinstance(s, str)})
    conv = _HclConverter(parsed, redact)
    conv.probes = probes

    resources: dict[str, Resource] = {}
    raw_blocks: dict[str, dict] = {}  # address -> tfparse's block, for the value pass below
    provider_maps = _provider_maps(parsed, prep)
    for _rtype, blocks in parsed.items():
        for block in blocks if isinstance(blocks, list) else [blocks]:
            meta = block.get("__tfmeta", {})
            if meta.get("type") not in ("resource", "data"):
                continue
            address = _address(meta)
            mode, rtype_, name = _split_address(address)
            lines: dict[str, int] = {}
            values = conv.block(block, "", lines, top=True)
            raw_blocks[address] = block
            file, line = prep.origin(meta["filename"], meta.get("line_start", 0))
            end_file, line_end = prep.origin(meta["filename"], meta.get("line_end", 0))
            names = provider_maps.get(loading.module_key(address), {})
            own = block.get("provider")
            own = str(own.get("__attribute__", "")) if isinstance(own, dict) else str(own or "aws")
            resources[address] = Resource(address=address, mode=mode, type=rtype_, name=name, values=values,
                                          file=file, line=line, line_end=line_end if end_file == file else line,
                                          block_lines=_origin_lines(prep, meta["filename"], file, lines),
                                          provider=names.get(own, own))

    given: dict[str, Any] = {}  # values the var files give (the last file wins, as in Terraform)
    for var_file in var_files:
        given.update(_tfvars(tf_dir / var_file))
    variables = {}
    raw_values = {}  # what the value pass evaluates with: secrets as they are (its results are redacted)
    for name, b in variables_declared.items():
        meta = b["__tfmeta"]
        value = raw_values[name] = given[name] if name in given else conv.value(b.get("default"))
        if b.get("sensitive"):
            value = Secret(value) if value is not None else None
        file, line = prep.origin(meta["filename"], meta.get("line_start", 0))
        variables[name] = Variable(name=name, value=redact(value), sensitive=bool(b.get("sensitive")),
                                   has_default="default" in b, file=file, line=line)
    outputs = {}
    for b in parsed.get("output", []):
        meta = b["__tfmeta"]
        if meta.get("path") != "output." + meta["label"]:
            continue  # a module's output: not an output of the root module
        file, line = prep.origin(meta["filename"], meta.get("line_start", 0))
        outputs[meta["label"]] = Output(name=meta["label"], value=redact(conv.value(b.get("value"))),
                                        sensitive=bool(b.get("sensitive")), file=file, line=line)
    providers, providers_at = _providers(parsed, conv, prep)
    default_tags = dict(((providers.get("aws") or {}).get("default_tags") or [{}])[0].get("tags") or {})
    default_tags_at = providers_at.get("aws.default_tags") or providers_at.get("aws") or ("", 0)

    # the value pass reads the configuration as Terraform sees it (overrides merged); its lines map back
    resources, outputs, blocks = _values_pass(prep.dir, env, parsed, conv, resources, raw_blocks, raw_values,
                                              outputs, redact)
    blocks = {a: b if (f, n) == (b.file, b.line) else replace(b, file=f, line=n)
              for a, b in blocks.items() for f, n in [prep.origin(b.file, b.line)]}
    _refuse_dropped(tf_dir, blocks)
    return EnvModel(env=env, source=f"hcl:{tf_dir}", root=str(tf_dir), resources=resources,
                    variables=variables, outputs=outputs, default_tags=default_tags, default_tags_at=default_tags_at,
                    providers=providers,
                    providers_at={k: v for k, v in providers_at.items() if not k.endswith(".default_tags")},
                    var_files=tuple(var_files), blocks=blocks, diagnostics=tuple(diagnostics))


def _origin_lines(prep: loading.Prepared, prepared_file: str, file: str, lines: dict[str, int]) -> dict[str, int]:
    """Nested-block lines in the user's file (a block an override file contributed keeps the resource's line)."""
    out = {}
    for path, line in lines.items():
        f, origin = prep.origin(prepared_file, line)
        if f == file:
            out[path] = origin
    return out


def _provider_maps(parsed: dict, prep: loading.Prepared) -> dict[str, dict[str, str]]:
    """Per module key ("" = root, "web", "web.logs"): which root provider configuration each provider name used
    inside it stands for. A module gets its parent's default `aws` unless its call passes `providers = {...}`
    (tfparse does not evaluate that argument: it is read from the source)."""
    aliases = [f"aws.{p['alias']}" for p in parsed.get("provider", []) if isinstance(p.get("alias"), str)
               and str(p["__tfmeta"].get("path", "")).startswith("provider.")]
    maps: dict[str, dict[str, str]] = {"": {"aws": "aws", **{a: a for a in aliases}}}
    calls = {}
    for block in parsed.get("module", []):
        meta = block.get("__tfmeta", {})
        calls.setdefault(loading.module_key(meta.get("path", "")), meta)
    for key in sorted(calls, key=lambda k: k.count(".")):
        meta, parent = calls[key], maps.get(key.rpartition(".")[0], {"aws": "aws"})
        try:
            found = [b for b in hcl.parse_file(prep.dir / meta.get("filename", "")).blocks
                     if b.type == "module" and b.labels and b.labels[0] == key.rsplit(".", 1)[-1]]
        except (OSError, hcl.HclSyntaxError):
            found = []
        passed = found[0].attrs.get("providers") if found else None
        if passed is None:
            maps[key] = {"aws": parent.get("aws", "aws")}
        else:
            pairs = re.findall(r"(?<![\w.])(aws(?:\.[\w-]+)?)\s*=\s*(aws(?:\.[\w-]+)?)\b", passed.expr)
            maps[key] = {inner: parent.get(outer, outer) for inner, outer in pairs}
    return maps


def _providers(parsed: dict, conv: _HclConverter, prep: loading.Prepared):
    """The root module's `provider "aws"` blocks, keyed "aws" and "aws.<alias>", and where each is written
    (``"<key>.default_tags"``: where its default_tags block is)."""
    providers: dict[str, dict] = {}
    at: dict[str, tuple[str, int]] = {}
    for p in parsed.get("provider", []):
        meta = p["__tfmeta"]
        if meta.get("label") != "aws" or not str(meta.get("path", "")).startswith("provider."):
            continue
        lines: dict[str, int] = {}
        config = conv.block(p, "", lines, top=True)
        key = "aws" + (f".{config['alias']}" if isinstance(config.get("alias"), str) else "")
        providers[key] = {k: v for k, v in config.items() if k != "alias"}
        at[key] = prep.origin(meta["filename"], meta.get("line_start", 0))
        if "default_tags[0]" in lines:
            at[key + ".default_tags"] = prep.origin(meta["filename"], lines["default_tags[0]"])
    return dict(sorted(providers.items())), at


def _source_blocks(tf_dir: Path) -> list[tuple[str, hcl.Block]]:
    """(file name, block) of every top-level block of a module's .tf and .tf.json files, read once per run."""
    return [(tf.name, b) for tf in sorted([*tf_dir.glob("*.tf"), *tf_dir.glob("*.tf.json")])
            for b in (_json_blocks(tf) if tf.name.endswith(".json") else hcl.parse_file(tf).blocks)]


def _json_blocks(path: Path) -> list[hcl.Block]:
    """The resource and data blocks of a .tf.json file, with count/for_each as expressions (values stay tfparse's)."""
    try:
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return []  # tfparse (and core/loading.py) name the syntax error
    out = []
    for kind in ("resource", "data"):
        for rtype, named in (doc.get(kind) or {}).items() if isinstance(doc, dict) else ():
            for name, body in named.items() if isinstance(named, dict) else ():
                body = body[0] if isinstance(body, list) and body else body
                m = re.search(r'"' + re.escape(name) + r'"\s*:', text)
                line = text.count("\n", 0, m.start()) + 1 if m else 1
                attrs = {}
                for meta in ("count", "for_each"):
                    if isinstance(body, dict) and meta in body:
                        v = body[meta]
                        expr = v[2:-1] if isinstance(v, str) and v.startswith("${") and v.endswith("}") \
                            else json.dumps(v)
                        attrs[meta] = hcl.Attr(meta, expr, line)
                out.append(hcl.Block(kind, (rtype, name), line, line, attrs))
    return out


def _block_address(block: hcl.Block) -> str | None:
    if block.type == "resource" and len(block.labels) == 2:
        return f"{block.labels[0]}.{block.labels[1]}"
    if block.type == "data" and len(block.labels) == 2:
        return f"data.{block.labels[0]}.{block.labels[1]}"
    return None


_NOT_VALUES = {"count", "for_each", "provider", "depends_on", "lifecycle", "provisioner", "connection"}


def _values_pass(tf_dir: Path, env: EnvSpec, parsed: dict, conv: _HclConverter, resources: dict[str, Resource],
                 raw_blocks: dict[str, dict], variables: dict[str, Any], outputs: dict[str, Output],
                 redact) -> tuple[dict[str, Resource], dict[str, Output], dict[str, BlockInfo]]:
    """Where tfparse's value cannot be trusted (a raw template, templatefile(), a random or unmapped value),
    evaluate it again from the source (core/unknowns.py); then account for every resource block."""
    sources = _source_blocks(tf_dir)
    local_exprs: dict[str, tuple[str, Any]] = {}
    tf_locals: dict[str, Any] = {}
    for b in parsed.get("locals", []):
        tf_locals.update({k: v for k, v in b.items() if k not in ("__tfmeta", "id")})
    for _file, block in sources:
        if block.type == "locals":
            for name, attr in block.attrs.items():
                local_exprs[name] = (attr.expr, conv.value(tf_locals.get(name)))
    literals = {u for d in loading.module_dirs(tf_dir) for tf in [*d.glob("*.tf"), *d.glob("*.tf.json")]
                for u in unknowns.UUID.findall(tf.read_text(encoding="utf-8"))}
    base = unknowns.Scope(variables=dict(variables), local_exprs=local_exprs,
                          workspace=env.workspace, resource_values=lambda a: resources[a].values
                          if a in resources else None, tf_dir=tf_dir, raw_literals=literals)
    by_block: dict[str, list[str]] = {}
    for address in resources:
        by_block.setdefault(re.sub(r"\[[^\]]*\]$", "", address), []).append(address)

    fixed: dict[str, Resource] = {}
    blocks: dict[str, BlockInfo] = {}
    for file, block in sources:
        address = _block_address(block)
        if address is None:
            continue
        instances = sorted(by_block.get(address, []))
        for inst in instances:
            scope = base.with_instance(_instance_scope(inst, block, base))
            values = _fix_body(dict(resources[inst].values), raw_blocks.get(inst, {}), block, scope, conv, redact)
            fixed[inst] = replace(resources[inst], values=_no_stray_uuids(values, literals))
        reason, expression = "", ""
        if not instances:
            reason, expression = _why_no_instances(block, base)
        blocks[address] = BlockInfo(address=address, file=file, line=block.line, instances=tuple(instances),
                                    reason=reason, expression=expression)
    for path, directory, scope in _module_scopes(tf_dir, parsed, conv, resources, env, literals):
        for file, block in _source_blocks(directory):
            address = _block_address(block)
            if address is None:
                continue
            address = f"{path}.{address}"
            instances = sorted(by_block.get(address, []))
            for inst in instances:
                inst_scope = scope.with_instance(_instance_scope(inst, block, scope))
                values = _fix_body(dict(resources[inst].values), raw_blocks.get(inst, {}), block, inst_scope,
                                   conv, redact)
                fixed[inst] = replace(resources[inst], values=_no_stray_uuids(values, literals))
            reason, expression = ("", "") if instances else _why_no_instances(block, scope)
            blocks[address] = BlockInfo(address=address, file=os.path.relpath(directory / file, tf_dir.resolve()),
                                        line=block.line, instances=tuple(instances), reason=reason,
                                        expression=expression)
    for address, r in resources.items():  # a downloaded module's resources: tfparse's values, no stray identifier
        if address not in fixed:
            fixed[address] = replace(r, values=_no_stray_uuids(r.values, literals))
            block = re.sub(r"\[[^\]]*\]$", "", address)
            if block not in blocks:
                blocks[block] = BlockInfo(address=block, file=r.file, line=r.line,
                                          instances=tuple(sorted(by_block.get(block, []))))
    resources = {a: fixed[a] for a in resources}

    out_src = {b.labels[0]: b for _f, b in sources if b.type == "output" and b.labels}
    raw_outputs = {b["__tfmeta"]["label"]: b for b in parsed.get("output", [])}
    for name, o in list(outputs.items()):
        attr = out_src[name].attrs.get("value") if name in out_src else None
        raw_value = raw_outputs.get(name, {}).get("value")
        if attr is not None and unknowns.suspicious(raw_value, attr.expr, conv.ids, base):
            value = redact(unknowns.fix(raw_value, attr.expr, base, conv.ids, conv.value))
            outputs[name] = replace(o, value=_no_stray_uuids(value, literals))
    return resources, outputs, blocks


_MODULE_META = {"__tfmeta", "id", "source", "version", "count", "for_each", "providers", "depends_on"}


def _module_scopes(tf_dir: Path, parsed: dict, conv: _HclConverter, resources: dict[str, Resource], env: EnvSpec,
                   literals: set[str]) -> list[tuple[str, Path, unknowns.Scope]]:
    """(instance path, directory, scope) of every instance of a local child module: its variables are the
    inputs the call gives (tfparse evaluates them) over the module's defaults, its locals its own."""
    out = []
    for call in parsed.get("module", []):
        meta = call.get("__tfmeta", {})
        path, source = meta.get("path", ""), str(call.get("source", ""))
        if not path or not source.startswith(("./", "../")):
            continue  # a downloaded module: its resources keep tfparse's values (never a stray identifier)
        directory = (tf_dir / Path(meta.get("filename", "")).parent / source).resolve()
        if not directory.is_dir():
            continue
        variables: dict[str, Any] = {}
        for v in parsed.get("variable", []):
            vpath = v["__tfmeta"].get("path", "")
            if vpath.startswith(path + ".variable.") and "." not in vpath[len(path) + 10:]:
                variables[vpath[len(path) + 10:]] = conv.value(v.get("default"))  # (what is rendered is redacted)
        variables.update({k: conv.value(v) for k, v in call.items() if k not in _MODULE_META})
        local_exprs = {name: (attr.expr, None) for tf in sorted(directory.glob("*.tf"))
                       for b in hcl.parse_file(tf).blocks if b.type == "locals" for name, attr in b.attrs.items()}
        scope = unknowns.Scope(variables=variables, local_exprs=local_exprs, workspace=env.workspace,
                               resource_values=lambda a, p=path: resources[f"{p}.{a}"].values
                               if f"{p}.{a}" in resources else None, tf_dir=directory, raw_literals=literals)
        out.append((path, directory, scope))
    return out


def _instance_scope(address: str, block: hcl.Block, base: unknowns.Scope) -> dict[str, Any]:
    m = re.search(r"\[(\d+|\"(?:[^\"\\]|\\.)*\")\]$", address)
    if not m:
        return {}
    if m.group(1).isdigit():
        return {"count.index": int(m.group(1))}
    key = json.loads(m.group(1))
    scope = {"each.key": key}
    fe = block.attrs.get("for_each")
    if fe is not None:
        if re.match(r"\s*toset\s*\(", fe.expr):
            scope["each.value"] = key
        else:
            value = unknowns.render(fe.expr, base)
            if isinstance(value, dict) and key in value:
                scope["each.value"] = value[key]
    return scope


def _fix_body(values: dict, raw: dict, src: hcl.Block, scope: unknowns.Scope, conv: _HclConverter, redact) -> dict:
    """``values`` with each attribute tfparse got wrong evaluated again from ``src`` (nested static blocks too)."""
    for name, attr in src.attrs.items():
        if name in _NOT_VALUES or (name not in values and name not in raw):
            continue
        raw_value = raw.get(name)
        if _lost_in_json(raw_value, attr.expr):
            values[name] = redact(unknowns.render(attr.expr, scope))
        elif unknowns.suspicious(raw_value, attr.expr, conv.ids, scope):
            values[name] = redact(unknowns.fix(raw_value, attr.expr, scope, conv.ids, conv.value))
    dynamic_types = {b.labels[0] for b in src.blocks if b.type == "dynamic" and b.labels}
    by_type: dict[str, list[hcl.Block]] = {}
    for b in src.blocks:
        if b.type not in _NOT_VALUES and b.type != "dynamic" and b.type not in dynamic_types:
            by_type.setdefault(b.type, []).append(b)
    for btype, src_blocks in by_type.items():
        have, raw_list = values.get(btype), raw.get(btype)
        raw_list = [raw_list] if isinstance(raw_list, dict) else raw_list
        if isinstance(have, list) and isinstance(raw_list, list) and len(have) == len(src_blocks) == len(raw_list):
            values[btype] = [_fix_body(dict(v), r, b, scope, conv, redact)
                             for v, r, b in zip(have, raw_list, src_blocks, strict=True)]
    return values


def _lost_in_json(value: Any, expr: str) -> bool:
    """jsonencode() over a value known after apply comes back with nulls the source never wrote."""
    return isinstance(value, str) and expr.lstrip().startswith("jsonencode(") and \
        re.search(r"[:\[,]null[,\]}]", value) is not None and "null" not in expr


def _no_stray_uuids(value: Any, literals: set[str]) -> Any:
    """tfparse's identifiers for values it could not resolve never reach the model."""
    if isinstance(value, Secret):
        return value  # (re.sub would give back a plain copy of its marker: two secrets would compare equal)
    if isinstance(value, str):
        if value.count("-") < 4:
            return value  # no UUID (its four hyphens) in it
        return unknowns.UUID.sub(lambda m: m.group(0) if m.group(0) in literals else "${unknown}", value)
    if isinstance(value, list):
        return [_no_stray_uuids(v, literals) for v in value]
    if isinstance(value, dict):
        return {k: _no_stray_uuids(v, literals) for k, v in value.items()}
    return value


def _why_no_instances(block: hcl.Block, base: unknowns.Scope) -> tuple[str, str]:
    """Why a block has no instances: a known empty count/for_each, or an instance set only known after apply."""
    for meta, empty_reason in (("count", "count is 0"), ("for_each", "for_each is empty")):
        attr = block.attrs.get(meta)
        if attr is None:
            continue
        value = unknowns.render(attr.expr, base)
        if value in (0, [], {}) and not isinstance(value, bool):
            return empty_reason, ""
        known = _known_instances(value)
        if known:  # tfparse dropped them (seen: two blocks of a type whose for_each read one resource)
            return _DROPPED, f"its {meta} is known ({known} instance{'s' if known > 1 else ''})"
        text = unknowns.fold(unknowns.substitute(attr.expr, base))
        if not unknowns.depends_on_resources(text):
            return empty_reason, ""  # tfparse evaluated it from known inputs and found nothing
        return UNKNOWN_INSTANCES, f"{meta} = {text}"
    return UNKNOWN_INSTANCES, "the evaluator produced no instance"


_DROPPED = "instances the evaluator did not make"


def _known_instances(value: Any) -> int:
    """How many instances a count/for_each value Terraform knows before apply makes (0: none, or not known)."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, dict):
        return len(value)
    if isinstance(value, list) and all(isinstance(v, str) and not is_unknown(v) for v in value):
        return len(set(value))
    return 0


def _refuse_dropped(tf_dir: Path, blocks: dict[str, BlockInfo]) -> None:
    """A block whose count/for_each is known but has no instance is never reported as empty: the run stops."""
    dropped = sorted((b for b in blocks.values() if b.reason == _DROPPED), key=lambda b: (b.file, b.line))
    if dropped:
        b = dropped[0]
        raise SuiteError(f"{b.address}: the fast evaluator (tfparse) made no instance of it, but {b.expression}",
                         path=str(tf_dir / b.file), line=b.line,
                         hint="evaluate this module with --evaluator terraform (real plans)")


def _tfvars(path: Path) -> dict[str, Any]:
    """The assignments of a var file (core/hcl.py; each file read once per run; a ``.json`` one is JSON, as
    in Terraform). Values must be constants, as Terraform requires: a reference or a function call is
    refused with its line."""
    if loading.is_json(path):
        return loading.read_json_var_file(path)
    try:
        doc = hcl.parse_file(path)
    except hcl.HclSyntaxError as err:
        raise SuiteError(f"cannot parse var file: {err.message}", path=str(path), line=err.line,
                         hint="fix its HCL syntax") from None
    empty = unknowns.Scope(variables={}, local_exprs={}, workspace="", resource_values=lambda _a: None,
                           tf_dir=path.parent)
    out = {}
    for name, attr in doc.attrs.items():
        code = hcl._mask_strings(attr.expr)
        if hcl.traversals(attr.expr) or re.search(r"[^\W\d][\w-]*\s*\(", code) or "%{" in attr.expr:
            raise SuiteError(f"the value of {name!r} is not a constant (variables and functions are not allowed "
                             "in var files)", path=str(path), line=attr.line, hint="write the value itself")
        out[name] = unknowns.render(attr.expr, empty)
    return out


def _tfvars_values(path: Path, names: set[str]) -> set[str]:
    """Values given to sensitive variables in a var file, so they can be redacted everywhere."""
    return {str(v) for k, v in _tfvars(path).items() if k in names and v is not None} if names else set()


# --------------------------------------------------------------------------- plan JSON

_HASH_RE = re.compile(r"^[0-9a-f]{40}$")
_LOCAL_REFS = ("var.", "local.", "each.", "count.", "path.", "terraform.", "self.")


def hidden(value: Any) -> Secret:
    """A sensitive value of a plan as the model holds it: a ``Secret`` (core/redact.py), printed only as the
    marker and compared with another Secret by a keyed digest, so equal secrets compare equal and different
    ones differ while nothing derived from either is ever shown."""
    return Secret(value)


def is_sensitive(value: Any) -> bool:
    return isinstance(value, Secret) or (isinstance(value, str) and value == SENSITIVE)


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
        if _has_unknown(values):  # what the configuration cannot name: the fast evaluator's expression, if any
            values = _fill_unknowns(values, fast_values(address))
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


def _has_unknown(values: Any) -> bool:
    if isinstance(values, dict):
        return any(_has_unknown(v) for v in values.values())
    if isinstance(values, list):
        return any(_has_unknown(v) for v in values)
    return values == "${unknown}"


def _has_expression(values: Any) -> bool:
    if isinstance(values, dict):
        return any(_has_expression(v) for v in values.values())
    if isinstance(values, list):
        return any(_has_expression(v) for v in values)
    return is_unknown(values)


def _fill_unknowns(values: Any, fast: Any) -> Any:
    """A value the plan only knows after apply, and whose configuration names no resource (``each.value.x``,
    a local), is what the HCL says it is computed from (``${aws_lb_target_group.app["green"]}``) when the fast
    evaluator has an expression at the same path: never one ``${unknown}`` equal in every environment."""
    if values == "${unknown}":  # a whole map or list unknown: the fast one, when it holds an expression
        return fast if is_unknown(fast) or (isinstance(fast, (dict, list)) and _has_expression(fast)) else values
    if isinstance(values, dict) and isinstance(fast, Mapping):
        return {k: _fill_unknowns(v, fast.get(k)) for k, v in values.items()}
    if isinstance(values, list) and isinstance(fast, list) and len(values) == len(fast):
        return [_fill_unknowns(v, f) for v, f in zip(values, fast, strict=True)]
    return values


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
