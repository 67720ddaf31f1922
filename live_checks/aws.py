"""One read-only boto3 session for the whole live run.

Every client comes from ``AwsSession.client``. A botocore ``before-call`` handler refuses any
operation that is not on ``READ_ONLY`` before a request is built or sent, and records the
operations that were made (the auditor policy test compares them with the shipped policy).
Retries are botocore's ``standard`` mode with a bounded number of attempts.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# botocore service name -> operation -> IAM action it needs. The only calls the live checks may make.
READ_ONLY: dict[str, dict[str, str]] = {
    "ec2": {"DescribeInstances": "ec2:DescribeInstances", "DescribeSecurityGroups": "ec2:DescribeSecurityGroups"},
    "rds": {"DescribeDBInstances": "rds:DescribeDBInstances", "DescribeDBSubnetGroups": "rds:DescribeDBSubnetGroups"},
    "s3": {
        "ListBuckets": "s3:ListAllMyBuckets",
        "GetBucketTagging": "s3:GetBucketTagging",
        "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
        "GetBucketEncryption": "s3:GetEncryptionConfiguration",
        "GetBucketVersioning": "s3:GetBucketVersioning",
        "GetBucketOwnershipControls": "s3:GetBucketOwnershipControls",
        "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
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
        "ListRoles": "iam:ListRoles",
        "ListRoleTags": "iam:ListRoleTags",
        "ListRolePolicies": "iam:ListRolePolicies",
        "GetRolePolicy": "iam:GetRolePolicy",
        "ListAttachedRolePolicies": "iam:ListAttachedRolePolicies",
        "ListInstanceProfilesForRole": "iam:ListInstanceProfilesForRole",
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
}

GLOBAL_SERVICES = {"iam", "route53"}  # one client for the whole account (us-east-1)
MAX_ATTEMPTS = 4  # standard retry mode: first try plus three retries, with backoff
MAX_WORKERS = 4  # inventories built concurrently
FAKE_CREDENTIALS = {"aws_access_key_id": "sandbox", "aws_secret_access_key": "sandbox"}
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


def iam_actions() -> set[str]:
    """Every IAM action the live checks may need: what policies/auditor-readonly-policy.json must grant."""
    return {action for ops in READ_ONLY.values() for action in ops.values()}


class ForbiddenOperation(RuntimeError):
    """A check tried an operation that is not on the read-only allowlist; nothing was sent."""


def valid_region(region: str) -> bool:
    return bool(_REGION_RE.match(region or ""))


def valid_endpoint(url: str) -> bool:
    parsed = urlparse(url or "")
    return parsed.scheme in ("http", "https") and bool(parsed.hostname) and parsed.path in ("", "/")


class AwsSession:
    """The guarded session. ``credentials`` is None when there is nothing to sign with (the run skips)."""

    def __init__(self, profile: str | None = None, region: str | None = None, endpoint: str | None = None,
                 max_attempts: int = MAX_ATTEMPTS, connect_timeout: float = 5, read_timeout: float = 30,
                 credentials: dict | None = None):
        self.endpoint = endpoint
        self.boto = boto3.Session(profile_name=profile, region_name=region, **(credentials or {}))
        if endpoint and credentials is None and self.boto.get_credentials() is None:
            # A local sandbox accepts any signature: never fall back to fake keys for real AWS.
            self.boto = boto3.Session(profile_name=profile, region_name=region, **FAKE_CREDENTIALS)
        self.default_region = region or self.boto.region_name
        self.config = Config(retries={"mode": "standard", "total_max_attempts": max_attempts},
                             connect_timeout=connect_timeout, read_timeout=read_timeout,
                             max_pool_connections=MAX_WORKERS * 2)
        self.calls: set[tuple[str, str]] = set()  # (service, operation) actually requested
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], object] = {}
        self.boto.events.register("before-call", self._guard)

    @property
    def has_credentials(self) -> bool:
        return self.boto.get_credentials() is not None

    def _guard(self, model, **_kwargs):
        service, operation = model.service_model.service_name, model.name
        if operation not in READ_ONLY.get(service, {}):
            raise ForbiddenOperation(f"{service}:{operation} is not on the live checks' read-only allowlist; "
                                     "the request was not sent")
        with self._lock:
            self.calls.add((service, operation))

    def client(self, service: str, region: str):
        """A cached client; build them on one thread (boto3 sessions are not thread-safe, clients are)."""
        region = "us-east-1" if service in GLOBAL_SERVICES else region
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self.boto.client(service, region_name=region, endpoint_url=self.endpoint,
                                                      config=self.config)
            return self._clients[key]


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
    if isinstance(err, BotoCoreError | ForbiddenOperation):
        return f"{type(err).__name__}: {err}"
    return f"internal error {type(err).__name__}: {err}"
