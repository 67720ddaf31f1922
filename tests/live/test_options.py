"""Options of the live checks, and what happens without credentials: one clear skip, or a failure when required."""

import re

import pytest

from live_checks.plugin import NO_CREDENTIALS
from tests.helpers import run_pytest


def test_without_credentials_every_live_test_skips_with_one_reason(no_credentials):
    result = run_pytest("live_checks", "-m", "live")
    assert result.returncode == 0, result.output
    reasons = re.findall(r"^SKIPPED \[\d+\] (.*)$", result.output, re.M)
    assert len(reasons) == 1 and NO_CREDENTIALS in reasons[0], result.output
    assert re.search(r"\b\d+ skipped\b", result.output) and "passed" not in result.output


def test_without_credentials_require_live_fails_every_live_test(no_credentials):
    result = run_pytest("live_checks", "-m", "live", "--require-live")
    assert result.returncode == 1, result.output
    assert "skipped" not in result.output and re.search(r"\b\d+ errors?\b", result.output)
    assert f"--require-live: {NO_CREDENTIALS}" in result.output


def test_a_sandbox_endpoint_needs_no_credentials(sandbox_env, no_credentials):
    result = run_pytest("live_checks", "-m", "live", "--aws-endpoint", sandbox_env.endpoint, "--require-live",
                        "-k", "test_rds or test_unmanaged")
    assert result.returncode == 0, result.output
    assert "4 passed" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--aws-endpoint", "127.0.0.1:5555"], "--aws-endpoint '127.0.0.1:5555': expected a URL like http://127.0.0.1:5555"),
    (["--aws-endpoint", "ftp://127.0.0.1"], "expected a URL"),
    (["--aws-region", "Mars"], "--aws-region 'Mars': expected a region name like us-east-1"),
    (["--aws-profile", "no-such-profile"], "--aws-profile 'no-such-profile': no such profile"),
])
def test_bad_options_stop_the_run_with_one_line(args, message, no_credentials):
    result = run_pytest("live_checks", "-m", "live", *args)
    assert result.returncode == 4, result.output
    assert message in result.output


def test_env_narrows_the_checks_and_leaves_parity_to_a_run_of_every_environment(sandbox_env):
    result = run_pytest("live_checks", "-m", "live", "--aws-endpoint", sandbox_env.endpoint, "--require-live",
                        "--env", "staging", "-v")
    assert result.returncode == 0, result.output
    assert "test_rds[staging] PASSED" in result.output and "test_rds[production]" not in result.output
    assert "test_parity" not in result.output and "deselected" in result.output
