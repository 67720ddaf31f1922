"""`templatefile()` evaluated by tfparse itself (it has no such function and yields null).

Before tfparse runs, each call whose path is a constant and whose variables are an object literal is
rewritten (in the prepared copy, core/loading.py) into the template inlined as a one-line string, its
variables bound by nested one-element `for` expressions:

    templatefile("${path.module}/u.tftpl", { env = var.env })
    ->  [for __cd_t in [{ env = var.env }] : [for env in [__cd_t["env"]] : "...${env}..."][0]][0]

so functions, `%{ for }` and `%{ if }` directives are evaluated exactly; a template whose inputs are only
known after apply comes back null and is then rendered by core/unknowns.py (known parts evaluated,
unknown ones kept as references). Lines do not move: the inlined template has no newline in it.
"""

from __future__ import annotations

import re
from pathlib import Path

from core import hcl

_CALL = re.compile(r"(?<![\w.])templatefile\s*\(")
_IDENT = re.compile(r"[^\W\d][\w-]*")


def rewrite(text: str, tf_dir: Path) -> str:
    """``text`` with every rewritable templatefile() call inlined; others are left for core/unknowns.py."""
    out, pos = [], 0
    for start, open_paren, end in _calls(text):
        new = _inline(text[open_paren + 1:end - 1], tf_dir)
        if new is not None:
            out.append(text[pos:start])
            out.append(new)
            pos = end
    out.append(text[pos:])
    return "".join(out)


def _calls(text: str) -> list[tuple[int, int, int]]:
    """(start, index of '(', end) of each templatefile( ... ) written in code (not in comments or strings)."""
    found = []
    r = hcl._Reader(text, "<file>")
    while r.i < len(text):
        c = text[r.i]
        if c == "#" or text.startswith(("//", "/*"), r.i):
            r.skip_space()
            continue
        if c == '"':
            r.string()
            continue
        if text.startswith("<<", r.i) and hcl._HEREDOC.match(text, r.i):
            r.heredoc()
            continue
        m = _CALL.match(text, r.i)
        if m and (r.i == 0 or not (text[r.i - 1].isalnum() or text[r.i - 1] in "_.")):
            open_paren = m.end() - 1
            r.i = open_paren
            end = _close(r)
            if end is None:
                return found
            found.append((m.start(), open_paren, end))
            continue
        r.i += 1
    return found


def _close(r: hcl._Reader) -> int | None:
    depth, text = 0, r.s
    while r.i < len(text):
        c = text[r.i]
        if c == '"':
            r.string()
            continue
        if text.startswith("<<", r.i) and hcl._HEREDOC.match(text, r.i):
            r.heredoc()
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                r.i += 1
                return r.i
        r.i += 1
    return None


def _inline(args: str, tf_dir: Path) -> str | None:
    parts = hcl.split_top(args, ",")
    if len(parts) == 3 and not parts[2].strip():
        parts = parts[:2]
    if len(parts) != 2:
        return None
    path = _constant_path(parts[0])
    names = _object_keys(parts[1])
    if path is None or names is None:
        return None
    file = (tf_dir / path).resolve()
    if not file.is_file():
        return None  # Terraform rejects it: core/unknowns.py says so with the file
    try:
        body = file.read_text(encoding="utf-8")
        template = _one_line(body)
    except (UnicodeDecodeError, hcl.HclSyntaxError):
        return None
    expr = f'"{template}"'
    for name in reversed(names):
        expr = f'[for {name} in [__cd_t["{name}"]] : {expr}][0]'
    return f"[for __cd_t in [{parts[1].strip()}] : {expr}][0]"


def _constant_path(text: str) -> str | None:
    body = hcl.unquote(text)
    if body is None:
        return None
    out = ""
    for kind, value in hcl.template_parts(body):
        if kind == "lit":
            out += value
        elif kind == "interp" and value in ("path.module", "path.root"):
            out += "."
        else:
            return None
    return out


def _object_keys(text: str) -> list[str] | None:
    t = text.strip()
    if not (t.startswith("{") and t.endswith("}")) or re.match(r"\{\s*for\s", t):
        return None
    names = []
    for item in hcl.split_top(t[1:-1], ",\n"):
        if not item.strip() or item.strip().startswith(("#", "//")):
            continue
        key = hcl.split_top(item, "=:")[0].strip()
        key = hcl.unquote(key) if key.startswith('"') else key
        if key is None or not _IDENT.fullmatch(key) or key in ("for", "in", "if", "__cd_t"):
            return None
        names.append(key)
    return names


def _one_line(body: str) -> str:
    """A template file's text as the body of a one-line quoted string with the same meaning."""
    out = ""
    for kind, value in hcl.template_parts(body):
        if kind == "lit":
            out += (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
                    .replace("\t", "\\t").replace("${", "$${").replace("%{", "%%{"))
        elif "\n" in value or "<<" in value:
            if "<<" in value:
                raise hcl.HclSyntaxError("heredoc inside a template interpolation", path="<template>")
            out += ("${" if kind == "interp" else "%{") + " ".join(value.split()) + "}"
        else:
            out += ("${" if kind == "interp" else "%{") + value + "}"
    return out
