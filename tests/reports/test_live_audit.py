"""Nightly history end to end: live audits of the moto sandbox (loopback only) accumulate in --history-dir;
the HTML report charts drift per audit and lists what is new since the previous one."""

import json
import os
import socket
import subprocess
import sys
import threading

import boto3
import jsonschema
import pytest

from reports import history
from reports.json_report import schema
from tests.helpers import ROOT, run_pytest

pytestmark = pytest.mark.slow  # the sandbox is deployed by terraform apply (minutes)
FAKE_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull}


@pytest.fixture(scope="module")
def endpoint():
    """The sandbox in its own process (moto's state is per process: other tests' sandboxes stay untouched)."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **FAKE_ENV}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "live_checks.sandbox", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    timer = threading.Timer(900, proc.kill)  # never hang on a sandbox that does not start (terraform apply: minutes)
    timer.start()
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("AWS endpoint: "):
                break
        timer.cancel()
        assert lines and lines[-1].startswith("AWS endpoint: "), "".join(lines)
        url = lines[-1].split(": ", 1)[1].strip()
        assert url == f"http://127.0.0.1:{port}", url
        yield url
    finally:
        timer.cancel()
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def audit(endpoint, out, hist):
    result = run_pytest("live_checks", "-m", "live", "--aws-endpoint", endpoint, "--require-live",
                        "--report-dir", str(out), "--history-dir", str(hist), "-q", env=FAKE_ENV)
    doc = json.loads((out / "parity.json").read_text())
    jsonschema.validate(doc, schema())
    return result, doc


def test_each_audit_is_kept_and_the_report_shows_the_trend_and_new_drift(endpoint, tmp_path):
    hist = tmp_path / "history"
    result, doc = audit(endpoint, tmp_path / "night1", hist)
    assert result.returncode == 0, result.output
    assert doc["run"]["live"] and doc["status"] == "pass"

    ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing")  # the sandbox only
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["codedetect-staging-app"]}])
    ec2.authorize_security_group_ingress(GroupId=groups["SecurityGroups"][0]["GroupId"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])

    result, doc = audit(endpoint, tmp_path / "night2", hist)
    assert result.returncode == 1, result.output
    assert doc["status"] == "drift"
    drifted = [f for f in doc["findings"] if f["status"] == "drift"]
    assert drifted and all(f["env"].startswith("staging") for f in drifted)

    audits, problems = history.load(hist)
    assert not problems and [a.drift for a in audits] == [0, len(drifted)]
    assert audits[1].status == "drift"
    page = (tmp_path / "night2" / "index.html").read_text()
    assert page.count("<rect") == 2 and "Audit history" in page
    assert f"{len(drifted)}</b> new failing finding(s) since the previous audit" in page
    assert "codedetect live audit" in page and "aws_security_group" in page
    assert page.index("Live checks") < page.index("Parity matrix")  # an audit's own matrix comes first
    summary = (tmp_path / "night2" / "summary.md").read_text()
    assert summary.startswith("### ⚠️ codedetect live audit: DRIFT")
