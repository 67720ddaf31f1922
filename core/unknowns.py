"""Values tfparse cannot be trusted with, re-evaluated from the source text.

tfparse returns a template with one part known only after apply as its raw source text (the same
in every environment), ``null`` for ``templatefile()``, and fresh random values for ``uuid()``,
``timestamp()`` and ``random_*`` results. Here such a value is evaluated again from what is written:
the known parts (variables, locals, workspace, ``count.index``/``each``, configured attributes of
other resources) are evaluated, the unknown parts are kept as ``${<address>.<attr>}`` references and
whatever cannot be evaluated stays as its expression with the known inputs substituted. So two
environments compare equal only if what the value is computed from is equal; never a random value.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import hcl
from core.errors import SuiteError

NONDETERMINISTIC = re.compile(r"(?<![\w.])(uuid|timestamp|plantimestamp|bcrypt)\s*\(")
_TEMPLATEFILE = re.compile(r"(?<![\w.])templatefile\s*\(")
_RAW_REF = re.compile(r"\$\{\s*~?\s*(var|local|data|each|count|module|path|terraform|self)\.")
_STEP = re.compile(r"\.([^\W\d][\w-]*|\d+|\*)|\[([^\[\]]*)\]")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class _Unresolved:
    """A name this evaluator cannot resolve (a ``for`` variable, a function's local name)."""


UNRESOLVED = _Unresolved()


def marker(reference: str) -> str:
    return "${" + reference + "}"


def _literal(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _flat(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Scope:
    """What an expression in one place can see."""

    variables: Mapping[str, Any]
    local_exprs: Mapping[str, tuple[str, Any]]  # name -> (expression, tfparse's value)
    workspace: str
    resource_values: Callable[[str], Mapping[str, Any] | None]  # instance address -> its values
    tf_dir: Path
    instance: Mapping[str, Any] = field(default_factory=dict)  # count.index / each.key / each.value
    template_vars: Mapping[str, Any] | None = None  # inside templatefile(): only its variables
    bindings: Mapping[str, Any] = field(default_factory=dict)  # names a `for` of a template binds
    _locals: dict[str, Any] = field(default_factory=dict)
    _busy: set[str] = field(default_factory=set)
    raw_literals: set[str] = field(default_factory=set)  # UUID-like text written in the source

    def with_instance(self, instance: Mapping[str, Any]) -> Scope:
        s = Scope(self.variables, self.local_exprs, self.workspace, self.resource_values, self.tf_dir, instance)
        s._locals, s.raw_literals = self._locals, self.raw_literals
        return s

    def bind(self, names: Mapping[str, Any]) -> Scope:
        return dataclasses.replace(self, bindings={**self.bindings, **names})

    def local(self, name: str) -> Any:
        if name in self._locals:
            return self._locals[name]
        if name not in self.local_exprs or name in self._busy:
            return UNRESOLVED
        self._busy.add(name)
        expr, value = self.local_exprs[name]
        base = self.with_instance({})
        base._busy = self._busy
        fixed = fix(value, expr, base)
        self._busy.discard(name)
        self._locals[name] = fixed
        return fixed


# --------------------------------------------------------------------------- when tfparse is wrong


@functools.lru_cache(maxsize=1 << 17)
def _random(expr: str) -> bool:
    """Whether ``expr`` calls uuid()/timestamp()/bcrypt() or reads a random_* resource (the text alone says)."""
    return bool(NONDETERMINISTIC.search(expr)) or any(t.split(".", 1)[0].startswith("random_")
                                                      for _, _, t in hcl.traversals(expr))


def suspicious(value: Any, expr: str, ids: Mapping[str, str], scope: Scope) -> bool:
    """Whether tfparse's ``value`` for ``expr`` cannot be trusted."""
    if _random(expr):
        return True
    if value is None or (isinstance(value, list) and value and all(v is None for v in value)):
        return expr.strip() != "null"
    if "null" not in expr and _has_null(value):
        return True  # tfparse writes null for a value it could not evaluate inside a collection
    return _raw_or_unmapped(value, ids, scope)


def _has_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, list):
        return any(_has_null(v) for v in value)
    if isinstance(value, dict):
        return "__attribute__" not in value and any(_has_null(v) for v in value.values())
    return False


def _raw_or_unmapped(value: Any, ids: Mapping[str, str], scope: Scope) -> bool:
    if isinstance(value, str):
        if "${" in value and _RAW_REF.search(value):
            return True
        return value.count("-") >= 4 and any(u not in ids and u not in scope.raw_literals
                                             for u in UUID.findall(value))
    if isinstance(value, list):
        return any(_raw_or_unmapped(v, ids, scope) for v in value)
    if isinstance(value, dict):
        if "__attribute__" in value:
            return True  # tfparse could not evaluate it: it may still be known (a local, a template)
        return any(_raw_or_unmapped(v, ids, scope) for v in value.values())
    return False


def fix(value: Any, expr: str, scope: Scope, ids: Mapping[str, str] | None = None,
        convert: Callable[[Any], Any] | None = None) -> Any:
    """tfparse's ``value`` of ``expr`` (through ``convert``) where it can be trusted, else the value evaluated
    from source. When only a part of a structured value is wrong (a null or a raw template inside a map),
    the structure is kept and only that part is replaced."""
    ids, convert = ids or {}, convert or (lambda v: v)
    if not suspicious(value, expr, ids, scope):
        return convert(value)
    rendered = render(expr, scope)
    structured = (isinstance(value, list) and not all(v is None for v in value)) or \
        (isinstance(value, dict) and "__attribute__" not in value)
    if structured and _is_marker(rendered) and not _random(expr):
        return _repair(value, rendered, scope, ids, convert)
    return rendered


def _is_marker(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("${") and value.endswith("}")


def _repair(value: Any, whole: str, scope: Scope, ids: Mapping[str, str], convert) -> Any:
    if value is None:
        return whole
    if isinstance(value, str):
        if _RAW_REF.search(value):
            return render_template(value, scope)  # tfparse's raw source text of a template
        if any(u not in ids and u not in scope.raw_literals for u in UUID.findall(value)):
            return whole
        return convert(value)
    if isinstance(value, dict):
        if "__attribute__" in value:
            return render(str(value["__attribute__"]).replace(".[", "["), scope)
        return {k: _repair(v, whole, scope, ids, convert) for k, v in value.items() if k not in ("__tfmeta", "id")}
    if isinstance(value, list):
        return [_repair(v, whole, scope, ids, convert) for v in value]
    return value


# --------------------------------------------------------------------------- evaluation


def render(expr: str, scope: Scope) -> Any:
    """The value of ``expr``: evaluated where its inputs are known, else a deterministic marker."""
    try:
        return _render(expr, scope)
    except hcl.HclSyntaxError:  # a piece this reader cannot split: still an honest, deterministic unknown
        return marker(_flat(expr))


def _render(expr: str, scope: Scope) -> Any:
    t = hcl.strip_comments(expr).strip()
    body = hcl.unquote(t)
    if body is not None:
        return render_template(body, scope)
    if t in ("true", "false"):
        return t == "true"
    if t == "null":
        return None
    if _NUMBER.fullmatch(t):
        return json.loads(t)
    if t.startswith("(") and t.endswith(")") and len(hcl.split_top(t[1:-1], ")")) == 1:
        return render(t[1:-1], scope)
    refs = hcl.traversals(t)
    if len(refs) == 1 and refs[0][0] == 0 and refs[0][1] == len(t):
        value = resolve(t, scope)
        return marker(substitute(t, scope)) if value is UNRESOLVED else value
    if _TEMPLATEFILE.match(t) and t.endswith(")"):
        return templatefile(t[t.index("(") + 1:-1], scope)
    call = _call(t, scope)
    if call is not UNRESOLVED:
        return call
    cond = _conditional(t, scope)
    if cond is not UNRESOLVED:
        return cond
    if t.startswith("{") and t.endswith("}") and not re.match(r"\{\s*for\s", t):
        return _object(t[1:-1], scope)
    if t.startswith("[") and t.endswith("]") and not re.match(r"\[\s*for\s", t):
        items = [i for i in hcl.split_top(t[1:-1], ",") if i.strip()]
        return [render(i, scope) for i in items]
    return marker(substitute(t, scope))


def _jsonencode(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _format(spec: str, *args: Any) -> str:
    values = iter(args)
    return re.sub(r"%[sdvq%]", lambda m: "%" if m.group(0) == "%%" else str(next(values)), spec)


# Pure functions Terraform evaluates before apply, applied here when every argument is known.
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "upper": str.upper, "lower": str.lower, "trimspace": str.strip, "tostring": str,
    "join": lambda sep, *lists: sep.join(str(x) for lst in lists for x in lst),
    "length": len, "concat": lambda *lists: [x for lst in lists for x in lst],
    "lookup": lambda m, k, *d: m[k] if k in m else (d[0] if d else UNRESOLVED),
    "replace": lambda text, old, new: text.replace(old, new) if not (old.startswith("/") and old.endswith("/"))
    else UNRESOLVED,
    "format": _format, "coalesce": lambda *xs: next((x for x in xs if x not in (None, "")), UNRESOLVED),
    "jsonencode": _jsonencode, "min": min, "max": max, "tolist": list, "toset": lambda xs: sorted(set(xs)),
    "merge": lambda *maps: {k: v for m in maps for k, v in m.items()},
    "startswith": str.startswith, "endswith": str.endswith, "contains": lambda xs, x: x in xs,
    "keys": lambda m: sorted(m), "values": lambda m: [m[k] for k in sorted(m)],
    "flatten": lambda xs: [y for x in xs for y in (x if isinstance(x, list) else [x])],
}
# These only move values around: an argument may hold values known after apply, not be one.
STRUCTURAL = {"merge", "concat", "flatten", "tolist", "lookup", "length"}


def _call(t: str, scope: Scope) -> Any:
    m = re.match(r"([a-z][a-z0-9_]*)\s*\(", t)
    if not m or m.group(1) not in FUNCTIONS or not t.endswith(")"):
        return UNRESOLVED
    inner = t[m.end():-1]
    if len(hcl.split_top(inner, ")")) != 1:
        return UNRESOLVED
    args = [render(a, scope) for a in hcl.split_top(inner, ",") if a.strip()]
    if m.group(1) in STRUCTURAL:
        if any(_is_marker(a) or a is UNRESOLVED for a in args) or (m.group(1) == "lookup" and _uncertain(args[1:])):
            return UNRESOLVED
    elif any(_uncertain(a) for a in args):
        return UNRESOLVED
    try:
        value = FUNCTIONS[m.group(1)](*args)
    except (TypeError, ValueError, KeyError, StopIteration, AttributeError):
        return UNRESOLVED
    return value


def _uncertain(value: Any) -> bool:
    if isinstance(value, str):
        return "${" in value or value == UNRESOLVED
    if isinstance(value, list):
        return any(_uncertain(v) for v in value)
    if isinstance(value, dict):
        return any(_uncertain(v) for v in value.values())
    return value is UNRESOLVED


def _object(inner: str, scope: Scope) -> Any:
    out = {}
    for item in hcl.split_top(inner, ",\n"):
        if not item.strip() or item.strip().startswith(("#", "//")):
            continue
        kv = hcl.split_top(item, "=:")
        if len(kv) < 2:
            return marker(substitute("{" + inner + "}", scope))
        key, val = kv[0].strip(), item[len(kv[0]) + 1:]
        key = hcl.unquote(key) if key.startswith('"') else key
        if key is None or not re.fullmatch(r"[^\W\d][\w-]*|[^${}]*", key):
            return marker(substitute("{" + inner + "}", scope))
        out[key] = render(val, scope)
    return out


def _conditional(t: str, scope: Scope) -> Any:
    pieces = hcl.split_top(t, "?")
    if len(pieces) != 2:
        return UNRESOLVED
    branches = hcl.split_top(pieces[1], ":")
    if len(branches) != 2:
        return UNRESOLVED
    cond = _truth(pieces[0], scope)
    if cond is UNRESOLVED:
        return UNRESOLVED
    return render(branches[0] if cond else branches[1], scope)


def _truth(text: str, scope: Scope) -> Any:
    """A condition's value where every operand is known (``&&``, ``||``, ``!``, comparisons), else UNRESOLVED."""
    text = text.strip()
    for op in ("||", "&&", "==", "!=", ">=", "<=", ">", "<"):
        at = _find_top(text, op)
        if at < 0:
            continue
        left, right = text[:at], text[at + len(op):]
        if op in ("||", "&&"):
            a, b = _truth(left, scope), _truth(right, scope)
            if a is UNRESOLVED or b is UNRESOLVED:
                return UNRESOLVED
            return (a or b) if op == "||" else (a and b)
        a, b = render(left, scope), render(right, scope)
        if _uncertain(a) or _uncertain(b):
            return UNRESOLVED
        if op in ("==", "!="):
            return (a == b) if op == "==" else (a != b)
        if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in (a, b)):
            return UNRESOLVED
        return {">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b}[op]
    if text.startswith("!"):
        value = _truth(text[1:], scope)
        return UNRESOLVED if value is UNRESOLVED else not value
    value = render(text, scope)
    return value if isinstance(value, bool) else UNRESOLVED


def _find_top(text: str, op: str) -> int:
    """Index of the first ``op`` outside brackets and strings (not part of a longer operator), or -1."""
    try:
        code = hcl._mask_strings(text)
    except hcl.HclSyntaxError:
        return -1
    depth = 0
    for i, c in enumerate(code):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0 and code.startswith(op, i):
            before, after = code[i - 1:i], code[i + len(op):i + len(op) + 1]
            if len(op) == 1 and (after == "=" or (before in "=<>!" and before)):
                continue
            if op in (">", ">=") and before == "=":
                continue  # "=>" of a for expression
            return i
    return -1


def render_template(body: str, scope: Scope) -> str:
    text, _i, _stop = _parts(hcl.template_parts(body), 0, scope, ())
    return text


def _parts(parts: list, i: int, scope: Scope, stops: tuple[str, ...]) -> tuple[str, int, str]:
    """Render ``parts[i:]`` up to a directive in ``stops``; returns (text, index after it, that directive)."""
    out = ""
    while i < len(parts):
        kind, text = parts[i]
        i += 1
        if kind == "lit":
            out += text
        elif kind == "interp":
            out += _interp(text, scope)
        else:
            word = text.split(None, 1)[0] if text.split() else ""
            if word in stops:
                return out, i, word
            if word == "for":
                rendered, i = _for(text, parts, i, scope)
                out += rendered
            elif word == "if":
                rendered, i = _if(text, parts, i, scope)
                out += rendered
            else:
                out += "%{" + substitute(text, scope) + "}"
    return out, i, ""


def _interp(text: str, scope: Scope) -> str:
    value = render(text, scope)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    if value is None:
        return marker("null")
    return marker(substitute(text, scope))


def _for(directive: str, parts: list, i: int, scope: Scope) -> tuple[str, int]:
    m = re.fullmatch(r"for\s+([^\W\d][\w-]*)(?:\s*,\s*([^\W\d][\w-]*))?\s+in\s+(.+)", directive, re.S)
    start = i
    _body, end, _stop = _parts(parts, i, scope, ("endfor",))  # where the loop ends (rendered again below)
    collection = render(m.group(3), scope) if m else UNRESOLVED
    if isinstance(collection, dict):
        pairs = sorted(collection.items())
    elif isinstance(collection, list):
        pairs = list(enumerate(collection))
    else:
        return "%{" + substitute(directive, scope) + "}" + _body + "%{endfor}", end
    out = ""
    for key, value in pairs:
        names = {m.group(2): value, m.group(1): key} if m.group(2) else {m.group(1): value}
        text, _e, _s = _parts(parts, start, scope.bind(names), ("endfor",))
        out += text
    return out, end


def _if(directive: str, parts: list, i: int, scope: Scope) -> tuple[str, int]:
    then, i, stop = _parts(parts, i, scope, ("else", "endif"))
    other = ""
    if stop == "else":
        other, i, _stop = _parts(parts, i, scope, ("endif",))
    cond = _truth(directive[2:], scope)
    if cond is UNRESOLVED:
        return "%{" + substitute(directive, scope) + "}" + then + ("%{else}" + other if stop == "else" else "") + \
            "%{endif}", i
    return (then if cond else other), i


def templatefile(args: str, scope: Scope) -> Any:
    parts = hcl.split_top(args, ",")
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2].strip()):
        return marker("templatefile(" + substitute(args, scope) + ")")
    path = render(parts[0], scope)
    variables = render(parts[1], scope)
    if not isinstance(path, str) or path.startswith("${") or not isinstance(variables, dict):
        return marker("templatefile(" + substitute(args, scope) + ")")
    file = (scope.tf_dir / path).resolve()
    if not file.is_file():
        raise SuiteError(f"templatefile(): no file {path!r}", path=str(scope.tf_dir),
                         hint="Terraform rejects this too: create the template or fix its path")
    inner = Scope({}, {}, scope.workspace, lambda _a: None, file.parent, template_vars=variables)
    inner.raw_literals = scope.raw_literals
    return render_template(file.read_text(encoding="utf-8"), inner)


def resolve(text: str, scope: Scope) -> Any:
    """The value of one traversal, a ``${...}`` marker when only known after apply, or UNRESOLVED."""
    m = re.match(r"[^\W\d][\w-]*", text)
    root, steps = m.group(0), _steps(text[m.end():], scope)
    if steps is None:
        return UNRESOLVED
    if root in scope.bindings:
        return _index(scope.bindings[root], steps)
    if scope.template_vars is not None:
        return _index(scope.template_vars.get(root, UNRESOLVED), steps) if root in scope.template_vars \
            else UNRESOLVED
    if root == "var" and steps and steps[0] in scope.variables:
        if scope.variables[steps[0]] is None:  # not set (no default, no var file): known only when run
            return marker(_canonical(text, scope))
        return _index(scope.variables[steps[0]], steps[1:])
    if root == "local" and steps:
        return _index(scope.local(str(steps[0])), steps[1:])
    if root == "terraform" and steps == ["workspace"]:
        return scope.workspace
    if root == "path" and steps and steps[0] in ("module", "root"):
        return "."
    if root in ("count", "each"):
        key = f"{root}.{steps[0]}" if steps else root
        return _index(scope.instance[key], steps[1:]) if key in scope.instance else UNRESOLVED
    if root in ("self", "module"):
        return marker(_canonical(text, scope)) if root == "module" else UNRESOLVED
    mode_steps = steps[1:] if root == "data" else steps
    if not mode_steps or not isinstance(mode_steps[0], str):
        return UNRESOLVED
    rtype = mode_steps[0] if root == "data" else root
    if "_" not in rtype and root != "data":
        return UNRESOLVED  # a for variable or another local name, not a resource
    base = ("data." if root == "data" else "") + f"{rtype}.{mode_steps[0] if root != 'data' else mode_steps[1]}"
    rest = mode_steps[1:] if root != "data" else mode_steps[2:]
    address = base
    if rest and isinstance(rest[0], int | _Key):
        address += f"[{rest[0]}]" if isinstance(rest[0], int) else f'["{rest[0]}"]'
        rest = rest[1:]
    if rtype.startswith("random_"):
        return marker(_canonical(text, scope))
    values = scope.resource_values(address)
    if values is not None and rest and isinstance(rest[0], str) and rest[0] in values:
        known = _index(values[rest[0]], rest[1:])
        if known is not UNRESOLVED and known is not None:
            return known
    return marker(_canonical(text, scope))


class _Key(str):
    """A string index (``["k"]``), as opposed to an attribute name."""


def _steps(text: str, scope: Scope) -> list | None:
    steps: list = []
    pos = 0
    for m in _STEP.finditer(text):
        if m.start() != pos:
            return None
        pos = m.end()
        if m.group(1) is not None:
            steps.append(int(m.group(1)) if m.group(1).isdigit() else m.group(1))
            continue
        inner = m.group(2).strip()
        if inner == "*":
            steps.append("*")
            continue
        value = render(inner, scope)
        if isinstance(value, bool) or not isinstance(value, int | str) or (isinstance(value, str)
                                                                          and value.startswith("${")):
            return None
        steps.append(value if isinstance(value, int) else _Key(value))
    return steps if pos == len(text) else None


def _index(value: Any, steps: list) -> Any:
    for step in steps:
        if value is UNRESOLVED or step == "*":
            return UNRESOLVED
        if isinstance(value, dict) and str(step) in value:
            value = value[str(step)]
        elif isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
            value = value[step]
        else:
            return UNRESOLVED
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return value  # already a marker
    return value


def _canonical(text: str, scope: Scope) -> str:
    """A reference with its index expressions evaluated (``aws_x.y[count.index].id`` -> ``aws_x.y[0].id``)."""
    def index(m: re.Match) -> str:
        inner = m.group(1).strip()
        if inner == "*":
            return "[*]"
        value = render(inner, scope)
        if isinstance(value, int) and not isinstance(value, bool):
            return f"[{value}]"
        if isinstance(value, str) and not value.startswith("${"):
            return f"[{_literal(value)}]"
        return f"[{_flat(inner)}]"
    return re.sub(r"\[([^\[\]]*)\]", index, text)


def substitute(expr: str, scope: Scope) -> str:
    """``expr`` with every reference whose value is known replaced by that value (as a literal) and
    every reference known only after apply written canonically; whitespace normalised."""
    try:
        expr = hcl.strip_comments(expr)
        found = hcl.traversals(expr)
    except hcl.HclSyntaxError:
        return _flat(expr)
    out = expr
    for start, end, text in reversed(found):
        value = resolve(text, scope)
        if value is UNRESOLVED:
            continue
        if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
            out = out[:start] + value[2:-1] + out[end:]
        else:
            out = out[:start] + _literal(value) + out[end:]
    return _flat(out)


def fold(text: str) -> str:
    """``(true ? a : b)`` -> ``a`` and ``(false ? a : b)`` -> ``b`` wherever a condition is a literal."""
    changed = True
    while changed:
        changed = False
        for m in re.finditer(r"\(", text):
            depth, j = 0, m.start()
            for j in range(m.start(), len(text)):
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                if depth == 0:
                    break
            inner = text[m.start() + 1:j]
            try:
                pieces = hcl.split_top(inner, "?")
            except hcl.HclSyntaxError:
                continue  # a parenthesis inside a string: not a group

            truth = _literal_truth(pieces[0]) if len(pieces) == 2 else None
            if truth is not None:
                branches = hcl.split_top(pieces[1], ":")
                if len(branches) == 2:
                    chosen = branches[0] if truth else branches[1]
                    text = text[:m.start()] + "(" + chosen.strip() + ")" + text[j + 1:]
                    changed = True
                    break
    return text


def _literal_truth(text: str) -> bool | None:
    """``true``, ``false``, or a comparison of two literals; None for anything else."""
    text = text.strip()
    if text in ("true", "false"):
        return text == "true"
    lit = r'("(?:[^"\\]|\\.)*"|-?[\d.]+|true|false|null)'
    m = re.fullmatch(lit + r"\s*(==|!=)\s*" + lit, text)
    if not m:
        return None
    try:
        a, b = json.loads(m.group(1)), json.loads(m.group(3))
    except json.JSONDecodeError:
        return None
    return (a == b) if m.group(2) == "==" else (a != b)


_NOT_RESOURCES = {"var", "local", "each", "count", "path", "terraform", "self"}


def depends_on_resources(text: str) -> bool:
    """Whether an expression refers to a resource, data source or module (values known after apply)."""
    iterators = {n for m in re.finditer(r"\bfor\s+([^\W\d][\w-]*)(?:\s*,\s*([^\W\d][\w-]*))?\s+in\b", text)
                 for n in m.groups() if n}
    try:
        found = hcl.traversals(text)
    except hcl.HclSyntaxError:
        return True  # cannot tell: say unknown, never "empty"
    for _s, _e, t in found:
        root = t.split(".", 1)[0].split("[", 1)[0]
        if root in _NOT_RESOURCES or root in iterators or "." not in t:
            continue
        return True
    return False
