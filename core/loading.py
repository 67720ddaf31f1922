"""Which files make up a configuration, and prepared copies of it for the evaluator.

``prepared_copy(tf_dir, rewritten)`` (h1b-values): a throwaway copy of the root module in which some
``.tf`` files are replaced by rewritten text (core/dynamic.py), so tfparse can evaluate what it would
otherwise get wrong. The user's directory is never written. One copy per content, per run.
"""

from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

_copies: dict[str, Path] = {}


def _cleanup() -> None:
    for path in _copies.values():
        shutil.rmtree(path.parent, ignore_errors=True)


atexit.register(_cleanup)


def _ignore(directory: str, names: list[str]) -> set[str]:
    skip = {n for n in names if n.endswith((".tfstate", ".tfstate.backup", ".tfplan")) or n == ".git"}
    if Path(directory).name == ".terraform":
        skip |= {n for n in names if n != "modules"}
    return skip


def prepared_copy(tf_dir: Path, rewritten: Mapping[str, str]) -> Path:
    """A copy of ``tf_dir`` (same directory name) with the files named in ``rewritten`` replaced."""
    digest = hashlib.sha256(repr((str(tf_dir.resolve()), sorted(rewritten.items()))).encode())
    for path in sorted(tf_dir.rglob("*")):
        rel = path.relative_to(tf_dir)
        if path.is_file() and not {".terraform", ".git"} & set(rel.parts):
            digest.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    key = digest.hexdigest()
    if key not in _copies:
        target = Path(tempfile.mkdtemp(prefix="codedetect-eval-")) / tf_dir.resolve().name
        shutil.copytree(tf_dir, target, ignore=_ignore, symlinks=True)
        for name, text in rewritten.items():
            (target / name).write_text(text, encoding="utf-8")
        _copies[key] = target
    return _copies[key]
