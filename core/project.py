"""Per-project configuration: the contract's ``project:`` section (what is the project's, not the suite's).

The suite ships one example project (codedetect: ``terraform/``, ``docs/ENVIRONMENTS.md``, ``parity/contract.yaml``).
Its checkov baseline, its price region and its tag rules apply to another repository only when that repository's
contract says so. Every path in the contract is relative to the contract file's directory::

    document: docs/ENVIRONMENTS.md        # the environments document (``--docs`` overrides it)
    project:
      baseline: checkov-baseline.yaml     # checkov built-in failures accepted with a reason (none if absent)
      prices: {region: eu-west-1}         # a bundled dated price table (policies/prices.yaml), or
                                          # {table: my-prices.yaml} with the same keys
      tags:
        required: [Environment, Owner]    # default [Environment]; Environment must be the environment's tag
        taggable: [aws_new_type]          # add to (or override) the provider-schema classification
        untaggable: [aws_other_type]
      checks: [policies/checkov]          # extra checkov check directories
      alarm_prefixes: {production: "[PROD]"}  # CKV_CD_10; default "[<ENVIRONMENT TAG IN CAPITALS>]"
      health_check_path: /api/health      # CKV_CD_7; default: any explicit path but "/"
      excuses:                            # a policy finding accepted for one resource, with a reason
        - {policy: CKV_CD_12, resource: aws_efs_file_system.data, envs: [production], why: "..."}

A malformed section stops the run with one line naming the contract file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import SuiteError

MIN_REASON = 20  # characters: a reason a reviewer can check, not "n/a"
_KEYS = {"baseline", "prices", "tags", "checks", "excuses", "alarm_prefixes", "health_check_path", "__line__"}
_PRICE_KEYS = {"region", "table", "__line__"}
_TAG_KEYS = {"required", "taggable", "untaggable", "__line__"}
_EXCUSE_KEYS = {"policy", "resource", "envs", "why", "__line__"}


@dataclass(frozen=True)
class Excuse:
    """A policy finding accepted for the resources matching ``resource`` (a glob) in ``envs`` (all if empty)."""

    policy: str
    resource: str
    envs: tuple[str, ...]
    why: str
    file: str
    line: int

    def covers(self, policy: str, env: str, address: str) -> bool:
        from core.contract import glob_match

        return policy == self.policy and (not self.envs or env in self.envs) and glob_match(address, self.resource)


@dataclass(frozen=True)
class Project:
    baseline: Path | None = None
    price_region: str = ""
    price_table: Path | None = None  # None: the bundled policies/prices.yaml
    required_tags: tuple[str, ...] = ("Environment",)
    taggable: frozenset[str] = frozenset()
    untaggable: frozenset[str] = frozenset()
    check_dirs: tuple[Path, ...] = ()
    excuses: tuple[Excuse, ...] = ()
    alarm_prefixes: tuple[tuple[str, str], ...] = ()  # (environment, prefix)
    health_check_path: str = ""
    reference: str = ""  # the contract's reference environment
    contract: str = ""  # where this came from, for messages
    line: int = 0  # line of the project section (0: there is none)

    def excuse_for(self, policy: str, env: str, address: str) -> Excuse | None:
        return next((e for e in self.excuses if e.covers(policy, env, address)), None)


def _strings(value: Any, what: str, path: str, line: int) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SuiteError(f"project: {what} must be a list of strings", path=path, line=line)
    return tuple(value)


def _file(base: Path, value: Any, what: str, path: str, line: int, directory: bool = False) -> Path:
    if not isinstance(value, str) or not value:
        raise SuiteError(f"project: {what} must be a path", path=path, line=line)
    full = (base / value).resolve()
    if not (full.is_dir() if directory else full.is_file()):
        raise SuiteError(f"project: {what} {value!r} does not exist (paths are relative to the contract's "
                         "directory)", path=path, line=line, hint="fix the path or create it")
    return full


def load_project(raw: Any, contract_path: str | Path, environments: list[str], reference: str) -> Project:
    """The ``project:`` section of a contract (``raw`` as the line-recording YAML loader read it)."""
    path = str(contract_path)
    base = Path(contract_path).resolve().parent
    if raw is None:
        return Project(reference=reference, contract=path)
    if not isinstance(raw, dict):
        raise SuiteError("project must be a mapping", path=path)
    line = raw.get("__line__", 0)
    unknown = set(raw) - _KEYS
    if unknown:
        raise SuiteError(f"project has unknown keys {sorted(unknown)} (known: {sorted(_KEYS - {'__line__'})})",
                         path=path, line=line)

    baseline = _file(base, raw["baseline"], "baseline", path, line) if raw.get("baseline") is not None else None

    region, table = "", None
    prices = raw.get("prices")
    if prices is not None:
        if not isinstance(prices, dict) or set(prices) - _PRICE_KEYS or not (prices.get("region") or
                                                                            prices.get("table")):
            raise SuiteError("project: prices must be {region: <AWS region>} or {table: <price file>}", path=path,
                             line=line)
        region = str(prices.get("region") or "")
        if prices.get("table"):
            table = _file(base, prices["table"], "prices.table", path, prices.get("__line__", line))

    tags = raw.get("tags") or {}
    if not isinstance(tags, dict) or set(tags) - _TAG_KEYS:
        raise SuiteError(f"project: tags takes only {sorted(_TAG_KEYS - {'__line__'})}", path=path, line=line)
    tline = tags.get("__line__", line)
    required = _strings(tags.get("required"), "tags.required", path, tline) or ("Environment",)
    taggable = frozenset(_strings(tags.get("taggable"), "tags.taggable", path, tline))
    untaggable = frozenset(_strings(tags.get("untaggable"), "tags.untaggable", path, tline))
    if taggable & untaggable:
        raise SuiteError(f"project: {sorted(taggable & untaggable)} both taggable and untaggable", path=path,
                         line=tline)

    checks = tuple(_file(base, d, "checks", path, line, directory=True)
                   for d in _strings(raw.get("checks"), "checks", path, line))

    excuses = []
    for e in raw.get("excuses") or []:
        eline = e.get("__line__", line) if isinstance(e, dict) else line
        if not isinstance(e, dict) or set(e) - _EXCUSE_KEYS or not e.get("policy") or not e.get("resource"):
            raise SuiteError("project: an excuse is {policy: CKV_CD_<n>, resource: <address glob>, envs: [...], "
                             "why: <reason>}", path=path, line=eline)
        why = " ".join(str(e.get("why") or "").split())
        if len(why) < MIN_REASON:
            raise SuiteError(f"project: the excuse of {e['policy']} for {e['resource']} needs a written reason "
                             f"(why:, at least {MIN_REASON} characters)", path=path, line=eline)
        envs = _strings(e.get("envs"), "excuses.envs", path, eline)
        for env in envs:
            if env not in environments:
                raise SuiteError(f"project: excuse names unknown environment {env!r}", path=path, line=eline)
        excuses.append(Excuse(str(e["policy"]), str(e["resource"]), envs, why, path, eline))

    prefixes = raw.get("alarm_prefixes") or {}
    if not isinstance(prefixes, dict) or not all(isinstance(v, str) and v for k, v in prefixes.items()
                                                 if k != "__line__"):
        raise SuiteError("project: alarm_prefixes maps an environment to the prefix of its alarm names", path=path,
                         line=line)
    for env in prefixes:
        if env != "__line__" and env not in environments:
            raise SuiteError(f"project: alarm_prefixes names unknown environment {env!r}", path=path, line=line)
    health = raw.get("health_check_path") or ""
    if not isinstance(health, str) or (health and not health.startswith("/")):
        raise SuiteError("project: health_check_path must be a path starting with /", path=path, line=line)

    return Project(baseline=baseline, price_region=region, price_table=table, required_tags=required,
                   taggable=taggable, untaggable=untaggable, check_dirs=checks, excuses=tuple(excuses),
                   alarm_prefixes=tuple(sorted((k, v) for k, v in prefixes.items() if k != "__line__")),
                   health_check_path=health, reference=reference, contract=path, line=line)

