"""The document's prose is part of the contract: each claim of the contract holds, and the document states nothing
in code (inline code, commands) that no claim covers.

Run: ``pytest parity`` (part of ``make gate``). Test ids are the claim's text and line, e.g.
``parity/test_claims.py::test_claim[/aws/ec2/codedetect-staging @73]``.
"""

import pytest

from core import session
from parity.claims import check_claim, claim_id, uncovered


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "claim" in metafunc.fixturenames:
        claims = session.contract(metafunc.config).claims
        metafunc.parametrize("claim", [pytest.param(c, id=claim_id(c)) for c in claims])


@pytest.mark.document
def test_claim(claim, contract, models, envs, pytestconfig):
    """One claim of the contract, anchored to a line of the document, against each environment's model."""
    doc = str(session.options(pytestconfig).docs)
    checked = {e: models[e] for e in envs}
    session.conclude(pytestconfig, claim_id(claim), "document", [""],
                     check_claim(claim, contract, checked, doc, contract.project))


@pytest.mark.document
def test_document_claims_covered(contract, pytestconfig):
    """Every inline code span and command of the document is a claim of the contract (or ignored with a reason)."""
    doc = str(session.options(pytestconfig).docs)
    session.conclude(pytestconfig, "document claims", "document", [""], uncovered(contract, doc))
