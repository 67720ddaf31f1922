"""The policies gate's test ids: one per policy per environment, checkov built-ins per environment, secrets per rule."""

import pytest

from core import session
from core.errors import SuiteError
from policies import catalog, gate, secrets

_CHECKOV_TESTS = ("test_policy", "test_builtin", "test_baseline")


def _ids(config: pytest.Config) -> tuple[list[str], list[str]]:
    try:
        catalog.all_ids()  # duplicate ids stop the run
        checkov = [p.id for p in catalog.checkov_policies()]
    except SuiteError as err:
        raise pytest.UsageError(str(err)) from None
    model = [p.id for p in catalog.model_policies()]
    return sorted(checkov + model, key=_order), [p.id for p in catalog.cost_policies()]


def _order(policy_id: str) -> int:
    return int(policy_id.rsplit("_", 1)[1])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    config = metafunc.config
    if "env" in metafunc.fixturenames and "policy_id" not in metafunc.fixturenames:
        metafunc.parametrize("env", session.selected_envs(config))
    if "policy_id" in metafunc.fixturenames:
        policies, costs = _ids(config)
        chosen = costs if metafunc.function.__name__ == "test_cost" else policies
        metafunc.parametrize(("policy_id", "env"), [pytest.param(p, e, id=f"{p}-{e}") for p in chosen
                                                    for e in session.selected_envs(config)])
    if "rule" in metafunc.fixturenames:
        metafunc.parametrize("rule", [pytest.param(r, id=r) for r in secrets.RULES])


def pytest_configure(config: pytest.Config) -> None:
    """Start checkov's interpreter at once: it imports checkov while the Terraform is evaluated and the tests
    are collected (not in an xdist controller, which runs no tests, nor with --collect-only)."""
    xdist_controller = bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")
    if not config.option.collectonly and not xdist_controller:
        gate.warm_checkov(config)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start checkov as soon as the tests are known, so it runs while the parity tests do."""
    if session.config.option.collectonly:
        return
    if any(getattr(item, "originalname", "") in _CHECKOV_TESTS and item.path.parent.name == "policies"
           for item in session.items):
        try:
            gate.start_checkov(session.config)
        except pytest.UsageError:
            pass  # the root conftest already stopped the run with this error at collection
    else:
        gate.stop_checkov(session.config)  # no test needs checkov: do not leave its interpreter waiting


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A run that ends before a policy test waited for checkov (-x, -k, interrupt) must not leave it running."""
    gate.stop_checkov(session.config)
