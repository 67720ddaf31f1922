"""pytest-xdist: `-n 2` gives the serial run's findings and reports, with checkov run once for all workers."""

import json
import stat

import pytest

from core.findings import Finding, Status
from policies.checkov_run import checkov_binary
from reports.plugin import ReportWriter, _from_wire, _Test, _to_wire
from tests.helpers import copy_tf, mutate, run_pytest


def without_run(doc):
    return {k: v for k, v in doc.items() if k != "run"}


@pytest.mark.slow
def test_two_workers_report_exactly_what_a_serial_run_reports(tmp_path):
    tf = copy_tf(tmp_path)  # a parity row and a policy fail, so failing findings must travel too
    (tf / "staging.tfvars").write_text((tf / "staging.tfvars").read_text() + 'instance_type = "t3.small"\n')
    mutate(tf / "rds.tf", "storage_encrypted = true", "storage_encrypted = false")
    log = tmp_path / "checkov-runs.log"
    counting = tmp_path / "checkov"
    counting.write_text(f'#!/bin/sh\necho run >> "{log}"\nexec "{checkov_binary()}" "$@"\n')
    counting.chmod(counting.stat().st_mode | stat.S_IEXEC)
    args = ("parity", "policies", "-m", "not live", "--tf-dir", str(tf), "-q")

    serial = run_pytest(*args, "--report-dir", str(tmp_path / "serial"))
    xdist = run_pytest(*args, "--report-dir", str(tmp_path / "xdist"), "-n", "2",
                       env={"CODEDETECT_CHECKOV": str(counting)})

    assert serial.returncode == xdist.returncode == 1, serial.output + xdist.output
    assert "2 workers" in xdist.output or "gw1" in xdist.output, xdist.output
    assert log.read_text() == "run\n"  # one checkov for both workers
    a = json.loads((tmp_path / "serial" / "parity.json").read_text())
    b = json.loads((tmp_path / "xdist" / "parity.json").read_text())
    assert without_run(a) == without_run(b)
    assert a["run"]["test_counts"] == b["run"]["test_counts"]
    failing = [f for f in b["findings"] if f["status"] == "fail"]
    assert any(f["check"] == "Instance Type" and f["attribute"] == "instance_type" and f["actual"] == "t3.small"
               and f["file"].endswith(".tf") and f["line"] > 0 for f in failing)
    assert any(f["check"] == "CKV_CD_2" and f["resource"] == "aws_db_instance.main" for f in failing)
    assert (tmp_path / "serial" / "summary.md").read_text() == (tmp_path / "xdist" / "summary.md").read_text()


def finding(check, status=Status.PASS):
    return Finding(check=check, kind="parity", status=status, env="staging", expected=[1, {"a": None}])


def test_findings_travel_from_workers_intact():
    f = Finding(check="c", kind="policy", status=Status.MUTED, env="e", resource="r", attribute="a[0].b",
                expected={"k": [1, 2.5, None, True]}, actual="x", file="terraform/x.tf", line=3, message="m")
    assert _from_wire(json.loads(json.dumps(_to_wire(f)))) == f


def test_controller_puts_relayed_tests_back_in_collection_order():
    """Workers finish in any order; the merged findings follow collection order, each test with its own."""
    writer = ReportWriter.__new__(ReportWriter)
    writer.tests = {"t::b": _Test(nodeid="t::b", first=0), "t::a": _Test(nodeid="t::a", first=0)}
    meta = {"kind": "parity", "check": "", "env": "", "file": "", "line": 0, "live": False, "message": "",
            "crashed": False, "raised": []}
    order = ["t::a", "t::b", "t::c"]
    writer.relayed = [
        {"order": order, "findings": [_to_wire(finding("B1")), _to_wire(finding("B2", Status.FAIL))],
         "tests": {"t::b": {**meta, "first": 0, "last": 2}}},
        {"order": order, "findings": [_to_wire(finding("loose")), _to_wire(finding("A1"))],
         "tests": {"t::a": {**meta, "first": 1, "last": 2, "crashed": True}}},
    ]
    recorded = writer.merged()
    assert [f.check for f in recorded] == ["A1", "B1", "B2", "loose"]
    assert list(writer.tests) == ["t::a", "t::b"]
    assert (writer.tests["t::a"].first, writer.tests["t::a"].last) == (0, 1)
    assert (writer.tests["t::b"].first, writer.tests["t::b"].last) == (1, 3)
    assert writer.tests["t::a"].crashed and recorded[2].status is Status.FAIL


@pytest.mark.slow
def test_bad_input_under_xdist_is_the_serial_one_line_usage_error(tmp_path):
    tf = copy_tf(tmp_path)
    (tf / "s3.tf").write_text((tf / "s3.tf").read_text() + 'resource "aws_s3_bucket" "x" {\n')
    args = ("parity", "policies", "-m", "not live", "--tf-dir", str(tf), "-q")
    serial = run_pytest(*args, "--report-dir", str(tmp_path / "serial"))
    xdist = run_pytest(*args, "--report-dir", str(tmp_path / "xdist"), "-n", "2")
    assert serial.returncode == xdist.returncode == 4, xdist.output
    line = next(x for x in serial.output.splitlines() if x.startswith("ERROR: "))
    assert "s3.tf:" in line and line in xdist.output
    assert "INTERNALERROR" not in xdist.output and "Traceback" not in xdist.output
    assert json.loads((tmp_path / "xdist" / "parity.json").read_text())["status"] == "error"
