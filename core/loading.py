"""Which files make up a Terraform configuration, loaded by Terraform's rules (before any evaluation).

- var files, in Terraform's order: ``terraform.tfvars``, ``terraform.tfvars.json``, ``*.auto.tfvars`` and
  ``*.auto.tfvars.json`` in lexical order, then the contract's ``var_files`` (later files win). The suite never
  reads ``TF_VAR_*`` from the user's environment: a gate's verdict must not depend on who runs it;
- override files (``override.tf``, ``*_override.tf``) merged into the blocks they override, as Terraform merges
  them, in a prepared copy the evaluator reads (``prepared``); every line of it maps back to its source;
- child modules: local ones must exist, remote ones must have been downloaded by ``terraform init``
  (``.terraform/modules/modules.json``); anything else is refused by name, never skipped;
- ``prepared_copy(tf_dir, rewritten)`` (h1b-values): a throwaway copy in which some ``.tf`` files are replaced
  by rewritten text (core/dynamic.py), so tfparse can evaluate what it would otherwise get wrong.
The user's directory is never written.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import SuiteError

# --------------------------------------------------------------------------- var files


def auto_var_files(tf_dir: Path) -> list[str]:
    """The var files Terraform loads by itself, in its order."""
    names = [n for n in ("terraform.tfvars", "terraform.tfvars.json") if (tf_dir / n).is_file()]
    names += sorted(p.name for p in tf_dir.iterdir()
                    if p.is_file() and p.name.endswith((".auto.tfvars", ".auto.tfvars.json")))
    return names


def var_files(tf_dir: Path, given: tuple[str, ...] | list[str]) -> list[str]:
    """Every var file of one environment, in the order Terraform applies them (the last one wins)."""
    return auto_var_files(tf_dir) + list(given)


def is_json(path: str | Path) -> bool:
    return str(path).endswith(".json")


def read_json_var_file(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise SuiteError(f"not valid JSON ({err.msg})", path=str(path), line=err.lineno,
                         hint="fix the var file's JSON syntax") from None
    if not isinstance(data, dict):
        raise SuiteError("a JSON var file must hold one object", path=str(path), line=1,
                         hint='write {"name": value, ...}')
    return data


def json_var_names(path: Path) -> list[tuple[str, int]]:
    """Top-level keys of a JSON var file with the line each is written on."""
    text = path.read_text()
    names = []
    for name in read_json_var_file(path):
        m = re.search(r'[{,]\s*("' + re.escape(name) + r'")\s*:', text)
        names.append((name, text.count("\n", 0, m.start(1)) + 1 if m else 1))
    return names


def var_file_names(path: Path) -> list[tuple[str, int]]:
    """Top-level assignments of a var file (HCL or JSON) with their lines."""
    if is_json(path):
        return json_var_names(path)
    from core.model import _tfvars_names

    return _tfvars_names(path)


# --------------------------------------------------------------------------- files of a module


def is_override(name: str) -> bool:
    base = name[:-5] if name.endswith(".json") else name
    return base.endswith(".tf") and (base == "override.tf" or base.endswith("_override.tf"))


def config_files(module_dir: Path) -> tuple[list[Path], list[Path]]:
    """(primary files, override files) of one module directory, each in lexical order."""
    files = sorted(p for p in module_dir.iterdir() if p.is_file() and p.name.endswith((".tf", ".tf.json")))
    return [p for p in files if not is_override(p.name)], [p for p in files if is_override(p.name)]


# --------------------------------------------------------------------------- child modules


@dataclass(frozen=True)
class ModuleCall:
    key: str  # Terraform's module key: "net", "net.inner"
    source: str
    file: str  # relative to the root module
    line: int

    @property
    def local(self) -> bool:
        return self.source.startswith(("./", "../"))


def _installed(root: Path) -> dict[str, str]:
    """Module key -> directory (relative to the root) from `terraform init`'s modules.json, if any."""
    manifest = root / ".terraform" / "modules" / "modules.json"
    if not manifest.is_file():
        return {}
    try:
        doc = json.loads(manifest.read_text())
    except json.JSONDecodeError as err:
        raise SuiteError(f"not valid JSON ({err.msg})", path=str(manifest), line=err.lineno,
                         hint="run terraform init again") from None
    return {m.get("Key", ""): m.get("Dir", "") for m in doc.get("Modules") or [] if isinstance(m, dict)}


def module_key(path: str) -> str:
    """Terraform's module key of an address: 'module.a["x"].module.b[0].aws_c.d' -> 'a.b'; root: ''."""
    return ".".join(re.findall(r"module\.([^.\[]+)", path))


def check_modules(parsed: dict, root: Path) -> list[ModuleCall]:
    """Every module call the evaluator saw; a call whose module it could not read is refused by name.

    tfparse reads local modules and those `terraform init` recorded in ``.terraform/modules/modules.json``;
    any other module (not downloaded, or a local directory that does not exist) would silently be empty.
    """
    installed = _installed(root)
    calls: dict[str, ModuleCall] = {}
    known: list[Path] = []  # module_dirs(root), computed when needed
    for block in parsed.get("module", []):
        meta = block.get("__tfmeta", {})
        key = module_key(meta.get("path", ""))
        if key in calls:
            continue
        call = ModuleCall(key, str(block.get("source", "")), meta.get("filename", ""), meta.get("line_start", 0))
        calls[key] = call
        name = key.rsplit(".", 1)[-1]
        where = root / call.file
        if call.local:
            parent = _module_dir(key.rpartition(".")[0], calls, installed, root)
            target = (parent / call.source).resolve()
            if not target.is_dir() or not any(config_files(target)):
                raise SuiteError(f'module "{name}" (source {call.source}): no Terraform files in {target}',
                                 path=str(where), line=call.line, hint="fix the module's source path")
        elif key not in installed or not (root / installed[key]).is_dir():
            raise SuiteError(f'module "{name}" (source {call.source}) is not downloaded: run terraform init',
                             path=str(where), line=call.line,
                             hint="the suite reads remote modules from .terraform/modules (it never downloads)")
        else:
            target = root / installed[key]
        _check_syntax(target)
        if config_files(target)[1] and target.resolve() not in (known := known or module_dirs(root)):
            raise SuiteError(f'module "{name}": its override files were not merged (the module was not found '
                             "before evaluation)", path=str(where), line=call.line,
                             hint="write its source as a literal string, or use the exact evaluator")
    return sorted(calls.values(), key=lambda c: c.key)


def _check_syntax(module_dir: Path) -> None:
    """tfparse silently leaves out a child module with a syntax error (the root's it reports): name it."""
    from core import hcl

    for f in [*config_files(module_dir)[0], *config_files(module_dir)[1]]:
        if f.name.endswith(".tf.json"):
            try:
                json.loads(f.read_text())
            except json.JSONDecodeError as err:
                raise SuiteError(f"not valid JSON ({err.msg})", path=str(f), line=err.lineno,
                                 hint="fix the module's JSON syntax") from None
        else:
            hcl.parse_file(f)


_COMMENT = re.compile(r"#[^\n]*|//[^\n]*|/\*.*?\*/", re.S)


def check_cycles(root: Path) -> None:
    """Blocks whose count/for_each read each other are refused by name, as Terraform refuses the cycle (tfparse
    recurses through them until its Go runtime aborts this process)."""
    from core import hcl

    for directory in module_dirs(root):
        meta: dict[str, tuple[Path, hcl.Block, str]] = {}  # address -> (file, block, its count/for_each)
        for f in sorted(directory.glob("*.tf")):
            try:
                blocks = hcl.parse_file(f).blocks
            except SuiteError:
                return  # (the evaluator names what is wrong with the file)
            for b in blocks:
                expr = " ".join(a.expr for n, a in b.attrs.items() if n in ("count", "for_each"))
                address = {"resource": ".".join(b.labels), "data": "data." + ".".join(b.labels),
                           "module": "module." + ".".join(b.labels)}.get(b.type)
                if expr and address:
                    meta[address] = (f, b, expr)
        reads = {a: {t for t in meta if t != a and any(r == t or r.startswith((t + ".", t + "["))
                                                       for r in _references(expr))}
                 for a, (_f, _b, expr) in meta.items()}  # (a block reading itself: validate accepts it)
        for start in meta:
            cycle = _cycle(start, reads)
            if cycle:
                f, b, _expr = meta[cycle[0]]
                raise SuiteError(f"the count/for_each of {' and '.join(cycle)} read each other: a cycle, which "
                                 "Terraform refuses", path=str(f), line=b.line,
                                 hint="make one of them not read the other")


def _references(expr: str) -> list[str]:
    from core import hcl

    comments = [m.span() for m in _COMMENT.finditer(hcl._mask_strings(expr))]
    return [t for start, _end, t in hcl.traversals(expr) if not any(a <= start < b for a, b in comments)]


def _cycle(start: str, reads: dict[str, set[str]]) -> list[str]:
    """The blocks of a cycle through ``start`` (in order), or []."""
    path, todo = [start], [iter(sorted(reads[start]))]
    while todo:
        nxt = next(todo[-1], None)
        if nxt is None:
            path.pop()
            todo.pop()
        elif nxt == start:
            return path
        elif nxt not in path:
            path.append(nxt)
            todo.append(iter(sorted(reads[nxt])))
    return []


def _module_dir(key: str, calls: dict[str, ModuleCall], installed: dict[str, str], root: Path) -> Path:
    if not key:
        return root
    if installed.get(key):
        return root / installed[key]
    call = calls[key]
    return (_module_dir(key.rpartition(".")[0], calls, installed, root) / call.source).resolve()


def module_dirs(root: Path) -> list[Path]:
    """Root and every local / downloaded module directory reachable from it (static scan of `source`)."""
    installed = _installed(root)
    seen: list[Path] = []
    queue: list[tuple[str, Path]] = [("", root.resolve())]
    while queue:
        key, directory = queue.pop(0)
        if directory in seen or not directory.is_dir():
            continue
        seen.append(directory)
        for name, source in _module_sources(directory):
            child = f"{key}.{name}" if key else name
            if source.startswith(("./", "../")):
                queue.append((child, (directory / source).resolve()))
            elif installed.get(child):
                queue.append((child, (root / installed[child]).resolve()))
    return seen


def _module_sources(directory: Path) -> list[tuple[str, str]]:
    """(name, source) of the module calls in one module directory (a source is always a literal string)."""
    from core import hcl

    out = []
    for f in sorted(directory.glob("*.tf")):
        for b in hcl.parse_file(f).blocks:
            source = b.attrs.get("source")
            if b.type == "module" and b.labels and source is not None and hcl.unquote(source.expr):
                out.append((b.labels[0], hcl.unquote(source.expr)))
    for f in sorted(directory.glob("*.tf.json")):
        with contextlib.suppress(json.JSONDecodeError, AttributeError):
            for name, body in (json.loads(f.read_text()).get("module") or {}).items():
                for b in body if isinstance(body, list) else [body]:
                    if isinstance(b.get("source"), str):
                        out.append((name, b["source"]))
    return out


# --------------------------------------------------------------------------- override files


@dataclass
class _Item:
    """One argument or nested block inside a block body, as source text."""

    kind: str  # "attr" | "block"
    name: str  # argument name, or block type (a dynamic block counts as its label's type)
    text: str
    line: int  # first line, in ``file``
    file: str
    sub: list[_Item] = field(default_factory=list)  # a nested block's own items (for lifecycle)
    header: str = ""  # a nested block's text up to and including "{"
    dynamic: bool = False


@dataclass
class _Block:
    type: str
    labels: tuple[str, ...]
    file: str  # relative to the root module
    line: int
    start: int  # character offsets of the block in its file
    end: int
    header: str
    items: list[_Item]
    changed: bool = False


def _label(node) -> str:
    """The text of an identifier or a quoted label node of python-hcl2's parse tree."""
    if getattr(node, "data", None) == "string":
        return "".join(str(t) for c in node.children if hasattr(c, "children") for t in c.children)
    return str(node.children[0]) if hasattr(node, "children") else str(node)


def _items(body, text: str, file: str) -> list[_Item]:
    items = []
    for c in body.children:
        kind = getattr(c, "data", None)
        if kind == "attribute":
            ident = c.children[0]
            name = str(ident.children[0]) if hasattr(ident, "children") else str(ident)
            items.append(_Item("attr", name, text[c.meta.start_pos:c.meta.end_pos], c.meta.line, file))
        elif kind == "block":
            name = _label(c.children[0])
            labels = [_label(x) for x in c.children[1:] if getattr(x, "data", None) in ("string", "identifier")]
            if name == "dynamic" and labels:
                name = labels[0]
            inner = next(x for x in c.children if getattr(x, "data", None) == "body")
            header = text[c.meta.start_pos:inner.meta.start_pos] if inner.children else \
                text[c.meta.start_pos:text.index("{", c.meta.start_pos) + 1]
            items.append(_Item("block", name, text[c.meta.start_pos:c.meta.end_pos], c.meta.line, file,
                               _items(inner, text, file), header.rstrip(), dynamic=_label(c.children[0]) == "dynamic"))
    return items


def _parse_blocks(path: Path, root: Path) -> list[_Block]:
    import hcl2

    rel = os.path.relpath(path, root)
    text = path.read_text()
    try:
        tree = hcl2.parses_to_tree(text)
    except Exception as err:  # noqa: BLE001 - any parser failure becomes one line naming the file
        line = getattr(err, "line", None)
        raise SuiteError(f"cannot read this file to merge override files ({type(err).__name__})", path=str(path),
                         line=line if isinstance(line, int) and line > 0 else None,
                         hint="fix its HCL syntax, or use the exact evaluator (real Terraform)") from None
    blocks = []
    for top in tree.children[0].children:
        if getattr(top, "data", None) != "block":
            continue
        btype = _label(top.children[0])
        labels = tuple(_label(x) for x in top.children[1:] if getattr(x, "data", None) in ("string", "identifier"))
        body = next(x for x in top.children if getattr(x, "data", None) == "body")
        brace = text.index("{", top.children[0].meta.end_pos)
        blocks.append(_Block(btype, labels, rel, top.meta.line, top.meta.start_pos, top.meta.end_pos,
                             text[top.meta.start_pos:brace + 1], _items(body, text, rel)))
    return blocks


def _provider_key(block: _Block) -> tuple:
    alias = next((re.sub(r'^alias\s*=\s*"?|"?\s*$', "", i.text) for i in block.items
                  if i.kind == "attr" and i.name == "alias"), "")
    return ("provider", *block.labels, alias)


def _key(block: _Block) -> tuple:
    return _provider_key(block) if block.type == "provider" else (block.type, *block.labels)


def _merge_items(base: list[_Item], over: list[_Item], merge_blocks: tuple[str, ...] = ()) -> list[_Item]:
    """Terraform's rule: an argument replaces the same argument; a nested block type in the override replaces
    every block of that type (``merge_blocks``, e.g. lifecycle, merge argument by argument instead)."""
    over_attrs = {i.name for i in over if i.kind == "attr"}
    over_blocks = {i.name for i in over if i.kind == "block" and i.name not in merge_blocks}
    out = [i for i in base if not ((i.kind == "attr" and i.name in over_attrs) or
                                   (i.kind == "block" and i.name in over_blocks))]
    for item in over:
        if item.kind == "block" and item.name in merge_blocks:
            existing = next((i for i in out if i.kind == "block" and i.name == item.name), None)
            if existing is not None:
                merged = _merge_items(existing.sub, item.sub)
                out[out.index(existing)] = _Item("block", item.name, "", existing.line, existing.file, merged,
                                                 existing.header)
                continue
        out.append(item)
    # Block order only matters within one type; dynamic blocks go last, where the evaluator expands them right.
    return sorted(out, key=lambda i: i.dynamic)


@dataclass
class _Text:
    """Text being assembled for the prepared copy, remembering where each line came from."""

    parts: list[str] = field(default_factory=list)
    origins: list[tuple[str, int]] = field(default_factory=list)  # per output line

    def add(self, text: str, file: str, line: int) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")
        self.parts.append(text)
        self.origins += [(file, line + k) for k in range(text.count("\n") + (0 if text.endswith("\n") else 1))]

    def add_items(self, items: list[_Item]) -> None:
        for item in items:
            if item.kind == "block" and not item.text:  # a merged lifecycle block
                self.add(item.header, item.file, item.line)
                self.add_items(item.sub)
                self.add("}", item.file, item.line)
            else:
                self.add(item.text, item.file, item.line)

    @property
    def text(self) -> str:
        return "".join(self.parts) + "\n"


@dataclass
class Prepared:
    """The directory the evaluator reads, and where each of its lines comes from."""

    dir: Path
    origins: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # rewritten file -> line origins

    def origin(self, file: str, line: int) -> tuple[str, int]:
        """(file, line) in the user's configuration of a (file, line) the evaluator reports."""
        lines = self.origins.get(file)
        if lines is None:
            return file, line
        if 1 <= line <= len(lines):
            return lines[line - 1]
        return file, line


def _json_keys(f: Path) -> set[tuple]:
    """The block keys (as ``_key`` gives them) a .tf.json file defines, and its local values."""
    try:
        doc = json.loads(f.read_text())
    except json.JSONDecodeError:
        return set()
    keys: set[tuple] = set()
    for kind, body in doc.items() if isinstance(doc, dict) else ():
        for b in body if isinstance(body, list) else [body]:
            if not isinstance(b, dict):
                continue
            if kind in ("resource", "data"):
                keys |= {(kind, t, n) for t, named in b.items() if isinstance(named, dict) for n in named}
            elif kind in ("variable", "output", "module"):
                keys |= {(kind, n) for n in b}
            elif kind == "locals":
                keys |= {("local", n) for n in b}
            elif kind == "provider":
                for name, conf in b.items():
                    for c in conf if isinstance(conf, list) else [conf]:
                        keys.add(("provider", name, (c or {}).get("alias", "") if isinstance(c, dict) else ""))
    return keys


# JSON override files are turned into the HCL blocks they stand for. JSON cannot say whether an object is a
# nested block or an object-valued argument (Terraform asks the provider's schema): the base block decides
# (a block type it has, or an argument it sets); what neither tells is refused by name.
_ALWAYS_BLOCKS = {"lifecycle", "provisioner", "connection", "validation", "precondition", "postcondition",
                  "default_tags", "assume_role", "assume_role_with_web_identity", "endpoints", "ignore_tags"}
_REFERENCE_ARGS = {"depends_on", "provider", "providers", "ignore_changes", "replace_triggered_by"}


def _hcl_string(text: str, literal: bool = False) -> str:
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    text = text.replace("\t", "\\t")
    if literal:  # a variable's default in JSON is a value, not a template
        text = text.replace("${", "$${").replace("%{", "%%{")
    return f'"{text}"'


def _hcl_value(value, literal: bool = False, raw: bool = False) -> str:
    """A JSON configuration value as HCL: strings are templates (``raw``: references, as in depends_on)."""
    if isinstance(value, str):
        if raw:
            return value[2:-1] if value.startswith("${") and value.endswith("}") else value
        return _hcl_string(value, literal)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_hcl_value(v, literal, raw) for v in value) + "]"
    return "{\n" + "\n".join(f"{json.dumps(k)} = {_hcl_value(v, literal, raw)}" for k, v in value.items()) + "\n}"


def _json_items(body: dict, base: list[_Item] | None, kind: str, file: str, line: int, where: Path) -> list[_Item]:
    items = []
    for key, value in body.items():
        if key == "//":
            continue  # a comment in Terraform's JSON syntax
        base_kinds = {i.kind for i in base or [] if i.name == key}
        objects = isinstance(value, dict) or (isinstance(value, list) and bool(value) and
                                              all(isinstance(v, dict) for v in value))
        if key == "dynamic" and isinstance(value, dict):
            for label, d in value.items():
                for one in d if isinstance(d, list) else [d]:
                    sub = _json_items(one, next((i.sub for i in base or [] if i.name == label), None), "block",
                                      file, line, where)
                    text = f'dynamic "{label}" {{\n' + "\n".join(i.text for i in sub) + "\n}"
                    items.append(_Item("block", label, text, line, file, sub, f'dynamic "{label}" {{', True))
        elif objects and ("block" in base_kinds or key in _ALWAYS_BLOCKS or (key == "content" and kind == "block")):
            for one in value if isinstance(value, list) else [value]:
                sub_base = [s for i in base or [] if i.name == key and i.kind == "block" for s in i.sub]
                sub = _json_items(one, sub_base, "block", file, line, where)
                text = f"{key} {{\n" + "\n".join(i.text for i in sub) + "\n}"
                items.append(_Item("block", key, text, line, file, sub, f"{key} {{"))
        elif objects and "attr" not in base_kinds and kind != "locals":
            raise SuiteError(f"{key!r}: JSON does not say whether this is a nested block or an argument, and the "
                             "base block has neither", path=str(where), line=line,
                             hint="write this override in HCL, or use the exact evaluator")
        else:
            literal = kind == "variable" and key == "default"
            raw = key in _REFERENCE_ARGS or (kind == "variable" and key == "type")
            items.append(_Item("attr", key, f"{key} = {_hcl_value(value, literal, raw)}", line, file))
    return items


def _json_blocks(f: Path, root: Path, index: dict[tuple, _Block]) -> list[_Block]:
    """The blocks of a JSON override file, as HCL blocks (each at the line its name is written on)."""
    text = f.read_text()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise SuiteError(f"not valid JSON ({err.msg})", path=str(f), line=err.lineno,
                         hint="fix the override file's JSON syntax") from None
    rel = os.path.relpath(f, root)

    def line_of(name: str) -> int:
        m = re.search(r'"' + re.escape(name) + r'"\s*:', text)
        return text.count("\n", 0, m.start()) + 1 if m else 1

    blocks = []
    for kind, body in (doc.items() if isinstance(doc, dict) else ()):
        for part in body if isinstance(body, list) else [body]:
            if kind == "terraform" or not isinstance(part, dict):
                continue
            if kind == "locals":
                items = _json_items(part, None, "locals", rel, line_of(next(iter(part), kind)), f)
                blocks.append(_Block("locals", (), rel, items[0].line if items else 1, 0, 0, "locals {", items))
                continue
            labelled = [((t, n), b) for t, named in part.items() for n, b in named.items()] \
                if kind in ("resource", "data") else [((n,), b) for n, b in part.items()]
            for labels, bodies in labelled:
                for one in bodies if isinstance(bodies, list) else [bodies]:
                    line = line_of(labels[-1])
                    if kind == "provider":
                        alias = one.get("alias", "") if isinstance(one, dict) else ""
                        key = ("provider", *labels, alias)
                    else:
                        key = (kind, *labels)
                    base = index.get(key)
                    items = _json_items(one, base.items if base else None, kind, rel, line, f)
                    blocks.append(_Block(kind, labels, rel, line, 0, 0, "", items))
    return blocks


def _merge_module(directory: Path, root: Path) -> dict[str, _Text] | None:
    """The rewritten primary files of one module directory (None when it has no override files)."""
    primaries, overrides = config_files(directory)
    if not overrides:
        return None
    in_json = {k: f for f in primaries if f.name.endswith(".tf.json") for k in _json_keys(f)}
    files = {os.path.relpath(f, root): _parse_blocks(f, root) for f in primaries if f.name.endswith(".tf")}
    index: dict[tuple, _Block] = {}
    local_values: dict[str, tuple[_Block, _Item]] = {}
    for blocks in files.values():
        for b in blocks:
            if b.type == "locals":
                for item in b.items:
                    local_values[item.name] = (b, item)
            elif b.type != "terraform":
                index.setdefault(_key(b), b)

    def refuse_json(key: tuple, line: int, f: Path) -> None:
        if key in in_json:
            raise SuiteError(f"overrides a block written in {in_json[key].name}: merging into .tf.json is not done "
                             "by the fast evaluator", path=str(f), line=line,
                             hint="write the base block in HCL, or use the exact evaluator")

    for f in overrides:
        for ob in _json_blocks(f, root, index) if f.name.endswith(".json") else _parse_blocks(f, root):
            if ob.type == "terraform":
                continue  # backend and version settings: nothing the model reads
            if ob.type == "locals":
                for item in ob.items:
                    refuse_json(("local", item.name), item.line, f)
                    if item.name not in local_values:
                        raise SuiteError(f"local value {item.name!r} overrides nothing (Terraform rejects it)",
                                         path=str(f), line=item.line,
                                         hint="define it in a locals block of a normal file first")
                    block, old = local_values[item.name]
                    block.items[block.items.index(old)] = item
                    block.changed = True
                    local_values[item.name] = (block, item)
                continue
            refuse_json(_key(ob), ob.line, f)
            base = index.get(_key(ob))
            if base is None:
                raise SuiteError(f"{' '.join((ob.type, *ob.labels))} overrides nothing (Terraform rejects it)",
                                 path=str(f), line=ob.line,
                                 hint="an override block must match a block of a normal file")
            lifecycle = ("lifecycle",) if base.type in ("resource", "data") else ()
            base.items = _merge_items(base.items, ob.items, lifecycle)
            base.changed = True
    out: dict[str, _Text] = {}
    for rel, blocks in files.items():
        if not any(b.changed for b in blocks):
            continue
        text = (root / rel).read_text()
        result, pos, line = _Text(), 0, 1
        for b in blocks:
            if not b.changed:
                continue
            if pos < b.start:
                result.add(text[pos:b.start], rel, line)
            result.add(b.header, rel, b.line)
            result.add_items(b.items)
            result.add("}", rel, b.line + text.count("\n", b.start, b.end))
            pos, line = b.end, 1 + text.count("\n", 0, b.end)
        result.add(text[pos:], rel, line)
        out[rel] = result
    return out


_SKIP_DIRS = {".git", ".terraform"}


def _materialize(root: Path, texts: dict[Path, str], skipped: set[Path], prefix: str,
                 dirs: list[Path] | None = None, into: Path | None = None) -> tuple[Path, Path]:
    """A temporary copy of the configuration rooted at ``root``: every module directory at its place relative
    to the others (so ``../modules/x`` sources still resolve), files in ``texts`` (absolute paths) replaced,
    files in ``skipped`` left out, other directories (templates...) linked. Returns (temporary dir, copy of root).
    ``dirs``: ``module_dirs(root)`` if the caller has it; ``into``: where to make the temporary dir."""
    root = root.resolve()
    dirs = module_dirs(root) if dirs is None else dirs
    anchor = Path(os.path.commonpath([str(d) for d in dirs]))
    needed = {anchor}
    for d in dirs:
        needed |= {p for p in [d, *d.parents] if p == anchor or anchor in p.parents}
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=into))
    for d in sorted(needed):
        target = tmp / d.relative_to(anchor)
        target.mkdir(parents=True, exist_ok=True)
        for entry in sorted(d.iterdir()):
            real, dest = entry.resolve(), target / entry.name
            if real in skipped or real in needed or dest.exists():
                continue
            if real in texts:
                dest.write_text(texts[real], encoding="utf-8")
            elif entry.is_file() and not entry.name.endswith((".tfstate", ".tfstate.backup", ".tfplan")):
                shutil.copy2(entry, dest)
            elif entry.is_dir() and entry.name not in _SKIP_DIRS and d.name != ".terraform":
                os.symlink(real, dest)
    modules_json = root / ".terraform" / "modules" / "modules.json"
    copy_root = tmp / root.relative_to(anchor)
    if modules_json.is_file() and not (copy_root / ".terraform" / "modules" / "modules.json").exists():
        (copy_root / ".terraform" / "modules").mkdir(parents=True, exist_ok=True)
        shutil.copy2(modules_json, copy_root / ".terraform" / "modules" / "modules.json")
    return tmp, copy_root


@contextlib.contextmanager
def prepared(tf_dir: Path) -> Iterator[Prepared]:
    """The configuration as Terraform sees it: override files merged into the blocks they override.

    Without override files this is ``tf_dir`` itself. Otherwise it is a temporary copy (``_materialize``)
    whose rewritten files remember the origin of every line.
    """
    root = tf_dir.resolve()
    merged = {d: m for d in module_dirs(root) if (m := _merge_module(d, root)) is not None}
    if not merged:
        yield Prepared(tf_dir)
        return
    rewritten = {(root / rel).resolve(): t for m in merged.values() for rel, t in m.items()}
    skipped = {f.resolve() for d in merged for f in config_files(d)[1]}
    tmp, copy_root = _materialize(root, {p: t.text for p, t in rewritten.items()}, skipped, "codedetect-prepared-")
    try:
        yield Prepared(copy_root, {os.path.relpath(path, root): t.origins for path, t in rewritten.items()})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- further passes (h1b-values)

_copies: dict[str, tuple[Path, Path]] = {}  # content digest -> (temporary dir, copy of the root)


def _cleanup() -> None:
    for tmp, _root in _copies.values():
        shutil.rmtree(tmp, ignore_errors=True)


atexit.register(_cleanup)


@contextlib.contextmanager
def copies(tf_dir: Path, rewritten: list[Mapping[str, str]]) -> Iterator[list[Path]]:
    """Copies of the configuration at ``tf_dir`` as ``prepared_copy`` makes them, one per mapping of rewritten
    files, removed when the block ends."""
    root = tf_dir.resolve()
    dirs = module_dirs(root)
    tmp = Path(tempfile.mkdtemp(prefix="codedetect-parts-"))
    try:
        yield [_materialize(root, {(root / name).resolve(): text for name, text in texts.items()}, set(),
                            "part-", dirs, tmp)[1] for texts in rewritten]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def prepared_copy(tf_dir: Path, rewritten: Mapping[str, str]) -> Path:
    """A copy of the configuration at ``tf_dir`` (module layout kept, see ``_materialize``) with the files named
    in ``rewritten`` (paths relative to ``tf_dir``) replaced; used by core/dynamic.py's rewrite. The rewrite keeps
    every line where it was, so ``Prepared.origin`` still applies. One copy per content, per run."""
    digest = hashlib.sha256(repr((str(tf_dir.resolve()), sorted(rewritten.items()))).encode())
    for d in module_dirs(tf_dir):
        for path in sorted(p for p in d.iterdir() if p.is_file()):
            digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    key = digest.hexdigest()
    if key not in _copies:
        texts = {(tf_dir / name).resolve(): text for name, text in rewritten.items()}
        _copies[key] = _materialize(tf_dir, texts, set(), "codedetect-eval-")
    return _copies[key][1]
