"""The files Terraform reads for a contract, and the check that each can be read (one line, never a traceback)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from core.errors import SuiteError
from core.model import EnvSpec


def files(tf_dir: Path, envs: Iterable[EnvSpec] = ()) -> list[Path]:
    """Every file Terraform may read for this contract: the tree under ``tf_dir`` (not ``.terraform``) and every
    environment's var files, wherever they are."""
    found = [p for p in sorted(Path(tf_dir).rglob("*"))
             if ".terraform" not in p.relative_to(tf_dir).parts and p.is_file()]
    for env in envs:
        for vf in env.var_files:
            path = (Path(tf_dir) / vf).resolve()
            if path.is_file() and path not in found:
                found.append(path)
    return found


def check(tf_dir: Path, var_files: Iterable[Path] = ()) -> None:
    """Files Terraform would read but cannot stop the run with one line (not a traceback in the evaluator):
    a dangling symlink anywhere under ``tf_dir``, a binary or non-UTF-8 ``.tf``/var file."""
    tf_dir = Path(tf_dir)
    for path in sorted(tf_dir.rglob("*")):
        if ".terraform" not in path.relative_to(tf_dir).parts and path.is_symlink() and not path.exists():
            raise SuiteError(f"dangling symlink (points to {os.readlink(path)})", path=str(path),
                             hint="remove it or restore its target")
    names = (".tf", ".tf.json", ".tfvars", ".tfvars.json")
    for path in [*sorted(p for p in tf_dir.glob("*") if p.name.endswith(names)), *var_files]:
        if not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data:
            line = data[:data.index(b"\0")].count(b"\n") + 1
            raise SuiteError("binary file, not Terraform", path=str(path), line=line,
                             hint="remove it from the Terraform directory")
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise SuiteError(f"not UTF-8 (byte 0x{data[err.start]:02x})", path=str(path),
                             line=data[:err.start].count(b"\n") + 1, hint="save the file as UTF-8") from None
