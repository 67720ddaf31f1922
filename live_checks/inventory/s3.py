"""S3: the uploads bucket (by name) and each of its configuration resources."""

from __future__ import annotations

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


def _lifecycle(r: dict) -> dict:
    out = {"id": r.get("ID"), "status": r.get("Status")}
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
