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
from policies.common import ROOT, Context, Policy, blocks, finding, ref_target, repo_path

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


_REGION_KEYS = ("ec2_hourly", "rds_postgres_hourly", "ebs_gb_month", "rds_storage_gb_month")


def load_prices(path: Path = PRICES, region: str = "us-east-1") -> dict[str, Any]:
    """One region's price table (a flat dict with ``region``): the bundled file holds several under ``regions``; a
    project's own table holds one."""
    try:
        prices = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as err:
        raise SuiteError(f"cannot read the price table ({type(err).__name__})", path=str(path)) from None
    if not isinstance(prices, dict):
        raise SuiteError("the price table must be a mapping", path=str(path))
    if "regions" in prices:
        regions = prices["regions"] or {}
        if region not in regions:
            raise SuiteError(f"no prices for region {region!r} (this table has {', '.join(regions)})", path=str(path),
                             hint="name one of those in the contract's project: {prices: {region: ...}}, or bring "
                                  "your own table with project: {prices: {table: FILE}}")
        prices = {**{k: v for k, v in prices.items() if k != "regions"}, **regions[region], "region": region}
    for key in ("date", "region", "source", "hours_per_month", "tolerance", *_REGION_KEYS, "free", "usage_only"):
        if key not in prices:
            raise SuiteError(f"price table lacks {key!r}", path=str(path))
    return prices


def project_prices(ctx: Context) -> dict[str, Any]:
    """The price table the project names; a project that names none is not priced with codedetect's region."""
    project = ctx.project
    if project.price_table is not None:
        return load_prices(project.price_table, project.price_region or "")
    if not project.price_region:
        raise SuiteError("the project names no price region", path=project.contract or None,
                         hint="add `project: {prices: {region: us-east-1}}` (or {table: FILE}) to the contract")
    return load_prices(PRICES, project.price_region)


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
        raise Unpriced(r, attribute, f"no {what} price for {key!r} in the price table")
    return float(table[key])


def _volumes(r: Resource, devices: list[tuple[str, dict]], p: dict, times: int = 1) -> list[Cost]:
    out = []
    for attr, dev in devices:
        size, vtype = dev.get("volume_size"), dev.get("volume_type", "gp3")
        if not isinstance(size, (int, float)) or isinstance(size, bool):
            raise Unpriced(r, attr, "volume size not set or only known after apply: cannot price the EBS volume")
        out.append(Cost("ebs", r, attr, times * size * _lookup(p["ebs_gb_month"], vtype, r, attr, "EBS"),
                        f"{times} × {size} GB {vtype}" if times != 1 else f"{size} GB {vtype}"))
    return out


def _template_devices(lt: Resource) -> list[tuple[str, dict]]:
    """A launch template's EBS volumes (block_device_mappings[i].ebs[0])."""
    return [(f"block_device_mappings[{i}]", ebs) for i, m in enumerate(blocks(lt.values, "block_device_mappings"))
            for ebs in blocks(m, "ebs")]


def _template(r: Resource, spec: dict, model: EnvModel | None, attribute: str) -> Resource:
    """The launch template (or launch configuration) a launch_template block / attribute points at."""
    if model is None:
        raise Unpriced(r, attribute, "cannot find the launch template without the environment's model")
    for key in ("id", "name", "launch_template_id", "launch_template_name", "launch_configuration"):
        value = spec.get(key)
        target = ref_target(value)
        if target and target in model.resources:
            return model.resources[target]
        for t in model.of_type("aws_launch_template", "aws_launch_configuration"):
            if isinstance(value, str) and not is_unknown(value) and value in (t.values.get("name"),):
                return t
    templates = model.of_type("aws_launch_template")
    if not any(spec.get(k) for k in ("name", "launch_template_name", "launch_configuration")) and len(templates) == 1:
        return templates[0]  # the evaluator drops a nested block's `id`: the configuration's only launch template
    raise Unpriced(r, attribute, "cannot tell which launch template this uses (a reference to an "
                                 "aws_launch_template of this configuration, or its literal name, is needed)")


def _instances(r: Resource, p: dict, lt: Resource | None, itype: Any, count: int, attr: str) -> list[Cost]:
    hours = float(p["hours_per_month"])
    if itype is None and lt is not None:
        itype = lt.values.get("instance_type")
    if itype is None or is_unknown(itype):
        raise Unpriced(r, attr, "instance type not set or only known after apply: cannot price the instances")
    source = f" ({lt.address})" if lt is not None else ""
    out = [Cost("ec2", r, attr, count * _lookup(p["ec2_hourly"], itype, r, attr, "EC2") * hours,
                f"{count} × {itype}{source}" if count != 1 else f"{itype}{source}")]
    own = [(f"root_block_device[{i}]" if i == 0 and blocks(r.values, "root_block_device") else "ebs_block_device",
            dev) for i, dev in enumerate(blocks(r.values, "root_block_device") + blocks(r.values, "ebs_block_device"))]
    devices = own or (_template_devices(lt) if lt is not None and lt.type == "aws_launch_template" else [])
    if lt is not None and lt.type == "aws_launch_configuration" and not own:
        devices = [(f"root_block_device[{i}]", d) for i, d in enumerate(blocks(lt.values, "root_block_device"))]
    if not devices:
        raise Unpriced(r, "root_block_device", "root volume size not set (on the instance or its launch template): "
                                               "cannot price the EBS volume")
    return out + _volumes(r, devices, p, count)


def _asg_costs(r: Resource, p: dict, model: EnvModel | None) -> list[Cost]:
    """An autoscaling group runs desired_capacity (else min_size) instances of its launch template's type."""
    attr = "desired_capacity" if r.values.get("desired_capacity") is not None else "min_size"
    count = r.values.get(attr)
    if not isinstance(count, int) or isinstance(count, bool):
        raise Unpriced(r, attr, f"{attr} is not set or only known after apply: cannot price the instances")
    specs = blocks(r.values, "launch_template")
    override_type = None
    for mip in blocks(r.values, "mixed_instances_policy"):
        for tpl in blocks(mip, "launch_template"):
            specs = specs or blocks(tpl, "launch_template_specification")
            overrides = [o.get("instance_type") for o in blocks(tpl, "override") if o.get("instance_type")]
            override_type = overrides[0] if overrides else None  # priced as the first (preferred) type
    if specs:
        lt = _template(r, specs[0], model, "launch_template")
    elif r.values.get("launch_configuration") is not None:
        lt = _template(r, {"launch_configuration": r.values["launch_configuration"]}, model, "launch_configuration")
    else:
        raise Unpriced(r, "launch_template", "no launch template or launch configuration: cannot price the instances")
    return _instances(r, p, lt, override_type, count, attr)


def _resource_costs(r: Resource, p: dict, model: EnvModel | None = None) -> list[Cost]:
    hours = float(p["hours_per_month"])
    if r.type == "aws_instance":
        specs = blocks(r.values, "launch_template")
        lt = _template(r, specs[0], model, "launch_template") if specs else None
        itype = r.values.get("instance_type")
        if lt is None:
            itype = _known(r, "instance_type")
        return _instances(r, p, lt, itype, 1, "instance_type")
    if r.type == "aws_autoscaling_group":
        return _asg_costs(r, p, model)
    if r.type == "aws_secretsmanager_secret":
        return [Cost("secrets", r, "", float(p["secretsmanager_secret_month"]), "secret")]
    if r.type == "aws_kms_key":
        return [Cost("kms", r, "", float(p["kms_key_month"]), "customer managed key")]
    if r.type == "aws_ssm_parameter":
        advanced = r.values.get("tier") == "Advanced"
        return [Cost("ssm", r, "tier", float(p["ssm_advanced_parameter_month"]), "advanced parameter")] \
            if advanced else []
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
            costs += _resource_costs(r, prices, model)
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
    listed = read_cost_list(lines, envs)
    if listed is not None:
        return listed
    raise SuiteError("no Cost table (a table whose header starts with `Item` and names the environments) and no "
                     "cost list (bullets under a heading that says Cost, e.g. `- EC2: ~$8/month in staging, "
                     "~$15/month in production`)", path=str(path), hint="keep the costs in the environments document")


_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_PROSE_AMOUNT = re.compile(r"(?:~|about\s+|around\s+|roughly\s+)?\$(\d+(?:\.\d+)?)\s*(/\s*GB|\s+per\s+GB)?\s*"
                           r"(?:/\s*|\s+a\s+|\s+per\s+)month|\bfree\b", re.I)


def _envs_named(text: str, envs: list[str]) -> list[str]:
    """The environments a stretch of prose assigns an amount to ("in staging", "for production", "in each")."""
    if re.search(r"\b(each|both|every|all)\b(\s+environments?)?", text, re.I):
        return list(envs)
    return [e for e in envs if re.search(rf"\b{re.escape(e)}\b", text, re.I)]


def read_cost_list(lines: list[str], envs: list[str]) -> dict[str, list[DocCell]] | None:
    """The costs as a bullet list in prose, under a heading that says "cost" (None: there is no such list).

    Each bullet is ``<item>: <amount> in <environment>, <amount> in <environment>`` (``in each environment`` for
    all); an amount is ``~$8/month``, ``about $8 a month``, ``$0.30/GB/month`` or ``free``. A bullet of the section
    with an amount that names no environment is reported as unreadable, never skipped.
    """
    start = next((i for i, line in enumerate(lines) if (m := _HEADING.match(line)) and re.search(r"\bcosts?\b",
                                                                                                  m.group(1), re.I)),
                 None)
    if start is None:
        return None
    table: dict[str, list[DocCell]] = {e: [] for e in envs}
    found = False
    for j in range(start + 1, len(lines)):
        if _HEADING.match(lines[j]):
            break
        m = _BULLET.match(lines[j])
        if not m:
            continue
        text = re.sub(r"[*`]", "", m.group(1))
        item, sep, rest = text.partition(":")
        if not sep:
            item, rest = text, text
        amounts = list(_PROSE_AMOUNT.finditer(rest))
        if not amounts:
            continue
        found = True
        category = next((c for c, rx in CATEGORIES.items() if re.search(rx, item, re.I)), None)
        assigned: dict[str, DocCell] = {}
        for k, a in enumerate(amounts):
            # the words after this amount, up to the next one, say which environment(s) it is for
            tail = rest[a.end(): amounts[k + 1].start() if k + 1 < len(amounts) else len(rest)]
            named = _envs_named(tail.split(",")[0].split(";")[0], envs)
            value = 0.0 if a.group(0).lower() == "free" else float(a.group(1))
            for env in named:
                assigned.setdefault(env, DocCell(item.strip(), category, a.group(0), value, bool(a.group(2)), j + 1))
        for env in envs:
            if env in assigned:
                table[env].append(assigned[env])
            elif not assigned:  # amounts, but for no environment this document names: unreadable
                table[env].append(DocCell(item.strip(), category, text, None, False, -(j + 1)))
            else:
                table[env].append(DocCell(item.strip(), category, "-", None, False, j + 1))
    return table if found else None


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
    prices = project_prices(ctx)
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
