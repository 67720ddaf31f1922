"""The static parity gate: every documented row, the catch-all, and the document itself.

Run: ``pytest parity`` (part of ``make gate``). Test ids are the document's row names,
e.g. ``parity/test_parity.py::test_same[Security Groups]``.
"""

import pytest

from core import session
from parity.checks import contract_value_findings, document_findings, selector_findings, uncovered_document_rows


def _row_findings(row, contract, models, envs, comparison):
    checked = {e: models[e] for e in envs}
    return (selector_findings(contract, row, checked)
            + contract_value_findings(contract, row, checked)
            + comparison.findings_for(row.id))


@pytest.mark.parity
def test_same(row, contract, models, envs, comparison, pytestconfig):
    """A "same" row: nothing it covers differs between environments, and its documented value holds."""
    session.conclude(pytestconfig, row.id, "parity", envs + [comparison.pair(e) for e in comparison.envs],
                     _row_findings(row, contract, models, envs, comparison))


@pytest.mark.parity
def test_different(row, contract, models, envs, comparison, pytestconfig):
    """A "different" row: each environment has the contract's value; only the row's allowed paths differ."""
    session.conclude(pytestconfig, row.id, "parity", envs + [comparison.pair(e) for e in comparison.envs],
                     _row_findings(row, contract, models, envs, comparison))


@pytest.mark.parity
def test_unclaimed(comparison, envs, pytestconfig):
    """Default deny: a difference that no contract row covers fails here."""
    session.conclude(pytestconfig, "unclaimed", "parity", [comparison.pair(e) for e in comparison.envs],
                     comparison.findings_for(None))


@pytest.mark.document
def test_document(row, contract, models, envs, doc_rows, pytestconfig):
    """Document <-> contract <-> Terraform: the document's row, its cells and its values agree."""
    doc = str(session.options(pytestconfig).docs)
    session.conclude(pytestconfig, row.id, "document", envs,
                     document_findings(contract, row, doc_rows, {e: models[e] for e in envs}, doc))


@pytest.mark.document
def test_document_rows_covered(contract, doc_rows, pytestconfig):
    """Every row of the document's two tables has a contract rule."""
    doc = str(session.options(pytestconfig).docs)
    session.conclude(pytestconfig, "document rows", "document", [""],
                     uncovered_document_rows(contract, doc_rows, doc))


@pytest.mark.parity
def test_model_warnings(models, envs, pytestconfig):
    """What Terraform only warns about (a var-file variable nothing declares) fails here, naming file:line;
    the rest of the run goes on."""
    from core.findings import Finding, Status
    from parity.engine import rel

    findings = [Finding(check="model warnings", kind="parity", status=Status.FAIL, env=e,
                        file=rel(models[e].root, d.file), line=d.line,
                        message=f"{d.message}; {d.hint}" if d.hint else d.message)
                for e in envs for d in models[e].diagnostics]
    session.conclude(pytestconfig, "model warnings", "parity", envs, findings)
