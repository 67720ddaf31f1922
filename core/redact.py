"""Redaction by taint: a secret, and anything derived from it, never reaches a finding, a message or a report.

A value is secret when it comes from a sensitive variable or output, from an attribute AWS treats as secret
(``SECRET_ATTRIBUTES``, data), or when it is a literal the secret rules flag (``source_literals``). Every string
of a model that contains a secret (or an obvious derivation of it: base64, hex digests, JSON escaping) becomes a
``Secret``: a ``str`` whose text is the fixed marker ``SENSITIVE`` and which compares with another ``Secret`` by an
HMAC with a per-process key, so that "differs between environments (values hidden)" is still detected. The raw
value is never stored in a ``Secret`` and its digest is never rendered: ``str()``, ``repr()``, ``json.dumps()`` and
f-strings all give the marker.

Defence in depth: every raw secret seen is registered in this process, and ``scrub()`` removes them (and their
derivations) from any text a writer is about to print.
"""

from __future__ import annotations

import base64
import fnmatch
import functools
import hashlib
import hmac
import json
import os
import re
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

SENSITIVE = "(sensitive value)"
HIDDEN = "values hidden"
_KEY_VAR = "CODEDETECT_REDACT_KEY"


def _run_key() -> bytes:
    """The HMAC key of this run: random, shared with the processes the run starts (models evaluated in worker
    processes compare with each other), gone with the run; digests are compared, never rendered."""
    if not os.environ.get(_KEY_VAR):
        os.environ[_KEY_VAR] = os.urandom(32).hex()
    return bytes.fromhex(os.environ[_KEY_VAR])


_KEY = _run_key()
MIN_SUBSTRING = 6  # shorter secrets are redacted where they are the whole value, not inside other strings

# Attributes AWS (and the providers) treat as secret: <resource type>.<attribute>, shell-style globs.
SECRET_ATTRIBUTES = (
    "aws_db_instance.password",
    "aws_rds_cluster.master_password",
    "aws_docdb_cluster.master_password",
    "aws_redshift_cluster.master_password",
    "aws_elasticache_replication_group.auth_token",
    "aws_mq_broker.user.password",
    "aws_secretsmanager_secret_version.secret_string",
    "aws_secretsmanager_secret_version.secret_binary",
    "aws_iam_access_key.secret",
    "aws_iam_access_key.ses_smtp_password_v4",
    "aws_iam_user_login_profile.password",
    "aws_opensearch_domain.advanced_security_options.master_user_options.master_user_password",
    "aws_lightsail_instance.key_pair",
    "tls_private_key.private_key*",  # its private_key_pem, _openssh, _pem_pkcs8 (not algorithm = "RSA")
    "random_password.result",
    "random_password.bcrypt_hash",
    "*.token",
    "*.auth_token",
    "*.private_key",
    "*.private_key_pem",
    "*.secret",
)
# Names of attributes, variables and keys that hold a secret (the secret rules flag their literals).
SECRET_NAME = re.compile(r"(?i)^(?!creation_token$)(.*[_-])?(password|passwd|pwd|secret|secrets|token|private_key|"
                         r"passwords|secret_key|api_key|access_key_secret)$")
ACCESS_KEY = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")
PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
_PEM_BLOCK = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----.*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|\Z)",
                        re.S)
# key = value / key: value / KEY=value, the key named like a secret (in scripts, templates, heredocs, var files)
_ASSIGN = re.compile(r"""(?ix)(?P<key>[A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|private_key|api_key)
                         [A-Za-z0-9_]*)["']?\s*(?:=|:)\s*(?P<rest>.*)""")
_A_VALUE = Path("value")  # a model's string, scanned as a value (not as HCL)
# What every match of _ASSIGN, _PEM_BLOCK or ACCESS_KEY contains: text without any holds no secret literal.
_MAYBE_SECRET = re.compile(r"(?i:password|passwd|pwd|secret|token|private_key|api_key)|-----BEGIN |AKIA|ASIA")
_QUOTED = re.compile(r'"((?:[^"\\$]|\\.){4,})"|\'([^\'\n$]{4,})\'')
_BARE = re.compile(r"^([^\s\"'$#,;{}()\[\]<>]{4,})")
_EXPRESSION = re.compile(r"^(?:var|local|module|data|each|count|path|terraform|self|[a-z][a-z0-9]*_[a-z0-9_]+)\.|"
                         r"^(?:true|false|null|[0-9.]+)$|^[a-z_]+\(")


class Secret(str):
    """A secret value inside the model: prints as ``SENSITIVE``; equal to another Secret iff the values are."""

    __slots__ = ("_digest",)

    def __new__(cls, raw: Any) -> Secret:
        self = super().__new__(cls, SENSITIVE)
        text = raw if isinstance(raw, str) else json.dumps(raw, sort_keys=True, default=str)
        self._digest = hmac.new(_KEY, text.encode(), hashlib.sha256).digest()
        return self

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return hmac.compare_digest(self._digest, other._digest)
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__  # equal secrets hash alike (every Secret hashes as the marker)

    def __repr__(self) -> str:
        return repr(SENSITIVE)

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict) -> Secret:
        return self

    def __reduce__(self):  # a model evaluated in a worker process comes back with its secrets comparable
        return _restore, (self._digest,)


def combined(items: list) -> Secret:
    """One Secret for a list holding secrets: compared as a whole, by the values and secrets it holds."""
    def part(v: Any) -> Any:
        if isinstance(v, Secret):
            return ["secret", v._digest.hex()]  # only ever fed to the HMAC below, in memory
        if isinstance(v, dict):
            return {k: part(x) for k, x in v.items()}
        if isinstance(v, list):
            return [part(x) for x in v]
        return v

    return Secret(json.dumps(part(items), sort_keys=True, default=str))


def _restore(digest: bytes) -> Secret:
    self = str.__new__(Secret, SENSITIVE)
    self._digest = digest
    return self


def is_secret(value: Any) -> bool:
    return isinstance(value, Secret) or value == SENSITIVE


def any_secret(*values: Any) -> bool:
    """Whether any of ``values`` is, or holds, a secret."""
    for v in values:
        if is_secret(v):
            return True
        if isinstance(v, dict) and any_secret(*v.values()):
            return True
        if isinstance(v, (list, tuple)) and any_secret(*v):
            return True
    return False


# ------------------------------------------------------------------------------------------ the registry

_registered: set[str] = set()


def derivations(secret: str) -> set[str]:
    """The secret and what Terraform's functions obviously make of it (base64, digests, JSON/URL escaping)."""
    raw = secret.encode()
    forms = {secret, json.dumps(secret)[1:-1], urllib.parse.quote(secret, safe=""),
             base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()}
    for algo in ("md5", "sha1", "sha256", "sha512"):
        digest = hashlib.new(algo, raw)
        forms |= {digest.hexdigest(), base64.b64encode(digest.digest()).decode()}
    return {f for f in forms if f}


def register(secrets: Iterable[str]) -> set[str]:
    """Remember raw secrets for ``scrub`` (in memory only); returns their derivations."""
    forms: set[str] = set()
    for s in secrets:
        if isinstance(s, str) and s and s != SENSITIVE:
            forms |= derivations(s)
    _registered.update(forms)
    return forms


def scrub(text: str) -> str:
    """``text`` with every registered secret (and derivation) replaced by the marker."""
    if not isinstance(text, str) or not _registered:
        return text
    for form in sorted(_registered, key=len, reverse=True):
        if form in text and (len(form) >= MIN_SUBSTRING or text == form):
            text = text.replace(form, SENSITIVE)
    return text


def scrub_value(value: Any) -> Any:
    if isinstance(value, Secret):
        return value
    if isinstance(value, str):
        cleaned = scrub(value)
        return Secret(value) if cleaned != value else value
    if isinstance(value, list):
        return [scrub_value(v) for v in value]
    if isinstance(value, tuple):
        return tuple(scrub_value(v) for v in value)
    if isinstance(value, dict):
        return {k: scrub_value(v) for k, v in value.items()}
    return value


def scrub_finding(f):
    """A finding with no registered secret in any field (defence in depth for the writers)."""
    return replace(f, expected=scrub_value(f.expected), actual=scrub_value(f.actual), message=scrub(f.message),
                   resource=scrub(f.resource), attribute=scrub(f.attribute))


# ------------------------------------------------------------------------------------------ literals in files


def source_literals(path: Path, text: str) -> Iterator[tuple[int, str, str]]:
    """(line, secret value, what) for every secret literal in one file's raw text (``_literals``); a text with
    none of the words, PEM header or key id prefix that each of its matches needs is not scanned line by line."""
    return _literals(path, text) if _MAYBE_SECRET.search(text) else iter(())


def _literals(path: Path, text: str) -> Iterator[tuple[int, str, str]]:
    """(line, secret value, what) for every secret literal in one file's raw text.

    Access key ids, private keys, and values assigned to names like a secret: ``password = "..."`` (HCL, JSON,
    var files), ``DB_PASSWORD=...`` (heredocs, scripts, templates), literal branches of a conditional
    (``password = x ? "a" : "b"``) and literals inside a map or list assigned to such a name.
    """
    hcl = path.name.endswith((".tf", ".tfvars", ".tf.json", ".tfvars.json", ".hcl"))
    prose = path.suffix.lower() in (".md", ".rst", ".txt", ".adoc")  # only quoted values: "token: required" is prose
    for m in _PEM_BLOCK.finditer(text):
        yield text.count("\n", 0, m.start()) + 1, m.group(0).strip(), "a private key"
    heredoc: str | None = None
    open_secret_depth: int | None = None  # inside `name = {` / `[` of a secret-named key: its depth
    depth = 0
    for n, line in enumerate(text.splitlines(), 1):
        code = line
        for m in ACCESS_KEY.finditer(line):
            yield n, m.group(0), "an AWS access key id"
        if heredoc is not None:
            if line.strip() == heredoc:
                heredoc = None
                continue
            yield from _assignments(n, line, bare=True)
            continue
        here = re.search(r"<<-?\s*([A-Za-z_]+)\s*$", line)
        if hcl and here:
            heredoc = here.group(1)
            code = line[: here.start()]
        if open_secret_depth is not None:
            for m in _QUOTED.finditer(re.sub(r'^\s*"?[A-Za-z0-9_-]+"?\s*[=:]\s*', "", code)):
                value = m.group(1) or m.group(2)
                if "${" not in value:
                    yield n, _unescape(value), "a literal inside a secret-named value"
        else:
            yield from _assignments(n, code, bare=not hcl and not prose)
            m = _ASSIGN.search(code)
            if m and re.match(r"\s*[{\[]\s*$", m.group("rest")) and SECRET_NAME.search(_key(m.group("key"))):
                open_secret_depth = depth
        depth += code.count("{") + code.count("[") - code.count("}") - code.count("]")
        if open_secret_depth is not None and depth <= open_secret_depth:
            open_secret_depth = None


def _key(key: str) -> str:
    return key.strip("\"'").rsplit(".", 1)[-1]


def _unescape(value: str) -> str:
    try:
        return json.loads(f'"{value}"')
    except ValueError:
        return value


def _assignments(n: int, line: str, bare: bool) -> Iterator[tuple[int, str, str]]:
    for m in _ASSIGN.finditer(line):
        if not SECRET_NAME.search(_key(m.group("key"))):
            continue
        rest = m.group("rest").strip().rstrip(",;")
        quoted = list(_QUOTED.finditer(rest))
        if quoted and quoted[0].start() == 0:  # key = "literal"
            value = quoted[0].group(1) or quoted[0].group(2)
            if "${" not in value:
                yield n, _unescape(value), f"a literal {_key(m.group('key'))}"
        elif "?" in rest:  # key = cond ? "a" : "b": the branches are literals
            for q in re.finditer(r'[?:]\s*(?:"((?:[^"\\$]|\\.){4,})"|\'([^\'$]{4,})\')', rest):
                yield n, _unescape(q.group(1) or q.group(2)), f"a literal branch of {_key(m.group('key'))}"
        elif bare:
            b = _BARE.match(rest)
            if b and not _EXPRESSION.search(b.group(1)):
                yield n, b.group(1), f"a literal {_key(m.group('key'))}"


# ------------------------------------------------------------------------------------------ the model post-pass


def secret_attribute(rtype: str, path: str, values: Any = None) -> bool:
    """Whether attribute ``path`` (``password``, ``user[0].password``) of a ``rtype`` resource is secret.

    An SSM parameter's ``value`` is secret unless the parameter is a plain ``String``/``StringList`` (an AMI id
    read from a public parameter is not a secret)."""
    if rtype == "aws_ssm_parameter" and re.sub(r"\[\d+\]", "", path) == "value":
        return not (isinstance(values, dict) and values.get("type") in ("String", "StringList"))
    return _secret_path(rtype, path)


@functools.lru_cache(maxsize=1 << 16)
def _secret_path(rtype: str, path: str) -> bool:
    """``secret_attribute`` without the SSM case: the names alone decide (cached: they repeat across resources)."""
    plain = re.sub(r"\[\d+\]", "", path)
    return any(fnmatch.fnmatchcase(f"{rtype}.{plain}", p) for p in SECRET_ATTRIBUTES) or \
        bool(SECRET_NAME.search(plain.rsplit(".", 1)[-1]))


def _known_strings(value: Any) -> Iterator[str]:
    if isinstance(value, Secret):
        return
    if isinstance(value, str):
        if value and not (value.startswith("${") and value.endswith("}")):
            yield value
    elif isinstance(value, list):
        for v in value:
            yield from _known_strings(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _known_strings(v)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return


def _secret_values(values: Any, rtype: str, path: str = "", top: Any = None) -> Iterator[str]:
    """Known strings held by secret attributes of one resource (``top``: its values)."""
    top = values if top is None else top
    if isinstance(values, dict):
        for k, v in values.items():
            sub = f"{path}.{k}" if path else str(k)
            if secret_attribute(rtype, sub, top):
                yield from _known_strings(v)
            else:
                yield from _secret_values(v, rtype, sub, top)
    elif isinstance(values, list):
        for i, v in enumerate(values):
            yield from _secret_values(v, rtype, f"{path}[{i}]", top)


def model_secrets(model) -> set[str]:
    """Raw secrets an evaluated model holds: secret attributes, sensitive outputs, secret-named variables,
    literals the secret rules flag inside its strings (access keys, private keys, ``PASSWORD=...``)."""
    return _scan(model)[0]


def _scan(model) -> tuple[set[str], list[str]]:
    """(``model_secrets``, every string ``_taint`` would look at in the model)."""
    found: set[str] = set()
    strings: list[str] = []
    for r in model.resources.values():
        values = dict(r.values)
        found |= set(_secret_values(values, r.type))
        start = len(strings)
        _strings(values, strings)
        for text in strings[start:]:
            if text and not (text.startswith("${") and text.endswith("}")):  # (what _known_strings gives)
                found |= {value for _, value, _ in source_literals(_A_VALUE, text)}
    for o in model.outputs.values():
        if o.sensitive:
            found |= set(_known_strings(o.value))
        _strings(o.value, strings)
    for v in model.variables.values():
        if v.sensitive or SECRET_NAME.search(v.name):
            found |= set(_known_strings(v.value))
        _strings(v.value, strings)
    _strings(dict(model.default_tags), strings)
    return found, strings


def _strings(value: Any, out: list[str]) -> None:
    if isinstance(value, Secret):
        return
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, list):
        for v in value:
            _strings(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _strings(v, out)


def _taint(value: Any, forms: set[str], whole: bool = False) -> Any:
    if isinstance(value, Secret) or value is None or not (forms or whole):
        return value  # (no form to find: nothing below would change)
    if whole and not (isinstance(value, str) and value.startswith("${") and value.endswith("}")):
        return Secret(value)
    if isinstance(value, str):
        return Secret(value) if any(f == value or (len(f) >= MIN_SUBSTRING and f in value) for f in forms) else value
    if isinstance(value, list):
        return [_taint(v, forms) for v in value]
    if isinstance(value, dict):
        return {k: _taint(v, forms) for k, v in value.items()}
    return value


def _taint_resource(values: Any, rtype: str, forms: set[str], path: str = "", top: Any = None) -> Any:
    top = values if top is None else top
    if isinstance(values, dict):
        out = {}
        for k, v in values.items():
            sub = f"{path}.{k}" if path else str(k)
            whole = secret_attribute(rtype, sub, top) and isinstance(v, str) and v != ""
            out[k] = _taint(v, forms, whole=True) if whole else _taint_resource(v, rtype, forms, sub, top)
        return out
    if isinstance(values, list):
        return [_taint_resource(v, rtype, forms, f"{path}[{i}]", top) for i, v in enumerate(values)]
    return _taint(values, forms)


def _seal_lists(value: Any) -> Any:
    """A list that holds a secret (at any depth) becomes one Secret. The parity diff compares some lists as sets
    by hashing their items, and a hash sees only a Secret's marker: two lists differing only in a secret would
    compare equal. As one Secret the list is compared by its digest (a difference of order then shows too)."""
    if isinstance(value, Secret):
        return value
    if isinstance(value, dict):
        return {k: _seal_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_seal_lists(v) for v in value]
        return combined(items) if any_secret(items) else items
    return value


def redact_model(model, extra: Iterable[str] = ()):
    """The model with every secret (and every string holding one) replaced by a ``Secret``.

    ``extra``: raw secrets found outside the model (literals the secret rules flag in the source and var files).
    """
    register(model_secrets(model) | set(extra))
    return _tainted(model, set(_registered))  # (its own sensitive values were registered while it was evaluated)


def _tainted(model, forms: set[str]):
    resources = {a: replace(r, values=_seal_lists(_taint_resource(dict(r.values), r.type, forms)))
                 for a, r in model.resources.items()}

    def variable(v):
        if (v.sensitive or SECRET_NAME.search(v.name)) and v.value is not None and not isinstance(v.value, Secret):
            return Secret(v.value)
        return _seal_lists(_taint(v.value, forms))

    variables = {n: replace(v, value=variable(v)) for n, v in model.variables.items()}
    outputs = {n: replace(o, value=_seal_lists(_taint(o.value, forms, whole=o.sensitive)))
               for n, o in model.outputs.items()}
    tags = {k: _taint(v, forms) for k, v in model.default_tags.items()}
    return replace(model, resources=resources, variables=variables, outputs=outputs, default_tags=tags)


class Sealer:
    """Redaction of a run's models as each is built, each ending tainted by every secret of the run: every
    model's, the ``extra`` ones (literals the secret rules flag in the files) and those registered while the
    models were evaluated, whatever the order.

        sealer = Sealer(extra)
        sealer.add("staging", model)  # tainted now, by the secrets known now
        sealed = sealer.models()  # each again, from what it was, if a secret known since is in one of its strings

    The second taint is rare (one environment's secret written in another's values) and looked for in one pass
    over the model's strings joined, so most of the work happens while later models are still being built.
    """

    def __init__(self, extra: Iterable[str] = ()):
        register(extra)
        self._done: dict[str, tuple[Any, frozenset[str], set[str], str, Any]] = {}

    def add(self, name: str, model) -> None:
        secrets, strings = _scan(model)
        register(secrets)
        forms = frozenset(_registered)
        self._done[name] = (model, forms, set(strings), "\0".join(strings), _tainted(model, set(forms)))

    def models(self) -> dict[str, Any]:
        final = frozenset(_registered)
        out = {}
        for name, (model, forms, strings, joined, sealed) in self._done.items():
            later = final - forms
            if any(f in strings or (len(f) >= MIN_SUBSTRING and f in joined) for f in later):
                sealed = _tainted(model, set(final))
            out[name] = sealed
        return out


def files_secrets(paths: Iterable[Path]) -> set[str]:
    """Raw secret literals in these files (any size; unreadable bytes replaced)."""
    found: set[str] = set()
    for path in paths:
        try:
            text = Path(path).read_text(errors="replace")
        except OSError:
            continue
        found |= {value for _, value, _ in source_literals(Path(path), text)}
    return found
