"""The sandbox as `terraform apply` left it is green, in-process and through `pytest -m live --require-live`.

(`python -m live_checks.sandbox --port N` itself is exercised by tests/reports/test_live_audit.py.)"""

from core.findings import Status
from live_checks.run import CHECKS, NOT_CHECKED, UNLISTED
from tests.helpers import run_pytest
from tests.live.conftest import finding_table


def test_fresh_sandbox_passes_every_check_in_process(sandbox_env):
    findings = sandbox_env.run().everything()
    bad = [f for f in findings if f.status != Status.PASS]
    assert not bad, finding_table(bad)
    envs = set(sandbox_env.models)
    for check in CHECKS:  # one PASS per check and environment: nothing was skipped silently
        assert {f.env for f in findings if f.check == f"live:{check}"} == envs
    assert any(f.check == f"live:{UNLISTED}" for f in findings)


def test_pass_findings_say_what_was_compared(sandbox_env):
    findings = sandbox_env.run().check("rds", "production")
    assert [f.status for f in findings] == [Status.PASS]
    assert "2 declared resource(s)" in findings[0].message and "attribute(s) match" in findings[0].message


def test_fresh_sandbox_passes_with_require_live(sandbox_env):
    result = run_pytest("live_checks", "-m", "live", "--aws-endpoint", sandbox_env.endpoint, "--require-live")
    assert result.returncode == 0, result.output
    assert " passed" in result.output and "skipped" not in result.output and "failed" not in result.output
    assert "test_rds[staging] PASSED" in run_pytest(
        "live_checks", "-m", "live", "-v", "--aws-endpoint", sandbox_env.endpoint, "-k", "test_rds").output


def test_every_declared_type_is_checked_or_listed(models):
    checked = {t for types, _ in CHECKS.values() for t in types} | set(NOT_CHECKED)
    declared = {r.type for m in models.values() for r in m.managed().values()}
    assert declared - checked == set(), "a Terraform type no live check reads: add it to CHECKS or NOT_CHECKED"
