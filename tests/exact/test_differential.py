"""Differential: every acceptance mutation of the parity gate gives the same failing rows, resources and
attributes with the exact evaluator (real Terraform plans) as with the fast one (tfparse).

The mutations are the ones of tests/parity/test_every_row_fails.py (BREAKS, imported) and
tests/parity/test_gate_mutations.py (its edits of terraform/ restated below, its refactors imported).
Every mutated copy is planned for real; copies share initialised Terraform directories and plans whose
inputs are byte-identical (a staging.tfvars edit leaves production's plan as it was) are made once.
"""

from __future__ import annotations

import functools
import re

import pytest

from core.contract import load_contract
from core.model import load
from parity.checks import document_findings, uncovered_document_rows
from parity.document import read_tables
from parity.engine import Comparison
from parity.test_parity import _row_findings
from tests.exact.plans import scratch
from tests.helpers import CONTRACT, DOCS, copy_tf, mutate
from tests.parity.test_every_row_fails import BREAKS
from tests.parity.test_gate_mutations import REFACTORS

pytestmark = pytest.mark.slow

STAGING = 'terraform.workspace == "staging"'

# test_gate_mutations.py's edits of terraform/: name -> ([(file, old, new)], row it must fail, text it names)
GATE = {
    "ingress rule only in staging": ([("security_groups.tf", '''    security_groups = [aws_security_group.app.id]
  }

  tags = { Name = "${local.name}-db" }''', f'''    security_groups = [aws_security_group.app.id]
  }}

  dynamic "ingress" {{
    for_each = {STAGING} ? [1] : []
    content {{
      from_port   = 5432
      to_port     = 5432
      protocol    = "tcp"
      cidr_blocks = ["10.0.0.0/8"]
    }}
  }}

  tags = {{ Name = "${{local.name}}-db" }}''')], "Security Groups"),
    "rds engine in one environment": ([("rds.tf", 'engine         = "postgres"',
                                        f'engine         = {STAGING} ? "mysql" : "postgres"')], "Database Type"),
    "health check path in one environment": ([("alb.tf", 'path                = "/api/health"',
                                               f'path                = {STAGING} ? "/healthz" : "/api/health"')],
                                             "ALB Health Checks"),
    "new resource in one environment": ([("queue.tf", None, f'''resource "aws_sqs_queue" "jobs" {{
  count = {STAGING} ? 1 : 0
  name  = "${{local.name}}-jobs"
}}''')], "unclaimed"),
}

CASES = (["bundled"] + [f"row:{r}" for r in BREAKS] + [f"gate:{g}" for g in GATE]
         + [f"refactor:{r}" for r in REFACTORS])


def _apply(tf, name: str) -> None:
    kind, _, key = name.partition(":")
    if kind == "row":
        for file, old, new in BREAKS[key][0]:
            if old is None:
                (tf / file).write_text((tf / file).read_text() + new + "\n")
            else:
                mutate(tf / file, old, new)
    elif kind == "gate":
        for file, old, new in GATE[key][0]:
            if old is None:
                (tf / file).write_text(new + "\n")
            else:
                mutate(tf / file, old, new)
    elif kind == "refactor":
        for file, old, new, *count in REFACTORS[key]:
            mutate(tf / file, old, new, *count)


def failures(tf, models) -> set[tuple[str, str, str]]:
    """Every failing (check, resource, attribute) of the parity gate: rows, catch-all, document."""
    contract = load_contract(CONTRACT, tf)
    doc_rows = read_tables(DOCS, list(contract.environments))
    comparison = Comparison.build(contract, models)
    envs = list(models)
    found = []
    for row in contract.rows:
        found += _row_findings(row, contract, models, envs, comparison)
        found += document_findings(contract, row, doc_rows, models, str(DOCS))
    found += comparison.findings_for(None) + uncovered_document_rows(contract, doc_rows, str(DOCS))
    # an element's index in a collection the contract compares as a set means nothing (a plan sorts sets,
    # the HCL keeps source order): ingress[1] in one is ingress[0] in the other
    unordered = re.compile(r"\b(" + "|".join(map(re.escape, contract.unordered)) + r")\[\d+\]")
    return {(f"{f.kind}:{f.check}", f.resource, unordered.sub(r"\1[*]", f.attribute))
            for f in found if not f.status.ok}


@functools.cache
def _verdicts() -> tuple[dict[str, tuple[set, set, dict]] | None, BaseException | None]:
    try:
        return _plan_and_judge(), None
    except Exception as err:  # noqa: BLE001 - kept, so the other cases fail at once instead of planning again
        return None, err


def verdicts() -> dict[str, tuple[set, set, dict]]:
    """case -> (fast failures, exact failures, exact models); every case planned once, in one parallel batch."""
    found, err = _verdicts()
    if err is not None:
        raise err
    return found


def _plan_and_judge() -> dict[str, tuple[set, set, dict]]:
    from core.exact import exact_models_of

    base = scratch()
    copies = {}
    for i, name in enumerate(CASES):
        (base / str(i)).mkdir()
        copies[name] = copy_tf(base / str(i))
        _apply(copies[name], name)
    roots = [(copies[n], load_contract(CONTRACT, copies[n]).environments) for n in CASES]
    (base / "plans").mkdir()
    exact = exact_models_of(roots, base / "plans", jobs=2)
    out = {}
    for name, models in zip(CASES, exact, strict=True):
        tf = copies[name]
        fast = {env: load(tf, spec) for env, spec in load_contract(CONTRACT, tf).environments.items()}
        out[name] = (failures(tf, fast), failures(tf, models), models)
    return out


@pytest.mark.parametrize("case", CASES)
def test_fast_and_exact_fail_the_same_rows_resources_and_attributes(case):
    fast, exact, models = verdicts()[case]
    assert all(m.source.startswith("terraform:") for m in models.values())
    assert exact == fast, {"only exact": sorted(exact - fast), "only fast": sorted(fast - exact)}
    kind, _, key = case.partition(":")
    if kind in ("bundled", "refactor"):
        assert exact == set(), sorted(exact)
    elif kind == "row":
        _edits, resource, attribute = BREAKS[key]
        assert any(c == f"parity:{key}" and r == resource and a.startswith(attribute) for c, r, a in exact), \
            sorted(exact)
    else:
        row = GATE[key][1]
        assert any(c == f"parity:{row}" for c, _r, _a in exact), sorted(exact)
