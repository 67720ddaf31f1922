"""The project's own tests never write into the checkout's reports/out or its audit history."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import ROOT, run_pytest


def snapshot(path: Path) -> dict[str, int]:
    return {str(p.relative_to(path)): p.stat().st_mtime_ns for p in path.rglob("*")} if path.exists() else {}


def test_a_gate_run_by_a_test_writes_its_reports_elsewhere():
    out = ROOT / "reports" / "out"
    before = snapshot(out)
    result = run_pytest("parity", "-q", "-k", "Database")
    assert result.returncode == 0, result.output
    assert snapshot(out) == before


def test_a_given_report_dir_is_kept(tmp_path):
    result = run_pytest("parity", "-q", "-k", "Database", "--report-dir", str(tmp_path))
    assert result.returncode == 0, result.output
    assert (tmp_path / "parity.json").is_file()
