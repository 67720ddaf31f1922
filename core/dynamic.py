"""`dynamic` blocks, evaluated by tfparse without its two silent bugs.

tfparse (0.6.x) drops a `dynamic` block nested inside another block and loses the last expansion of a
`dynamic` block followed by a static block. So before tfparse runs, each `dynamic` block is rewritten
(in a prepared copy, never in the user's files) into an attribute whose value is the same expansion
written as a `for` expression, the iterator bound by a one-element `for`:

    dynamic "ingress" { for_each = X  content { port = ingress.value } }
    ->  __cd_dyn_17_0 = [for __cd_k0, __cd_v0 in (X) : [for ingress in [{ key = __cd_k0, value = __cd_v0 }] :
                         { port = (ingress.value) }][0]]

tfparse evaluates that in the resource's own context (count.index, each.*, locals, variables), nested
dynamic blocks become nested `for`s, and the converter (core/model.py) turns the list back into blocks,
in source order among the static blocks of the same type. The rewrite keeps every line where it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core import hcl

PREFIX = "__cd_dyn_"
_NOT_EXPANDED = {"lifecycle", "provisioner", "connection"}


@dataclass
class Shape:
    """Which keys of an expanded item are nested blocks (and their shapes), and the source line."""

    line: int
    blocks: dict[str, Shape] = field(default_factory=dict)


@dataclass(frozen=True)
class Probe:
    name: str  # the attribute the dynamic block became
    type: str  # the block type it generates ("ingress")
    file: str
    line: int
    before_static: int  # how many static blocks of the same type precede it in its body
    for_each: str  # the for_each expression as written
    shape: Shape


class RewriteError(Exception):
    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


def rewrite(text: str, file: str) -> tuple[str, list[Probe]]:
    """``text`` with every `dynamic` block of its resources and data sources replaced by a probe attribute."""
    doc = hcl.parse_text(text, file)
    edits: list[tuple[int, int, str]] = []
    probes: list[Probe] = []
    for top in doc.blocks:
        if top.type in ("resource", "data"):
            _body(top, text, file, edits, probes)
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text, probes


def _body(body: hcl.Block, text: str, file: str, edits: list, probes: list[Probe]) -> None:
    statics: dict[str, int] = {}
    for b in body.blocks:
        if b.type == "dynamic":
            if not b.labels:
                raise RewriteError("dynamic block without a label", b.line)
            shape = Shape(b.line)
            expr = _expansion(b, 0, shape)
            name = f"{PREFIX}{b.line}_{len(probes)}"
            new = f"{name} = {expr}"
            old = text[b.span[0]:b.span[1]]
            spare = old.count("\n") - new.count("\n")
            if spare < 0:
                raise RewriteError(f'dynamic "{b.labels[0]}" is too dense to evaluate (write its content on more '
                                   "lines)", b.line)
            edits.append((b.span[0], b.span[1], new + "\n" * spare))
            probes.append(Probe(name, b.labels[0], file, b.line, statics.get(b.labels[0], 0),
                                b.attrs["for_each"].expr if "for_each" in b.attrs else "", shape))
        elif b.type not in _NOT_EXPANDED:
            statics[b.type] = statics.get(b.type, 0) + 1
            _body(b, text, file, edits, probes)


def _paren(expr: str) -> str:
    # a heredoc's closing marker must stay alone on its line
    return f"({expr}\n)" if "<<" in expr else f"({expr})"


def _expansion(d: hcl.Block, depth: int, shape: Shape) -> str:
    if "for_each" not in d.attrs:
        raise RewriteError(f'dynamic "{d.labels[0]}" has no for_each', d.line)
    contents = [c for c in d.blocks if c.type == "content"]
    if len(contents) != 1:
        raise RewriteError(f'dynamic "{d.labels[0]}" needs exactly one content block', d.line)
    iterator = d.attrs["iterator"].expr if "iterator" in d.attrs else d.labels[0]
    k, v = f"__cd_k{depth}", f"__cd_v{depth}"
    return (f"[for {k}, {v} in {_paren(d.attrs['for_each'].expr)} : [for {iterator} in "
            f"[{{ key = {k}, value = {v} }}] : {_object(contents[0], depth + 1, shape)}][0]]")


def _object(body: hcl.Block, depth: int, shape: Shape) -> str:
    items = [f"{name} = {_paren(a.expr)}" for name, a in body.attrs.items()]
    parts: dict[str, list[str]] = {}
    for b in body.blocks:
        if b.type == "dynamic":
            btype = b.labels[0] if b.labels else ""
            sub = shape.blocks.setdefault(btype, Shape(b.line))
            parts.setdefault(btype, []).append(_expansion(b, depth, sub))
        else:
            sub = shape.blocks.setdefault(b.type, Shape(b.line))
            parts.setdefault(b.type, []).append(f"[{_object(b, depth, sub)}]")
    for btype, exprs in parts.items():
        items.append(f"{btype} = " + (exprs[0] if len(exprs) == 1 else f"concat({', '.join(exprs)})"))
    return "{ " + ", ".join(items) + " }"
