"""Helpers for the project's own tests: mutated copies of terraform/ and gate runs in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TF_DIR = ROOT / "terraform"
CONTRACT = ROOT / "parity" / "contract.yaml"
DOCS = ROOT / "docs" / "ENVIRONMENTS.md"


def copy_tf(dest: Path) -> Path:
    """A private copy of terraform/ to mutate."""
    target = dest / "terraform"
    shutil.copytree(TF_DIR, target)
    return target


def copy_contract(dest: Path, name: str = "contract.yaml") -> Path:
    """A copy of parity/contract.yaml elsewhere: its paths (relative to its own directory) made absolute."""
    target = dest / name
    target.write_text(CONTRACT.read_text().replace(": ../", f": {ROOT}/"))
    return target


def mutate(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace ``old`` by ``new`` in ``path``; fail loudly if ``old`` is not there exactly ``count`` times."""
    text = path.read_text()
    found = text.count(old)
    assert found == count, f"mutation anchor found {found} times (wanted {count}) in {path}: {old!r}"
    path.write_text(text.replace(old, new))


@dataclass
class Run:
    returncode: int
    output: str


def run_pytest(*args: str, cwd: Path = ROOT, env: dict | None = None, timeout: int = 600) -> Run:
    """Run the real gate (``python -m pytest ...``) in a subprocess from the project root; its reports go to
    ``--report-dir`` when given, else to a temporary directory (tests never write the checkout's reports/out)."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("PYTEST_ADDOPTS", None)
    with tempfile.TemporaryDirectory(prefix="codedetect-reports-") as scratch:
        if not any(a == "--report-dir" or a.startswith("--report-dir=") for a in args):
            args = (*args, "--report-dir", scratch)  # never the checkout's reports/out nor its audit history
        proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd,
                              capture_output=True, text=True, env=full_env, timeout=timeout)
    return Run(proc.returncode, proc.stdout + proc.stderr)
