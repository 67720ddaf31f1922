"""No false green: throttling, AccessDenied, a dead endpoint, a missing region and mutating calls are errors."""

import dataclasses
import socket
import threading

import pytest
from botocore.awsrequest import AWSResponse

from core.findings import Status
from live_checks.aws import AwsSession, ForbiddenOperation
from live_checks.run import CHECKS
from tests.live.conftest import finding_table

THROTTLED = (b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>"
             b"</Error><RequestId>1</RequestId></ErrorResponse>")
DENIED_S3 = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>1</RequestId></Error>"


class _Raw:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_):
        yield self.body


def inject(aws: AwsSession, event: str, status: int, body: bytes, times: float = float("inf")) -> list:
    """Answer ``event`` (e.g. before-send.rds.DescribeDBInstances) with an error ``times`` times, sending nothing."""
    seen = []

    def handler(request, **_):
        seen.append(request.url)
        if len(seen) <= times:
            return AWSResponse(request.url, status, {"Content-Type": "text/xml"}, _Raw(body))
        return None

    aws.boto.events.register(event, handler)
    return seen


def test_throttling_that_clears_within_the_retries_still_passes(sandbox_env):
    aws = AwsSession(endpoint=sandbox_env.endpoint, region="us-east-1", max_attempts=4)
    seen = inject(aws, "before-send.rds.DescribeDBInstances", 400, THROTTLED, times=2)
    findings = sandbox_env.run(aws=aws).check("rds", "staging")
    assert [f.status for f in findings] == [Status.PASS], finding_table(findings)
    assert len(seen) == 3  # two throttled attempts, retried, then the real answer


def test_throttling_that_never_clears_is_an_error(sandbox_env):
    aws = AwsSession(endpoint=sandbox_env.endpoint, region="us-east-1", max_attempts=3)
    seen = inject(aws, "before-send.rds.DescribeDBInstances", 400, THROTTLED)
    run = sandbox_env.run(aws=aws)
    for env in sandbox_env.models:
        findings = run.check("rds", env)
        assert [f.status for f in findings] == [Status.ERROR], finding_table(findings)
        assert "Throttling" in findings[0].message and "after 3 attempts" in findings[0].message
    assert len(seen) == 3  # bounded: the configured attempts, no more
    assert all(f.status == Status.ERROR for row in ("Database Type", "IAM Roles") for f in run.parity(row))


def test_access_denied_on_one_api_is_an_error_for_that_service(sandbox_env):
    aws = AwsSession(endpoint=sandbox_env.endpoint, region="us-east-1")
    inject(aws, "before-send.s3.GetBucketEncryption", 403, DENIED_S3)
    run = sandbox_env.run(aws=aws)
    for env in sandbox_env.models:
        s3 = run.check("s3", env)
        assert [f.status for f in s3] == [Status.ERROR] and "AccessDenied" in s3[0].message, finding_table(s3)
        assert [f.status for f in run.check("rds", env)] == [Status.PASS]  # the other services still decide
        assert [f.status for f in run.unmanaged(env)] == [Status.ERROR]  # it cannot know what S3 holds
    assert all(f.status == Status.ERROR for f in run.parity("S3 Integration"))


@pytest.fixture
def silent_endpoint():
    """A TCP server on 127.0.0.1 that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    stop = threading.Event()
    held = []

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_endpoint_that_does_not_answer_is_an_error(sandbox_state, silent_endpoint):
    aws = AwsSession(endpoint=silent_endpoint, region="us-east-1", max_attempts=2, connect_timeout=0.5,
                     read_timeout=0.5)
    findings = sandbox_state.run(aws=aws).everything()
    assert findings and all(f.status == Status.ERROR for f in findings), finding_table(
        [f for f in findings if f.status != Status.ERROR])
    assert any("ReadTimeout" in f.message for f in findings)


def test_endpoint_that_refuses_connections_is_an_error(sandbox_state):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    aws = AwsSession(endpoint=f"http://127.0.0.1:{port}", region="us-east-1", max_attempts=2, connect_timeout=0.5)
    findings = sandbox_state.run(aws=aws).everything()
    assert findings and all(f.status == Status.ERROR for f in findings)
    assert any("EndpointConnectionError" in f.message for f in findings)


def test_missing_region_is_an_error(sandbox_state, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    models = {name: dataclasses.replace(m, variables={k: v for k, v in m.variables.items() if k != "aws_region"})
              for name, m in sandbox_state.models.items()}
    aws = AwsSession(endpoint=sandbox_state.endpoint)
    run = type(sandbox_state.run(aws=aws))(aws, models, sandbox_state.contract)
    findings = run.everything()
    assert findings and all(f.status == Status.ERROR for f in findings)
    assert {f.message for f in findings if f.check == "live:rds"} == {
        f"no AWS region for {env}: pass --aws-region or set var.aws_region" for env in models}


def test_mutating_call_is_refused_before_it_is_sent(sandbox_env):
    aws = AwsSession(endpoint=sandbox_env.endpoint, region="us-east-1")
    sent = []
    aws.boto.events.register("before-send", lambda request, **_: sent.append(request.url))
    ec2 = aws.client("ec2", "us-east-1")
    iid = ec2.describe_instances()["Reservations"][0]["Instances"][0]["InstanceId"]
    assert len(sent) == 1
    with pytest.raises(ForbiddenOperation, match=r"ec2:TerminateInstances is not on the .* allowlist"):
        ec2.terminate_instances(InstanceIds=[iid])
    with pytest.raises(ForbiddenOperation):
        aws.client("s3", "us-east-1").delete_public_access_block(Bucket="codedetect-staging-uploads-2025")
    with pytest.raises(ForbiddenOperation):
        aws.client("sts", "us-east-1").get_caller_identity()  # not on the list either: nothing outside it goes
    assert len(sent) == 1, "nothing was sent after the read"
    state = sandbox_env.client("ec2").describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert state["State"]["Name"] == "running"
    sandbox_env.dirty = False  # only read


def test_a_check_that_tries_to_mutate_reports_an_error_and_changes_nothing(sandbox_env, monkeypatch):
    from live_checks.inventory.ec2 import Ec2

    original = Ec2.fetch

    def fetch(self):
        original(self)
        self.client.stop_instances(InstanceIds=[i["InstanceId"] for i in self.instances])

    monkeypatch.setattr(Ec2, "fetch", fetch)
    run = sandbox_env.run()
    findings = [f for env in sandbox_env.models for name in CHECKS for f in run.check(name, env)
                if "ec2" in CHECKS[name][1]]
    assert findings and all(f.status == Status.ERROR and "ForbiddenOperation" in f.message for f in findings)
    reservations = sandbox_env.client("ec2").describe_instances()["Reservations"]
    assert {i["State"]["Name"] for r in reservations for i in r["Instances"]} == {"running"}
    sandbox_env.dirty = False  # only read


def test_a_tagging_api_that_sees_nothing_is_not_trusted(sandbox_env):
    aws = AwsSession(endpoint=sandbox_env.endpoint, region="us-east-1")
    inject(aws, "before-send.resource-groups-tagging-api.GetResources", 200,
           b'{"ResourceTagMappingList": [], "PaginationToken": ""}')
    for env in sandbox_env.models:
        findings = sandbox_env.run(aws=aws).unmanaged(env)
        assert [f.status for f in findings] == [Status.ERROR], finding_table(findings)
        assert "cannot be trusted" in findings[0].message


def test_an_observer_that_fails_is_an_error_of_its_service(sandbox_env, monkeypatch):
    from live_checks.inventory.rds import Rds

    monkeypatch.setattr(Rds, "observe", lambda self, model: 1 / 0)
    run = sandbox_env.run()
    findings = run.check("rds", "staging")  # the first thing asked: the views are built by it
    assert [f.status for f in findings] == [Status.ERROR] and "ZeroDivisionError" in findings[0].message
    assert [f.status for f in run.check("sns", "staging")] == [Status.PASS]
    sandbox_env.dirty = False
