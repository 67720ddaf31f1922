"""`pip install .` into a fresh virtualenv, then the console command runs the gate from another directory.

Offline: the virtualenv is created without pip and reads the dependencies (and pip, setuptools, wheel) from
this project's .venv through a .pth file; the suite itself is built from a copy of the checkout and installed
with --no-deps --no-build-isolation --no-index, so nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from core import cli
from tests.helpers import CONTRACT, DOCS, ROOT, TF_DIR

pytestmark = pytest.mark.slow
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
_SKIP = shutil.ignore_patterns(".venv", ".venv-checkov", ".git", "__pycache__", "node_modules", ".pytest_cache",
                               ".hypothesis", ".ruff_cache", "*.egg-info")


def _copy_ignore(directory: str, names: list[str]) -> set[str]:
    """The checkout without environments, caches, the project's tests and written reports."""
    skip = set(_SKIP(directory, names))
    if Path(directory) == ROOT:
        skip |= {"tests", "build", "tools", "bench"} & set(names)
    if Path(directory) == ROOT / "reports":
        skip |= {"out"} & set(names)
    return skip


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    base = tmp_path_factory.mktemp("install")
    src = base / "src"
    shutil.copytree(ROOT, src, ignore=_copy_ignore)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "_codedetect_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = clean_env()
    proc = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                           "--no-index", "--disable-pip-version-check", str(src)],
                          capture_output=True, text=True, env=env, cwd=base, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return venv, Path(purelib)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYTEST", "CODEDETECT", "VIRTUAL_ENV"))}
    return {**env, **extra}


def run(venv: Path, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv / "bin" / args[0]), *args[1:]], capture_output=True, text=True, cwd=cwd,
                          env=clean_env(**env), timeout=600)


def test_the_package_holds_the_suite_and_its_data(installed):
    _, site = installed
    for path in ("core/cli.py", "core/plugin.py", "parity/test_parity.py", "parity/contract.yaml",
                 "policies/test_policies.py", "policies/baseline.yaml", "policies/prices.yaml",
                 "policies/auditor-readonly-policy.json", "policies/checks/ckv_cd_5_sg_admin_ports.py",
                 "live_checks/test_live.py", "live_checks/inventory/ec2.py", "reports/parity.schema.json"):
        assert (site / path).is_file(), path
    dist = next(site.glob("codedetect_suite-*.dist-info"))
    assert "[pytest11]\ncore.plugin = core.plugin" in (dist / "entry_points.txt").read_text()


def test_version_and_plugin_by_entry_point(installed, tmp_path):
    venv, site = installed
    proc = run(venv, "codedetect-suite", "--version", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == f"codedetect-suite {cli.__version__}"
    proc = run(venv, "python", "-c", "import core.cli; print(core.cli.__file__)", cwd=tmp_path)
    assert proc.stdout.strip() == str(site / "core" / "cli.py")  # the installed copy, not this checkout
    proc = run(venv, "python", "-m", "pytest", "--help", "-p", "no:cacheprovider", cwd=tmp_path)
    assert "--tf-dir" in proc.stdout and "--report-dir" in proc.stdout  # pytest loaded the plugin by itself


def test_gate_from_another_directory(installed, tmp_path):
    venv, site = installed
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = run(venv, "codedetect-suite", "gate", "--tf-dir", str(TF_DIR), "--contract", str(CONTRACT),
               "--docs", str(DOCS), cwd=elsewhere, CODEDETECT_CHECKOV=str(CHECKOV))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.rstrip().endswith(f"codedetect-suite: PASS (exit 0); reports in {elsewhere}/reports/out")
    out = elsewhere / "reports" / "out"
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "junit.xml", "parity.json", "policies.sarif",
                                                     "summary.md"]
    doc = json.loads((out / "parity.json").read_text())
    assert doc["status"] == "pass"
    ran = {t["nodeid"].split("::", 1)[0] for t in doc["tests"]}
    assert ran == {"parity/test_parity.py", "parity/test_claims.py", "policies/test_policies.py"}  # installed tests
    assert not list(site.glob(".pytest_cache")) and sorted(os.listdir(elsewhere)) == ["reports"]


def test_gate_without_checkov_is_an_error(installed, tmp_path):
    venv, _ = installed
    proc = run(venv, "codedetect-suite", "gate", "--tf-dir", str(TF_DIR), "--contract", str(CONTRACT),
               "--docs", str(DOCS), "--report-dir", str(tmp_path / "out"), "--", "-k", "test_builtin",
               cwd=tmp_path, PATH=f"{venv / 'bin'}:/usr/bin:/bin")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "codedetect-suite: ERROR: checkov not found: set CODEDETECT_CHECKOV" in proc.stderr
    assert "codedetect-suite: ERROR (exit 2)" in proc.stdout
