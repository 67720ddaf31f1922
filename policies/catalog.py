"""Every policy of ours, by id: the checkov checks in policies/checks/ (read statically: checkov is not importable
here) and the policies checked in Python on the model."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from core.errors import SuiteError
from core.model import EnvModel
from policies import cost, isolation, rules, secrets
from policies.checkov_run import CHECKS_DIR, Scan
from policies.common import Policy


@dataclass(frozen=True)
class CheckovPolicy:
    id: str
    name: str
    why: str
    supported: tuple[str, ...]
    file: str


def checkov_policies(checks_dir: Path = CHECKS_DIR) -> list[CheckovPolicy]:
    """The module constants ID, NAME, WHY and SUPPORTED of every check file."""
    out = []
    for path in sorted(Path(checks_dir).glob("*.py")):
        if path.name == "__init__.py":
            continue
        consts = {}
        for node in ast.parse(path.read_text(), str(path)).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                if node.targets[0].id in ("ID", "NAME", "WHY", "SUPPORTED"):
                    consts[node.targets[0].id] = ast.literal_eval(node.value)
        missing = [k for k in ("ID", "NAME", "WHY", "SUPPORTED") if not consts.get(k)]
        if missing:
            raise SuiteError(f"checkov check lacks the module constant(s) {', '.join(missing)}", path=str(path),
                             hint="declare ID, NAME, WHY and SUPPORTED at module level")
        if "check = " not in path.read_text():
            raise SuiteError("checkov check is never instantiated", path=str(path), hint="end it with `check = X()`")
        out.append(CheckovPolicy(consts["ID"], consts["NAME"], consts["WHY"], tuple(consts["SUPPORTED"]),
                                 str(path)))
    return out


def missing_results(scan: Scan, models: dict[str, EnvModel], checks_dir: Path = CHECKS_DIR) -> list[str]:
    """checkov only logs a custom check that fails to import: demand a result wherever a check has resources."""
    seen = {(r.check, r.env) for r in scan.results}
    out = []
    for policy in checkov_policies(checks_dir):
        for env, model in models.items():
            if model.of_type(*policy.supported) and (policy.id, env) not in seen:
                out.append(f"{policy.id} gave no result in {env}, which has {'/'.join(policy.supported)} resources: "
                           f"did {Path(policy.file).name} fail to load? (run checkov with LOG_LEVEL=DEBUG)")
    return out


def model_policies() -> list[Policy]:
    return [*rules.POLICIES, isolation.POLICY]


def cost_policies() -> list[Policy]:
    return list(cost.POLICIES)


def all_ids(checks_dir: Path = CHECKS_DIR) -> list[str]:
    """Every policy id; duplicates are an error."""
    ids = ([p.id for p in checkov_policies(checks_dir)] + [p.id for p in model_policies()]
           + [p.id for p in cost_policies()] + list(secrets.RULES))
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise SuiteError(f"policy id(s) used twice: {', '.join(dupes)}", path=str(checks_dir.parent))
    return ids
