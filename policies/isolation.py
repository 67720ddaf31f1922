"""CKV_CD_11: environment isolation. Nothing in one environment names another environment's resources.

"Use fake data in staging": staging must not point at production's bucket, log group, topic, security groups or
domain, and production must not point at staging's. Each environment's identifiers come from its own evaluated
model (raw values, not normalised); every string an environment builds (resources, data sources, outputs) is searched
for every way it can name another environment's resources:

- names: an identifier only another environment has (its bucket, log group, topic, ...), also inside an ARN or a
  JSON policy, and a globally unique name (a bucket's) both environments claim (a collision);
- patterns: a wildcard (``arn:aws:s3:::codedetect-*``, ``/aws/ec2/codedetect-*``) that covers another environment's
  identifier or the ARN of its resource (a lone ``*`` is left to checkov's IAM checks);
- references: a ``terraform_remote_state`` that reads another environment's workspace.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from typing import Any

from core.findings import Finding, Status
from core.model import EnvModel, is_unknown
from policies.common import Context, Policy, finding, source_file

ID = "CKV_CD_11"
# Attributes that name a resource (bucket name, log group, topic, security group, domain, ...).
IDENTIFYING = ("bucket", "name", "identifier", "creation_token", "domain_name", "dashboard_name", "alarm_name",
               "name_prefix", "cluster_identifier", "function_name", "topic_name", "zone_name")
MIN_LENGTH = 6  # shorter identifiers would match by accident


def identifiers(model: EnvModel) -> dict[str, str]:
    """Identifier -> address of the managed resource it names."""
    out: dict[str, str] = {}
    for r in model.managed().values():
        for key in IDENTIFYING:
            value = r.values.get(key)
            if isinstance(value, str) and not is_unknown(value) and len(value) >= MIN_LENGTH:
                out.setdefault(value, r.address)
    return out


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        try:  # a JSON document (an IAM policy, a dashboard): search its strings, with their paths
            parsed = json.loads(value) if value[:1] in "[{" else None
        except ValueError:
            parsed = None
        if parsed is None:
            yield path, value
        else:
            yield from _strings(parsed, path)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{path}.{k}" if path else str(k))


def foreign(model: EnvModel, models: dict[str, EnvModel]) -> dict[str, tuple[str, str]]:
    """Identifiers only other environments have -> (their environment, the resource they name)."""
    own = identifiers(model)
    out: dict[str, tuple[str, str]] = {}
    for name, other in models.items():
        if name == model.name:
            continue
        for ident, address in identifiers(other).items():
            if ident not in own and not any(ident in mine for mine in own):
                out.setdefault(ident, (name, address))
    return out


# How a resource's identifier appears in its ARN (region and account are matched by any value).
ARN_FORMS = {
    "aws_s3_bucket": ("arn:aws:s3:::{}", "arn:aws:s3:::{}/*"),
    "aws_cloudwatch_log_group": ("arn:aws:logs:*:*:log-group:{}", "arn:aws:logs:*:*:log-group:{}:*"),
    "aws_sns_topic": ("arn:aws:sns:*:*:{}",),
    "aws_db_instance": ("arn:aws:rds:*:*:db:{}",),
    "aws_lb": ("arn:aws:elasticloadbalancing:*:*:loadbalancer/app/{}/*",),
    "aws_lb_target_group": ("arn:aws:elasticloadbalancing:*:*:targetgroup/{}/*",),
    "aws_iam_role": ("arn:aws:iam::*:role/{}",),
    "aws_iam_instance_profile": ("arn:aws:iam::*:instance-profile/{}",),
    "aws_cloudwatch_metric_alarm": ("arn:aws:cloudwatch:*:*:alarm:{}",),
    "aws_cloudwatch_dashboard": ("arn:aws:cloudwatch::*:dashboard/{}",),
}


def _covers(pattern: str, ident: str, rtype: str) -> bool:
    """Whether a wildcard ``pattern`` matches ``ident`` itself or the ARN of the resource it names."""
    if pattern.startswith("arn:"):  # any region, any account: environments may share both
        parts = pattern.split(":", 5)
        if len(parts) == 6:
            parts[3], parts[4] = ("*" if parts[3] else ""), ("*" if parts[4] else "")
        pattern = ":".join(parts)
        candidates = [f.format(ident) for f in ARN_FORMS.get(rtype, ())]
    else:
        candidates = [ident]
    return any(fnmatch.fnmatchcase(c, pattern) for c in candidates)


def _is_pattern(text: str) -> bool:
    return ("*" in text or "?" in text) and text.strip("*?") != "" and "\n" not in text and len(text) < 512


def remote_states(model: EnvModel, models: dict[str, EnvModel]) -> list[Finding]:
    """A terraform_remote_state reading another environment's workspace (the default one when none is given)."""
    out = []
    workspaces = {m.env.workspace: n for n, m in models.items() if n != model.name}
    for r in model.resources.values():
        if r.type != "terraform_remote_state":
            continue
        workspace = r.values.get("workspace") or "default"
        if isinstance(workspace, str) and workspace in workspaces:
            other = workspaces[workspace]
            out.append(finding(ID, "policy", Status.FAIL, model, r, "workspace", f"no state of {other}", workspace,
                               f"reads the state of {other}'s workspace {workspace!r}"))
    return out


# Names unique across every account: two environments naming the same one manage one resource, whatever their
# accounts (other names are unique per account or per parent, e.g. an inline role policy's name).
GLOBAL_NAMES = {"aws_s3_bucket": ("bucket",)}


def collisions(model: EnvModel, models: dict[str, EnvModel]) -> list[Finding]:
    """A globally unique name another environment's resource of the same type also has: both would manage it."""
    out = []
    for name, other in sorted(models.items()):
        if name == model.name:
            continue
        theirs = {(r.type, v): r.address for r in other.managed().values() for key in GLOBAL_NAMES.get(r.type, ())
                  if isinstance(v := r.values.get(key), str) and not is_unknown(v) and len(v) >= MIN_LENGTH}
        for r in sorted(model.managed().values(), key=lambda r: r.address):
            for key in GLOBAL_NAMES.get(r.type, ()):
                value = r.values.get(key)
                if isinstance(value, str) and (r.type, value) in theirs:
                    out.append(finding(ID, "policy", Status.FAIL, model, r, key, f"an identifier {name} does not use",
                                       value, f"{name}'s {theirs[(r.type, value)]} has the same {key}: both "
                                       "environments would manage one resource"))
    return out


def isolation(model: EnvModel, ctx: Context) -> list[Finding]:
    forbidden = foreign(model, ctx.models)
    types = {ident: ctx.models[other].resources[address].type for ident, (other, address) in forbidden.items()}
    out = remote_states(model, ctx.models) + collisions(model, ctx.models)
    for r in sorted(model.resources.values(), key=lambda r: r.address):
        for path, text in _strings(dict(r.values)):
            for ident, (other, address) in forbidden.items():
                if ident in text:
                    out.append(finding(ID, "policy", Status.FAIL, model, r, path, f"no identifier of {other}",
                                       ident, f"names {other}'s {address} (use fake data in staging: rule 2)"))
                elif _is_pattern(text) and _covers(text, ident, types[ident]):
                    out.append(finding(ID, "policy", Status.FAIL, model, r, path, f"no pattern covering {other}",
                                       text, f"the pattern covers {other}'s {address} ({ident})"))
    for o in model.outputs.values():
        for _path, text in _strings(o.value):
            for ident, (other, address) in forbidden.items():
                if ident in text:
                    out.append(Finding(check=ID, kind="policy", status=Status.FAIL, env=model.name,
                                       resource=f"output.{o.name}", attribute="value",
                                       expected=f"no identifier of {other}", actual=ident,
                                       file=source_file(model, o.file), line=o.line,
                                       message=f"names {other}'s {address}"))
    if not out:
        others = ", ".join(sorted(n for n in ctx.models if n != model.name)) or "no other environment"
        out.append(finding(ID, "policy", Status.PASS, model,
                           message=f"none of {len(forbidden)} identifiers of {others} is named in {model.name}"))
    return out


POLICY = Policy(ID, "Environments are isolated: none names another environment's resources",
                "use fake data in staging; production never depends on staging (rule 2)", "policy", isolation)
