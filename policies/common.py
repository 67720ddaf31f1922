"""Small helpers shared by the policies: where a finding points, how a reference is read, how policies are declared."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.findings import Finding, Status
from core.model import EnvModel, Resource, is_unknown
from core.project import Project

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = "production"


def repo_path(path: str | os.PathLike) -> str:
    """A path as findings show it: relative to the repository root when inside it (``terraform/rds.tf``)."""
    full = Path(path).resolve()
    try:
        return str(full.relative_to(ROOT))
    except ValueError:
        return str(full)


def source_file(model: EnvModel, file: str) -> str:
    return repo_path(Path(model.root) / file) if file else ""


def finding(check: str, kind: str, status: Status, model: EnvModel, resource: Resource | None = None,
            attribute: str = "", expected: Any = None, actual: Any = None, message: str = "") -> Finding:
    """A finding about one resource (or the environment when ``resource`` is None), located in the source."""
    file, line = "", 0
    if resource is not None:
        file = source_file(model, resource.file)
        line = resource.line_of(attribute) if attribute else resource.line
    return Finding(check=check, kind=kind, status=status, env=model.name,
                   resource=resource.address if resource else "", attribute=attribute, expected=expected,
                   actual=actual, file=file, line=line, message=message)


def is_production(model: EnvModel) -> bool:
    return PRODUCTION in (model.name, model.env.tag)


def ref_target(value: Any) -> str | None:
    """``"${aws_security_group.app}"`` / ``"${aws_security_group.app.id}"`` -> ``aws_security_group.app``."""
    if not is_unknown(value):
        return None
    inner = value[2:-1]
    m = re.match(r'^((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z0-9_-]+(?:\[[^\]]*\])?)(?:\.(?:id|arn|name))?$', inner)
    return m.group(1) if m else None


def refers_to(value: Any, resource: Resource, *known_ids: Any) -> bool:
    """Whether ``value`` points at ``resource``: a reference to it, or one of its known identifiers."""
    if ref_target(value) == resource.address:
        return True
    return isinstance(value, str) and not is_unknown(value) and value in {i for i in known_ids if i}


def blocks(values: Any, key: str) -> list[dict]:
    """The nested blocks ``key`` of a resource's values (always a list of dicts in the model)."""
    found = values.get(key) if isinstance(values, dict) else None
    if isinstance(found, dict):
        return [found]
    return [b for b in found or [] if isinstance(b, dict)]


@dataclass(frozen=True)
class Context:
    """What a policy may read besides its own environment's model."""

    models: dict[str, EnvModel]  # every environment, for isolation
    docs: Path  # the environments document (cost table)
    project: Project = field(default_factory=Project)  # the contract's project: prices, tags, excuses


@dataclass(frozen=True)
class Policy:
    """One of our policies checked in Python on the evaluated model (the others are checkov checks)."""

    id: str
    name: str
    why: str
    kind: str  # "policy" | "cost"
    run: Callable[[EnvModel, Context], list[Finding]]  # findings for one environment, PASS included
