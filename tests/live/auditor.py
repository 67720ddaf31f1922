"""Run the live checks in moto as an IAM user holding only a given policy (moto enforces IAM when asked).

moto authorises an action under the service's *signing* name (monitoring:, tagging:) and maps some S3
calls to other actions than AWS does; ``for_moto`` translates the real policy accordingly, and
``MOTO_CANNOT_ENFORCE`` lists the real actions moto cannot deny one by one.
"""

from __future__ import annotations

import json
from unittest import mock

import boto3

from core.findings import Status
from live_checks.aws import READ_ONLY, AwsSession, iam_actions
from live_checks.inventory import SERVICES
from live_checks.run import wanted_for

MOTO_PREFIX = {"cloudwatch": "monitoring", "tag": "tagging"}
# S3 calls moto authorises as s3:ListBucket (it does not know their query strings).
MOTO_S3 = {"s3:GetBucketPublicAccessBlock": "s3:ListBucket", "s3:GetEncryptionConfiguration": "s3:ListBucket",
           "s3:GetBucketOwnershipControls": "s3:ListBucket"}
MOTO_CANNOT_ENFORCE = set(MOTO_S3)
USER = "live-auditor"


def policy_actions(doc: dict) -> set[str]:
    out = set()
    for s in doc["Statement"]:
        out |= {s["Action"]} if isinstance(s["Action"], str) else set(s["Action"])
    return out


def for_moto(actions: set[str]) -> dict:
    moto = set()
    for a in actions:
        prefix, name = a.split(":", 1)
        moto.add(MOTO_S3.get(a) or f"{MOTO_PREFIX.get(prefix, prefix)}:{name}")
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": sorted(moto), "Resource": "*"}]}


def auditor_session(endpoint: str, actions: set[str]) -> AwsSession:
    """An IAM user in moto holding only ``actions`` (made without IAM enforcement), and a session as that user."""
    from moto.core.authorization import disable_iam_authentication

    with disable_iam_authentication():
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
        if USER not in {u["UserName"] for u in iam.list_users()["Users"]}:
            iam.create_user(UserName=USER)
        for key in iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=USER, AccessKeyId=key["AccessKeyId"])
        iam.put_user_policy(UserName=USER, PolicyName="live-readonly", PolicyDocument=json.dumps(for_moto(actions)))
        key = iam.create_access_key(UserName=USER)["AccessKey"]
    return AwsSession(endpoint=endpoint, region="us-east-1", credentials={
        "aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]})


def audit(sandbox, actions: set[str], services: tuple[str, ...] = ()) -> list[str]:
    """Problems with a read-only policy: calls denied in moto, calls made that it does not grant, actions
    it grants that the suite never uses. ``services`` limits the moto run to those inventories."""
    from moto.core.authorization import enable_iam_authentication
    from moto.iam.access_control import IAMRequestBase

    problems = [f"{a}: granted, but the live checks never call it" for a in sorted(actions - iam_actions())]
    problems += [f"{a}: the live checks call it, the policy does not grant it" for a in sorted(iam_actions() - actions)]
    aws = auditor_session(sandbox.endpoint, actions)
    # moto miscomputes some SigV4 signatures (EFS); permissions, not signatures, are under test here.
    with enable_iam_authentication(), mock.patch.object(IAMRequestBase, "check_signature", return_value=None):
        if services:
            wanted = wanted_for(sandbox.models)
            inventories = [SERVICES[s](aws, "us-east-1", wanted) for s in services]
            for inv in inventories:
                inv.load()
            problems += [e for inv in inventories for e in inv.errors]
        else:
            findings = sandbox.run(aws=aws).everything()
            problems += sorted({f.message for f in findings if f.status == Status.ERROR})
            problems += [f"{f.one_line()}" for f in findings if f.status == Status.DRIFT]
            used = {READ_ONLY[s][o] for s, o in aws.calls}
            problems += [f"{a}: granted, but this run never called it" for a in sorted(actions - used)]
    problems += [f"{READ_ONLY[s][o]}: called, not granted" for s, o in sorted(aws.calls)
                 if READ_ONLY[s][o] not in actions]
    return problems
