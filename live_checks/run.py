"""The live run: inventories read once, then each check compares expected and deployed values.

Python API (also used by the pytest tests in live_checks/test_live.py)::

    run = LiveRun(AwsSession(endpoint=...), models, contract)
    findings = run.everything()          # or run.check("rds", "staging"), run.parity("IAM Roles")
"""

from __future__ import annotations

import os
from functools import cached_property

from core.contract import Contract
from core.findings import Finding, Status
from core.model import EnvModel
from live_checks import expected as exp
from live_checks.aws import GLOBAL_SERVICES, MAX_WORKERS, AwsSession, DeadlineExceeded, in_threads
from live_checks.compare import Canon, comparable, diff
from live_checks.inventory import SERVICES, Inventory
from parity.engine import judge

# check id -> (Terraform types it compares, services whose inventories it reads)
CHECKS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ec2": (("aws_instance",), ("ec2", "iam")),
    "rds": (("aws_db_instance", "aws_db_subnet_group"), ("rds", "ec2")),
    "s3": (("aws_s3_bucket", "aws_s3_bucket_public_access_block", "aws_s3_bucket_server_side_encryption_configuration",
            "aws_s3_bucket_versioning", "aws_s3_bucket_ownership_controls", "aws_s3_bucket_lifecycle_configuration"),
           ("s3",)),
    "elb": (("aws_lb", "aws_lb_target_group", "aws_lb_listener", "aws_lb_target_group_attachment"),
            ("elbv2", "ec2", "acm")),
    "security_groups": (("aws_security_group", "aws_default_security_group"), ("ec2",)),
    "iam": (("aws_iam_role", "aws_iam_role_policy", "aws_iam_role_policy_attachment", "aws_iam_instance_profile"),
            ("iam",)),
    "cloudwatch": (("aws_cloudwatch_metric_alarm", "aws_cloudwatch_log_group", "aws_cloudwatch_dashboard"),
                   ("cloudwatch", "logs", "sns", "elbv2")),
    "sns": (("aws_sns_topic", "aws_sns_topic_subscription"), ("sns",)),
    "efs": (("aws_efs_file_system", "aws_efs_mount_target"), ("efs",)),
    "dns": (("aws_route53_zone", "aws_route53_record", "aws_acm_certificate", "aws_acm_certificate_validation"),
            ("route53", "acm", "elbv2")),
}
# Declared types no check reads, and why (a test fails when Terraform gains a type in neither list).
NOT_CHECKED = {
    "aws_vpc": "network plumbing: found through the resources that use it",
    "aws_subnet": "network plumbing: found through the resources that use it",
    "aws_internet_gateway": "network plumbing",
    "aws_route_table": "network plumbing",
    "aws_route_table_association": "network plumbing",
}
# aws_lb_target_group_attachment is compared as the target group's `targets`.
COVERED_BY = {"aws_lb_target_group_attachment": "aws_lb_target_group"}
UNLISTED = "(not in the contract)"


def wanted_for(models: dict[str, EnvModel]) -> dict[str, set[str]]:
    """What the inventories read in detail: declared identifiers, Environment tag values, SSM parameter names."""
    wanted = exp.wanted(list(models.values()))
    wanted["Environment"] = {m.default_tags.get("Environment") or m.env.tag for m in models.values()}
    wanted["data.aws_ssm_parameter"] = {r.values.get("name") for m in models.values() for r in m.resources.values()
                                        if r.mode == "data" and r.type == "aws_ssm_parameter"} - {None}
    return wanted


def build_sessions(contract: Contract, default: AwsSession, profile: str | None = None,
                   region: str | None = None) -> dict[str, AwsSession] | str:
    """One session per distinct ``aws:`` mapping of the contract's environments (sharing ``default``'s
    endpoint and request limiter), or the reason they cannot be built (an unknown profile)."""
    sessions, by_identity = {}, {}
    for env, account in sorted(contract.aws.items()):
        key = tuple(account.get(k) for k in ("profile", "role_arn", "external_id", "region"))
        if key not in by_identity:
            if account.get("profile") and account["profile"] not in default.boto.available_profiles:
                return (f"{contract.path}: environment {env!r}: aws profile {account['profile']!r} "
                        "is in no AWS config file")
            by_identity[key] = AwsSession(profile=account.get("profile") or profile,
                                          region=account.get("region") or region, endpoint=default.endpoint,
                                          role_arn=account.get("role_arn"), external_id=account.get("external_id"),
                                          limiter=default.limiter)
        sessions[env] = by_identity[key]
    return sessions


class LiveRun:
    """``aws`` is the default session; ``sessions`` gives an environment its own (another account or region).
    Environments whose sessions are the same object share their inventories (global services once per account)."""

    def __init__(self, aws: AwsSession, models: dict[str, EnvModel], contract: Contract,
                 region: str | None = None, root: str | None = None, sessions: dict[str, AwsSession] | None = None):
        self.aws, self.models, self.contract = aws, models, contract
        self.root = root
        self.sessions = {env: (sessions or {}).get(env) or aws for env in models}
        self.regions = {env: region or contract.aws.get(env, {}).get("region") or _var(m, "aws_region")
                        or self.sessions[env].default_region for env, m in models.items()}
        self._ids = {id(s): n for n, s in enumerate(dict.fromkeys(self.sessions.values()))}

    def account(self, env: str) -> int:
        """The index of the session (account) that reads ``env``."""
        return self._ids[id(self.sessions[env])]

    def api_calls(self) -> dict[str, int]:
        """API calls made per environment's session (environments sharing a session share the count)."""
        return {env: s.api_calls() for env, s in self.sessions.items()}

    # ------------------------------------------------------------------ inventories

    def _key(self, service: str, env: str) -> tuple[int, str, str]:
        return (self.account(env), service, "us-east-1" if service in GLOBAL_SERVICES else self.regions[env])

    @cached_property
    def inventories(self) -> dict[tuple[int, str, str], Inventory]:
        """Every (account, service, region) inventory, read concurrently once, within the run's deadline."""
        wanted = wanted_for(self.models)
        out: dict[tuple[int, str, str], Inventory] = {}
        for env in sorted(self.models, key=lambda e: (self.account(e), self.regions[e] or "")):
            if not self.regions[env]:
                continue
            for service, cls in SERVICES.items():
                key = self._key(service, env)
                if key not in out:
                    out[key] = cls(self.sessions[env], key[2], wanted)
        failed = {id(s): s.role_error for s in self.sessions.values() if s.role_error}
        for key, inv in out.items():
            session = next(self.sessions[e] for e in self.models if self.account(e) == key[0])
            if id(session) in failed:
                inv.errors.append(failed[id(session)])
        todo = [inv for inv in out.values() if not inv.errors]
        limiter = self.aws.limiter
        results = in_threads(Inventory.load, todo, MAX_WORKERS, timeout=limiter.remaining())
        for inv, result in zip(todo, results, strict=True):
            if isinstance(result, DeadlineExceeded):
                inv.errors.append(f"{inv.service} ({inv.region}): not read within the live run's deadline of "
                                  f"{limiter.deadline_seconds:g} s (--live-deadline)")
        return out

    def inventory(self, service: str, env: str) -> Inventory:
        return self.inventories[self._key(service, env)]

    def errors(self, env: str, services) -> list[str]:
        """Every recorded error of these services, including observers' (so the views are built first)."""
        if not self.regions[env]:
            return [f"no AWS region for {env}: pass --aws-region or set var.aws_region"]
        _ = self.views
        return [e for s in services for e in self.inventory(s, env).errors]

    @cached_property
    def views(self) -> dict[str, tuple[dict, dict, dict]]:
        """env -> (expected, deployed, refs): canonical values by Terraform address; AWS id -> reference."""
        return {env: self._view(env) for env in self.models}

    def _view(self, env: str):
        model = self.models[env]
        if not self.regions[env]:
            return {}, {}, {}
        observed, refs, labels = {}, {}, {}
        for service in SERVICES:
            inv = self.inventory(service, env)
            if inv.errors:
                continue
            try:
                found = inv.observe(model)
            except Exception as err:  # noqa: BLE001 - an observer bug is an ERROR of that service, never a pass
                inv.errors.append(f"{service}: cannot read the inventory ({type(err).__name__}: {err})")
                continue
            labels.update(inv.labels())
            for o in found:
                observed[o.address] = (model.resources[o.address].type if o.address in model.resources
                                       else o.address.split(".", 1)[0], o.values)
                refs.update(o.refs)
        canon = Canon(refs, labels, self.contract.unordered, self.contract.json_attributes)
        managed = set(model.managed())
        expected = {}
        parameters = self.inventory("ssm", env).values if not self.inventory("ssm", env).errors else {}
        for address, values in exp.expected(model).items():
            rtype = model.resources[address].type
            values = exp.resolve_data(model, values, parameters)
            known = {k: v for k, v in values.items() if comparable(v, managed)}
            expected[address] = canon.resource(rtype, known)
        deployed = {a: canon.resource(t, v) for a, (t, v) in observed.items()}
        return expected, deployed, refs

    # ------------------------------------------------------------------ checks

    def check(self, name: str, env: str) -> list[Finding]:
        """Expected (Terraform) against deployed, for one service's resource types in one environment."""
        types, services = CHECKS[name]
        errors = self.errors(env, services)
        if errors:
            return [self._finding(name, env, Status.ERROR, message=e) for e in errors]
        expected, deployed, _ = self.views[env]
        model = self.models[env]
        mine = lambda a: _type(a, model) in types  # noqa: E731
        findings, compared = [], 0
        for address in sorted({a for a in expected if mine(a)} | {a for a in deployed if mine(a)}):
            want, got = expected.get(address), deployed.get(address)
            if got is None and _type(address, model) in COVERED_BY:
                continue
            if got is None:
                findings.append(self._finding(name, env, Status.DRIFT, address, "", "exists", "missing",
                                              "declared in Terraform, not found in AWS"))
            elif want is None:
                findings.append(self._finding(name, env, Status.DRIFT, address, "", "absent", "exists",
                                              "deployed, but Terraform does not declare it"))
            else:
                for path, a, b in diff(want, got):
                    findings.append(self._finding(name, env, Status.DRIFT, address, path, a, b))
                compared += len(set(want) & set(got))
        if not findings:
            n = len({a for a in expected if mine(a)})
            findings.append(self._finding(name, env, Status.PASS, message=(
                f"{n} declared resource(s), {compared} attribute(s) match" if n else
                "nothing of this kind is declared here, and none was found")))
        return findings

    def parity(self, row_id: str) -> list[Finding]:
        """Deployed reference environment against each other deployed environment, under the contract: the
        same diff engine and the same attribution (``parity.engine.judge``) as the static gate."""
        ref = self.contract.reference
        findings = []
        for other in [e for e in self.models if e != ref]:
            label = f"{other}~{ref}"
            errors = self.errors(ref, SERVICES) + self.errors(other, SERVICES)
            if errors:
                findings += [self._finding(row_id, label, Status.ERROR, message=e)
                             for e in dict.fromkeys(errors)]
                continue
            norm = self.contract.normaliser(other)
            a, b = self.views[ref][1], {norm(k): norm(v) for k, v in self.views[other][1].items()}
            for v in judge(self.contract, a, b, other):
                if v.allowed or (row_id not in v.rows if row_id != UNLISTED else bool(v.rows)):
                    continue
                d = v.diff
                findings.append(self._finding(row_id, label, Status.DRIFT, d.address, d.path, d.reference, d.other, (
                    f"deployed {ref} has {d.reference!r}, deployed {other} has {d.other!r} (after normalising names)"
                    + ("; no contract row covers it" if not v.rows else "; not an allowed difference"))))
            if not any(f.env == label for f in findings):
                findings.append(self._finding(row_id, label, Status.PASS, message=(
                    f"deployed {other} and {ref} agree on {len(a.keys() | b.keys())} resource(s) for this row")))
        return findings

    def unmanaged(self, env: str) -> list[Finding]:
        from live_checks.unmanaged import unmanaged

        return unmanaged(self, env)

    def check_all(self, env: str) -> list[Finding]:
        """Every check of one environment: what the per-environment (``--env``) run reports, without parity."""
        return [f for name in CHECKS for f in self.check(name, env)] + self.unmanaged(env)

    def everything(self, envs: list[str] | None = None) -> list[Finding]:
        envs = envs or list(self.models)
        findings = [f for env in envs for name in CHECKS for f in self.check(name, env)]
        findings += [f for env in envs for f in self.unmanaged(env)]
        findings += [f for row in [r.id for r in self.contract.rows] + [UNLISTED] for f in self.parity(row)]
        return findings

    def _finding(self, check: str, env: str, status: Status, resource: str = "", attribute: str = "",
                 expected=None, actual=None, message: str = "") -> Finding:
        file, line = "", 0
        model = self.models.get(env)
        if model and resource in model.resources:
            r = model.resources[resource]
            file = os.path.relpath(os.path.join(model.root, r.file), self.root) if self.root else r.file
            line = r.line_of(attribute)
        return Finding(check=f"live:{check}", kind="live", status=status, env=env, resource=resource,
                       attribute=attribute, expected=expected, actual=actual, file=file, line=line, message=message)


def _type(address: str, model: EnvModel) -> str:
    r = model.resources.get(address)
    return r.type if r else address.split(".", 1)[0]


def _var(model: EnvModel, name: str):
    v = model.variables.get(name)
    return v.value if v else None

