"""Unmanaged resources: tagged Environment=<env> in AWS, declared nowhere in that environment's Terraform.

The tagging API finds them in one query per region; IAM roles and Route53 zones, which it never
returns, come from the IAM and Route53 inventories. Known exceptions live in the contract::

    ignore_unmanaged:
      - {arn_pattern: "arn:aws:ec2:*:*:instance/i-0abc*", why: "bastion run by the network team", envs: [staging]}

``arn_pattern`` is a shell-style glob on the ARN, ``why`` is required, ``envs`` is optional (default: all).
"""

from __future__ import annotations

import fnmatch
import os
import re
from typing import TYPE_CHECKING

from core.findings import Finding, Status
from live_checks.expected import identity
from live_checks.inventory import SERVICES

if TYPE_CHECKING:
    from live_checks.run import LiveRun

# (ARN service, resource type) -> the Terraform type that declares it (a listener belongs to its load balancer).
ARN_TYPES = {
    ("ec2", "instance"): "aws_instance", ("ec2", "security-group"): "aws_security_group", ("ec2", "vpc"): "aws_vpc",
    ("ec2", "subnet"): "aws_subnet", ("ec2", "internet-gateway"): "aws_internet_gateway",
    ("ec2", "route-table"): "aws_route_table", ("rds", "db"): "aws_db_instance",
    ("rds", "subgrp"): "aws_db_subnet_group", ("s3", ""): "aws_s3_bucket",
    ("elasticloadbalancing", "loadbalancer"): "aws_lb", ("elasticloadbalancing", "listener"): "aws_lb",
    ("elasticloadbalancing", "targetgroup"): "aws_lb_target_group", ("logs", "log-group"): "aws_cloudwatch_log_group",
    ("sns", ""): "aws_sns_topic", ("cloudwatch", "alarm"): "aws_cloudwatch_metric_alarm",
    ("elasticfilesystem", "file-system"): "aws_efs_file_system", ("acm", "certificate"): "aws_acm_certificate",
    ("iam", "role"): "aws_iam_role", ("iam", "instance-profile"): "aws_iam_instance_profile",
    ("route53", "hostedzone"): "aws_route53_zone",
}
# Tagged by AWS from a managed resource, not resources of their own.
DERIVED = {"arn:aws*:rds:*:*:snapshot:rds:*": "automated RDS snapshots copy the instance's tags"}
ENTRY_KEYS = {"arn_pattern", "why", "envs", "__line__"}


def parse_arn(arn: str) -> tuple[str, str, str]:
    """ARN -> (service, resource type, the resource's own name or id)."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return "", "", arn
    service, resource = parts[2], parts[5]
    if service in ("s3", "sns"):
        return service, "", resource
    m = re.match(r"^([a-z-]+)[/:](.*)$", resource)
    rtype, rest = (m.group(1), m.group(2)) if m else ("", resource)
    if rtype in ("loadbalancer", "listener"):
        rest = rest.split("/")[1] if rest.count("/") >= 2 else rest
    elif rtype == "targetgroup" or rtype == "log-group":
        rest = rest.split("/")[0].removesuffix(":*")
    elif rtype in ("role", "instance-profile"):
        rest = rest.rsplit("/", 1)[-1]
    return service, rtype, rest


def bad_entries(entries, envs) -> list[str]:
    """Problems in the contract's ignore_unmanaged list (empty when every entry is well formed)."""
    problems = []
    for n, e in enumerate(entries, 1):
        where = f"ignore_unmanaged entry {n}" + (f" (line {e['__line__']})" if isinstance(e, dict)
                                                  and "__line__" in e else "")
        if not isinstance(e, dict):
            problems.append(f"{where}: must be a mapping {{arn_pattern: ..., why: ...}}")
            continue
        if set(e) - ENTRY_KEYS:
            problems.append(f"{where}: unknown keys {sorted(set(e) - ENTRY_KEYS)}")
        if not isinstance(e.get("arn_pattern"), str) or not e["arn_pattern"].startswith("arn:"):
            problems.append(f"{where}: arn_pattern must be an ARN glob starting with 'arn:'")
        if not isinstance(e.get("why"), str) or not e["why"].strip():
            problems.append(f"{where}: why must say why the resource is accepted")
        if not isinstance(e.get("envs", []), list) or any(x not in envs for x in e.get("envs", [])):
            problems.append(f"{where}: envs must list environments of the contract")
    return problems


def name_prefix(model) -> str:
    """What the environment's own names start with (``codedetect-staging-``), from the names it declares;
    '' when they share no prefix ending in '-'."""
    names = [identity(r) for r in model.managed().values()
             if r.type in ("aws_iam_role", "aws_security_group", "aws_lb", "aws_db_instance")]
    names = [n for n in names if n]
    common = os.path.commonprefix(names) if len(names) > 1 else ""  # noqa: RUF071 - characters are meant
    return common[:common.rfind("-") + 1] if "-" in common else ""


def _untagged(run: LiveRun, env: str, refs, declared, ignore, reported) -> list[Finding]:
    """Found by more than tags: instances, security groups and interfaces in the environment's VPC, IAM roles and
    customer policies named with the environment's prefix, that Terraform does not declare."""
    model, out = run.models[env], []
    ec2, iam = run.inventory("ec2", env), run.inventory("iam", env)
    region = run.regions[env]
    found = [(f"arn:aws:ec2:{region}:{ec2_owner(ec2)}:{kind}/{rid}", rid, f"in the environment's VPC, {label}")
             for kind, rid, label in ec2.in_vpcs(ec2.vpc_ids(model), set(refs))]
    prefix = name_prefix(model)
    if prefix:
        found += [(r["Arn"], name, f"IAM role named {prefix}*") for name, r in iam.roles.items()
                  if name.startswith(prefix) and ("aws_iam_role", name) not in declared and r["Arn"] not in refs]
        found += [(p["Arn"], name, f"IAM policy named {prefix}*") for name, p in iam.policies.items()
                  if name.startswith(prefix) and ("aws_iam_policy", name) not in declared and p["Arn"] not in refs]
    for arn, name, why in sorted(found):
        if name in reported or any(fnmatch.fnmatchcase(arn, p) for p, _ in ignore):
            continue
        out.append(run._finding("unmanaged", env, Status.DRIFT, arn, "", "not deployed (not in Terraform)", "exists",
                                f"{why}: import it into Terraform, delete it, or list it in ignore_unmanaged"))
    return out


def ec2_owner(ec2) -> str:
    """The account id in EC2 ARNs (from any resource's owner), '*' if none is known."""
    owners = {g.get("OwnerId") for g in ec2.groups} - {None}
    return min(owners) if owners else "*"


def unmanaged(run: LiveRun, env: str) -> list[Finding]:
    model = run.models[env]
    entries = run.contract.ignore_unmanaged
    errors = bad_entries(entries, list(run.models)) or run.errors(env, SERVICES)
    if errors:
        return [run._finding("unmanaged", env, Status.ERROR, message=e) for e in errors]
    tag = model.default_tags.get("Environment") or model.env.tag
    from_api = {arn: t for arn, t in run.inventory("resourcegroupstaggingapi", env).resources.items()
                if t.get("Environment") == tag}
    tagged = dict(from_api)
    tagged.update({r["Arn"]: r["tags"] for r in run.inventory("iam", env).roles.values()
                   if r["tags"].get("Environment") == tag})
    tagged.update({f"arn:aws:route53:::hostedzone/{z['Id'].split('/')[-1]}": z["tags"]
                   for z in run.inventory("route53", env).zones.values() if z["tags"].get("Environment") == tag})
    refs = run.views[env][2]
    found = {a for a in refs if a.startswith("arn:") and ARN_TYPES.get(parse_arn(a)[:2]) not in (
        None, "aws_iam_role", "aws_route53_zone", "aws_iam_instance_profile")}  # what the tagging API returns
    if found and not found & set(from_api):
        return [run._finding("unmanaged", env, Status.ERROR, message=(
            f"the tagging API returned none of the {len(found)} deployed managed resources tagged "
            f"Environment={tag}: its answer cannot be trusted (permissions, region or missing default tags?)"))]
    declared = {(r.type, n) for r in model.managed().values()
                for n in (identity(r), (r.values.get("tags") or {}).get("Name") if isinstance(
                    r.values.get("tags"), dict) else None) if n}
    ignore = [(e["arn_pattern"], e["why"]) for e in entries if env in e.get("envs", [env])]
    findings, accepted, derived = [], 0, 0
    for arn, t in sorted(tagged.items()):
        service, rtype, name = parse_arn(arn)
        tf_type = ARN_TYPES.get((service, rtype))
        if arn in refs or name in refs or (tf_type, name) in declared or (tf_type, t.get("Name")) in declared:
            continue
        if any(fnmatch.fnmatchcase(arn, p) for p in DERIVED):
            derived += 1
            continue
        if any(fnmatch.fnmatchcase(arn, p) for p, _ in ignore):
            accepted += 1
            continue
        findings.append(run._finding("unmanaged", env, Status.DRIFT, arn, "", "not deployed (not in Terraform)",
                                     "exists", f"tagged Environment={tag}" + (f", Name={t['Name']}" if "Name" in t
                                                                              else "") +
                                     ": import it into Terraform, delete it, or list it in ignore_unmanaged"))
    reported = {parse_arn(f.resource)[2] for f in findings}
    findings += _untagged(run, env, refs, declared, ignore, reported)
    if not findings:
        findings.append(run._finding("unmanaged", env, Status.PASS, message=(
            f"{len(tagged)} resource(s) tagged Environment={tag}, all declared in Terraform"
            + (f"; {accepted} accepted by ignore_unmanaged" if accepted else "")
            + (f"; {derived} made by AWS from managed ones (automated snapshots)" if derived else ""))))
    return findings
