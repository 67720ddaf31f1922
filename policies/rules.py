"""Our policies that need an environment's identity or several resources at once, checked on the evaluated model.

The single-resource rules are checkov checks in ``policies/checks/``. Each function here returns every finding of
one policy for one environment, PASS included, located at the resource's block (or nested block) in terraform/.
"""

from __future__ import annotations

from typing import Any

from core.findings import Finding, Status
from core.model import SENSITIVE, EnvModel, Resource, is_unknown
from policies.common import Context, Policy, blocks, finding, is_production, ref_target, refers_to, repo_path
from policies.tagging import tags_all, takes_tags

SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
PUBLIC_ACCESS_FLAGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")


def _env_tag(model: EnvModel) -> str:
    return model.env.tag or model.name


def _none_found(pid: str, kind: str, model: EnvModel, what: str) -> list[Finding]:
    return [finding(pid, kind, Status.PASS, model, message=f"no {what} in {model.name}: nothing to check")]


# ---------------------------------------------------------------------------------------------------- CKV_CD_1


def tags(model: EnvModel, ctx: Context) -> list[Finding]:
    out = []
    required = ctx.project.required_tags
    expected = {k: _env_tag(model) if k == "Environment" else "(any non-empty value)" for k in required}
    rule = ", ".join(required)
    for r in sorted(model.managed().values(), key=lambda r: r.address):
        taggable = takes_tags(r.type, ctx.project)
        if taggable is False:
            continue
        if taggable is None:
            out.append(finding("CKV_CD_1", "policy", Status.FAIL, model, r, "tags_all", expected, "unknown type",
                               f"{r.type} is not in the AWS provider schema (policies/aws_taggable.txt): regenerate "
                               "it for your provider version, or classify the type in the contract "
                               "(project: {tags: {taggable: [...]} or {untaggable: [...]}})"))
            continue
        merged = tags_all(r, model)
        if not isinstance(merged, dict):
            out.append(finding("CKV_CD_1", "policy", Status.UNKNOWN, model, r, "tags", expected, merged,
                               "tags are only known after apply"))
            continue
        problems = []
        for key in required:
            value = merged.get(key)
            if key == "Environment":
                if value != _env_tag(model):
                    problems.append(("tags_all.Environment", _env_tag(model), value))
            elif not isinstance(value, str) or not value or is_unknown(value):
                problems.append((f"tags_all.{key}", "non-empty", value))
        for attribute, want, got in problems:
            out.append(finding("CKV_CD_1", "policy", Status.FAIL, model, r, attribute, want, got,
                               f"tag every resource with {rule}"))
        if not problems:
            out.append(finding("CKV_CD_1", "policy", Status.PASS, model, r, "tags_all",
                               {k: merged.get(k) for k in required}, {k: merged.get(k) for k in required}))
    return out


# ---------------------------------------------------------------------------------------------------- CKV_CD_3


def production_rds_protected(model: EnvModel, ctx: Context) -> list[Finding]:
    dbs = model.of_type("aws_db_instance", "aws_rds_cluster")
    if not is_production(model):
        return [finding("CKV_CD_3", "policy", Status.PASS, model,
                        message=f"{model.name} is not production: deletion protection is not required")]
    if not dbs:
        return _none_found("CKV_CD_3", "policy", model, "database")
    out = []
    for r in dbs:
        bad = []
        if r.values.get("deletion_protection") is not True:
            bad.append(("deletion_protection", True, r.values.get("deletion_protection")))
        if r.values.get("skip_final_snapshot") not in (False, None):
            bad.append(("skip_final_snapshot", False, r.values.get("skip_final_snapshot")))
        for attribute, want, got in bad:
            out.append(finding("CKV_CD_3", "policy", Status.FAIL, model, r, attribute, want, got,
                               "DO NOT DESTROY PRODUCTION: a destroy must fail and leave a final snapshot"))
        if not bad:
            out.append(finding("CKV_CD_3", "policy", Status.PASS, model, r, "deletion_protection", True, True))
    return out


# ---------------------------------------------------------------------------------------------------- CKV_CD_4


def _bucket_parts(model: EnvModel, bucket: Resource, rtype: str) -> list[Resource]:
    return [r for r in model.of_type(rtype) if refers_to(r.values.get("bucket"), bucket, bucket.values.get("bucket"))]


def _public_access_blocked(model: EnvModel, bucket: Resource) -> str | None:
    parts = _bucket_parts(model, bucket, "aws_s3_bucket_public_access_block")
    if not parts:
        return "no aws_s3_bucket_public_access_block for this bucket"
    off = [f for f in PUBLIC_ACCESS_FLAGS if not any(p.values.get(f) is True for p in parts)]
    return f"public access block does not set {', '.join(off)} to true" if off else None


def _encrypted(model: EnvModel, bucket: Resource) -> str | None:
    configs = [p.values for p in _bucket_parts(model, bucket, "aws_s3_bucket_server_side_encryption_configuration")]
    configs += blocks(bucket.values, "server_side_encryption_configuration")
    algorithms = [d.get("sse_algorithm") for c in configs for rule in blocks(c, "rule")
                  for d in blocks(rule, "apply_server_side_encryption_by_default")]
    if not any(a in SSE_ALGORITHMS for a in algorithms):
        return "no server-side encryption configuration (" + ", ".join(SSE_ALGORITHMS) + ")"
    return None


def _versioned(model: EnvModel, bucket: Resource) -> str | None:
    statuses = [c.get("status") for p in _bucket_parts(model, bucket, "aws_s3_bucket_versioning")
                for c in blocks(p.values, "versioning_configuration")]
    statuses += ["Enabled" for v in blocks(bucket.values, "versioning") if v.get("enabled") is True]
    return None if "Enabled" in statuses else "versioning is not Enabled"


def s3_protected(model: EnvModel, ctx: Context) -> list[Finding]:
    buckets = model.of_type("aws_s3_bucket")
    if not buckets:
        return _none_found("CKV_CD_4", "policy", model, "S3 bucket")
    unlinked = [r.address for r in model.managed().values() if r.type.startswith("aws_s3_bucket_")
                and is_unknown(r.values.get("bucket")) and not ref_target(r.values.get("bucket"))]
    out = []
    for bucket in buckets:
        problems = [p for p in (_public_access_blocked(model, bucket), _encrypted(model, bucket),
                                _versioned(model, bucket)) if p]
        status, why = Status.FAIL, "uploads hold user data"
        if problems and unlinked:  # e.g. a real plan: the bucket id is only known after apply
            status, why = Status.UNKNOWN, (f"cannot tell which bucket {', '.join(unlinked)} configure(s): their "
                                           "`bucket` is only known after apply and the model keeps no reference")
        for problem in problems:
            out.append(finding("CKV_CD_4", "policy", status, model, bucket, "", "blocked, encrypted, versioned",
                               problem, why))
        if not problems:
            out.append(finding("CKV_CD_4", "policy", Status.PASS, model, bucket, "", "blocked, encrypted, versioned",
                               "blocked, encrypted, versioned"))
    return out


# ---------------------------------------------------------------------------------------------------- CKV_CD_6


def _sg_targets(values: Any) -> set[str | None]:
    """Security group addresses (or literal ids) in a list; None for one only known after apply."""
    if not isinstance(values, list):  # a whole list only known after apply is one "${...}" string
        values = [values] if values else []
    return {ref_target(v) if is_unknown(v) else v for v in values}


def db_only_from_app(model: EnvModel, ctx: Context) -> list[Finding]:
    dbs = model.of_type("aws_db_instance", "aws_rds_cluster")
    if not dbs:
        return _none_found("CKV_CD_6", "policy", model, "database")
    app_sgs = set()
    for r in model.of_type("aws_instance", "aws_launch_template"):
        app_sgs |= _sg_targets(r.values.get("vpc_security_group_ids") or r.values.get("security_groups") or [])
    app_sgs.discard(None)
    out = []
    for db in dbs:
        db_sgs = _sg_targets(db.values.get("vpc_security_group_ids") or [])
        if not db_sgs or None in db_sgs:
            out.append(finding("CKV_CD_6", "policy", Status.UNKNOWN, model, db, "vpc_security_group_ids",
                               "the database's own security group", db.values.get("vpc_security_group_ids"),
                               "cannot tell which security group guards the database"))
            continue
        for address in sorted(db_sgs):
            sg = model.resources.get(address)
            if sg is None:
                out.append(finding("CKV_CD_6", "policy", Status.UNKNOWN, model, db, "vpc_security_group_ids",
                                   "a security group declared here", address, "not a resource of this configuration"))
                continue
            out += _db_sg_findings(model, sg, app_sgs)
    return out


def _db_sg_findings(model: EnvModel, sg: Resource, app_sgs: set) -> list[Finding]:
    rules = [(f"ingress[{i}]", rule) for i, rule in enumerate(blocks(sg.values, "ingress"))]
    for r in model.of_type("aws_security_group_rule", "aws_vpc_security_group_ingress_rule"):
        if ref_target(r.values.get("security_group_id")) != sg.address or r.values.get("type", "ingress") != "ingress":
            continue
        source = r.values.get("source_security_group_id") or r.values.get("referenced_security_group_id")
        rules.append((r.address, {**r.values, "security_groups": [source]}))
    expected = f"only from {', '.join(sorted(app_sgs)) or 'the app security group'}"
    out = []
    for where, rule in rules:
        sources = {k: rule.get(k) for k in ("cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids", "cidr_ipv4",
                                            "cidr_ipv6", "prefix_list_id") if rule.get(k)}
        if rule.get("self"):
            sources["self"] = True
        groups = _sg_targets(rule.get("security_groups"))
        if not sources and None in groups:
            out.append(finding("CKV_CD_6", "policy", Status.UNKNOWN, model, sg, where, expected,
                               rule.get("security_groups"), "the source security group is only known after apply "
                               "and the model keeps no reference to it"))
            continue
        if sources or not groups or not groups <= app_sgs:
            resource = model.resources.get(where, sg)
            attribute = where if resource is sg else ""
            out.append(finding("CKV_CD_6", "policy", Status.FAIL, model, resource, attribute, expected,
                               {**sources, "security_groups": sorted(str(g) for g in groups)},
                               f"{sg.address} guards the database"))
    if not out:
        out.append(finding("CKV_CD_6", "policy", Status.PASS, model, sg, "ingress", expected, expected))
    return out


# ---------------------------------------------------------------------------------------------------- CKV_CD_9


def https_redirect(model: EnvModel, ctx: Context) -> list[Finding]:
    listeners = model.of_type("aws_lb_listener", "aws_alb_listener")
    tls_lbs = {ref_target(r.values.get("load_balancer_arn")) for r in listeners
               if r.values.get("protocol") in ("HTTPS", "TLS")}
    if not tls_lbs:
        return [finding("CKV_CD_9", "policy", Status.PASS, model,
                        message=f"SSL is not enabled in {model.name} (no HTTPS listener): no redirect required")]
    out = []
    for r in listeners:
        if r.values.get("protocol") != "HTTP" or ref_target(r.values.get("load_balancer_arn")) not in tls_lbs:
            continue
        actions = blocks(r.values, "default_action")
        redirects = [rd for a in actions if a.get("type") == "redirect" for rd in blocks(a, "redirect")]
        ok = len(actions) == 1 and redirects and all(rd.get("protocol") == "HTTPS" for rd in redirects)
        out.append(finding("CKV_CD_9", "policy", Status.PASS if ok else Status.FAIL, model, r, "default_action[0]",
                           "redirect to HTTPS", [a.get("type") for a in actions],
                           "" if ok else "SSL is enabled: plain HTTP must only redirect to HTTPS"))
    return out or [finding("CKV_CD_9", "policy", Status.PASS, model, message="no HTTP listener beside HTTPS")]


# ---------------------------------------------------------------------------------------------------- CKV_CD_10


def alarm_prefix(model: EnvModel, project=None) -> str:
    """The project's prefix for this environment's alarm names (codedetect: [PROD]), else "[<TAG IN CAPITALS>]"."""
    prefixes = dict(project.alarm_prefixes) if project is not None else {}
    return prefixes.get(model.name, f"[{_env_tag(model).upper()}]")


def alarms(model: EnvModel, ctx: Context) -> list[Finding]:
    found = model.of_type("aws_cloudwatch_metric_alarm", "aws_cloudwatch_composite_alarm")
    if not found:
        return _none_found("CKV_CD_10", "policy", model, "alarm")
    prefix = alarm_prefix(model, ctx.project)
    out = []
    for r in found:
        name = r.values.get("alarm_name")
        actions = r.values.get("alarm_actions")  # a list, or one "${...}" when only known after apply
        actions = [a for a in actions if a] if isinstance(actions, list) else [actions] if actions else []
        bad = []
        if not isinstance(name, str) or is_unknown(name) or not name.startswith(prefix + " "):
            bad.append(("alarm_name", f"starts with '{prefix} '", name))
        if not actions or r.values.get("actions_enabled") is False:
            bad.append(("alarm_actions", "at least one action, actions enabled", r.values.get("alarm_actions")))
        for attribute, want, got in bad:
            out.append(finding("CKV_CD_10", "policy", Status.FAIL, model, r, attribute, want, got,
                               "an alarm nobody hears, or one that does not say its environment, is noise"))
        if not bad:
            out.append(finding("CKV_CD_10", "policy", Status.PASS, model, r, "alarm_name", prefix, name))
    return out


# ---------------------------------------------------------------------------------------------------- CKV_CD_12

# Stateful resource types and the attribute that keeps a destroy from deleting their data: (attribute, protected
# value); ``None``: the type has no such attribute and only ``lifecycle { prevent_destroy = true }`` protects it.
# "unset" protects for the force_* attributes (their default is false).
STATEFUL: dict[str, tuple[str, Any] | None] = {
    "aws_db_instance": ("deletion_protection", True),
    "aws_rds_cluster": ("deletion_protection", True),
    "aws_docdb_cluster": ("deletion_protection", True),
    "aws_neptune_cluster": ("deletion_protection", True),
    "aws_dynamodb_table": ("deletion_protection_enabled", True),
    "aws_lb": ("enable_deletion_protection", True),
    "aws_alb": ("enable_deletion_protection", True),
    "aws_cognito_user_pool": ("deletion_protection", "ACTIVE"),
    "aws_s3_bucket": ("force_destroy", "unset"),
    "aws_route53_zone": ("force_destroy", "unset"),
    "aws_ecr_repository": ("force_delete", "unset"),
    "aws_efs_file_system": None,
    "aws_ebs_volume": None,
    "aws_elasticache_replication_group": None,
    "aws_elasticache_cluster": None,
    "aws_opensearch_domain": None,
}


def _prevent_destroy(r: Resource, model: EnvModel) -> bool:
    """``lifecycle { prevent_destroy = true }``: in the evaluated values, or (a plan has no lifecycle) in the source."""
    if any(b.get("prevent_destroy") is True for b in blocks(r.values, "lifecycle")):
        return True
    if not model.source.startswith("plan:"):
        return False
    from pathlib import Path

    from core import hcl

    kind = "data" if r.mode == "data" else "resource"
    for tf in sorted(Path(model.root).glob("*.tf")):
        try:
            found = [b for b in hcl.parse_file(tf).blocks if b.type == kind and b.labels == (r.type, r.name)]
        except hcl.HclSyntaxError:
            continue  # the model names syntax errors with their line
        for block in found:
            for inner in block.blocks:
                pd = inner.attrs.get("prevent_destroy") if inner.type == "lifecycle" else None
                if pd is not None and pd.expr.strip() == "true":
                    return True
    return False


def _reference(model: EnvModel, ctx: Context) -> bool:
    return model.name == ctx.project.reference if ctx.project.reference else is_production(model)


def _excused(pid: str, model: EnvModel, r: Resource, f: Finding, ctx: Context) -> Finding:
    """A failing finding the project's contract excuses (``project: {excuses: [...]}``) is MUTED, saying why."""
    from dataclasses import replace

    excuse = ctx.project.excuse_for(pid, model.name, r.address)
    if excuse is None or f.status.ok:
        return f
    return replace(f, status=Status.MUTED, message=f"excused by {repo_path(excuse.file)}:{excuse.line}: {excuse.why}")


def production_undeletable(model: EnvModel, ctx: Context) -> list[Finding]:
    """CKV_CD_12: in the reference environment, a destroy cannot delete a stateful resource's data."""
    if not _reference(model, ctx):
        return [finding("CKV_CD_12", "policy", Status.PASS, model,
                        message=f"{model.name} is not the reference environment: it may be destroyed")]
    found = sorted(model.of_type(*STATEFUL), key=lambda r: r.address)
    if not found:
        return _none_found("CKV_CD_12", "policy", model, "stateful resource")
    out = []
    for r in found:
        rule = STATEFUL[r.type]
        if _prevent_destroy(r, model):
            out.append(finding("CKV_CD_12", "policy", Status.PASS, model, r, "lifecycle[0].prevent_destroy", True,
                               True))
            continue
        if rule is None:
            f = finding("CKV_CD_12", "policy", Status.FAIL, model, r, "lifecycle.prevent_destroy", True, None,
                        f"DO NOT DESTROY PRODUCTION: {r.type} has no deletion protection attribute; add "
                        "lifecycle { prevent_destroy = true } or excuse it in the contract with a reason")
        else:
            attribute, want = rule
            value = r.values.get(attribute)
            ok = value in (None, False) if want == "unset" else value == want
            expected = False if want == "unset" else want
            if is_unknown(value):
                f = finding("CKV_CD_12", "policy", Status.UNKNOWN, model, r, attribute, expected, value,
                            "only known after apply")
            elif ok:
                f = finding("CKV_CD_12", "policy", Status.PASS, model, r, attribute, expected, value)
            else:
                f = finding("CKV_CD_12", "policy", Status.FAIL, model, r, attribute, expected, value,
                            f"DO NOT DESTROY PRODUCTION: a destroy of {model.name} would delete it and its data; set "
                            f"{attribute} = {str(expected).lower() if isinstance(expected, bool) else expected!r}, "
                            "add lifecycle { prevent_destroy = true }, or excuse it in the contract with a reason")
        out.append(_excused("CKV_CD_12", model, r, f, ctx))
    return out


# ---------------------------------------------------------------------------------------------------- CKV_CD_13

# Names unique per account (and region): two environments giving one the same name manage one object.
UNIQUE_NAMES = {
    "aws_iam_user": "name", "aws_iam_role": "name", "aws_iam_policy": "name", "aws_iam_group": "name",
    "aws_iam_instance_profile": "name", "aws_s3_bucket": "bucket", "aws_ssm_parameter": "name",
    "aws_cloudwatch_log_group": "name", "aws_secretsmanager_secret": "name", "aws_key_pair": "key_name",
    "aws_lb": "name", "aws_lb_target_group": "name", "aws_db_instance": "identifier", "aws_rds_cluster":
    "cluster_identifier", "aws_db_subnet_group": "name", "aws_db_parameter_group": "name", "aws_sns_topic": "name",
    "aws_sqs_queue": "name", "aws_lambda_function": "function_name", "aws_dynamodb_table": "name",
    "aws_ecr_repository": "name", "aws_cloudwatch_metric_alarm": "alarm_name", "aws_cloudwatch_dashboard":
    "dashboard_name", "aws_launch_template": "name", "aws_autoscaling_group": "name", "aws_kms_alias": "name",
    "aws_efs_file_system": "creation_token", "aws_elasticache_replication_group": "replication_group_id",
}


def _literal(value: Any) -> str | None:
    return value if isinstance(value, str) and value and not is_unknown(value) and value != SENSITIVE else None


def unique_names(model: EnvModel, ctx: Context) -> list[Finding]:
    """CKV_CD_13: names unique per account differ between environments (else both manage the same object)."""
    others = {n: m for n, m in ctx.models.items() if n != model.name}
    out = []
    for r in sorted(model.of_type(*UNIQUE_NAMES), key=lambda r: r.address):
        attribute = UNIQUE_NAMES[r.type]
        name = _literal(r.values.get(attribute))
        if name is None:
            continue  # generated by AWS (name_prefix, no name) or only known after apply: nothing shared
        same = [(env, o.address) for env, m in sorted(others.items()) for o in m.of_type(r.type)
                if _literal(o.values.get(attribute)) == name]
        if same:
            where = ", ".join(f"{o} in {env}" for env, o in same)
            f = finding("CKV_CD_13", "policy", Status.FAIL, model, r, attribute, f"a name of {model.name} only",
                        name, f"{where} has the same {attribute}: both environments manage one object (a change or "
                        "destroy in one hits the other); put the environment in the name")
        else:
            f = finding("CKV_CD_13", "policy", Status.PASS, model, r, attribute, f"a name of {model.name} only", name)
        out.append(_excused("CKV_CD_13", model, r, f, ctx))
    return out or [finding("CKV_CD_13", "policy", Status.PASS, model,
                           message=f"no resource with a fixed account-wide name in {model.name}")]


# ---------------------------------------------------------------------------------------------------- CKV_CD_14

# Attributes that name a credential: the SSH key pair of instances, the secret a data source reads.
CREDENTIALS = {
    "aws_instance": ("key_name",), "aws_launch_template": ("key_name",), "aws_launch_configuration": ("key_name",),
    "aws_spot_instance_request": ("key_name",), "aws_key_pair": ("public_key",),
    "aws_secretsmanager_secret_version": ("secret_id",),
}
DATA_CREDENTIALS = {"aws_secretsmanager_secret": ("name", "arn"), "aws_secretsmanager_secret_version": ("secret_id",)}


def _credential_uses(model: EnvModel) -> list[tuple[Resource, str, str]]:
    out = []
    for r in sorted(model.resources.values(), key=lambda r: r.address):
        keys = (CREDENTIALS if r.mode == "managed" else DATA_CREDENTIALS).get(r.type, ())
        for key in keys:
            value = _literal(r.values.get(key))
            if value is not None:
                out.append((r, key, value))
    return out


def shared_credentials(model: EnvModel, ctx: Context) -> list[Finding]:
    """CKV_CD_14: no environment uses another's credential (key pair, secret): no production secrets in staging."""
    theirs: dict[str, list[str]] = {}
    for env, m in sorted(ctx.models.items()):
        if env != model.name:
            for r, key, value in _credential_uses(m):
                theirs.setdefault(value, []).append(f"{r.address}.{key} in {env}")
    out = []
    for r, key, value in _credential_uses(model):
        shown = value if key != "public_key" else "(the same public key)"
        if value in theirs:
            f = finding("CKV_CD_14", "policy", Status.FAIL, model, r, key, f"a credential of {model.name} only",
                        shown, f"also used by {', '.join(theirs[value])}: environments must not share credentials "
                        "(a staging compromise must not open production)")
        else:
            f = finding("CKV_CD_14", "policy", Status.PASS, model, r, key, f"a credential of {model.name} only", shown)
        out.append(_excused("CKV_CD_14", model, r, f, ctx))
    return out or [finding("CKV_CD_14", "policy", Status.PASS, model,
                           message=f"no key pair or secret named in {model.name}")]


POLICIES = (
    Policy("CKV_CD_1", "Every resource that takes tags carries the project's required tags (Environment: its own)",
           "dashboards and costs are filtered by tag (codedetect: rule 3, Environment and Project)", "policy", tags),
    Policy("CKV_CD_3", "Production RDS has deletion protection and keeps a final snapshot",
           "DO NOT DESTROY PRODUCTION: a mistaken destroy must fail", "policy", production_rds_protected),
    Policy("CKV_CD_4", "S3 buckets block public access, are encrypted and versioned",
           "the uploads bucket holds users' files", "policy", s3_protected),
    Policy("CKV_CD_6", "The database accepts traffic only from the app's security group",
           "nothing else has a reason to reach PostgreSQL", "policy", db_only_from_app),
    Policy("CKV_CD_9", "Where SSL is enabled, plain HTTP only redirects to HTTPS",
           "no page or cookie is served in clear text once a certificate exists", "policy", https_redirect),
    Policy("CKV_CD_10", "Every alarm's name carries its environment's prefix and the alarm has an action",
           "[STAGING]/[PROD] tell the reader where to look; an alarm without action alerts nobody", "policy", alarms),
    Policy("CKV_CD_12", "In the reference environment every stateful resource is protected from a destroy",
           "DO NOT DESTROY PRODUCTION: deletion protection, force_destroy = false or prevent_destroy, or a written "
           "excuse", "policy", production_undeletable),
    Policy("CKV_CD_13", "Account-wide names (IAM, buckets, parameters, log groups...) differ between environments",
           "two workspaces giving an object the same name manage one object: a change in staging hits production",
           "policy", unique_names),
    Policy("CKV_CD_14", "Environments share no credential (key pair, secret)",
           "no production secrets in staging: a staging compromise must not open production", "policy",
           shared_credentials),
)
