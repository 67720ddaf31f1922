"""SARIF rules with full descriptions and every result located; tool errors as JUnit errors, not failures."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from core.findings import Finding, Status
from reports import junit, sarif
from tests.helpers import ROOT, TF_DIR, copy_tf, mutate, run_pytest


def F(check, status, kind="policy", **kw):
    return Finding(check=check, kind=kind, status=Status(status), env=kw.pop("env", "staging"), **kw)


FINDINGS = [
    F("CKV_AWS_16", "fail", resource="aws_db_instance.main", expected="Ensure all data stored in RDS is encrypted",
      actual="fails", file="terraform/rds.tf", line=8),
    F("CKV_CD_3", "fail", resource="aws_db_instance.main", attribute="deletion_protection", file="terraform/rds.tf",
      line=8),
    F("CKV_CD_30", "fail", kind="cost", expected="<= $45/month", actual="$49/month"),  # no file: the environment
    F("checkov", "error", message="checkov: cannot start checkov"),
]


def test_every_rule_has_a_full_description_and_every_result_a_location():
    log = sarif.build(FINDINGS, str(ROOT), tf_dir=str(TF_DIR))
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["CKV_CD_3"]["fullDescription"]["text"].startswith(
        "Production RDS has deletion protection and keeps a final snapshot. Why: DO NOT DESTROY PRODUCTION")
    assert rules["CKV_AWS_16"]["shortDescription"]["text"] == "Ensure all data stored in RDS is encrypted"
    assert "Why:" in rules["CKV_CD_30"]["fullDescription"]["text"]
    assert all(r["fullDescription"]["text"] and r["help"]["text"] for r in rules.values())
    for result in run["results"]:
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], result
    cost = next(r for r in run["results"] if r["ruleId"] == "CKV_CD_30")
    loc = cost["locations"][0]["physicalLocation"]
    assert loc == {"artifactLocation": {"uri": "terraform/versions.tf", "uriBaseId": "SRCROOT"},
                   "region": {"startLine": 1}}
    rds = next(r for r in run["results"] if r["ruleId"] == "CKV_AWS_16")
    assert rds["locations"][0]["physicalLocation"]["region"] == {"startLine": 8}  # a real line stays
    assert run["tool"]["driver"]["version"] != "1"


JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="2"
 skipped="0" tests="3"><testcase classname="policies.test_policies" name="test_builtin[staging]"><failure
 message="checkov">x</failure></testcase><testcase classname="parity.test_parity" name="test_unclaimed"><failure
 message="diff">y</failure></testcase><testcase classname="parity.test_parity" name="test_same[IAM Roles]"/>
 </testsuite></testsuites>"""


def test_mark_errors_turns_only_the_named_failures_into_errors(tmp_path):
    path = tmp_path / "junit.xml"
    path.write_text(JUNIT)
    assert junit.mark_errors(path, ["policies/test_policies.py::test_builtin[staging]"]) == 1
    suite = ET.parse(path).getroot().find("testsuite")  # noqa: S314 - our own pytest output
    assert (suite.get("errors"), suite.get("failures")) == ("1", "1")
    cases = {c.get("name"): [e.tag for e in c] for c in suite.iter("testcase")}
    assert cases == {"test_builtin[staging]": ["error"], "test_unclaimed": ["failure"], "test_same[IAM Roles]": []}


def test_a_gate_run_reports_checkov_missing_as_junit_error_and_a_finding_as_failure(tmp_path):
    tf = copy_tf(tmp_path)
    mutate(tf / "staging.tfvars", 'enable_ssl     = false', 'enable_ssl     = false\ninstance_type  = "t3.small"')
    out = tmp_path / "out"
    result = run_pytest("parity", "policies", "--tf-dir", str(tf), "--report-dir", str(out), "-q",
                        "-k", "test_builtin or (test_different and Instance)",
                        env={"CODEDETECT_CHECKOV": str(tmp_path / "no-checkov")})
    assert result.returncode == 1, result.output
    cases = {c.get("name"): [e.tag for e in c if e.tag in ("failure", "error")]
             for c in ET.parse(out / "junit.xml").getroot().iter("testcase")}  # noqa: S314
    assert cases["test_builtin[staging]"] == ["error"] and cases["test_builtin[production]"] == ["error"]
    assert cases["test_different[Instance Type]"] == ["failure"]
