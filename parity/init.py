"""``init``: a starting contract from a Terraform directory and its environments document.

What it writes, for a person to review (nothing in it is allowed that the code does not already show):

- ``environments``: one per environment column of the document's "different" table (the header as written,
  lower-cased, so the contract's names match the document's columns), each with the workspace the code
  compares ``terraform.workspace`` with (or ``default`` for the reference, the environment's own name for the
  others) and the ``*.tfvars`` file named like it;
- ``normalise``: the names that differ only by the environment's name (``app-staging`` / ``app-prod``);
- one row per row of the document's two tables, its cells copied, selecting the resource types and attributes
  its words name (``KEYWORDS``); a row whose words name nothing present gets a selector that matches nothing,
  so it fails until someone says what it covers;
- every difference left between the environments, as a comment: "unclaimed: allow it in a row, or fix it".

The contract written loads with ``core.contract.load_contract`` and the gate runs with it (and fails on each
difference no row allows, until the contract is reviewed).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from core.contract import Contract, Row, Selector
from core.errors import SuiteError
from core.model import EnvModel, EnvSpec, load
from parity.document import DocRow, read_tables
from parity.engine import EXISTS, Comparison

# Words of a document row (case-insensitive, whole words) -> (address glob, attributes) it covers.
# The first group whose words a row uses and whose resources the model has is the row's selection.
KEYWORDS: tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...] = (
    (r"instance type|instance size", (("aws_instance.*", ("instance_type",)),
                                      ("aws_launch_template.*", ("instance_type",)),
                                      ("aws_launch_configuration.*", ("instance_type",)),
                                      ("var.instance_type", ()))),
    (r"instance count|instances|servers?|capacity|auto ?scaling|scaling|asg", (("aws_instance.*", ()),
                                                        ("aws_autoscaling_group.*", ("min_size", "max_size",
                                                                                     "desired_capacity")))),
    (r"rds instance|db instance|instance class", (("aws_db_instance.*", ("instance_class",)),
                                                  ("var.db_instance_class", ()))),
    (r"rds storage|db storage|database storage|allocated storage",
     (("aws_db_instance.*", ("allocated_storage", "storage_type")),)),
    (r"rds|database|postgres\w*|mysql", (("aws_db_instance.*", ()), ("aws_db_subnet_group.*", ()),
                                         ("aws_db_parameter_group.*", ()))),
    (r"security groups?|firewall|ingress|sg", (("aws_security_group.*", ()), ("aws_security_group_rule.*", ()),
                                               ("aws_vpc_security_group_ingress_rule.*", ()),
                                               ("aws_vpc_security_group_egress_rule.*", ()),
                                               ("aws_default_security_group.*", ()))),
    (r"iam|roles?|permissions?", (("aws_iam_role.*", ()), ("aws_iam_role_policy.*", ()),
                                  ("aws_iam_role_policy_attachment.*", ()), ("aws_iam_instance_profile.*", ()),
                                  ("aws_iam_policy.*", ()), ("aws_iam_user.*", ()),
                                  ("aws_iam_user_policy_attachment.*", ()))),
    (r"s3 bucket|bucket|bucket names?", (("aws_s3_bucket.*", ("bucket",)),)),
    (r"s3|buckets?|uploads?", (("aws_s3_bucket.*", ()), ("aws_s3_bucket_public_access_block.*", ()),
                               ("aws_s3_bucket_ownership_controls.*", ()),
                               ("aws_s3_bucket_server_side_encryption_configuration.*", ()),
                               ("aws_s3_bucket_versioning.*", ()), ("aws_s3_bucket_lifecycle_configuration.*", ()),
                               ("aws_s3_bucket_policy.*", ()))),
    (r"key pairs?|ssh keys?", (("aws_key_pair.*", ()), ("aws_launch_template.*", ("key_name",)),
                               ("aws_instance.*", ("key_name",)))),
    (r"network|vpc|subnets?|routing", (("aws_vpc.*", ()), ("aws_subnet.*", ()), ("aws_route_table.*", ()),
                                       ("aws_route_table_association.*", ()), ("aws_internet_gateway.*", ()),
                                       ("aws_nat_gateway.*", ()), ("aws_route.*", ()))),
    (r"efs|file system", (("aws_efs_file_system.*", ()), ("aws_efs_mount_target.*", ()))),
    (r"monitoring|cloudwatch|alarms?|logs?|alerts?|dashboards?",
     (("aws_cloudwatch_log_group.*", ()), ("aws_cloudwatch_metric_alarm.*", ()), ("aws_cloudwatch_dashboard.*", ()),
      ("aws_sns_topic.*", ()), ("aws_sns_topic_subscription.*", ()))),
    (r"health checks?", (("aws_lb_target_group.*", ("health_check",)), ("aws_alb_target_group.*", ("health_check",)),
                         ("aws_autoscaling_group.*", ("health_check_type", "health_check_grace_period")))),
    (r"alb|load balancer|elb", (("aws_lb.*", ()), ("aws_alb.*", ()), ("aws_lb_listener.*", ()),
                                ("aws_lb_target_group.*", ()))),
    (r"deployment|blue/green|blue|green", (("aws_lb_target_group.*", ()), ("aws_lb_target_group_attachment.*", ()),
                                           ("aws_lb_listener.*", ("default_action",)))),
    (r"docker|images?|ami|codebase", (("aws_instance.*", ("ami", "user_data")),
                                      ("aws_launch_template.*", ("image_id", "user_data")),
                                      ("var.docker_image", ()), ("var.docker_tag", ()))),
    (r"domain|ssl|tls|https|certificates?|dns|route ?53", (("aws_route53_zone.*", ()), ("aws_route53_record.*", ()),
                                                           ("aws_acm_certificate.*", ()),
                                                           ("aws_acm_certificate_validation.*", ()),
                                                           ("aws_lb_listener.*", ()))),
    (r"deletion protection|destroy|snapshot", (("aws_db_instance.*", ("deletion_protection", "skip_final_snapshot")),
                                               ("aws_lb.*", ("enable_deletion_protection",)),
                                               ("aws_s3_bucket.*", ("force_destroy",)))),
    (r"tags?|environment tag", (("provider.aws", ("default_tags",)),)),
)

# Collections whose order AWS ignores, and string attributes holding JSON: the usual ones for the AWS provider.
UNORDERED = ("ingress", "egress", "cidr_blocks", "ipv6_cidr_blocks", "security_groups", "vpc_security_group_ids",
             "subnet_ids", "subnets", "vpc_zone_identifier", "alarm_actions", "ok_actions", "Statement", "Action",
             "Resource", "NotAction", "validation_record_fqdns")
JSON_ATTRIBUTES = ("policy", "assume_role_policy", "dashboard_body")
_NOT_ENV_HEADERS = {"component", "reason", "why", "why different?", "why same?", "notes", "note", "comment"}
_WORKSPACE_RE = re.compile(r'terraform\.workspace\s*[!=]=\s*"([^"]+)"|"([^"]+)"\s*[!=]=\s*terraform\.workspace')
_TOKEN_SPLIT = re.compile(r"([^A-Za-z0-9]+)")
_WORD_SPLIT = re.compile(r"""([\s"'=,:;()\[\]{}/\\]+)""")  # a name inside a longer text: between these


# --------------------------------------------------------------------------- environments


def document_environments(doc: Path) -> list[str]:
    """The environment columns of the document's "different" table (Component | <env> | <env> | Reason)."""
    try:
        lines = doc.read_text().splitlines()
    except FileNotFoundError:
        raise SuiteError("environments document does not exist", path=str(doc), hint="pass it with --docs") from None
    for i, line in enumerate(lines[:-1]):
        if line.lstrip().startswith("|") and re.match(r"^\s*\|[\s:|-]+\|\s*$", lines[i + 1]):
            header = [re.sub(r"[*`]", "", c).strip() for c in line.strip().strip("|").split("|")]
            lowered = [h.lower() for h in header]
            if lowered and lowered[0] == "component" and "configuration" not in lowered:
                envs = [h for h in header[1:] if h and h.lower() not in _NOT_ENV_HEADERS]
                if len(envs) >= 2:
                    return envs
    raise SuiteError("no 'Component | <environment> | <environment> | ...' table found", path=str(doc),
                     hint="the document needs a table of what differs, one column per environment")


def referenced_workspaces(tf_dir: Path, doc: Path | None = None) -> list[str]:
    """Workspace names the code compares ``terraform.workspace`` with, then those the document names
    (``terraform workspace select NAME``, or `NAME` on a line about workspaces), in order of first use."""
    names: list[str] = []
    for tf in sorted(tf_dir.glob("*.tf")):
        for m in _WORKSPACE_RE.finditer(tf.read_text()):
            names.append(m.group(1) or m.group(2))
    for line in doc.read_text().splitlines() if doc is not None else ():
        names += re.findall(r"workspace\s+(?:select|new)\s+([\w-]+)", line)
        if "workspace" in line.lower():
            names += [n for n in re.findall(r"`([\w-]+)`", line)]
    return list(dict.fromkeys(names))


def _alias(a: str, b: str) -> bool:
    """'prod' names 'production', 'stg' does not name 'staging' (a prefix of at least 3 letters)."""
    a, b = a.lower(), b.lower()
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 3 and long_.startswith(short)


def _reference(envs: list[str]) -> str:
    return next((e for e in envs if _alias(e, "production")), envs[-1])


def environments(tf_dir: Path, doc: Path) -> tuple[str, dict[str, EnvSpec]]:
    """(reference, environments) found in the document's columns, the code's workspaces and the var files."""
    names = [h.lower() for h in document_environments(doc)]
    reference = _reference(names)
    workspaces = referenced_workspaces(tf_dir, doc)
    var_files = sorted(p.name for p in tf_dir.glob("*.tfvars") if p.name != "terraform.tfvars")
    out: dict[str, EnvSpec] = {}
    taken: set[str] = set()
    for name in names:
        ws = next((w for w in workspaces if _alias(w, name) and w not in taken), None)
        if ws is None:
            ws = "default" if name == reference and "default" not in taken else name
        taken.add(ws)
        files = tuple(f for f in var_files if _alias(f.split(".", 1)[0], name))
        out[name] = EnvSpec(name=name, workspace=ws, var_files=files, tag=name)
    return reference, out


# --------------------------------------------------------------------------- normalise


def _strings(value: Any, path: str = ""):
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")


def normalise_pairs(ref: EnvModel, other: EnvModel, ref_name: str, other_name: str) -> dict[str, str]:
    """Names in ``other`` that differ from the reference's only by the environment's name: the token pair
    (``staging`` -> ``production``) most used, and the whole name where another rewriting is used
    (``codedetect-staging-uploads`` -> ``codedetect-prod-uploads``)."""
    candidates: list[tuple[str, str, str, str]] = []  # (token in other, token in reference, other value, value)

    def names_env(token: str, env: str) -> bool:
        return _alias(token, env) or token.lower() == env.lower()

    for address in sorted(set(ref.resources) & set(other.resources)):
        a = dict(_strings(dict(ref.resources[address].values)))
        b = dict(_strings(dict(other.resources[address].values)))
        for path in sorted(set(a) & set(b)):
            wx, wy = _WORD_SPLIT.split(a[path]), _WORD_SPLIT.split(b[path])
            if len(wx) != len(wy):
                continue
            for x, y in zip(wx, wy, strict=True):
                tx, ty = _TOKEN_SPLIT.split(x), _TOKEN_SPLIT.split(y)
                if x == y or len(tx) != len(ty):
                    continue
                diffs = [(q, p) for p, q in zip(tx, ty, strict=True) if p != q]
                if all(names_env(src, other_name) and names_env(dst, ref_name) for src, dst in diffs):
                    candidates += [(src, dst, y, x) for src, dst in diffs]
    counts = Counter((src, dst) for src, dst, _, _ in candidates)
    tokens: dict[str, str] = {}
    for (src, dst), _n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        tokens.setdefault(src, dst)  # the most used rewriting of a token wins
    whole = {y: x for src, dst, y, x in candidates if tokens[src] != dst}
    return {**dict(sorted(whole.items())), **dict(sorted(tokens.items()))}


# --------------------------------------------------------------------------- rows


def _words(doc_row: DocRow) -> str:
    return " ".join(v for k, v in doc_row.cells.items() if k.lower() in ("component", "configuration")) \
        if doc_row.table == "same" else doc_row.component


def selectors(doc_row: DocRow, models: dict[str, EnvModel]) -> list[dict]:
    """The selectors a row's words name, keeping only those that match something in some environment."""
    text = _words(doc_row).lower()
    present: set[str] = set()
    for m in models.values():
        present |= set(m.resources) | {f"var.{v}" for v in m.variables} | {"provider.aws"}
    seen: dict[str, list[str] | None] = {}  # address -> attribute paths; None: the whole resource
    for pattern, targets in KEYWORDS:
        if not re.search(rf"\b(?:{pattern})\b", text):
            continue
        if seen:
            break  # the first (most specific) group that names something present
        for address, attrs in targets:
            if not any(Selector(address=address).matches_address(a) for a in present):
                continue
            if not attrs:
                seen[address] = None
            elif seen.get(address, []) is not None:
                seen[address] = [*(seen.get(address) or []), *(a for a in attrs if a not in (seen.get(address) or []))]
    out = [{"address": a, "attributes": attrs} if attrs else {"address": a} for a, attrs in seen.items()]
    if not out:
        out.append({"address": f"TODO.name-what-{_slug(doc_row.component)}-covers"})
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "row"


def rows(doc_rows: list[DocRow], envs: dict[str, EnvSpec], models: dict[str, EnvModel]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {"same": [], "different": []}
    seen: set[str] = set()
    for d in doc_rows:
        if d.component in seen:
            continue
        seen.add(d.component)
        row: dict[str, Any] = {"id": d.component}
        if d.table == "same":
            row["document"] = {k: v for k, v in d.cells.items() if k.lower() in ("component", "configuration")}
            row["select"] = selectors(d, models)
        else:
            row["document"] = {k: v for k, v in d.cells.items() if k.lower() not in envs}
            row["values"] = {e: d.value_for(e) or "" for e in envs}
            row["select"] = selectors(d, models)
        out[d.table].append(row)
    return out


# --------------------------------------------------------------------------- the contract


def _as_contract(path: Path, reference: str, envs: dict[str, EnvSpec], normalise: dict[str, dict[str, str]],
                 table_rows: dict[str, list[dict]]) -> Contract:
    def sel(s: dict) -> Selector:
        return Selector(address=s["address"], attributes=tuple(s.get("attributes", ())))

    built = tuple(Row(id=r["id"], table=t, document=r["document"], select=tuple(sel(s) for s in r["select"]),
                      values=r.get("values", {})) for t in ("same", "different") for r in table_rows[t])
    return Contract(path=str(path), document="", reference=reference, environments=envs,
                    normalise={e: tuple(p.items()) for e, p in normalise.items()}, unordered=UNORDERED,
                    json_attributes=JSON_ATTRIBUTES, rows=built)


def _flow(value: Any) -> str:
    """One value as inline YAML (a scalar without the document-end marker)."""
    return yaml.safe_dump([value], default_flow_style=True, sort_keys=False, width=10**6).strip()[1:-1]


def _show(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def build(tf_dir: str | os.PathLike, doc: str | os.PathLike, out: str | os.PathLike) -> str:
    """The YAML text of a starting contract for ``tf_dir`` and ``doc``, to be written at ``out``."""
    tf_dir, doc, out = Path(tf_dir).resolve(), Path(doc).resolve(), Path(out).resolve()
    if not tf_dir.is_dir() or not any(tf_dir.glob("*.tf")):
        raise SuiteError("no Terraform files here", path=str(tf_dir), hint="pass the root module with --tf-dir")
    reference, envs = environments(tf_dir, doc)
    doc_rows = read_tables(doc, list(envs))
    models = {name: load(tf_dir, env) for name, env in envs.items()}
    normalise = {name: pairs for name in envs if name != reference
                 and (pairs := normalise_pairs(models[reference], models[name], reference, name))}
    table_rows = rows(doc_rows, envs, models)
    contract = _as_contract(out, reference, envs, normalise, table_rows)
    comparison = Comparison.build(contract, models)

    def rel(p: Path) -> str:  # relative to the contract when near it, else absolute
        relative = os.path.relpath(p, out.parent)
        return str(p) if relative.startswith(("../..", "..\\..")) else relative

    lines = [
        f"# Starting contract written by `codedetect-suite init` from {rel(tf_dir)}/ and {rel(doc)}.",
        "# Review every row: what it selects (select), what may differ (allow, different rows only), and add a",
        "# measure where a documented value can be read off the code. The format: docs/CONTRACT.md.",
        "version: 1",
        f"document: {_flow(rel(doc))}",
        f"reference: {reference}",
        "",
        "# One per column of the document's table of differences; workspace and var files as found in the code.",
        "environments:",
    ]
    lines += [f"  {n}: {_flow({'workspace': e.workspace, 'var_files': list(e.var_files), 'tag': e.tag})}"
              for n, e in envs.items()]
    lines += ["", "# Names that differ only by the environment's name, rewritten into the reference's names.",
              "normalise:" + ("" if normalise else " {}")]
    for name, pairs in normalise.items():
        lines.append(f"  {name}:")
        lines += [f"    {_flow(k)}: {_flow(v)}" for k, v in pairs.items()]
    lines += ["", f"unordered: {_flow(list(UNORDERED))}", f"json_attributes: {_flow(list(JSON_ATTRIBUTES))}"]
    for table in ("same", "different"):
        lines += ["", f"{table}:" + ("" if table_rows[table] else " []")]
        for r in table_rows[table]:
            lines.append(f"  - id: {_flow(r['id'])}")
            lines.append(f"    document: {_flow(r['document'])}")
            if "values" in r:
                lines.append(f"    values: {_flow(r['values'])}")
            lines.append("    select:")
            lines += [f"      - {_flow(s)}" for s in r["select"]]
            if table == "different":
                lines.append("    allow: []  # the attribute paths or addresses this row lets differ")
    lines += ["", "ignore_unmanaged: []", ""]
    lines += _unclaimed(comparison)
    return "\n".join(lines) + "\n"


def _unclaimed(comparison: Comparison) -> list[str]:
    verdicts = [v for v in comparison.verdicts if not v.allowed]
    if not verdicts:
        return ["# No difference between the environments: nothing unclaimed."]
    ref = comparison.contract.reference
    out = [f"# {len(verdicts)} difference(s) between the environments, each failing the gate until reviewed.",
           "# unclaimed: allow it in a row, or fix it (make the environments equal)."]
    for v in verdicts:
        d = v.diff
        file, line = comparison.locate(v.env, d.address, d.path)
        where = f" at {Path(file).name}:{line}" if file else ""
        owner = f" -> allow it in row {' or '.join(repr(r) for r in v.rows)}, or fix it" if v.rows else \
            " -> no row covers it: add one, or fix it"
        if d.path == EXISTS:
            what = f"{d.address} exists only in {ref if d.reference == 'present' else v.env}"
        else:
            what = f"{d.address}.{d.path} {ref}: {_show(d.reference)}, {v.env}: {_show(d.other)}"
        out.append(f"#   unclaimed: {what}{where}{owner}")
    return out


def write(tf_dir: str | os.PathLike, doc: str | os.PathLike, out: str | os.PathLike, force: bool = False) -> Path:
    """Write the starting contract at ``out`` (never over an existing file unless ``force``)."""
    out = Path(out)
    if out.exists() and not force:
        raise SuiteError("file exists", path=str(out), hint="pass another --output, or --force to replace it")
    text = build(tf_dir, doc, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return out

