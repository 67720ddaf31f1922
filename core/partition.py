"""A large root module evaluated by tfparse in parts, each part with everything its blocks read.

tfparse's time per block grows with the number of blocks one run holds (its Go heap, its block sort): at 5,000
resources one run takes about 1.6 CPU-s, eight runs of 625 about 1.2 (bench/bench_scale.py). So a root module of
many blocks is split. Each part is a copy of the module in which the blocks of other parts are blank lines (every
line stays where it was, so files and lines are the user's). A part keeps:

- the blocks it answers for (its *own*), in source order, about ``size`` of them;
- every block they read, directly or through locals, transitively (copies: evaluated there, answered elsewhere);
- the blocks every part shares: ``terraform``, ``provider``, ``variable`` and ``locals``. The first part answers
  for them and also holds everything they read.

A block reads another when its text names it (``aws_vpc.main``, ``data.x.y``, ``module.m``, ``local.l``): found
from every word of the block as tfparse reads it (comments and strings too), a superset of its references, so a
part never lacks one.
``merge`` joins the parts' results into what one run gives; a block a part returned that this split cannot place
raises ``Disagree``, and the caller evaluates the module in one run instead.

Modules with fewer than ``2 * size`` blocks, or with root files this reader does not split (``.tf.json``,
``.tofu``), are evaluated in one run (``split`` returns None).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core import hcl, loading
from core.errors import SuiteError

SIZE = 300  # blocks a part answers for
SHARED = ("terraform", "provider", "variable", "locals")  # in every part; the first part answers for them
_WORD = re.compile(r"[^\W\d][\w-]*")
_MODULE = re.compile(r"module\.([^.\[]+)")


class Disagree(Exception):
    """A part returned a block this split did not give it."""


@dataclass(frozen=True)
class Part:
    dir: Path
    own: frozenset[tuple[str, int]]  # (file, line) of the root blocks this part answers for
    held: frozenset[tuple[str, int]]  # own and the copies it evaluates for them
    own_modules: frozenset[str]  # module calls it answers for (their modules' blocks too)
    held_modules: frozenset[str]
    first: bool  # answers for the shared blocks


@dataclass
class _Node:
    at: tuple[str, int]  # (file, line)
    key: tuple[str, ...] | None  # how expressions name it: ("aws_s3_bucket", "b"), ("data", t, n), ("module", m)
    words: set[str]
    weight: int
    line_end: int


@contextlib.contextmanager
def split(source_dir: Path, run_dir: Path, size: int | None = None) -> Iterator[list[Part] | None]:
    """The parts of the root module that tfparse reads in ``run_dir`` (copies, removed when the block ends), or
    None to evaluate it in one run. ``source_dir`` holds the same configuration as the user sees it: the same
    blocks on the same lines (``run_dir`` may be a rewrite of it that keeps every line)."""
    plan = _plan(Path(source_dir), Path(run_dir), SIZE if size is None else size)
    if plan is None:
        yield None
        return
    texts, parts = plan
    with loading.copies(Path(run_dir), texts) as dirs:
        yield [Part(dir=d, **p) for d, p in zip(dirs, parts, strict=True)]


def _plan(source_dir: Path, run_dir: Path, size: int):
    names = sorted(p.name for p in run_dir.iterdir() if p.is_file())
    if any(n.endswith((".tf.json", ".tofu", ".tofu.json")) for n in names):
        return None
    files = [n for n in names if n.endswith(".tf")]
    if sorted(p.name for p in source_dir.glob("*.tf")) != files:
        return None
    nodes: list[_Node] = []
    shared_words: set[str] = set()
    local_words: dict[str, set[str]] = {}
    in_file: dict[str, list[_Node]] = {}
    try:
        docs = {name: hcl.parse_file(source_dir / name) for name in files}
    except SuiteError:
        return None  # (one run names what is wrong, as tfparse and the model say it)
    run_texts = {name: (run_dir / name).read_text(encoding="utf-8") for name in files}
    offsets = {name: _line_starts(text) for name, text in run_texts.items()}
    source_texts = {name: (source_dir / name).read_text(encoding="utf-8") for name in files}
    for name, doc in docs.items():
        source_offsets = _line_starts(source_texts[name])
        for block in doc.blocks:
            # what tfparse reads of the block, every word of it (a rewrite, core/templates.py, inlines text)
            text = _lines(run_texts[name], offsets[name], block.line, block.line_end)
            words = _words(text)
            if block.type in SHARED:
                shared_words |= words
                if block.type == "locals":  # each local's own words, unless a rewrite changed the block
                    rewritten = text != _lines(source_texts[name], source_offsets, block.line, block.line_end)
                    for local, attr in block.attrs.items():
                        local_words.setdefault(local, set()).update(words if rewritten else _words(attr.expr))
                continue
            node = _Node((name, block.line), _key(block), words, _weight(block, source_dir), block.line_end)
            nodes.append(node)
            in_file.setdefault(name, []).append(node)
    if sum(n.weight for n in nodes) < 2 * size:
        return None

    names_: dict = {}  # the words of each name, nested: {"aws_vpc": {"main": 3}, "data": {"aws_ami": {"x": 7}}}
    for i, n in enumerate(nodes):
        if n.key is None:
            continue
        level = names_
        for word in n.key[:-1]:
            level = level.setdefault(word, {})
            if not isinstance(level, dict):
                return None  # (a resource type named like data/module: not split)
        if isinstance(level.get(n.key[-1]), dict):
            return None
        level[n.key[-1]] = i
    local_reads = _local_reads(local_words, names_)

    def reads(words: set[str]) -> set[int]:
        out = {i for local in words & local_reads.keys() if "local" in words for i in local_reads[local]}
        return out | _named(words, names_)

    edges = [reads(n.words) - {i} for i, n in enumerate(nodes)]
    shared_reads = reads(shared_words) | {i for found in local_reads.values() for i in found}

    bins: list[list[int]] = [[]]
    load = 0
    for i, n in enumerate(nodes):
        if load >= size:
            bins.append([])
            load = 0
        bins[-1].append(i)
        load += n.weight
    if len(bins) < 2:
        return None

    texts, parts = [], []
    for index, own in enumerate(bins):
        held = _closure(set(own) | (shared_reads if index == 0 else set()), edges)
        keep = {nodes[i].at for i in held}
        rewritten = {}
        for name, in_this in in_file.items():
            blank = [(n.at[1], n.line_end) for n in in_this if n.at not in keep]
            if blank:
                rewritten[name] = _blank_lines(run_texts[name], offsets[name], blank)
        texts.append(rewritten)
        parts.append({"own": frozenset(nodes[i].at for i in own), "held": frozenset(keep),
                      "own_modules": frozenset(nodes[i].key[1] for i in own if _is_module(nodes[i])),
                      "held_modules": frozenset(nodes[i].key[1] for i in held if _is_module(nodes[i])),
                      "first": index == 0})
    return texts, parts


class Joined(dict):
    """One run's result joined from the parts' results; ``copies``: the blocks a part evaluated only for its own
    to read, by their ``id`` (tfparse gives a block a new identifier in each run: a value that is a copy's
    identifier stands for the same block)."""

    copies: dict[str, dict]


def merge(parts: list[Part], results: list[dict]) -> Joined:
    """What each part answers for, joined in the parts' order (Disagree: a part holds a block it was not given)."""
    merged = Joined()
    merged.copies = {}
    for part, result in zip(parts, results, strict=True):
        for key, blocks in result.items():
            for block in blocks if isinstance(blocks, list) else [blocks]:
                if _answers(part, block):
                    merged.setdefault(key, []).append(block)
                elif isinstance(block.get("id"), str):
                    merged.copies[block["id"]] = block
    return merged


def _answers(part: Part, block: dict) -> bool:
    """Whether ``part`` answers for this block of its result (False: a copy); Disagree if it should not hold it."""
    meta = block.get("__tfmeta") or {}
    path = str(meta.get("path", ""))
    if path.startswith("module."):
        m = _MODULE.match(path)
        if m and m.group(1) in part.own_modules:
            return True
        if m and m.group(1) in part.held_modules:
            return False
        raise Disagree(path)
    if meta.get("type") not in ("resource", "data") and path.split(".", 1)[0].split("[", 1)[0] in SHARED:
        return part.first
    at = (str(meta.get("filename", "")), meta.get("line_start"))
    if at in part.own:
        return True
    if at in part.held:
        return False
    raise Disagree(path)


def _key(block: hcl.Block) -> tuple[str, ...] | None:
    if block.type == "resource" and len(block.labels) == 2:
        return tuple(block.labels)
    if block.type in ("data", "ephemeral") and len(block.labels) == 2:
        return (block.type, *block.labels)
    if block.type == "module" and len(block.labels) == 1:
        return ("module", block.labels[0])
    return None  # (outputs, moved, import, check...: read others, never read)


def _is_module(node: _Node) -> bool:
    return node.key is not None and node.key[0] == "module" and len(node.key) == 2


def _weight(block: hcl.Block, source_dir: Path) -> int:
    """A module call weighs the blocks of its module's directory; any other block 1."""
    source = block.attrs.get("source") if block.type == "module" else None
    directory = source_dir / hcl.unquote(source.expr) if source is not None and hcl.unquote(source.expr) else None
    if directory is None or not directory.is_dir():
        return 1
    try:
        return 1 + sum(len(hcl.parse_file(f).blocks) for f in sorted(directory.glob("*.tf")))
    except SuiteError:
        return 1


def _words(text: str) -> set[str]:
    """Every identifier-like word of ``text`` (its strings and comments too), and the parts of those with a
    dash (``a-1`` is one HCL identifier, ``a - 1`` two)."""
    words = set(_WORD.findall(text))
    return words | {part for w in words if "-" in w for part in w.split("-") if part}


def _lines(text: str, starts: list[int], first: int, last: int) -> str:
    return text[starts[first - 1] if first - 1 < len(starts) else len(text):
                starts[last] if last < len(starts) else len(text)]


def _named(words: set[str], names: dict) -> set[int]:
    """The blocks every word of whose name is among ``words``."""
    out: set[int] = set()
    for word in words & names.keys():
        found = names[word]
        if isinstance(found, int):
            out.add(found)
        else:
            out |= _named(words, found)
    return out


def _local_reads(local_words: dict[str, set[str]], names: dict) -> dict[str, set[int]]:
    """For each local: the blocks its value reads, through other locals too."""
    direct = {name: _named(words, names) for name, words in local_words.items()}
    uses = {name: (words & local_words.keys()) - {name} if "local" in words else set()
            for name, words in local_words.items()}
    out = {}
    for name in local_words:
        seen, todo, found = {name}, [name], set()
        while todo:
            current = todo.pop()
            found |= direct[current]
            for other in uses[current] - seen:
                seen.add(other)
                todo.append(other)
        out[name] = found
    return out


def _closure(start: set[int], edges: list[set[int]]) -> set[int]:
    seen, todo = set(start), list(start)
    while todo:
        for j in edges[todo.pop()] - seen:
            seen.add(j)
            todo.append(j)
    return seen


def _line_starts(text: str) -> list[int]:
    return [0, *(m.end() for m in re.finditer("\n", text))]


def _blank_lines(text: str, starts: list[int], spans: list[tuple[int, int]]) -> str:
    """``text`` with lines ``first..last`` (1-based, inclusive) of each span emptied; every line stays."""
    pieces, at = [], 0
    for first, last in sorted(spans):
        begin = starts[first - 1] if first - 1 < len(starts) else len(text)
        end = starts[last] - 1 if last < len(starts) else len(text)  # (the newline ending line ``last`` stays)
        pieces += [text[at:begin], "\n" * (last - first)]
        at = max(at, end)
    pieces.append(text[at:])
    return "".join(pieces)
