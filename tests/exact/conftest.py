"""The exact evaluator's tests: real Terraform against an in-process moto, offline."""

import pytest

from core.terraform import unavailable_reason


def pytest_collection_modifyitems(config, items):
    reason = unavailable_reason()  # never the case on this machine or CI: Terraform and the mirror are there
    for item in items:
        if reason and "tests/exact/" in item.nodeid:
            item.add_marker(pytest.mark.skip(reason=f"the exact evaluator cannot run here: {reason}"))


@pytest.fixture(scope="session")
def real():
    """Real plans of both environments of terraform/ and the models read from them (planned once)."""
    from tests.exact.plans import bundled_plans

    return bundled_plans()
