"""The static parity gate's fixtures: each contract row becomes its own test id."""

import pytest

from core import session
from parity.document import read_tables
from parity.engine import Comparison

_comparison_key = pytest.StashKey[Comparison]()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "row" not in metafunc.fixturenames:
        return
    contract = session.contract(metafunc.config)
    table = "same" if metafunc.function.__name__ == "test_same" else \
        "different" if metafunc.function.__name__ == "test_different" else None
    rows = [r for r in contract.rows if table is None or r.table == table]
    metafunc.parametrize("row", [pytest.param(r, id=r.id) for r in rows])


@pytest.fixture(scope="session")
def envs(pytestconfig):
    """The environments this run checks (--env), all by default."""
    return session.selected_envs(pytestconfig)


@pytest.fixture(scope="session")
def comparison(pytestconfig, contract, models, envs) -> Comparison:
    if _comparison_key not in pytestconfig.stash:
        pytestconfig.stash[_comparison_key] = Comparison.build(contract, models, envs)
    return pytestconfig.stash[_comparison_key]


@pytest.fixture(scope="session")
def doc_rows(pytestconfig, contract):
    from core.errors import SuiteError

    try:
        return read_tables(session.options(pytestconfig).docs, list(contract.environments))
    except SuiteError as err:
        raise pytest.UsageError(str(err)) from None
