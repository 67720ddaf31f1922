"""Row checks beyond the diff: documented values against the model, and the contract checking itself."""

from __future__ import annotations

from typing import Any

from core.contract import Contract, Row, glob_match
from core.findings import Finding, Status
from core.model import EnvModel, is_unknown
from parity.document import DocRow
from parity.engine import entries, rel

_MISSING = object()


def resolve(values: Any, path: str) -> Any:
    """Value at a dotted path; lists of blocks are searched element by element (first hit)."""
    current = values
    for part in path.split("."):
        if isinstance(current, list):
            hits = [resolve(x, part) for x in current if isinstance(x, dict)]
            hits = [h for h in hits if h is not _MISSING]
            if not hits:
                return _MISSING
            current = hits[0] if len(hits) == 1 else hits
            continue
        if not isinstance(current, dict) or part not in current:
            return _MISSING
        current = current[part]
    return current


def _contract_finding(contract: Contract, row: Row, env: str, message: str, line: int) -> Finding:
    return Finding(check=row.id, kind="contract", status=Status.FAIL, env=env, message=message,
                   file=rel(".", contract.path), line=line)


def selector_findings(contract: Contract, row: Row, models: dict[str, EnvModel]) -> list[Finding]:
    """A selector that matches nothing (or names an attribute no matched resource has) guards nothing."""
    out = []
    for sel in row.select:
        for env in sel.envs or tuple(models):
            if env not in models:
                continue
            ents = entries(models[env], contract)
            matched = [a for a in ents if sel.matches_address(a)]
            if not matched:
                out.append(_contract_finding(contract, row, env, f"selector {sel.address!r} matches nothing in "
                                             f"{env}: a rule that selects nothing guards nothing", sel.line))
                continue
            for attr in sel.attributes:
                if "*" in attr:
                    continue
                if all(resolve(ents[a], attr) is _MISSING for a in matched):
                    out.append(_contract_finding(contract, row, env, f"selector {sel.address!r}: no matched resource "
                                                 f"has attribute {attr!r} in {env}", sel.line))
    return out


def _expected(row: Row, text: str) -> Any:
    if row.measure and text in row.measure.map:
        return row.measure.map[text]
    if row.measure and row.measure.unit and text.endswith(row.measure.unit):
        return text[: -len(row.measure.unit)].strip()
    return text


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected or str(actual).lower() == str(expected).lower()
    return str(actual) == str(expected)


def measured(contract: Contract, row: Row, model: EnvModel) -> list[tuple[str, Any, str, int]]:
    """(address, actual value, file, line) of what the row's measure reads in one environment."""
    m = row.measure
    if m is None:
        return []
    if m.kind == "default_tag":
        file, line = model.default_tags_at
        return [("provider.aws", model.default_tags.get(m.attribute, "(no such tag)"),
                 rel(model.root, file) if file else "", line)]
    ents = entries(model, contract)
    matched = sorted(a for a in ents if glob_match(a, m.address))
    where = _where(model, matched[0]) if matched else ("", 0)
    if m.kind == "count":
        return [(m.address, len(matched), *where)]
    if m.kind == "exists":
        return [(m.address, bool(matched), *where)]
    if not matched:
        return [(m.address, "(no such resource)", "", 0)]
    out = []
    for a in matched:
        value = resolve(ents[a], m.attribute)
        out.append((a, "(no such attribute)" if value is _MISSING else value, *_where(model, a)))
    return out


def _where(model: EnvModel, address: str) -> tuple[str, int]:
    if address in model.resources:
        r = model.resources[address]
        return rel(model.root, r.file), r.line
    if address.startswith("var.") and address[4:] in model.variables:
        v = model.variables[address[4:]]
        return rel(model.root, v.file), v.line
    return "", 0


def value_findings(contract: Contract, row: Row, env: str, stated: str, model: EnvModel,
                   check_kind: str, source: str) -> list[Finding]:
    """The row's measured value in ``env`` against the value ``source`` states (``stated``)."""
    expected = _expected(row, stated)
    out = []
    for address, actual, file, line in measured(contract, row, model):
        if is_unknown(actual):
            status, message = Status.FAIL, f"{source} says {stated!r}; the value is only known after apply " \
                                           "(pass a real plan with --plan-json to check it)"
        elif _equal(actual, expected):
            continue
        else:
            status, message = Status.FAIL, f"{source} says {stated!r}, Terraform gives {actual!r}"
        out.append(Finding(check=row.id, kind=check_kind, status=status, env=env, resource=address,
                           attribute=row.measure.attribute if row.measure else "", expected=expected, actual=actual,
                           file=file, line=line, message=message))
    return out


def contract_value_findings(contract: Contract, row: Row, models: dict[str, EnvModel]) -> list[Finding]:
    """Contract <-> Terraform: the values the contract states for the row hold in every environment."""
    out = []
    for env, model in models.items():
        stated = row.values.get(env) if row.table == "different" else row.document.get("Configuration")
        if stated is None or row.measure is None:
            continue
        out += value_findings(contract, row, env, stated, model, "parity", f"contract ({rel('.', contract.path)})")
    return out


def document_findings(contract: Contract, row: Row, doc_rows: list[DocRow], models: dict[str, EnvModel],
                      doc_path: str) -> list[Finding]:
    """Document <-> contract <-> Terraform for one contract row."""
    doc = next((d for d in doc_rows if d.component == row.id and d.table == row.table), None)
    if doc is None:
        return [Finding(check=row.id, kind="document", status=Status.FAIL, env="", file=rel(".", contract.path),
                        line=row.line, message=f"the contract row is not in the {row.table!r} table of {doc_path}")]
    out = []
    where = {"file": rel(".", doc_path), "line": doc.line}
    if row.table == "same":
        stated_cells = {"Configuration": doc.cells.get("Configuration", "")}
        for key, text in stated_cells.items():
            if row.document.get(key) != text:
                out.append(Finding(check=row.id, kind="document", status=Status.FAIL, env="", attribute=key,
                                   expected=text, actual=row.document.get(key), **where,
                                   message=f"the document says {text!r}, the contract {row.document.get(key)!r}"))
        for env, model in models.items():
            if row.measure:
                source = f"the document ({rel('.', doc_path)})"
                out += [_at(f, where) for f in value_findings(contract, row, env, stated_cells["Configuration"],
                                                              model, "document", source)]
        return out
    for env, model in models.items():
        text = doc.value_for(env)
        if text is None:
            out.append(Finding(check=row.id, kind="document", status=Status.FAIL, env=env, **where,
                               message=f"the document's table has no column for environment {env!r}"))
            continue
        if row.values.get(env) != text:
            out.append(Finding(check=row.id, kind="document", status=Status.FAIL, env=env, expected=text,
                               actual=row.values.get(env), **where,
                               message=f"the document says {text!r}, the contract {row.values.get(env)!r}"))
        if row.measure:
            out += [_at(f, where) for f in value_findings(contract, row, env, text, model, "document",
                                                          f"the document ({rel('.', doc_path)})")]
    return out


def _at(f: Finding, where: dict) -> Finding:
    """Document findings point at the document's line, and name the Terraform location in the message."""
    from dataclasses import replace

    tf = f" (Terraform: {f.location})" if f.location else ""
    return replace(f, file=where["file"], line=where["line"], message=f.message + tf)


def uncovered_document_rows(contract: Contract, doc_rows: list[DocRow], doc_path: str) -> list[Finding]:
    """Rows of the document's tables that no contract rule covers."""
    ids = {(r.table, r.id) for r in contract.rows}
    return [Finding(check=d.component, kind="document", status=Status.FAIL, env="", file=rel(".", doc_path),
                    line=d.line, message=f"the document's {d.table!r} table has row {d.component!r} but no contract "
                    f"rule covers it (add it to {contract.path})")
            for d in doc_rows if (d.table, d.component) not in ids]
