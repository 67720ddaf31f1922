"""Cost guard: each environment's monthly cost, estimated from its evaluated resources and policies/prices.yaml.

CKV_CD_30 fails when an environment's estimate exceeds its documented budget (the Total row of the Cost table in
the environments document) by more than the stated tolerance. CKV_CD_31 fails when the document's Cost table
disagrees with the estimate, line by line (EC2, RDS, EBS, EFS, ALB, Route53, ACM, Total). A resource type that the
price table does not classify, or a size it has no price for, fails: an estimate that silently skips a resource
would be a false green.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.errors import SuiteError
from core.findings import Finding, Status
from core.model import EnvModel, Resource, is_unknown
from policies.common import ROOT, Context, Policy, blocks, finding, repo_path

PRICES = ROOT / "policies" / "prices.yaml"
CATEGORIES = {  # document item (regular expression on the Item cell) -> estimate category
    "total": r"\btotal\b",
    "ec2": r"\bec2\b",
    "rds": r"\brds\b",
    "ebs": r"\bebs\b",
    "efs": r"\befs\b",
    "alb": r"\balb\b|load balancer",
    "route53": r"route\s*53",
    "acm": r"\bacm\b|certificate",
}


@dataclass(frozen=True)
class Cost:
    category: str
    resource: Resource
    attribute: str
    monthly: float
    detail: str


@dataclass(frozen=True)
class DocCell:
    item: str
    category: str | None
    text: str
    monthly: float | None  # None: the cell is "-" (nothing of this kind)
    per_gb: bool
    line: int


def load_prices(path: Path = PRICES) -> dict[str, Any]:
    try:
        prices = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise SuiteError(f"cannot read the price table ({type(err).__name__})", path=str(path)) from None
    for key in ("date", "region", "source", "hours_per_month", "tolerance", "ec2_hourly", "rds_postgres_hourly",
                "ebs_gb_month", "rds_storage_gb_month", "free", "usage_only"):
        if key not in (prices or {}):
            raise SuiteError(f"price table lacks {key!r}", path=str(path))
    return prices


# ------------------------------------------------------------------------------------------------------ estimate


class Unpriced(Exception):
    def __init__(self, resource: Resource, attribute: str, message: str):
        super().__init__(message)
        self.resource, self.attribute, self.message = resource, attribute, message


def _known(r: Resource, key: str, default: Any = None) -> Any:
    value = r.values.get(key, default)
    if is_unknown(value) or value is None:
        raise Unpriced(r, key, f"{key} is only known after apply: cannot price it")
    return value


def _lookup(table: dict, key: Any, r: Resource, attribute: str, what: str) -> float:
    if key not in table:
        raise Unpriced(r, attribute, f"no {what} price for {key!r} in policies/prices.yaml")
    return float(table[key])


def _resource_costs(r: Resource, p: dict) -> list[Cost]:
    hours = float(p["hours_per_month"])
    if r.type == "aws_instance":
        itype = _known(r, "instance_type")
        out = [Cost("ec2", r, "instance_type", _lookup(p["ec2_hourly"], itype, r, "instance_type", "EC2") * hours,
                    itype)]
        for i, dev in enumerate(blocks(r.values, "root_block_device") + blocks(r.values, "ebs_block_device")):
            size, vtype = dev.get("volume_size"), dev.get("volume_type", "gp3")
            if not isinstance(size, (int, float)):
                raise Unpriced(r, "root_block_device", "volume size not set: cannot price the EBS volume")
            attr = f"root_block_device[{i}]" if i == 0 and blocks(r.values, "root_block_device") else "ebs_block_device"
            out.append(Cost("ebs", r, attr, size * _lookup(p["ebs_gb_month"], vtype, r, attr, "EBS"),
                            f"{size} GB {vtype}"))
        if not blocks(r.values, "root_block_device"):
            raise Unpriced(r, "root_block_device", "root volume size not set: cannot price the EBS volume")
        return out
    if r.type == "aws_ebs_volume":
        size, vtype = _known(r, "size"), r.values.get("type", "gp3")
        return [Cost("ebs", r, "size", size * _lookup(p["ebs_gb_month"], vtype, r, "type", "EBS"), f"{size} GB")]
    if r.type == "aws_db_instance":
        if "postgres" not in str(_known(r, "engine")):
            raise Unpriced(r, "engine", "only RDS for PostgreSQL is in policies/prices.yaml")
        cls, az = _known(r, "instance_class"), 2 if r.values.get("multi_az") is True else 1
        size, stype = _known(r, "allocated_storage"), r.values.get("storage_type", "gp2")
        instance = _lookup(p["rds_postgres_hourly"], cls, r, "instance_class", "RDS") * hours * az
        storage = size * _lookup(p["rds_storage_gb_month"], stype, r, "storage_type", "RDS storage") * az
        return [Cost("rds", r, "instance_class", instance, cls + (" Multi-AZ" if az == 2 else "")),
                Cost("rds", r, "allocated_storage", storage, f"{size} GB {stype}")]
    if r.type in ("aws_lb", "aws_alb"):
        key = "nlb_hourly" if r.values.get("load_balancer_type") == "network" else "alb_hourly"
        return [Cost("alb", r, "load_balancer_type", float(p[key]) * hours, key.split("_")[0].upper())]
    if r.type == "aws_nat_gateway":
        return [Cost("nat", r, "", float(p["nat_gateway_hourly"]) * hours, "NAT gateway")]
    if r.type == "aws_eip":
        return [Cost("ipv4", r, "", float(p["public_ipv4_hourly"]) * hours, "Elastic IP")]
    if r.type == "aws_efs_file_system":
        return [Cost("efs", r, "", 0.0, f"${p['efs_standard_gb_month']}/GB-month, usage-based")]
    if r.type == "aws_route53_zone":
        return [Cost("route53", r, "", float(p["route53_zone_month"]), "hosted zone")]
    if r.type == "aws_acm_certificate":
        return [Cost("acm", r, "", float(p.get("acm_public_certificate_month", 0.0)), "public certificate")]
    if r.type in ("aws_cloudwatch_metric_alarm", "aws_cloudwatch_composite_alarm"):
        return [Cost("cloudwatch", r, "", float(p["cloudwatch_alarm_month"]), "alarm")]
    if r.type in p["free"] or r.type in p["usage_only"]:
        return []
    raise Unpriced(r, "", f"resource type {r.type} is not in policies/prices.yaml: price it, or list it under "
                          "free or usage_only")


def estimate(model: EnvModel, prices: dict) -> tuple[list[Cost], list[Unpriced]]:
    costs, unpriced = [], []
    for r in sorted(model.managed().values(), key=lambda r: r.address):
        try:
            costs += _resource_costs(r, prices)
        except Unpriced as err:
            unpriced.append(err)
    return costs, unpriced


# ------------------------------------------------------------------------------------------------------ document


def _amount(text: str) -> tuple[float | None, bool] | None:
    """'~$8/month' -> (8.0, False); '~$0.30/GB/month' -> (0.3, True); '-' -> (None, False); 'Free' -> 0."""
    t = re.sub(r"[*`~\s]", "", text)
    if t in ("-", "—", "", "n/a"):
        return None, False
    if t.lower() == "free":
        return 0.0, False
    m = re.fullmatch(r"\$(\d+(?:\.\d+)?)(/GB)?/month", t, re.I)
    if not m:
        return None
    return float(m.group(1)), bool(m.group(2))


def read_cost_table(path: Path, envs: list[str]) -> dict[str, list[DocCell]]:
    """The document's Cost table (header ``Item | <environment> ...``), cells per environment."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        raise SuiteError("environments document does not exist", path=str(path), hint="pass it with --docs") from None
    for i, line in enumerate(lines[:-1]):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not (line.lstrip().startswith("|") and cells and cells[0].lower() == "item"):
            continue
        if not re.match(r"^\s*\|[\s:|-]+\|\s*$", lines[i + 1]):
            continue
        header = [c.lower() for c in cells]
        missing = [e for e in envs if e.lower() not in header]
        if missing:
            raise SuiteError(f"the Cost table has no column for {', '.join(missing)}", path=str(path), line=i + 1)
        table: dict[str, list[DocCell]] = {e: [] for e in envs}
        j = i + 2
        while j < len(lines) and lines[j].lstrip().startswith("|"):
            row = [c.strip() for c in lines[j].strip().strip("|").split("|")]
            item = re.sub(r"[*`]", "", row[0]).strip()
            category = next((c for c, rx in CATEGORIES.items() if re.search(rx, item, re.I)), None)
            for env in envs:
                col = header.index(env.lower())
                text = row[col] if col < len(row) else ""
                parsed = _amount(text)
                if parsed is None:
                    table[env].append(DocCell(item, category, text, None, False, -(j + 1)))  # not understood
                else:
                    table[env].append(DocCell(item, category, text, parsed[0], parsed[1], j + 1))
            j += 1
        return table
    raise SuiteError("no Cost table (a table whose header starts with `Item` and names the environments)",
                     path=str(path), hint="keep the Cost table in the environments document")


# ------------------------------------------------------------------------------------------------------ policies


def _totals(costs: list[Cost]) -> dict[str, float]:
    out: dict[str, float] = {}
    for c in costs:
        out[c.category] = out.get(c.category, 0.0) + c.monthly
    out["total"] = sum(c.monthly for c in costs)
    return out


def _within(estimate: float, documented: float, tol: dict) -> bool:
    return abs(estimate - documented) <= max(float(tol["absolute"]), float(tol["relative"]) * documented)


def _breakdown(totals: dict[str, float]) -> str:
    return ", ".join(f"{k} ${v:.2f}" for k, v in sorted(totals.items()) if k != "total" and v)


def _prepare(model: EnvModel, ctx: Context):
    prices = load_prices()
    table = read_cost_table(ctx.docs, list(ctx.models))
    costs, unpriced = estimate(model, prices)
    return prices, table[model.name], costs, unpriced


def _unpriced_findings(check: str, model: EnvModel, unpriced: list[Unpriced]) -> list[Finding]:
    return [finding(check, "cost", Status.FAIL, model, u.resource, u.attribute, "a price", "unpriced", u.message)
            for u in unpriced]


def budget(model: EnvModel, ctx: Context) -> list[Finding]:
    """CKV_CD_30: the estimate stays within the documented budget plus the tolerance."""
    prices, cells, costs, unpriced = _prepare(model, ctx)
    if unpriced:
        return _unpriced_findings("CKV_CD_30", model, unpriced)
    totals = _totals(costs)
    doc_total = next((c for c in cells if c.category == "total" and c.monthly is not None and c.line > 0), None)
    docs = repo_path(ctx.docs)
    if doc_total is None:
        return [finding("CKV_CD_30", "cost", Status.ERROR, model, expected="a Total row",
                        actual="none", message=f"{docs} has no readable Total for {model.name}")]
    tol = prices["tolerance"]
    limit = doc_total.monthly * (1 + float(tol["relative"]))
    summary = (f"estimate ${totals['total']:.2f}/month ({_breakdown(totals)}; prices {prices['region']} "
               f"{prices['date']}) against the budget {doc_total.text} at {docs}:{doc_total.line}, "
               f"tolerance {float(tol['relative']):.0%}")
    if totals["total"] <= limit:
        return [Finding(check="CKV_CD_30", kind="cost", status=Status.PASS, env=model.name, attribute="total",
                        expected=f"<= ${limit:.2f}", actual=f"${totals['total']:.2f}", file=docs,
                        line=doc_total.line, message=summary)]
    # Point at the resource that costs most among the lines the document does not expect.
    over = _disagreements(cells, totals, tol)
    suspects = [c for c in costs if c.category in over] or costs
    top = max(suspects, key=lambda c: c.monthly)
    return [finding("CKV_CD_30", "cost", Status.FAIL, model, top.resource, top.attribute, f"<= ${limit:.2f}/month",
                    f"${totals['total']:.2f}/month", f"over budget: {summary}; largest: {top.resource.address} "
                    f"{top.detail} ${top.monthly:.2f}")]


def _disagreements(cells: list[DocCell], totals: dict[str, float], tol: dict) -> dict[str, DocCell]:
    out = {}
    for cell in cells:
        if cell.category in (None, "total", "efs") or cell.line < 0:
            continue
        documented = cell.monthly or 0.0
        if not _within(totals.get(cell.category, 0.0), documented, tol):
            out[cell.category] = cell
    return out


def document_agrees(model: EnvModel, ctx: Context) -> list[Finding]:
    """CKV_CD_31: every line of the document's Cost table matches the estimate within the tolerance."""
    prices, cells, costs, unpriced = _prepare(model, ctx)
    if unpriced:
        return _unpriced_findings("CKV_CD_31", model, unpriced)
    totals, tol, docs = _totals(costs), prices["tolerance"], repo_path(ctx.docs)
    out = []
    for cell in cells:
        where = dict(file=docs, line=abs(cell.line))
        if cell.line < 0 or cell.category is None:
            out.append(Finding(check="CKV_CD_31", kind="cost", status=Status.FAIL, env=model.name,
                               attribute=cell.item, expected="an item and amount the cost guard understands",
                               actual=cell.text, message="cannot read this line of the Cost table", **where))
            continue
        if cell.category == "efs":
            ok = cell.monthly is None or (cell.per_gb and abs(cell.monthly - prices["efs_standard_gb_month"]) < 0.005)
            estimate_text = f"${prices['efs_standard_gb_month']}/GB/month"
        else:
            est = totals.get(cell.category, 0.0)
            ok = not cell.per_gb and _within(est, cell.monthly or 0.0, tol)
            estimate_text = f"${est:.2f}/month"
        status = Status.PASS if ok else Status.FAIL
        contributors = [c for c in costs if c.category == cell.category]
        if not ok and contributors:
            top = max(contributors, key=lambda c: c.monthly)
            out.append(finding("CKV_CD_31", "cost", status, model, top.resource, top.attribute,
                               f"{cell.item}: {cell.text} ({docs}:{cell.line})", estimate_text,
                               f"the Cost table disagrees with the estimate ({top.detail}); update the document or "
                               "the Terraform"))
        else:
            out.append(Finding(check="CKV_CD_31", kind="cost", status=status, env=model.name, attribute=cell.item,
                               expected=cell.text, actual=estimate_text,
                               message="" if ok else "the Cost table disagrees with the estimate", **where))
    documented = {c.category for c in cells}
    for category in sorted(set(totals) - documented - {"total", "cloudwatch"}):
        c = max((c for c in costs if c.category == category), key=lambda c: c.monthly)
        if totals[category] > float(tol["absolute"]):
            out.append(finding("CKV_CD_31", "cost", Status.FAIL, model, c.resource, c.attribute,
                               "an item in the Cost table", f"${totals[category]:.2f}/month",
                               f"{c.detail} costs money and the Cost table does not list it"))
    return out


POLICIES = (
    Policy("CKV_CD_30", "Each environment's estimated monthly cost stays within its documented budget",
           "a change like t3.micro -> t3.small must be a decision, not a surprise on the bill", "cost", budget),
    Policy("CKV_CD_31", "The document's Cost table agrees with the estimate",
           "the budget people read is the budget the Terraform builds", "cost", document_agrees),
)
