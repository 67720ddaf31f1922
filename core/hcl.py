"""A small structural reader of HCL source: blocks, attributes and their raw expression text, with lines.

tfparse evaluates; this only finds where things are written and what was written, so the model can
see what tfparse got wrong (raw templates, random values, dropped blocks). It reads whatever tfparse
accepts (any Unicode identifier), so no file is ever skipped. Each file is read once per run: results
are cached by path and content hash.

    doc = parse_file(Path("main.tf"))
    for block in doc.blocks: block.type, block.labels, block.line, block.attrs["count"].expr
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import SuiteError

_IDENT = re.compile(r"[^\W\d][\w-]*")
_HEREDOC = re.compile(r"<<(-?)([^\W\d][\w-]*)[ \t]*\n")
_CLOSE = {"(": ")", "[": "]", "{": "}"}
# The characters each scanner acts on; runs of any other character are skipped with one regex search.
_IN_STRING = re.compile(r'[\\"\n$%]')
_IN_EXPRESSION = re.compile(r'["<#/()\[\]{}\n]')
_IN_TEMPLATE = re.compile(r'["<{}]')
_STRING_START = re.compile(r'"|<<')
_BLANK = re.compile(r"[ \t\r]*")
_BLANK_TABS = re.compile(r"[ \t]*")
_BLANK_LINES = re.compile(r"[ \t\r\n]*")


@dataclass(frozen=True)
class Attr:
    name: str
    expr: str  # the expression exactly as written
    line: int
    span: tuple[int, int] = (0, 0)  # character offsets of the whole ``name = expr``


@dataclass(frozen=True)
class Block:
    type: str
    labels: tuple[str, ...]
    line: int
    line_end: int
    attrs: dict[str, Attr] = field(default_factory=dict)
    blocks: tuple[Block, ...] = ()
    span: tuple[int, int] = (0, 0)  # character offsets of the block in its file, end exclusive


@dataclass(frozen=True)
class Doc:
    path: str
    attrs: dict[str, Attr]
    blocks: tuple[Block, ...]


class HclSyntaxError(SuiteError):
    pass


class _Reader:
    def __init__(self, text: str, path: str):
        self.s, self.i, self.path = text, 0, path
        self._newlines: list[int] | None = None  # offsets of every newline, built on the first line()

    def line(self, i: int | None = None) -> int:
        if self._newlines is None:
            self._newlines = [m.start() for m in re.finditer("\n", self.s)]
        return bisect.bisect_left(self._newlines, self.i if i is None else i) + 1

    def fail(self, what: str) -> HclSyntaxError:
        return HclSyntaxError(what, path=self.path, line=self.line(), hint="fix the HCL syntax there")

    def skip_space(self, newlines: bool = True) -> None:
        s, blank = self.s, (_BLANK_LINES if newlines else _BLANK)
        while self.i < len(s):
            self.i = blank.match(s, self.i).end()
            if self.i >= len(s):
                return
            c = s[self.i]
            if c == "#" or s.startswith("//", self.i):
                end = s.find("\n", self.i)
                self.i = len(s) if end < 0 else end
            elif s.startswith("/*", self.i):
                end = s.find("*/", self.i + 2)
                if end < 0:
                    raise self.fail("unterminated /* comment")
                self.i = end + 2
            else:
                return

    def body(self, closing: str | None) -> tuple[dict[str, Attr], list[Block]]:
        attrs: dict[str, Attr] = {}
        blocks: list[Block] = []
        while True:
            self.skip_space()
            if self.i >= len(self.s):
                if closing:
                    raise self.fail("missing '}'")
                return attrs, blocks
            if closing and self.s[self.i] == closing:
                self.i += 1
                return attrs, blocks
            start = self.i
            m = _IDENT.match(self.s, self.i)
            if not m:
                raise self.fail(f"unexpected {self.s[self.i]!r}")
            name, self.i = m.group(0), m.end()
            self.skip_space(newlines=False)
            if self.s.startswith("=", self.i) and not self.s.startswith("==", self.i):
                self.i += 1
                line = self.line()
                expr = self.expression()
                attrs[name] = Attr(name, expr.strip(), line, (start, self.i))
                continue
            labels = []
            while self.i < len(self.s) and self.s[self.i] != "{":
                if self.s[self.i] == '"':
                    j = self.i
                    self.string()
                    labels.append(self.s[j + 1:self.i - 1])
                else:
                    lm = _IDENT.match(self.s, self.i)
                    if not lm:
                        raise self.fail(f"unexpected {self.s[self.i]!r} after {name!r}")
                    labels.append(lm.group(0))
                    self.i = lm.end()
                self.skip_space(newlines=False)
            if self.i >= len(self.s):
                raise self.fail(f"block {name!r} has no body")
            self.i += 1
            line = self.line(start)
            inner_attrs, inner_blocks = self.body("}")
            blocks.append(Block(name, tuple(labels), line, self.line(self.i - 1), inner_attrs, tuple(inner_blocks),
                                (start, self.i)))

    def expression(self) -> str:
        """From here to the end of the expression: a newline outside brackets, or the enclosing '}'."""
        start, depth, s = self.i, [], self.s
        while self.i < len(s):
            m = _IN_EXPRESSION.search(s, self.i)
            if m is None:
                self.i = len(s)
                break
            self.i = m.start()
            c = s[self.i]
            if c == '"':
                self.string()
                continue
            if s.startswith("<<", self.i) and _HEREDOC.match(s, self.i):
                self.heredoc()
                continue
            if c == "#" or s.startswith("//", self.i) or s.startswith("/*", self.i):
                if not depth and not s.startswith("/*", self.i):
                    break
                self.skip_space(newlines=bool(depth))
                continue
            if c in "([{":
                depth.append(_CLOSE[c])
            elif c in ")]}":
                if not depth:
                    break  # the '}' closing a one-line block
                if depth.pop() != c:
                    raise self.fail(f"unbalanced {c!r}")
            elif c == "\n" and not depth:
                break
            self.i += 1
        if depth:
            raise self.fail(f"missing {depth[-1]!r}")
        return s[start:self.i]

    def string(self) -> None:
        """Past one quoted string (templates with nested strings included)."""
        s = self.s
        self.i += 1
        while self.i < len(s):
            m = _IN_STRING.search(s, self.i)
            if m is None:
                self.i = len(s)
                break
            self.i = m.start()
            c = s[self.i]
            if c == "\\":
                self.i += 2
            elif c == '"':
                self.i += 1
                return
            elif c == "\n":
                break
            elif s.startswith(("$${", "%%{"), self.i):
                self.i += 3
            elif s.startswith(("${", "%{"), self.i):
                self.i += 2
                self.template_expression()
            else:
                self.i += 1
        raise self.fail("unterminated string")

    def template_expression(self) -> None:
        depth = 1
        s = self.s
        while self.i < len(s):
            m = _IN_TEMPLATE.search(s, self.i)
            if m is None:
                self.i = len(s)
                break
            self.i = m.start()
            c = s[self.i]
            if c == '"':
                self.string()
                continue
            if s.startswith("<<", self.i) and _HEREDOC.match(s, self.i):
                self.heredoc()
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if not depth:
                    self.i += 1
                    return
            self.i += 1
        raise self.fail("unterminated ${ interpolation")

    def heredoc(self) -> None:
        m = _HEREDOC.match(self.s, self.i)
        marker = m.group(2)
        end = re.compile(r"^[ \t]*" + re.escape(marker) + r"[ \t]*$", re.M).search(self.s, m.end())
        if not end:
            raise self.fail(f"heredoc {marker} is never closed")
        self.i = end.end()


_cache: dict[tuple[str, str], Doc] = {}
parse_count = 0  # how many files were actually read (tests check that each is read once per run)


def parse_text(text: str, path: str) -> Doc:
    global parse_count
    key = (path, hashlib.sha256(text.encode()).hexdigest())
    if key not in _cache:
        parse_count += 1
        attrs, blocks = _Reader(text, path).body(None)
        _cache[key] = Doc(path, attrs, tuple(blocks))
    return _cache[key]


def parse_file(path: Path) -> Doc:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SuiteError("not UTF-8 text", path=str(path), hint="Terraform files must be UTF-8") from None
    return parse_text(text, str(path))


# --------------------------------------------------------------------------- expressions


def template_parts(content: str) -> list[tuple[str, str]]:
    """A template body split into ("lit", text), ("interp", expr) and ("directive", text) parts.

    ``$${`` and ``%%{`` are literal ``${`` and ``%{``. Strip markers (``~``) are honoured.
    """
    parts: list[tuple[str, str]] = []
    lit, i = "", 0
    while i < len(content):
        if content.startswith(("$${", "%%{"), i):
            lit += content[i + 1:i + 3]
            i += 3
            continue
        if content.startswith(("${", "%{"), i):
            r = _Reader(content, "<template>")
            r.i = i + 2
            r.template_expression()
            inner = content[i + 2:r.i - 1]
            kind = "interp" if content[i] == "$" else "directive"
            if inner.startswith("~"):
                lit = lit.rstrip()
                inner = inner[1:]
            strip_after = inner.endswith("~")
            inner = inner[:-1] if strip_after else inner
            parts.append(("lit", lit))
            parts.append((kind, inner.strip()))
            lit, i = "", r.i
            if strip_after:
                while i < len(content) and content[i] in " \t\r\n":
                    i += 1
            continue
        lit += content[i]
        i += 1
    parts.append(("lit", lit))
    return [p for p in parts if p != ("lit", "")]


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def unquote(text: str) -> str | None:
    """The template body of a quoted string or heredoc expression (escapes resolved), else None."""
    t = text.strip()
    m = _HEREDOC.match(t + ("\n" if "\n" not in t else ""))
    if m:
        lines = t[m.end():].split("\n")[:-1]  # drop the closing marker line
        if m.group(1):  # <<- strips the smallest common indentation
            indents = [len(x) - len(x.lstrip()) for x in lines if x.strip()]
            cut = min(indents, default=0)
            lines = [x[cut:] for x in lines]
        return "".join(x + "\n" for x in lines)
    if len(t) >= 2 and t[0] == '"' and t[-1] == '"':
        r = _Reader(t, "<string>")
        r.string()
        if r.i != len(t):
            return None
        body, out, i = t[1:-1], "", 0
        while i < len(body):
            if body[i] == "\\" and i + 1 < len(body):
                nxt = body[i + 1]
                if nxt == "u" and re.match(r"[0-9a-fA-F]{4}", body[i + 2:i + 6]):
                    out += chr(int(body[i + 2:i + 6], 16))
                    i += 6
                    continue
                out += _ESCAPES.get(nxt, "\\" + nxt)
                i += 2
                continue
            out += body[i]
            i += 1
        return out
    return None


def split_top(text: str, seps: str) -> list[str]:
    """``text`` split at the characters in ``seps`` that are outside brackets, strings and heredocs."""
    r = _Reader(text, "<expr>")
    pieces, start, depth = [], 0, 0
    while r.i < len(text):
        c = text[r.i]
        if c == '"':
            r.string()
            continue
        if text.startswith("<<", r.i) and _HEREDOC.match(text, r.i):
            r.heredoc()
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c in seps and depth == 0:
            pieces.append(text[start:r.i])
            start = r.i + 1
        r.i += 1
    pieces.append(text[start:])
    return pieces


_TRAVERSAL = re.compile(r"(?<![\w.\"-])([^\W\d][\w-]*)((?:\.[^\W\d][\w-]*|\.\d+|\[[^\[\]]*\]|\[\*\]|\.\*)*)")


@functools.lru_cache(maxsize=1 << 17)
def traversals(expr: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, text) of each reference-like traversal in ``expr`` outside string literals.

    Function names and object keys are left out; iteration variables of ``for`` are returned like
    any other name (callers know their scope). It depends on the text alone, so it is computed once per
    expression text per process (every environment, file and instance evaluates the same source text)."""
    out = []
    code = _mask_strings(expr)
    for m in _TRAVERSAL.finditer(code):
        at = _BLANK_TABS.match(code, m.end()).end()
        after = code[at:at + 2]  # the two characters after the blanks are all the tests below read
        if after.startswith("(") and not m.group(2):
            continue  # a function call
        if after.startswith(("=", ":")) and not after.startswith("==") and not m.group(2):
            continue  # an object key (or a for's ``:`` after a bare name, a value nobody needs)
        if m.group(1) in ("for", "in", "if", "true", "false", "null", "endfor", "endif", "else"):
            continue
        out.append((m.start(), m.end(), expr[m.start():m.end()]))
    return tuple(out)


@functools.lru_cache(maxsize=1 << 17)
def _mask_strings(expr: str) -> str:
    """``expr`` with the literal text of strings and heredocs blanked (interpolations kept)."""
    if '"' not in expr and "<<" not in expr:
        return expr  # no string or heredoc: nothing to blank
    out = list(expr)
    r = _Reader(expr, "<expr>")
    while r.i < len(expr):
        m = _STRING_START.search(expr, r.i)
        if m is None:
            break
        r.i = m.start()
        c = expr[r.i]
        if c == '"' or _HEREDOC.match(expr, r.i):
            start = r.i
            r.string() if c == '"' else r.heredoc()
            body = expr[start:r.i]
            keep = set()
            for m in re.finditer(r"(?<!\$)\$\{", body):
                sub = _Reader(body, "<t>")
                sub.i = m.end()
                sub.template_expression()
                keep.update(range(m.end(), sub.i - 1))
            out[start:r.i] = " " * (r.i - start)
            for k in keep:
                out[start + k] = expr[start + k]
            continue
        r.i += 1
    return "".join(out)


def strip_comments(expr: str) -> str:
    """``expr`` without its comments (strings and heredocs kept as written)."""
    out, r, start = [], _Reader(expr, "<expr>"), 0
    while r.i < len(expr):
        c = expr[r.i]
        if c == '"':
            r.string()
            continue
        if expr.startswith("<<", r.i) and _HEREDOC.match(expr, r.i):
            r.heredoc()
            continue
        if c == "#" or expr.startswith(("//", "/*"), r.i):
            out.append(expr[start:r.i])
            if expr.startswith("/*", r.i):
                end = expr.find("*/", r.i + 2)
                r.i = len(expr) if end < 0 else end + 2
            else:
                end = expr.find("\n", r.i)
                r.i = len(expr) if end < 0 else end
            start = r.i
            continue
        r.i += 1
    out.append(expr[start:])
    return "".join(out)
