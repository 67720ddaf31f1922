"""`codedetect-suite live` against the moto sandbox (loopback only): green is exit 0, drift exit 1."""

import boto3
import pytest

from core import cli
from tests.helpers import CONTRACT, DOCS, TF_DIR

pytestmark = pytest.mark.slow


def _live(capsys, endpoint, out):
    code = cli.main(["live", "--tf-dir", str(TF_DIR), "--contract", str(CONTRACT), "--docs", str(DOCS),
                     "--aws-endpoint", endpoint, "--require-live", "--report-dir", str(out),
                     "--", "-k", "test_rds or test_unmanaged"])
    return code, capsys.readouterr().out


def test_live_command_passes_then_reports_drift(sandbox_env, no_credentials, capsys, tmp_path):
    code, out = _live(capsys, sandbox_env.endpoint, tmp_path / "a")
    assert code == 0, out
    assert out.rstrip().endswith(f"codedetect-suite: PASS (exit 0); reports in {tmp_path / 'a'}")
    sandbox_env.dirty = True
    rds = boto3.client("rds", endpoint_url=sandbox_env.endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    rds.modify_db_instance(DBInstanceIdentifier="codedetect-staging-db", DBInstanceClass="db.t3.small",
                           ApplyImmediately=True)
    code, out = _live(capsys, sandbox_env.endpoint, tmp_path / "b")
    assert code == 1, out
    assert any(line.startswith("DRIFT   [") and "instance_class" in line and "db.t3.small" in line
               for line in out.splitlines()), out
