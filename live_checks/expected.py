"""Expected values, from the evaluated model only: what Terraform declares, in the shape observers build."""

from __future__ import annotations

import json
import re
from typing import Any

from core.model import EnvModel, Resource, is_unknown

# How a deployed resource is found: the attribute naming it (its Name tag unless listed).
IDENTITY = {
    "aws_s3_bucket": "bucket", "aws_db_instance": "identifier", "aws_db_subnet_group": "name", "aws_lb": "name",
    "aws_lb_target_group": "name", "aws_security_group": "name", "aws_iam_role": "name",
    "aws_iam_instance_profile": "name", "aws_cloudwatch_metric_alarm": "alarm_name",
    "aws_cloudwatch_log_group": "name", "aws_cloudwatch_dashboard": "dashboard_name", "aws_sns_topic": "name",
    "aws_efs_file_system": "creation_token", "aws_route53_zone": "name", "aws_acm_certificate": "domain_name",
}
_REF = re.compile(r"^\$\{((?:data\.)?aws_[a-z0-9_]+\.[A-Za-z0-9_-]+(?:\[[^\]]+\])?)(?:\.([a-z_]+))?\}$")


def parse_ref(value: Any) -> tuple[str, str] | None:
    """'${aws_lb.main.dns_name}' -> ('aws_lb.main', 'dns_name'); None for anything else."""
    if not isinstance(value, str):
        return None
    m = _REF.match(value.replace(".[", "["))
    return (m.group(1), m.group(2) or "") if m else None


def identity(resource: Resource) -> str | None:
    key = IDENTITY.get(resource.type)
    value = resource.values.get(key) if key else (resource.values.get("tags") or {}).get("Name")
    return value if isinstance(value, str) and not is_unknown(value) else None


def wanted(models: list[EnvModel]) -> dict[str, set[str]]:
    """Every identifier any environment declares, by type: inventories only read these in detail."""
    out: dict[str, set[str]] = {}
    for model in models:
        for r in model.managed().values():
            name = identity(r)
            if name:
                out.setdefault(r.type, set()).add(name)
    return out


def resolve(model: EnvModel, value: Any, attribute: str) -> Any:
    """A reference to another resource, replaced by that resource's ``attribute`` when the model knows it."""
    parsed = parse_ref(value)
    if parsed and parsed[0] in model.resources:
        return model.resources[parsed[0]].values.get(attribute, value)
    return value


def refers_to(value: Any, address: str, model: EnvModel, attribute: str = "name") -> bool:
    """True when ``value`` is a reference to ``address`` or that resource's ``attribute`` (a name)."""
    target = model.resources.get(address)
    return (parse_ref(value) is not None and parse_ref(value)[0] == address) or (
        target is not None and value is not None and value == target.values.get(attribute))


RULE_TYPES = ("aws_security_group_rule", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")
LIFECYCLE_BLOCKS = ("expiration", "transition", "noncurrent_version_expiration", "noncurrent_version_transition",
                    "abort_incomplete_multipart_upload")
# Bucket settings that expose data and the Terraform types that declare them: undeclared means none.
BUCKET_EXPOSURE = {"policy_statements": "aws_s3_bucket_policy", "acl_grants": "aws_s3_bucket_acl",
                   "cors_rules": "aws_s3_bucket_cors_configuration", "website": "aws_s3_bucket_website_configuration",
                   "notifications": "aws_s3_bucket_notification"}


def _bucket_exposure(model: EnvModel, address: str, values: dict) -> None:
    for attribute, rtype in BUCKET_EXPOSURE.items():
        declared = [x for x in model.of_type(rtype) if refers_to(x.values.get("bucket"), address, model, "bucket")]
        if not declared:
            values[attribute] = []
        elif attribute == "policy_statements" and isinstance(declared[0].values.get("policy"), str) \
                and not is_unknown(declared[0].values["policy"]):
            doc = json.loads(declared[0].values["policy"])
            statements = doc.get("Statement", [])
            values[attribute] = [statements] if isinstance(statements, dict) else statements
        # otherwise declared in a shape this check does not rebuild: compared by that resource's own check


def resolve_data(model: EnvModel, values: dict, parameters: dict[str, str]) -> dict:
    """``${data.aws_ssm_parameter.X.value}`` replaced by the parameter's value read from AWS (the AMI id)."""
    def sub(v):
        parsed = parse_ref(v)
        if parsed and parsed[0].startswith("data.aws_ssm_parameter.") and parsed[1] in ("value", "insecure_value"):
            data = model.resources.get(parsed[0])
            return parameters.get((data.values.get("name") if data else None), v)
        return v
    return {k: sub(v) for k, v in values.items()}


def expected(model: EnvModel) -> dict[str, dict[str, Any]]:
    """Managed resources' values with provider default tags merged and the attributes AWS reports derived."""
    managed = model.managed()
    out: dict[str, dict[str, Any]] = {}
    for address, r in managed.items():
        values = dict(r.values)
        if isinstance(values.get("tags_all"), dict):
            values["tags"] = values.pop("tags_all")
        elif "tags" in values and not is_unknown(values["tags"]):
            values["tags"] = {**model.default_tags, **(values["tags"] or {})}
        out[address] = values
    for address, values in out.items():
        rtype = managed[address].type
        if rtype == "aws_instance":
            values["instance_state"] = "running"
        elif rtype in ("aws_default_security_group", "aws_security_group"):
            # Terraform removes every rule it does not declare (also AWS's default allow-all egress), unless
            # rules come from separate rule resources: then the group's own blocks say nothing.
            if not any(refers_to(x.values.get("security_group_id"), address, model, "id")
                       for x in model.of_type(*RULE_TYPES)):
                values["ingress"] = values.get("ingress") or []
                values["egress"] = values.get("egress") or []
        elif rtype == "aws_s3_bucket":
            _bucket_exposure(model, address, values)
        elif rtype == "aws_s3_bucket_lifecycle_configuration":
            values["rule"] = [{**{b: [] for b in LIFECYCLE_BLOCKS}, **{k: v for k, v in rule.items() if v is not None}}
                              for rule in values.get("rule") or []]
        elif rtype == "aws_sns_topic":
            values["subscriptions"] = sorted(
                f"{x.values.get('protocol')}:{x.values.get('endpoint')}" for x in model.of_type(
                    "aws_sns_topic_subscription") if refers_to(x.values.get("topic_arn"), address, model, "arn"))
        elif rtype == "aws_acm_certificate":
            values["status"] = "ISSUED"
        elif rtype == "aws_lb_target_group":
            values["targets"] = [{"target_id": a.values.get("target_id"), "port": a.values.get("port")}
                                 for a in model.of_type("aws_lb_target_group_attachment")
                                 if refers_to(a.values.get("target_group_arn"), address, model)]
        elif rtype == "aws_iam_role":
            values["managed_policy_arns"] = sorted(
                a.values.get("policy_arn") for a in model.of_type("aws_iam_role_policy_attachment")
                if refers_to(a.values.get("role"), address, model))
            values["inline_policy_names"] = sorted(
                p.values.get("name") for p in model.of_type("aws_iam_role_policy")
                if refers_to(p.values.get("role"), address, model))
    return out
