"""Read-only boto3 sessions for the live run: one per environment (or account), one request bound for all.

Every client comes from ``AwsSession.client`` and is built from a guarded class: its ``_make_api_call``
refuses any operation that is not on ``READ_ONLY`` before a request is built, signed or sent, records
the operations made (the auditor policy test compares them with the shipped policy), and takes one of
the run's ``MAX_IN_FLIGHT`` request slots (a ``Limiter`` shared by every session of the run, which also
holds the run's deadline). Presigning and token methods are replaced by refusals in the class itself.
Retries are botocore's ``standard`` mode with a bounded number of attempts; every request has connect
and read timeouts.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from contextlib import contextmanager
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# botocore service name -> operation -> IAM action it needs. The only calls the live checks may make.
READ_ONLY: dict[str, dict[str, str]] = {
    "ec2": {"DescribeInstances": "ec2:DescribeInstances", "DescribeSecurityGroups": "ec2:DescribeSecurityGroups",
            "DescribeVpcs": "ec2:DescribeVpcs", "DescribeNetworkInterfaces": "ec2:DescribeNetworkInterfaces"},
    "rds": {"DescribeDBInstances": "rds:DescribeDBInstances", "DescribeDBSubnetGroups": "rds:DescribeDBSubnetGroups"},
    "s3": {
        "ListBuckets": "s3:ListAllMyBuckets",
        "GetBucketTagging": "s3:GetBucketTagging",
        "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
        "GetBucketEncryption": "s3:GetEncryptionConfiguration",
        "GetBucketVersioning": "s3:GetBucketVersioning",
        "GetBucketOwnershipControls": "s3:GetBucketOwnershipControls",
        "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
        "GetBucketPolicy": "s3:GetBucketPolicy",
        "GetBucketAcl": "s3:GetBucketAcl",
        "GetBucketCors": "s3:GetBucketCORS",
        "GetBucketWebsite": "s3:GetBucketWebsite",
        "GetBucketNotificationConfiguration": "s3:GetBucketNotification",
    },
    "elbv2": {
        "DescribeLoadBalancers": "elasticloadbalancing:DescribeLoadBalancers",
        "DescribeLoadBalancerAttributes": "elasticloadbalancing:DescribeLoadBalancerAttributes",
        "DescribeListeners": "elasticloadbalancing:DescribeListeners",
        "DescribeTargetGroups": "elasticloadbalancing:DescribeTargetGroups",
        "DescribeTargetHealth": "elasticloadbalancing:DescribeTargetHealth",
        "DescribeTags": "elasticloadbalancing:DescribeTags",
    },
    "iam": {
        # roles only (see _admit): trust policy, tags, inline and attached policies, profiles, for every role
        "GetAccountAuthorizationDetails": "iam:GetAccountAuthorizationDetails",
        "ListPolicies": "iam:ListPolicies",
    },
    "cloudwatch": {"DescribeAlarms": "cloudwatch:DescribeAlarms", "ListDashboards": "cloudwatch:ListDashboards",
                   "ListTagsForResource": "cloudwatch:ListTagsForResource"},
    "logs": {"DescribeLogGroups": "logs:DescribeLogGroups", "ListTagsForResource": "logs:ListTagsForResource"},
    "sns": {
        "ListTopics": "sns:ListTopics",
        "GetTopicAttributes": "sns:GetTopicAttributes",
        "ListSubscriptionsByTopic": "sns:ListSubscriptionsByTopic",
        "ListTagsForResource": "sns:ListTagsForResource",
    },
    "efs": {"DescribeFileSystems": "elasticfilesystem:DescribeFileSystems",
            "DescribeMountTargets": "elasticfilesystem:DescribeMountTargets"},
    "route53": {
        "ListHostedZones": "route53:ListHostedZones",
        "ListResourceRecordSets": "route53:ListResourceRecordSets",
        "ListTagsForResources": "route53:ListTagsForResources",
    },
    "acm": {"ListCertificates": "acm:ListCertificates", "DescribeCertificate": "acm:DescribeCertificate"},
    "resourcegroupstaggingapi": {"GetResources": "tag:GetResources"},
    "ssm": {"GetParameters": "ssm:GetParameters"},  # public /aws/service/ parameters only (see _admit)
}

GLOBAL_SERVICES = {"iam", "route53"}  # one client per account (us-east-1)
MAX_ATTEMPTS = 4  # standard retry mode: first try plus three retries, with backoff
MAX_IN_FLIGHT = 4  # AWS requests in flight at once, across every session and thread of a live run
MAX_WORKERS = MAX_IN_FLIGHT  # threads reading inventories (their requests share the MAX_IN_FLIGHT slots)
CONNECT_TIMEOUT, READ_TIMEOUT = 5.0, 30.0  # seconds, every AWS request
FAKE_CREDENTIALS = {"aws_access_key_id": "sandbox", "aws_secret_access_key": "sandbox"}
# Client methods that sign something to be used later (presigned URLs and posts, auth tokens): never built.
REFUSED_METHODS = ("generate_presigned_url", "generate_presigned_post", "generate_db_auth_token",
                   "generate_db_connect_auth_token", "generate_db_connect_admin_auth_token")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


def iam_actions() -> set[str]:
    """Every IAM action the live checks may need: what policies/auditor-readonly-policy.json must grant."""
    return {action for ops in READ_ONLY.values() for action in ops.values()}


class ForbiddenOperation(RuntimeError):
    """A check tried an operation that is not on the read-only allowlist; nothing was signed or sent."""


class DeadlineExceeded(RuntimeError):
    """The live run's overall deadline passed; no further request is sent."""


def valid_region(region: str) -> bool:
    return bool(_REGION_RE.match(region or ""))


def valid_endpoint(url: str) -> bool:
    parsed = urlparse(url or "")
    return parsed.scheme in ("http", "https") and bool(parsed.hostname) and parsed.path in ("", "/")


class Limiter:
    """One bound for every AWS request of a run (all sessions, all threads) and the run's deadline.

    ``in_flight``/``peak`` are measured, not assumed: the concurrency test reads them."""

    def __init__(self, limit: int = MAX_IN_FLIGHT, deadline: float | None = None):
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self.deadline_seconds = deadline
        self.expires = time.monotonic() + deadline if deadline else None
        self.in_flight = self.peak = 0

    def remaining(self) -> float | None:
        return None if self.expires is None else self.expires - time.monotonic()

    def expired(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0

    def _expired_error(self) -> DeadlineExceeded:
        return DeadlineExceeded(f"the live run's deadline of {self.deadline_seconds:g} s passed; "
                                "request not sent (raise it with --live-deadline)")

    @contextmanager
    def slot(self):
        left = self.remaining()
        if left is not None and left <= 0:
            raise self._expired_error()
        if not (self._slots.acquire() if left is None else self._slots.acquire(timeout=left)):
            raise self._expired_error()
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            yield
        finally:
            with self._lock:
                self.in_flight -= 1
            self._slots.release()


def _guarded_base(aws: AwsSession) -> type:
    """The base class of every client the session builds: the allowlist and the shared request slots are
    applied inside the client class itself, so no event handler a check could unregister switches them off."""

    class GuardedClient:
        def _make_api_call(self, operation_name, api_params):
            aws._admit(self.meta.service_model.service_name, operation_name, api_params)
            with aws.limiter.slot():
                return super()._make_api_call(operation_name, api_params)

    return GuardedClient


def _refusal(name: str):
    def refuse(self, *args, **kwargs):
        raise ForbiddenOperation(f"{self.meta.service_model.service_name}.{name} is refused by the live checks' "
                                 "read-only guard (presigned URLs and tokens grant access later); nothing was signed")

    refuse.__name__ = name
    return refuse


class AwsSession:
    """The guarded session of one environment (or one account). ``credentials`` is None when there is nothing
    to sign with (the run skips). Sessions of one run share one ``Limiter`` (the request bound and deadline).

    ``role_arn`` (with ``external_id``) is assumed once, from the profile's credentials, before anything else.
    """

    def __init__(self, profile: str | None = None, region: str | None = None, endpoint: str | None = None,
                 max_attempts: int = MAX_ATTEMPTS, connect_timeout: float = CONNECT_TIMEOUT,
                 read_timeout: float = READ_TIMEOUT, credentials: dict | None = None,
                 role_arn: str | None = None, external_id: str | None = None, limiter: Limiter | None = None):
        self.endpoint = endpoint
        self.limiter = limiter or Limiter()
        self.identity = (profile, role_arn, region)  # what makes two environments' sessions the same
        self.boto = boto3.Session(profile_name=profile, region_name=region, **(credentials or {}))
        if endpoint and credentials is None and self.boto.get_credentials() is None:
            # A local sandbox accepts any signature: never fall back to fake keys for real AWS.
            self.boto = boto3.Session(profile_name=profile, region_name=region, **FAKE_CREDENTIALS)
        self.default_region = region or self.boto.region_name
        self.config = Config(retries={"mode": "standard", "total_max_attempts": max_attempts},
                             connect_timeout=connect_timeout, read_timeout=read_timeout,
                             max_pool_connections=MAX_IN_FLIGHT * 2)
        self.role_error: str | None = None
        if role_arn and self.boto.get_credentials() is not None:
            self.boto = self._assume(role_arn, external_id, region)
        self.calls: set[tuple[str, str]] = set()  # (service, operation) actually requested
        self.counts: Counter[tuple[str, str]] = Counter()  # API calls made, by (service, operation)
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], object] = {}
        self.boto.events.register("creating-client-class", self._guard_class)

    def _assume(self, role_arn: str, external_id: str | None, region: str | None) -> boto3.Session:
        """Credentials of ``role_arn``; the STS call is made here, not by any check (it is not on the allowlist)."""
        sts = self.boto.client("sts", region_name=region or "us-east-1", endpoint_url=self.endpoint,
                               config=self.config)
        params = {"RoleArn": role_arn, "RoleSessionName": "codedetect-live-audit"}
        if external_id:
            params["ExternalId"] = external_id
        try:
            with self.limiter.slot():
                creds = sts.assume_role(**params)["Credentials"]
        except (BotoCoreError, ClientError, DeadlineExceeded) as err:
            self.role_error = f"cannot assume {role_arn}: {describe_error(err)}"
            return self.boto
        return boto3.Session(region_name=region, aws_access_key_id=creds["AccessKeyId"],
                             aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])

    @property
    def has_credentials(self) -> bool:
        return self.boto.get_credentials() is not None

    def _guard_class(self, class_attributes, base_classes, **_kwargs):
        for name in REFUSED_METHODS:
            class_attributes[name] = _refusal(name)
        base_classes.insert(0, _guarded_base(self))

    def _admit(self, service: str, operation: str, params: dict | None = None) -> None:
        if operation not in READ_ONLY.get(service, {}):
            raise ForbiddenOperation(f"{service}:{operation} is not on the live checks' read-only allowlist; "
                                     "the request was not signed or sent")
        if service == "ssm" and ((params or {}).get("WithDecryption") or not all(
                str(n).startswith("/aws/service/") for n in (params or {}).get("Names", []))):
            raise ForbiddenOperation("ssm:GetParameters is allowed for public /aws/service/ parameters only, "
                                     "never decrypted; the request was not signed or sent")
        if service == "iam" and operation == "GetAccountAuthorizationDetails" and (params or {}).get(
                "Filter") != ["Role"]:
            raise ForbiddenOperation("iam:GetAccountAuthorizationDetails is allowed with Filter=['Role'] only "
                                     "(never users, groups or policy versions); the request was not signed or sent")
        with self._lock:
            self.calls.add((service, operation))
            self.counts[(service, operation)] += 1

    def api_calls(self) -> int:
        """How many API calls (before retries) this session made: for benchmarks."""
        return sum(self.counts.values())

    def client(self, service: str, region: str):
        """A cached client; build them on one thread (boto3 sessions are not thread-safe, clients are)."""
        region = "us-east-1" if service in GLOBAL_SERVICES else region
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                client = self.boto.client(service, region_name=region, endpoint_url=self.endpoint,
                                          config=self.config)
                if not any(c.__name__ == "GuardedClient" for c in type(client).__mro__):
                    raise ForbiddenOperation(f"the {service} client was built without the read-only guard")
                self._clients[key] = client
            return self._clients[key]


def in_threads(function, items: list, workers: int, timeout: float | None = None) -> list:
    """``function`` over ``items`` on at most ``workers`` daemon threads (a request stuck past the deadline
    cannot keep the process alive). Results in order; an exception is returned in its item's place; an item
    not finished within ``timeout`` seconds is a ``DeadlineExceeded``."""
    results: list = [DeadlineExceeded("not finished before the live run's deadline")] * len(items)
    todo = list(enumerate(items))
    lock = threading.Lock()

    def work():
        while True:
            with lock:
                if not todo:
                    return
                n, item = todo.pop(0)
            try:
                results[n] = function(item)
            except BaseException as err:  # noqa: BLE001 - handed back to the caller
                results[n] = err

    threads = [threading.Thread(target=work, daemon=True, name=f"codedetect-live-{i}")
               for i in range(min(workers, len(items)))]
    for t in threads:
        t.start()
    end = None if timeout is None else time.monotonic() + timeout
    for t in threads:
        t.join(None if end is None else max(0.0, end - time.monotonic()))
    with lock:
        return list(results)


def describe_error(err: BaseException) -> str:
    """One line for the report: the AWS error code and message, never a credential."""
    if isinstance(err, ClientError):
        e, meta = err.response.get("Error", {}), err.response.get("ResponseMetadata", {})
        code = e.get("Code") or f"HTTP {meta.get('HTTPStatusCode', '?')}"
        message = " ".join(str(e.get("Message") or "").split())
        message = message if len(message) <= 300 else message[:297] + "..."
        attempts = meta.get("RetryAttempts", 0)
        extra = f" (after {attempts + 1} attempts)" if attempts else ""
        return f"{code}: {message}{extra}"
    if isinstance(err, BotoCoreError | ForbiddenOperation | DeadlineExceeded):
        return f"{type(err).__name__}: {err}"
    return f"internal error {type(err).__name__}: {err}"
