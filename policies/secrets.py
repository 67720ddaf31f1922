"""Secret hygiene on the raw Terraform source (python-hcl2), before any evaluation.

CKV_CD_20  a secret variable (``sensitive``, or named like password/secret/token/key) is sensitive and has no default
CKV_CD_21  no var file (``*.tfvars``, ``*.tfvars.json``) sets a secret variable
CKV_CD_22  no AWS access key, private key or password literal anywhere under terraform/
CKV_CD_23  an output that exposes a secret is marked ``sensitive``

The rules read what Terraform reads: every file under the Terraform directory whatever its size (``.tf``,
``.tf.json``, var files, templates, scripts), the templates ``templatefile()``/``file()`` name wherever they are,
and every var file of the contract's environments wherever it is. Literals are found in heredocs (``user_data``),
conditionals, locals and maps as well as in plain attributes (``core.redact.source_literals``).

A finding names the file, the line and the variable or attribute, never the value: a secret found in the source is
reported as ``(not shown)``, and a file that cannot be parsed is reported without the parser's message (which may
quote the source).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.findings import Finding, Status
from core.redact import ACCESS_KEY, PRIVATE_KEY, source_literals
from policies.common import repo_path

SECRET_NAME = re.compile(r"(?i)password|secret|token|key")
SECRET_ATTRIBUTE = re.compile(r"(?i)^(?!creation_token$)(.*_)?(password|passwd|secret|token|private_key)$")
_TEMPLATE_REF = re.compile(r'\b(?:templatefile|file)\(\s*"([^"]+)"')
SECRET_OUTPUT = re.compile(r"\.(?:password|master_password|secret|private_key\w*|token)\b|random_password\.")
NOT_SHOWN = "(not shown)"
RULES = {
    "CKV_CD_20": "Secret variables are declared sensitive and have no default",
    "CKV_CD_21": "No var file sets a secret variable",
    "CKV_CD_22": "No AWS access key, private key or password literal under terraform/",
    "CKV_CD_23": "Outputs that expose a secret are marked sensitive",
}
WHY = {
    "CKV_CD_20": "a default is a secret written in the repository; sensitive keeps it out of plans and logs",
    "CKV_CD_21": "the password is passed with -var or TF_VAR_db_password, never written in a file",
    "CKV_CD_22": "anything committed is public to everyone who can read the repository, forever",
    "CKV_CD_23": "an unmarked output prints the secret in every `terraform apply` and CI log",
}


@dataclass(frozen=True)
class Source:
    path: Path
    text: str
    data: dict | None  # parsed HCL/JSON, None when it could not be parsed

    def line_of(self, pattern: str, start: int = 1) -> int:
        rx = re.compile(pattern)
        for n, line in enumerate(self.text.splitlines(), 1):
            if n >= start and rx.search(line):
                return n
        return start if start > 1 else 0


def _parse(path: Path, text: str) -> dict | None:
    import hcl2
    from hcl2 import SerializationOptions

    try:
        if path.name.endswith(".tf.json"):  # JSON syntax: blocks as objects; as python-hcl2 gives them: lists
            doc = json.loads(text)
            return {k: v if isinstance(v, list) else [v] for k, v in doc.items()} if isinstance(doc, dict) else None
        if path.name.endswith(".json"):
            return json.loads(text)
        return hcl2.loads(text, serialization_options=SerializationOptions(strip_string_quotes=True))
    except Exception:  # noqa: BLE001 - reported as a finding without the parser's message (it may quote a secret)
        return None


def _files(tf_dir: Path) -> Iterator[Path]:
    """Every file under the Terraform directory, whatever its size (a size limit would be a blind spot)."""
    for path in sorted(tf_dir.rglob("*")):
        if path.is_file() and ".terraform" not in path.relative_to(tf_dir).parts:
            yield path


def _is_var_file(path: Path) -> bool:
    return path.name.endswith((".tfvars", ".tfvars.json"))


def _is_tf(path: Path) -> bool:
    return path.name.endswith((".tf", ".tf.json"))


def _templates(tf_dir: Path, text: str) -> Iterator[Path]:
    """Files that templatefile()/file() read, wherever they are (``${path.module}`` is the Terraform directory)."""
    for m in _TEMPLATE_REF.finditer(text):
        ref = re.sub(r"\$\{path\.(?:module|root|cwd)\}", str(tf_dir), m.group(1))
        if "${" not in ref:
            path = (tf_dir / ref).resolve()
            if path.is_file():
                yield path


def load_sources(tf_dir: Path, var_files: list[Path] = ()) -> list[Source]:
    """Every file Terraform may read: the tree under ``tf_dir``, the templates it names and the contract's var
    files, wherever they are."""
    tf_dir = Path(tf_dir)
    paths = list(_files(tf_dir))
    out, seen = [], set()
    while paths:
        path = paths.pop(0)
        if path.resolve() in seen or not path.is_file():
            continue
        seen.add(path.resolve())
        text = path.read_text(errors="replace")
        parsed = _parse(path, text) if _is_tf(path) or _is_var_file(path) else None
        out.append(Source(path, text, parsed))
        if _is_tf(path):
            paths += [t for t in _templates(tf_dir, text) if t not in seen]
    for path in var_files:
        if Path(path).resolve() not in seen and Path(path).is_file():
            seen.add(Path(path).resolve())
            text = Path(path).read_text(errors="replace")
            out.append(Source(Path(path), text, _parse(Path(path), text)))
    return out


def _finding(rule: str, status: Status, src: Source | None, line: int = 0, resource: str = "",
             attribute: str = "", expected: Any = None, actual: Any = None, message: str = "") -> Finding:
    return Finding(check=rule, kind="secret", status=status, env="", resource=resource, attribute=attribute,
                   expected=expected, actual=actual, file=repo_path(src.path) if src else "", line=line,
                   message=message)


def _blocks(data: dict | None, kind: str) -> Iterator[tuple[str, dict]]:
    for entry in (data or {}).get(kind) or []:
        for name, body in entry.items():
            if isinstance(body, dict):
                yield name, body


def _literal(value: Any) -> bool:
    return isinstance(value, str) and value != "" and "${" not in value


def secret_variables(sources: list[Source]) -> dict[str, tuple[Source, dict]]:
    """Variables that hold a secret: declared sensitive, or named like one."""
    out = {}
    for src in sources:
        for name, body in _blocks(src.data if _is_tf(src.path) else None, "variable"):
            if body.get("sensitive") is True or SECRET_NAME.search(name):
                out[name] = (src, body)
    return out


def _assignment(name: str) -> str:
    """A var file's assignment of ``name``: ``name = ...`` in HCL, ``"name": ...`` in JSON."""
    return rf'(^|[{{,])\s*"?{re.escape(name)}"?\s*[=:]'


def _block_start(src: Source, kind: str, name: str) -> int:
    return src.line_of(rf'^\s*{kind}\s+"?{re.escape(name)}"?\s*\{{') or \
        src.line_of(rf'^\s*"{re.escape(name)}"\s*:\s*\{{')  # .tf.json: "name": {


def unparseable(sources: list[Source]) -> list[Finding]:
    return [_finding(rule, Status.ERROR, src, message="cannot parse this file: the secret rules cannot check it")
            for src in sources if src.data is None and (_is_tf(src.path) or _is_var_file(src.path))
            for rule in ("CKV_CD_20", "CKV_CD_21", "CKV_CD_22", "CKV_CD_23")]


def sensitive_no_default(sources: list[Source]) -> list[Finding]:
    out = []
    for name, (src, body) in sorted(secret_variables(sources).items()):
        start = _block_start(src, "variable", name)
        res = f"var.{name}"
        if body.get("sensitive") is not True:
            out.append(_finding("CKV_CD_20", Status.FAIL, src, start, res, "sensitive", True,
                                body.get("sensitive", "unset"), f"variable {name} holds a secret"))
        if "default" in body:
            out.append(_finding("CKV_CD_20", Status.FAIL, src, src.line_of(r"^\s*default\s*=", start), res,
                                "default", "no default", NOT_SHOWN, f"variable {name} holds a secret"))
        if body.get("sensitive") is True and "default" not in body:
            out.append(_finding("CKV_CD_20", Status.PASS, src, start, res, "sensitive", True, True))
    return out


def not_in_var_files(sources: list[Source]) -> list[Finding]:
    secrets = secret_variables(sources)
    out = []
    for src in sources:
        if not _is_var_file(src.path) or src.data is None:
            continue
        for name in sorted(secrets):
            if name in src.data:
                out.append(_finding("CKV_CD_21", Status.FAIL, src, src.line_of(_assignment(name)),
                                    f"var.{name}", "", "not set in a file", NOT_SHOWN,
                                    f"pass it with -var or TF_VAR_{name} instead"))
        if not any(f.file == repo_path(src.path) for f in out):
            out.append(_finding("CKV_CD_21", Status.PASS, src, 0, "", "", "no secret variable", "none"))
    return out or [_finding("CKV_CD_21", Status.NOT_CHECKED, None, message="not checked: there is no var file")]


def _literal_attributes(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            key_path = f"{path}.{k}" if path else str(k)
            if SECRET_ATTRIBUTE.search(str(k)) and _literal(v):
                yield key_path, v
            else:
                yield from _literal_attributes(v, key_path)
    elif isinstance(value, list):
        for v in value:
            yield from _literal_attributes(v, path)


def no_literals(sources: list[Source]) -> list[Finding]:
    secrets = secret_variables(sources)
    out = []
    for src in sources:
        found = []  # (line, resource, attribute, what)
        for n, line in enumerate(src.text.splitlines(), 1):
            if ACCESS_KEY.search(line):
                found.append((n, "", "", "an AWS access key id"))
            if PRIVATE_KEY.search(line):
                found.append((n, "", "", "a private key"))
        if src.data is not None and _is_tf(src.path):
            for kind in ("resource", "data", "provider", "module", "locals"):
                for path, value in _literal_attributes({k: v for k, v in src.data.items() if k == kind}):
                    parts = path.split(".")
                    depth = 3 if parts[0] in ("resource", "data") else 2
                    resource = ".".join((["data"] if parts[0] == "data" else []) + parts[1:depth]) \
                        if parts[0] in ("resource", "data") else ".".join(parts[:depth])
                    key = parts[-1]
                    n = next((i for i, line in enumerate(src.text.splitlines(), 1)
                              if re.match(rf'\s*"?{re.escape(key)}"?\s*[=:]', line) and value in line), 0)
                    found.append((n, resource, ".".join(parts[depth:]), f"a literal {key}"))
            for name, body in _blocks(src.data, "variable"):
                if name in secrets and _literal(body.get("default")):
                    n = src.line_of(r'^\s*"?default"?\s*[=:]', _block_start(src, "variable", name))
                    found.append((n, f"var.{name}", "default", "a literal default of a secret variable"))
            for name, body in _blocks(src.data, "output"):
                if SECRET_NAME.search(name) and _literal(body.get("value")):
                    n = src.line_of(r'^\s*"?value"?\s*[=:]', _block_start(src, "output", name))
                    found.append((n, f"output.{name}", "value", "a literal value of a secret output"))
        elif src.data is not None and _is_var_file(src.path):
            for name, value in src.data.items():
                if (name in secrets or SECRET_NAME.search(name)) and _literal(value):
                    n = src.line_of(_assignment(name))
                    found.append((n, f"var.{name}", "", "a literal value of a secret variable"))
        lines = {n for n, *_ in found}
        for n, _value, what in source_literals(src.path, src.text):  # heredocs, conditionals, maps, templates
            if n not in lines:
                lines.add(n)
                found.append((n, "", "", what))
        for n, resource, attribute, what in sorted(found):
            out.append(_finding("CKV_CD_22", Status.FAIL, src, n, resource, attribute, "no secret in the source",
                                NOT_SHOWN, f"{what}; remove it and rotate it"))
    if not out:
        out.append(_finding("CKV_CD_22", Status.PASS, None, message=f"{len(sources)} files scanned"))
    return out


def sensitive_outputs(sources: list[Source]) -> list[Finding]:
    secrets = secret_variables(sources)
    out = []
    for src in sources:
        for name, body in _blocks(src.data if _is_tf(src.path) else None, "output"):
            value = json.dumps(body.get("value"))
            exposes = SECRET_OUTPUT.search(value) or any(re.search(rf"\bvar\.{re.escape(v)}\b", value)
                                                         for v in secrets)
            if not exposes:
                continue
            ok = body.get("sensitive") is True
            out.append(_finding("CKV_CD_23", Status.PASS if ok else Status.FAIL, src,
                                _block_start(src, "output", name), f"output.{name}", "sensitive", True,
                                body.get("sensitive", "unset"), "" if ok else "this output exposes a secret"))
    if not out:
        out.append(_finding("CKV_CD_23", Status.PASS, None, message="no output exposes a secret"))
    return out


CHECKS = {
    "CKV_CD_20": sensitive_no_default,
    "CKV_CD_21": not_in_var_files,
    "CKV_CD_22": no_literals,
    "CKV_CD_23": sensitive_outputs,
}


def scan(tf_dir: Path, var_files: list[Path] = ()) -> dict[str, list[Finding]]:
    """Every secret rule's findings (PASS included) for the Terraform in ``tf_dir`` and these var files."""
    sources = load_sources(Path(tf_dir), var_files)
    broken = unparseable(sources)
    return {rule: [f for f in broken if f.check == rule] + check(sources) for rule, check in CHECKS.items()}
