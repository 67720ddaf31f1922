"""Which resource types take tags, and the tags Terraform will apply to a resource (``tags_all``)."""

from __future__ import annotations

from typing import Any

from core.model import EnvModel, Resource, is_unknown

# AWS provider resource types that take `tags` (and so get the provider's default_tags as `tags_all`).
TAGGABLE = frozenset({
    "aws_acm_certificate", "aws_cloudwatch_log_group", "aws_cloudwatch_metric_alarm", "aws_db_instance",
    "aws_db_parameter_group", "aws_db_subnet_group", "aws_default_security_group", "aws_efs_access_point",
    "aws_efs_file_system", "aws_eip", "aws_flow_log", "aws_iam_instance_profile", "aws_iam_policy", "aws_iam_role",
    "aws_instance", "aws_internet_gateway", "aws_kms_key", "aws_launch_template", "aws_lb", "aws_lb_listener",
    "aws_lb_listener_rule", "aws_lb_target_group", "aws_nat_gateway", "aws_route53_zone", "aws_route_table",
    "aws_s3_bucket", "aws_secretsmanager_secret", "aws_security_group", "aws_sns_topic", "aws_ssm_parameter",
    "aws_subnet", "aws_vpc", "aws_vpc_endpoint", "aws_vpc_security_group_egress_rule",
    "aws_vpc_security_group_ingress_rule", "aws_wafv2_web_acl",
})
# Types that take no tags. A managed type in neither set fails the tag policy until someone classifies it.
UNTAGGABLE = frozenset({
    "aws_acm_certificate_validation", "aws_cloudwatch_dashboard", "aws_efs_mount_target", "aws_iam_role_policy",
    "aws_iam_role_policy_attachment", "aws_lb_target_group_attachment", "aws_route53_record",
    "aws_route_table_association", "aws_s3_bucket_lifecycle_configuration", "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_policy", "aws_s3_bucket_public_access_block", "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_versioning", "aws_security_group_rule", "aws_sns_topic_subscription", "aws_route",
    "aws_db_instance_role_association",
})


def takes_tags(resource_type: str) -> bool | None:
    """True / False for a classified type, None for a type nobody has classified yet."""
    if resource_type in TAGGABLE:
        return True
    if resource_type in UNTAGGABLE:
        return False
    return None


def tags_all(resource: Resource, model: EnvModel) -> dict[str, Any] | str:
    """The provider's default_tags merged with the resource's own tags, as Terraform computes ``tags_all``.

    Returns the unknown marker string itself when the resource's tags are only known after apply. A model read from
    a real plan already has ``tags_all``, as Terraform computed it: that one is used.
    """
    planned = resource.values.get("tags_all")
    if isinstance(planned, dict) or is_unknown(planned):
        return planned
    own = resource.values.get("tags")
    if is_unknown(own):
        return own
    return {**dict(model.default_tags_for(resource)), **(own or {})}
