"""``show``: what the suite sees. One environment's evaluated model (every address, its values, file:line), or
the difference between two environments, each value as that environment's source writes it.

The difference is the gate's own comparison (``parity.engine``: names normalised, unordered collections as
sets), so what ``show`` lists is exactly what the contract must allow; only the values shown are the raw ones.
Multi-line strings (``user_data``, policies) show only their differing lines, as a unified diff.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.contract import Contract, glob_match
from core.model import EnvModel


def _scalar(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else json.dumps(value)


def _flatten(value: Any, path: str = ""):
    """(path, leaf) pairs; nested blocks and maps are walked, an empty one is a leaf."""
    if isinstance(value, dict) and value:
        for k in sorted(value):
            yield from _flatten(value[k], f"{path}.{k}" if path else str(k))
    elif isinstance(value, list) and value and any(isinstance(v, (dict, list)) for v in value):
        for i, v in enumerate(value):
            yield from _flatten(v, f"{path}[{i}]")
    else:
        yield path, value


def _lines_of(path: str, value: Any, indent: str) -> list[str]:
    if isinstance(value, str) and "\n" in value:
        body = [f"{indent}    {line}" for line in value.rstrip("\n").splitlines()]
        return [f"{indent}{path} = <<EOT", *body, f"{indent}EOT"]
    return [f"{indent}{path} = {_scalar(value)}"]


def _rel(root: str, file: str) -> str:
    full = os.path.normpath(os.path.join(root, file)) if file else ""
    if not full:
        return ""
    relative = os.path.relpath(full)
    return full if relative.startswith("..") else relative


def _variable_at(model: EnvModel, name: str) -> str:
    """Where the variable's value comes from: the last var file that sets it, else its declaration."""
    from core.model import _tfvars_names

    for vf in reversed(model.env.var_files):
        for n, line in _tfvars_names(Path(model.root) / vf):
            if n == name:
                return f"{_rel(model.root, vf)}:{line}"
    v = model.variables[name]
    return f"{_rel(model.root, v.file)}:{v.line}"


def model_text(model: EnvModel, address: str = "") -> str:
    """Every resource, variable and output of one environment with its values and file:line."""
    env = model.env
    out = [f"# {model.name}: workspace {env.workspace}, var files {', '.join(env.var_files) or '(none)'}; "
           f"source {model.source}"]
    for a in sorted(model.resources):
        if address and not glob_match(a, address):
            continue
        r = model.resources[a]
        out.append(f"{a}  ({_rel(model.root, r.file)}:{r.line})")
        for path, value in _flatten(dict(r.values)):
            line = r.line_of(path)
            lines = _lines_of(path, value, "  ")
            if line and line != r.line:
                lines[0] += f"  (line {line})"
            out += lines
    for name in sorted(model.variables):
        if address and not glob_match(f"var.{name}", address):
            continue
        v = model.variables[name]
        out += _lines_of(f"var.{name}", v.value, "")
        out[-1] += f"  ({_variable_at(model, name)})"
    for name in sorted(model.outputs):
        if address and not glob_match(f"output.{name}", address):
            continue
        o = model.outputs[name]
        out += _lines_of(f"output.{name}", o.value, "")
        out[-1] += f"  ({_rel(model.root, o.file)}:{o.line})"
    if not address or glob_match("provider.aws", address):
        out.append(f"provider.aws.default_tags = {_scalar(dict(model.default_tags))}")
    return "\n".join(out) + "\n"


def _unified(ref_name: str, reference: str, other_name: str, other_written: str, other_compared: str) -> list[str]:
    """The lines that differ once names are normalised, shown as each environment writes them."""
    a, b = reference.splitlines(), other_compared.splitlines()
    shown = other_written.splitlines() if len(other_written.splitlines()) == len(b) else b
    out = []
    for group in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_grouped_opcodes(0):
        out.append(f"    @@ {ref_name} line {group[0][1] + 1}, {other_name} line {group[0][3] + 1} @@")
        for op, i1, i2, j1, j2 in group:
            if op == "equal":
                continue
            out += [f"    -{line}" for line in a[i1:i2]] + [f"    +{line}" for line in shown[j1:j2]]
    return out


def diff_text(contract: Contract, first: EnvModel, second: EnvModel, address: str = "") -> str:
    """Every difference between two environments as the gate compares them, with the row that owns it."""
    from parity.engine import EXISTS, Comparison

    if contract.reference in (first.name, second.name):
        ref = first if first.name == contract.reference else second
    else:  # neither is the contract's reference: compare with the second one
        ref, contract = second, replace(contract, reference=second.name)
    other = second if ref is first else first
    comparison = Comparison.build(contract, {ref.name: ref, other.name: other}, [other.name])
    out = [f"# {other.name} against {ref.name} (names normalised as the contract says; values as written)"]
    shown = 0
    for v in comparison.verdicts:
        d = v.diff
        if address and not glob_match(d.address, address):
            continue
        shown += 1
        file, line = comparison.locate(v.env, d.address, d.path)
        where = f"  ({file}:{line})" if file else ""
        verdict = ("allowed by " if v.allowed else "not allowed; row ") + ", ".join(v.rows) if v.rows \
            else "unclaimed: no row covers it"
        if d.path == EXISTS:
            present = ref.name if d.reference == "present" else other.name
            out.append(f"{d.address}: only in {present}{where}  [{verdict}]")
            continue
        written = comparison.as_written(v.env, d)
        out.append(f"{d.address}.{d.path}{where}  [{verdict}]")
        multi = isinstance(d.reference, str) and isinstance(written, str) and \
            ("\n" in d.reference or "\n" in written) and isinstance(d.other, str)
        if multi:
            out.append(f"    --- {ref.name}\n    +++ {other.name}")
            out += _unified(ref.name, d.reference, other.name, written, d.other)
        else:
            out.append(f"    {ref.name}: {_scalar(d.reference) if d.reference is not None else '(not set)'}")
            out.append(f"    {other.name}: {_scalar(written) if written is not None else '(not set)'}")
    if not shown:
        out.append("(no difference)")
    return "\n".join(out) + "\n"
