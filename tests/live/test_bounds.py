"""Bounded requests, bounded time, and a guard the checks cannot switch off.

- at most MAX_IN_FLIGHT AWS requests are in flight across the whole live run (measured, not assumed);
- an endpoint that trickles bytes ends the run at its deadline as ERROR, with reports written;
- presigning and token generation are refused before anything is signed.
"""

import json
import socket
import threading
import time

import pytest

from core.findings import Status
from live_checks.aws import MAX_IN_FLIGHT, AwsSession, ForbiddenOperation, Limiter
from tests.helpers import run_pytest
from tests.live.conftest import finding_table


class InFlight:
    """Counts HTTP requests between being sent and their response, holding each a moment so they pile up."""

    def __init__(self, aws: AwsSession):
        self.now = self.peak = self.total = 0
        self.lock = threading.Lock()
        aws.boto.events.register("before-send", self.sent)
        aws.boto.events.register("response-received", self.received)

    def sent(self, **_):
        with self.lock:
            self.now += 1
            self.total += 1
            self.peak = max(self.peak, self.now)
        time.sleep(0.02)

    def received(self, **_):
        with self.lock:
            self.now -= 1


def test_requests_in_flight_never_exceed_the_documented_bound(sandbox_env):
    limiter = Limiter()
    prod = AwsSession(endpoint=sandbox_env.endpoint, region="us-east-1", limiter=limiter)
    other = AwsSession(endpoint=sandbox_env.endpoint, region="us-east-1", limiter=limiter)
    counters = [InFlight(prod), InFlight(other)]
    run = sandbox_env.run(aws=prod, sessions={"staging": other})  # two sessions, one bound
    findings = run.everything()
    assert all(f.status == Status.PASS for f in findings), finding_table([f for f in findings if not f.status.ok])
    total_peak = limiter.peak
    assert sum(c.total for c in counters) > 50
    assert max(c.peak for c in counters) <= total_peak == MAX_IN_FLIGHT == 4, (
        [c.peak for c in counters], total_peak)
    assert limiter.in_flight == 0


def test_api_calls_are_counted_per_environment(sandbox_env):
    limiter = Limiter()
    prod = AwsSession(endpoint=sandbox_env.endpoint, region="us-east-1", limiter=limiter)
    staging = AwsSession(endpoint=sandbox_env.endpoint, region="us-east-1", limiter=limiter)
    run = sandbox_env.run(aws=prod, sessions={"staging": staging})
    run.everything()
    counts = run.api_calls()
    assert counts["production"] > 10 and counts["staging"] > 10
    assert counts["production"] == sum(prod.counts.values())


@pytest.fixture
def trickle_endpoint():
    """A TCP server on 127.0.0.1 that answers every request with headers, then one body byte every 2 s."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    stop = threading.Event()

    def serve(conn):
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n")
            while not stop.wait(2):
                conn.sendall(b" ")
        except OSError:
            pass
        finally:
            conn.close()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    server.close()


def test_a_trickling_endpoint_ends_at_the_deadline_as_error(sandbox_state, trickle_endpoint):
    aws = AwsSession(endpoint=trickle_endpoint, region="us-east-1", read_timeout=5, limiter=Limiter(deadline=3))
    start = time.monotonic()
    findings = sandbox_state.run(aws=aws).everything()
    elapsed = time.monotonic() - start
    assert elapsed < 10, elapsed
    assert findings and all(f.status == Status.ERROR for f in findings), finding_table(
        [f for f in findings if f.status != Status.ERROR])
    assert any("deadline of 3 s" in f.message for f in findings), finding_table(findings)


@pytest.mark.slow
def test_the_pytest_run_against_a_trickle_ends_within_its_deadline_with_reports(trickle_endpoint, tmp_path):
    start = time.monotonic()
    result = run_pytest("live_checks", "-m", "live", "--aws-endpoint", trickle_endpoint, "--require-live",
                        "--live-deadline", "5", "--report-dir", str(tmp_path), "-q", timeout=300)
    elapsed = time.monotonic() - start
    assert result.returncode == 1, result.output
    assert "--live-deadline" in result.output and "deadline of 5 s" in result.output
    doc = json.loads((tmp_path / "parity.json").read_text())
    assert doc["status"] == "error" and (tmp_path / "summary.md").is_file(), doc["status"]
    assert elapsed < 240, elapsed  # startup and model loading included; the trickle alone would take 55 hours


def test_bad_deadline_is_one_line(tmp_path):
    result = run_pytest("live_checks", "-m", "live", "--live-deadline", "soon")
    assert result.returncode == 4 and "--live-deadline 'soon': expected a number of seconds" in result.output


def test_presigning_is_refused_before_anything_is_signed(sandbox_env):
    aws = AwsSession(endpoint=sandbox_env.endpoint, region="us-east-1")
    signed = []
    aws.boto.events.register("before-sign", lambda **kw: signed.append(kw.get("operation_name")))
    aws.boto.events.register("choose-signer", lambda **kw: signed.append(kw.get("operation_name")))
    s3 = aws.client("s3", "us-east-1")
    with pytest.raises(ForbiddenOperation, match="generate_presigned_url is refused"):
        s3.generate_presigned_url("put_object", Params={"Bucket": "codedetect-staging-uploads-2025", "Key": "x"})
    with pytest.raises(ForbiddenOperation, match="generate_presigned_post is refused"):
        s3.generate_presigned_post("codedetect-staging-uploads-2025", "x")
    with pytest.raises(ForbiddenOperation, match="generate_db_auth_token is refused"):
        aws.client("rds", "us-east-1").generate_db_auth_token("db.example", 5432, "codedetect")
    with pytest.raises(ForbiddenOperation, match="ecr:GetAuthorizationToken is not on"):
        aws.client("ecr", "us-east-1").get_authorization_token()
    assert signed == [], "nothing was signed"


def test_the_checks_cannot_switch_the_guard_off(sandbox_env):
    aws = AwsSession(endpoint=sandbox_env.endpoint, region="us-east-1")
    ec2 = aws.client("ec2", "us-east-1")
    aws.boto.events.unregister("creating-client-class", aws._guard_class)  # the only handler the guard has
    with pytest.raises(ForbiddenOperation):
        ec2.terminate_instances(InstanceIds=["i-0123456789abcdef0"])
    with pytest.raises(ForbiddenOperation):
        ec2.generate_presigned_url("describe_instances")
    with pytest.raises(ForbiddenOperation, match="without the read-only guard"):
        aws.client("rds", "us-east-1")
