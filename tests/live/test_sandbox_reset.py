"""The sandbox's moto starts empty and with its settings, whatever moto did earlier in the same process."""

from __future__ import annotations

import boto3
import pytest

from live_checks import sandbox

MANAGED = "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"  # terraform/iam.tf attaches it


def _iam(endpoint: str):
    return boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="sandbox",
                        aws_secret_access_key="sandbox")  # moto accepts any key


def test_a_backend_built_before_the_sandbox_does_not_survive_it(monkeypatch):
    # Another moto in this process (the exact evaluator's, a test's) builds the IAM backend before the
    # sandbox sets MOTO_IAM_LOAD_MANAGED_POLICIES: without the reset, `terraform apply` could not attach
    # AWS-managed policies (NoSuchEntity), seen in a full run of the suite.
    from moto.server import ThreadedMotoServer

    monkeypatch.delenv("MOTO_IAM_LOAD_MANAGED_POLICIES", raising=False)
    earlier = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    earlier.start()
    host, port = earlier.get_host_and_port()
    try:
        _iam(f"http://{host}:{port}").create_role(RoleName="left-over", AssumeRolePolicyDocument="{}")
    finally:
        earlier.stop()

    server, endpoint = sandbox.start_server(0)
    try:
        iam = _iam(endpoint)
        assert iam.get_policy(PolicyArn=MANAGED)["Policy"]["PolicyName"] == "CloudWatchAgentServerPolicy"
        with pytest.raises(iam.exceptions.NoSuchEntityException):
            iam.get_role(RoleName="left-over")
    finally:
        server.stop()
