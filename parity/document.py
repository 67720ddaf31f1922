"""Read the environments document's two tables (the human-readable contract)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from core.errors import SuiteError


@dataclass(frozen=True)
class DocRow:
    table: str  # "same" | "different"
    component: str
    cells: dict[str, str]  # header -> cell text, as written (markup stripped)
    line: int

    def value_for(self, env: str) -> str | None:
        """The different table's cell for an environment (headers matched case-insensitively)."""
        for header, cell in self.cells.items():
            if header.lower() == env.lower():
                return cell
        return None


def _cells(line: str) -> list[str]:
    inner = line.strip().strip("|")
    return [re.sub(r"[*`]", "", c).strip() for c in inner.split("|")]


def read_tables(path: str | Path, envs: list[str]) -> list[DocRow]:
    """Rows of the "same" table (header Component | Configuration | ...) and of the "different" table
    (header Component | <one column per environment> | ...)."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        raise SuiteError("environments document does not exist", path=str(path), hint="pass it with --docs") from None
    rows: list[DocRow] = []
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith("|") and i + 1 < len(lines) and re.match(r"^\s*\|[\s:|-]+\|\s*$", lines[i + 1]):
            header = _cells(lines[i])
            lowered = [h.lower() for h in header]
            table = None
            if lowered and lowered[0] == "component":
                if "configuration" in lowered:
                    table = "same"
                elif all(e.lower() in lowered for e in envs):
                    table = "different"
            j = i + 2
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                if table:
                    cells = _cells(lines[j])
                    if len(cells) != len(header):
                        raise SuiteError(f"table row has {len(cells)} cells, its header {len(header)}",
                                         path=str(path), line=j + 1, hint="fix the Markdown table")
                    rows.append(DocRow(table, cells[0], dict(zip(header, cells, strict=True)), j + 1))
                j += 1
            i = j
        else:
            i += 1
    if not any(r.table == "same" for r in rows) or not any(r.table == "different" for r in rows):
        raise SuiteError("no 'Component | Configuration' and 'Component | <environments>' tables found",
                         path=str(path), hint="keep the document's two tables")
    return rows


# --------------------------------------------------------------------------- claims in the prose

_INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _contract_table_lines(lines: list[str]) -> set[int]:
    """Lines (1-based) of the tables the contract's rows and the cost guard read (headers Component / Item)."""
    out: set[int] = set()
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith("|") and _cells(lines[i])[0].lower() in ("component", "item"):
            j = i
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                out.add(j + 1)
                j += 1
            i = j
        else:
            i += 1
    return out


def candidates(path: str | Path) -> list[tuple[str, int]]:
    """What the document's prose states in code: each inline code span and each line of a fenced block (a command),
    with its line; the rows of the contract's tables are left out (the rows check those)."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError:
        raise SuiteError("environments document does not exist", path=str(path), hint="pass it with --docs") from None
    skip = _contract_table_lines(lines)
    out: list[tuple[str, int]] = []
    fenced = False
    for n, line in enumerate(lines, 1):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            text = line.strip()
            if text and not text.startswith("#"):
                out.append((text, n))
            continue
        if n in skip:
            continue
        out += [(m.group(1).strip(), n) for m in _INLINE.finditer(line) if m.group(1).strip()]
    return out
