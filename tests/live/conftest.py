"""Fixtures of the live-check self-tests: one moto server per session, deployed by real Terraform.

Nothing here can reach AWS: fake credentials, no instance metadata, and every client has a loopback endpoint.
"""

import gc
import json
import os

import pytest

from core import session
from core.session import ROOT
from live_checks import sandbox
from live_checks.aws import AwsSession
from live_checks.run import LiveRun

NO_AWS = {"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
          # A client without an explicit endpoint goes to a closed loopback port, never to AWS.
          "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
FAKE_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
            **NO_AWS}


def _only(mp: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        mp.delenv(key)
    for key, value in values.items():
        mp.setenv(key, value)


def pytest_collection_modifyitems(config, items):
    """Every test that needs the Terraform-deployed sandbox is slow (the apply takes minutes, once per session)."""
    for item in items:
        if {"sandbox_state", "sandbox_env", "moto_endpoint"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def no_credentials(monkeypatch):
    """No AWS credentials anywhere in this process's environment (subprocesses inherit it)."""
    _only(monkeypatch, NO_AWS)


@pytest.fixture(scope="session", autouse=True)
def fake_aws():
    mp = pytest.MonkeyPatch()
    _only(mp, FAKE_ENV)
    yield
    mp.undo()


class Sandbox:
    """The session's moto server, deployed once by ``terraform apply`` of every environment; ``fresh()`` brings
    back that deployed state (an in-process snapshot of moto) after a test drifted it."""

    def __init__(self, endpoint: str, models, contract, state: dict):
        self.endpoint, self.models, self.contract, self.state = endpoint, models, contract, state
        self.dirty = False

    def fresh(self) -> "Sandbox":
        if self.dirty:
            gc.unfreeze()
            sandbox.restore(self.state)
            gc.collect()
            gc.freeze()  # moto's state is large: keep the collector from walking it on every client we build
            self.dirty = False
        return self

    def client(self, service: str, **kwargs):
        """An unguarded client, for a test to make drift (the checks never get one)."""
        import boto3

        self.dirty = True
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1", **kwargs)

    def run(self, **kwargs) -> LiveRun:
        aws = kwargs.pop("aws", None) or AwsSession(endpoint=self.endpoint, region="us-east-1")
        return LiveRun(aws, self.models, self.contract, root=str(ROOT), **kwargs)


@pytest.fixture(scope="session")
def moto_endpoint(fake_aws):
    server, endpoint = sandbox.start_server()
    yield endpoint
    server.stop()


@pytest.fixture(scope="session")
def sandbox_state(moto_endpoint, models, contract, pytestconfig):
    """Both environments applied by real Terraform into the session's moto (a few minutes), then kept."""
    from core import terraform

    reason = terraform.unavailable_reason()
    if reason:
        pytest.fail(f"the sandbox needs real Terraform: {reason}", pytrace=False)
    opts = session.options(pytestconfig)
    sandbox.deploy(moto_endpoint, opts.tf_dir, opts.contract)
    sb = Sandbox(moto_endpoint, models, contract, sandbox.snapshot())
    gc.collect()
    gc.freeze()
    return sb


@pytest.fixture
def sandbox_env(sandbox_state) -> Sandbox:
    """The sandbox exactly as terraform apply left it."""
    return sandbox_state.fresh()


def finding_table(findings) -> str:
    return json.dumps([f.one_line() for f in findings], indent=1)
