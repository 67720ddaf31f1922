"""S3: the uploads bucket (by name) and each of its configuration resources."""

from __future__ import annotations

import json

from core.model import EnvModel
from live_checks.expected import resolve
from live_checks.inventory.base import Inventory, Observed, ref, tags

# Terraform type -> (S3 call, the error code meaning "not configured", how to shape the answer).
CONFIG = {
    "aws_s3_bucket_public_access_block": ("get_public_access_block", "NoSuchPublicAccessBlockConfiguration",
                                          lambda a: {_snake(k): v for k, v in
                                                     a["PublicAccessBlockConfiguration"].items()}),
    "aws_s3_bucket_server_side_encryption_configuration": (
        "get_bucket_encryption", "ServerSideEncryptionConfigurationNotFoundError",
        lambda a: {"rule": [{"apply_server_side_encryption_by_default": [
            {"sse_algorithm": r["ApplyServerSideEncryptionByDefault"].get("SSEAlgorithm"),
             "kms_master_key_id": r["ApplyServerSideEncryptionByDefault"].get("KMSMasterKeyID")}],
            "bucket_key_enabled": r.get("BucketKeyEnabled", False)}
            for r in a["ServerSideEncryptionConfiguration"]["Rules"]]}),
    "aws_s3_bucket_versioning": ("get_bucket_versioning", "",
                                 lambda a: {"versioning_configuration": [{"status": a.get("Status", "Disabled")}]}),
    "aws_s3_bucket_ownership_controls": ("get_bucket_ownership_controls", "OwnershipControlsNotFoundError",
                                         lambda a: {"rule": [{"object_ownership": r["ObjectOwnership"]}
                                                             for r in a["OwnershipControls"]["Rules"]]}),
    "aws_s3_bucket_lifecycle_configuration": ("get_bucket_lifecycle_configuration", "NoSuchLifecycleConfiguration",
                                              lambda a: {"rule": [_lifecycle(r) for r in a["Rules"]]}),
}


def _snake(key: str) -> str:
    return {"BlockPublicAcls": "block_public_acls", "IgnorePublicAcls": "ignore_public_acls",
            "BlockPublicPolicy": "block_public_policy", "RestrictPublicBuckets": "restrict_public_buckets"}[key]


# Rule blocks a lifecycle rule may hold: every one is compared, declared or not (none declared means none).
LIFECYCLE_BLOCKS = ("expiration", "transition", "noncurrent_version_expiration", "noncurrent_version_transition",
                    "abort_incomplete_multipart_upload")
# Bucket settings that expose data, read whether or not Terraform declares them (expected: see expected.py).
EXPOSURE = {  # attribute -> (S3 call, "not configured" error code)
    "policy_statements": ("get_bucket_policy", "NoSuchBucketPolicy"),
    "acl_grants": ("get_bucket_acl", ""),
    "cors_rules": ("get_bucket_cors", "NoSuchCORSConfiguration"),
    "website": ("get_bucket_website", "NoSuchWebsiteConfiguration"),
    "notifications": ("get_bucket_notification_configuration", ""),
}


def _exposure(attribute: str, answer: dict | None) -> list:
    if answer is None:
        return []
    if attribute == "policy_statements":
        doc = json.loads(answer["Policy"])
        statements = doc.get("Statement", [])
        return [statements] if isinstance(statements, dict) else statements
    if attribute == "acl_grants":  # every grant but the bucket owner's own FULL_CONTROL
        owner = (answer.get("Owner") or {}).get("ID")
        out = []
        for g in answer.get("Grants", []):
            who = g.get("Grantee", {})
            if who.get("ID") == owner and g.get("Permission") == "FULL_CONTROL":
                continue
            out.append(f"{who.get('URI') or who.get('ID') or who.get('EmailAddress')} {g.get('Permission')}")
        return sorted(out)
    if attribute == "cors_rules":
        return [{"allowed_origins": sorted(r.get("AllowedOrigins", [])), "allowed_methods": sorted(r.get(
            "AllowedMethods", [])), "allowed_headers": sorted(r.get("AllowedHeaders", []))}
            for r in answer.get("CORSRules", [])]
    if attribute == "website":
        return [{"index_document": (answer.get("IndexDocument") or {}).get("Suffix"),
                 "redirect_all_requests_to": (answer.get("RedirectAllRequestsTo") or {}).get("HostName")}]
    if attribute == "notifications":
        out = []
        for key, arn_key in (("TopicConfigurations", "TopicArn"), ("QueueConfigurations", "QueueArn"),
                             ("LambdaFunctionConfigurations", "LambdaFunctionArn")):
            out += [f"{c.get(arn_key)} {','.join(sorted(c.get('Events', [])))}" for c in answer.get(key, [])]
        if answer.get("EventBridgeConfiguration") is not None:
            out.append("eventbridge")
        return sorted(out)
    raise KeyError(attribute)


def _lifecycle(r: dict) -> dict:
    out = {"id": r.get("ID"), "status": r.get("Status"), **{b: [] for b in LIFECYCLE_BLOCKS}}
    if "Expiration" in r:
        e = r["Expiration"]
        out["expiration"] = [{"days": e.get("Days"), "date": str(e["Date"]) if e.get("Date") else None,
                              "expired_object_delete_marker": e.get("ExpiredObjectDeleteMarker")}]
    out["transition"] = [{"days": t.get("Days"), "storage_class": t.get("StorageClass")}
                         for t in r.get("Transitions", [])]
    out["noncurrent_version_transition"] = [{"noncurrent_days": t.get("NoncurrentDays"),
                                             "storage_class": t.get("StorageClass")}
                                            for t in r.get("NoncurrentVersionTransitions", [])]
    if "NoncurrentVersionExpiration" in r:
        out["noncurrent_version_expiration"] = [{"noncurrent_days": r["NoncurrentVersionExpiration"].get(
            "NoncurrentDays")}]
    if "AbortIncompleteMultipartUpload" in r:
        out["abort_incomplete_multipart_upload"] = [{"days_after_initiation": r["AbortIncompleteMultipartUpload"].get(
            "DaysAfterInitiation")}]
    return out


class S3(Inventory):
    service = "s3"

    def fetch(self) -> None:
        names = {b["Name"] for b in self.pages("list_buckets", "Buckets")}
        self.buckets = {n: {} for n in names & self.wanted.get("aws_s3_bucket", set())}
        for name, config in self.buckets.items():
            answer = self.call("get_bucket_tagging", absent=("NoSuchTagSet",), Bucket=name)
            config["aws_s3_bucket"] = {"bucket": name, "tags": tags((answer or {}).get("TagSet"))}
            for attribute, (operation, absent) in EXPOSURE.items():
                answer = self.call(operation, absent=(absent,) if absent else (), Bucket=name)
                config["aws_s3_bucket"][attribute] = _exposure(attribute, answer)
            for rtype, (operation, absent, shape) in CONFIG.items():
                answer = self.call(operation, absent=(absent,) if absent else (), Bucket=name)
                config[rtype] = {"bucket": name, **shape(answer)} if answer is not None else None

    def observe(self, model: EnvModel) -> list[Observed]:
        out = []
        for r in model.of_type("aws_s3_bucket", *CONFIG):
            name = r.values.get("bucket") if r.type == "aws_s3_bucket" else resolve(model, r.values.get("bucket"),
                                                                                     "bucket")
            values = self.buckets.get(name, {}).get(r.type)
            if values is not None:
                refs = {f"arn:aws:s3:::{name}": ref(r.address)} if r.type == "aws_s3_bucket" else {}
                out.append(Observed(r.address, values, refs))
        return out
