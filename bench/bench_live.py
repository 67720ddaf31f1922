"""API calls of the live audit against a local moto server, as the number of deployed resources grows.

    .venv/bin/python -m bench.bench_live [--sizes 50,500]

One moto server on 127.0.0.1 (a free port) gets both environments of terraform/ applied by real Terraform (the
sandbox's deployment, once per bench run); for each M its state is restored to that deployment and M extra
resources per environment tagged with it are added (a quarter each: security groups, S3 buckets,
CloudWatch log groups, IAM roles), then the whole live audit runs once (``LiveRun.everything()``). A botocore
``before-call`` handler on the audit's session counts every API call (attempts the retries repeat are not
calls). Reported: calls in all and per environment, the operations that grew, and calls(M_max) / calls(M_min).
Target: calls grow with resource types and pages, not with resources. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TYPES = ("security_group", "bucket", "log_group", "iam_role")
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def env_tag(model) -> str:
    """The Environment tag an environment's resources carry (its default_tags, else the contract's tag)."""
    return model.default_tags.get("Environment") or model.env.tag


def add_extras(client, envs: dict[str, str], per_env: int, prefix: str) -> None:
    """``per_env`` extra resources tagged Environment=<tag> in each environment (``envs``: name -> tag), a quarter
    of each of TYPES, named ``<prefix>-<env>-<i>`` (moto keeps bucket names globally); ``client(service)`` gives
    the boto3 client to create them with."""
    ec2, s3, logs, iam = (client(s) for s in ("ec2", "s3", "logs", "iam"))
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    for env, tag in envs.items():
        tags = [{"Key": "Environment", "Value": tag}]
        for i in range(per_env):
            kind, name = TYPES[i % len(TYPES)], f"{prefix}-{env}-{i}"
            if kind == "security_group":
                ec2.create_security_group(GroupName=name, Description="extra", VpcId=vpc, TagSpecifications=[
                    {"ResourceType": "security-group", "Tags": tags}])
            elif kind == "bucket":
                s3.create_bucket(Bucket=name)
                s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags})
            elif kind == "log_group":
                logs.create_log_group(logGroupName=f"/{prefix}/{name}", tags={"Environment": tag})
            else:
                iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST), Tags=tags)


def measure(endpoint: str, deployed: dict, per_env: int) -> dict:
    import boto3

    from core.contract import load_contract
    from core.session import evaluate
    from live_checks import sandbox
    from live_checks.aws import FAKE_CREDENTIALS, AwsSession
    from live_checks.run import LiveRun

    contract = load_contract(ROOT / "parity" / "contract.yaml", ROOT / "terraform")
    models = evaluate(ROOT / "terraform", contract.environments, jobs=1)
    sandbox.restore(deployed)
    session = boto3.Session(region_name="us-east-1", **FAKE_CREDENTIALS)
    add_extras(lambda service: session.client(service, endpoint_url=endpoint),
               {n: env_tag(m) for n, m in models.items()}, per_env, f"bench-{per_env}")
    aws = AwsSession(endpoint=endpoint, region="us-east-1")
    calls: Counter = Counter()
    lock = threading.Lock()

    def count(model, **_kwargs):
        with lock:
            calls[f"{model.service_model.service_name}:{model.name}"] += 1

    aws.boto.events.register("before-call", count)
    start = time.perf_counter()
    findings = LiveRun(aws, models, contract, root=str(ROOT)).everything()
    elapsed = time.perf_counter() - start
    total = sum(calls.values())
    return {"per_env_resources": per_env, "envs": len(models), "calls": total,
            "calls_per_env": round(total / len(models), 1), "audit_s": round(elapsed, 2),
            "findings": len(findings), "by_operation": dict(sorted(calls.items()))}


def run(sizes: list[int], echo=print) -> dict:
    sys.path.insert(0, str(ROOT))
    from live_checks import sandbox

    server, endpoint = sandbox.start_server(0)
    try:
        sandbox.reset(endpoint)  # moto keeps its state per process, not per server
        sandbox.deploy(endpoint)  # terraform apply of every environment, once
        deployed = sandbox.snapshot()
        points = [_point(measure(endpoint, deployed, m), echo) for m in sizes]
    finally:
        server.stop()
    return summary(points)


def _point(p: dict, echo) -> dict:
    echo(f"live  {p['per_env_resources']:5} extra resources per env: {p['calls']} API calls "
         f"({p['calls_per_env']} per env), audit {p['audit_s']:.2f} s")
    return p


def summary(points: list[dict]) -> dict:
    out: dict = {"points": points, "target": "calls per environment grow with resource types and pages, "
                                               "not with resources"}
    if len(points) >= 2:
        low, high = points[0], points[-1]
        out["calls_growth"] = round(high["calls"] / low["calls"], 2) if low["calls"] else None
        out["resources_growth"] = round(high["per_env_resources"] / low["per_env_resources"], 2)
        out["grown_operations"] = {op: [low["by_operation"].get(op, 0), n] for op, n in high["by_operation"].items()
                                   if n > low["by_operation"].get(op, 0)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=lambda t: [int(x) for x in t.split(",")], default=[50, 500])
    args = parser.parse_args(argv)
    print(json.dumps(run(args.sizes), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
