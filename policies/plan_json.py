"""One environment's evaluated model written as Terraform plan JSON, for `checkov --framework terraform_plan`.

checkov alone does not evaluate ``terraform.workspace``; the model does. Writing the model in the format of
``terraform show -json`` lets checkov check what each environment will really contain:

- ``planned_values`` holds the known values; a value only known after apply (``"${...}"`` in the model) is left
  out and marked in ``resource_changes[].change.after_unknown``, as Terraform does;
- ``configuration`` holds each block's references, so checkov's graph checks can connect resources;
- ``tags_all`` (the provider's ``default_tags`` merged with ``tags``) is added to every type that takes tags;
- a secret never reaches the file: ``SENSITIVE`` values and every attribute named like a secret are left out and
  marked sensitive;
- an S3 sub-resource whose ``bucket`` is the bucket's name gets a reference to the bucket, as Terraform has it
  (``aws_s3_bucket.x.id`` is only known after apply) and as checkov links them by name in HCL scans.
"""

from __future__ import annotations

import re
from typing import Any

from core.model import EnvModel, Resource, is_sensitive, is_unknown, module_address
from policies.tagging import tags_all, takes_tags

PROVIDER = "registry.terraform.io/hashicorp/aws"
SECRET_ATTRIBUTE = re.compile(r"(?i)^(?!creation_token$)(.*_)?(password|passwd|secret|token|private_key(_pem)?)$")
_REF_RE = re.compile(r"^\$\{((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z0-9_-]+(?:\[[^\]]*\])?(?:\.[A-Za-z0-9_]+)*)\}$")


def split_address(address: str) -> tuple[str, str, str, Any]:
    """'data.aws_x.y' -> ('data', 'aws_x', 'y', None); 'aws_x.y["k"]' -> ('managed', 'aws_x', 'y', 'k')."""
    mode, rest = "managed", address
    while rest.startswith("data."):  # tolerate a doubled prefix
        mode, rest = "data", rest[5:]
    rtype, _, name = rest.partition(".")
    name, bracket, index = name.partition("[")
    key: Any = None
    if bracket:
        index = index[:-1] if index.endswith("]") else index
        key = int(index) if index.isdigit() else index.strip('"')
    return mode, rtype, name, key


def clean_address(address: str) -> str:
    """The address as Terraform writes it (the model may double a data source's ``data.`` prefix)."""
    while address.startswith("data.data."):
        address = address[5:]
    return address


def references(value: str) -> list[str]:
    """Terraform-style references of one model value ``"${aws_x.y[0].attr}"`` (most specific first)."""
    m = _REF_RE.match(value)
    if not m or m.group(1).startswith(("var.", "local.", "each.", "count.", "self.", "path.", "terraform.")):
        return []
    module, target = module_address(m.group(1))  # a child module's resource: module.x["k"].aws_y.z
    parts = re.sub(r"\[[^\]]*\]", "", target).split(".")
    depth = 3 if parts[0] == "data" else 2
    refs = [target + ".id", target] if len(parts) == depth else [target]  # a bare address stands for `.id`
    block = ".".join(parts[:depth])
    refs = refs if block in refs else [*refs, block]
    return [f"{module}.{r}" for r in refs] if module else refs


def _split(value: Any, key: str = "") -> tuple[Any, Any, Any, Any]:
    """(known value, after_unknown, configuration expression, after_sensitive) of one model value."""
    if is_sensitive(value) or (key and SECRET_ATTRIBUTE.search(key) and isinstance(value, str)):
        refs = references(value) if is_unknown(value) else []
        return None, True, ({"references": refs} if refs else {}), True
    if is_unknown(value):
        refs = references(value)
        return None, True, ({"references": refs} if refs else {}), False
    if isinstance(value, list):
        parts = [_split(v) for v in value]
        known = [p[0] for p in parts]
        unknown = [p[1] for p in parts]
        sensitive = [p[3] for p in parts]
        if value and all(isinstance(v, dict) for v in value):  # nested blocks: expressions per block
            return known, unknown, [p[2] for p in parts], sensitive
        refs = [r for p in parts for r in (p[2] or {}).get("references", [])]
        if value and all(u is True for u in unknown):  # Terraform: the whole list is unknown
            return None, True, ({"references": refs} if refs else {}), any(sensitive)
        return known, unknown, ({"references": refs} if refs else {"constant_value": value}), sensitive
    if isinstance(value, dict):
        known, unknown, expr, sensitive = {}, {}, {}, {}
        for k, v in value.items():
            kv, ku, ke, ks = _split(v, k)
            if ku is not True:
                known[k] = kv
            if ku:
                unknown[k] = ku
            if ke:
                expr[k] = ke
            if ks:
                sensitive[k] = ks
        return known, unknown, expr, sensitive
    return value, False, {"constant_value": value}, False


def _bucket_refs(model: EnvModel) -> dict[str, str]:
    """Bucket name -> "${aws_s3_bucket.x}" for the buckets whose names are known."""
    return {r.values["bucket"]: "${" + r.address + "}" for r in model.of_type("aws_s3_bucket")
            if isinstance(r.values.get("bucket"), str) and not is_unknown(r.values["bucket"])}


def _values(resource: Resource, model: EnvModel, buckets: dict[str, str]) -> tuple[dict, dict, dict, dict]:
    values = dict(resource.values)
    if resource.type.startswith("aws_s3_bucket_") and values.get("bucket") in buckets:
        values["bucket"] = buckets[values["bucket"]]
    known, unknown, expr, sensitive = _split(values)
    if resource.mode == "managed" and takes_tags(resource.type):
        known.setdefault("tags", None)
        merged = tags_all(resource, model)
        if isinstance(merged, dict):
            known_tags = {k: v for k, v in merged.items() if not is_unknown(v)}
            known["tags_all"] = known_tags
            if len(known_tags) != len(merged):
                unknown["tags_all"] = {k: True for k in merged if k not in known_tags}
        else:
            unknown["tags_all"] = True
    return known, unknown, expr, sensitive


def _relative(expr: Any, module: str) -> Any:
    """Configuration expressions of a module's block name the module's own resources as Terraform does:
    relative to the module (``aws_instance.this``, not ``module.web["a"].aws_instance.this``)."""
    if isinstance(expr, list):
        return [_relative(e, module) for e in expr]
    if isinstance(expr, dict):
        out = {k: _relative(v, module) for k, v in expr.items() if k != "references"}
        if "references" in expr:
            out["references"] = [r[len(module) + 1:] if r.startswith(module + ".") else r for r in expr["references"]]
        return out
    return expr


def _module(tree: dict, module: str) -> dict:
    """The ``child_modules`` entry of ``tree`` for module instance ``module`` (created on first use)."""
    node = tree
    parts = re.findall(r'module\.[^.\[]+(?:\[(?:"[^"]*"|[^\]]*)\])?', module)
    for depth in range(1, len(parts) + 1):
        address = ".".join(parts[:depth])
        children = node.setdefault("child_modules", [])
        found = next((c for c in children if c["address"] == address), None)
        if found is None:
            found = {"address": address, "resources": []}
            children.append(found)
        node = found
    return node


def _module_call(config: dict, module: str) -> dict:
    """The ``configuration`` module (``module_calls`` by name, no instance keys) holding ``module``'s blocks."""
    node = config
    for name in re.findall(r"module\.([^.\[]+)", module):
        node = node.setdefault("module_calls", {}).setdefault(name, {"source": "", "module": {"resources": []}})
        node = node["module"]
    return node


def plan_json(model: EnvModel) -> dict[str, Any]:
    """The model in the shape of ``terraform show -json`` (format 1.2) for one environment.

    A resource of a child module is written as Terraform writes it: in ``planned_values`` under its module
    instance's ``child_modules`` entry with its full address (``module.x["k"].aws_y.z``), in ``resource_changes``
    with ``module_address``, and its block under ``configuration``'s ``module_calls``.
    """
    root: dict[str, Any] = {"resources": []}
    config_root: dict[str, Any] = {"resources": []}
    changes = []
    seen_blocks: set[tuple[str, str]] = set()
    buckets = _bucket_refs(model)
    for raw_address, r in sorted(model.resources.items()):
        module, local = module_address(clean_address(raw_address))
        address = f"{module}.{local}" if module else local
        mode, rtype, name, key = split_address(local)
        known, unknown, expr, sensitive = _values(r, model, buckets)
        ident = {"address": address, **({"module_address": module} if module else {}), "mode": mode, "type": rtype,
                 "name": name, **({"index": key} if key is not None else {}), "provider_name": PROVIDER}
        planned = {k: v for k, v in ident.items() if k != "module_address"}
        (_module(root, module) if module else root)["resources"].append(
            {**planned, "schema_version": 0, "values": known, "sensitive_values": sensitive})
        changes.append({**ident, "change": {"actions": ["read" if mode == "data" else "create"], "before": None,
                                            "after": known, "after_unknown": unknown, "before_sensitive": False,
                                            "after_sensitive": sensitive}})
        block = ("data." if mode == "data" else "") + f"{rtype}.{name}"
        calls = re.sub(r"\[[^\]]*\]", "", module)
        if (calls, block) not in seen_blocks:
            seen_blocks.add((calls, block))
            (_module_call(config_root, module) if module else config_root)["resources"].append(
                {"address": block, "mode": mode, "type": rtype, "name": name, "provider_config_key": r.provider,
                 "expressions": _relative(expr, module) if module else expr, "schema_version": 0})
    region = (model.providers.get("aws") or {}).get("region")
    if not isinstance(region, str) or is_unknown(region):
        region = model.variables["aws_region"].value if "aws_region" in model.variables else None
    return {
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "variables": {"environment": {"value": model.env.tag or model.name}},
        "planned_values": {"root_module": root},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {"aws": {"name": "aws", "full_name": PROVIDER,
                                        "expressions": {"region": {"constant_value": region}} if region else {}},
                                **{key: {"name": "aws", "full_name": PROVIDER, "alias": key.split(".", 1)[1]}
                                   for key in model.providers if key != "aws"}},
            "root_module": config_root,
        },
        "codedetect": {"environment": model.name, "source": model.source,
                       "note": "written from the evaluated model by policies/plan_json.py, not by terraform"},
    }
