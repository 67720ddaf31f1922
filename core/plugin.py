"""The suite's pytest plugin: options, markers and the once-per-run evaluated models.

Loaded by the root ``conftest.py`` in a checkout, and by the ``pytest11`` entry point ``core.plugin`` when the
suite is installed (``pip install .``), so ``codedetect-suite gate`` runs the installed test modules anywhere.
"""

import pytest

from core import session

pytest_plugins = ["live_checks.plugin", "reports.plugin"]


def pytest_addoption(parser: pytest.Parser) -> None:
    session.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    for marker, why in [
        ("parity", "static parity gate: contract rows against the evaluated Terraform"),
        ("document", "three-way agreement between the document, the contract and the Terraform"),
        ("policy", "organisation policies (checkov built-ins and CKV_CD_* checks) per environment"),
        ("secrets", "secret hygiene on the raw Terraform source"),
        ("cost", "monthly cost estimate against the documented budget"),
        ("live", "read-only checks against deployed AWS (needs credentials or --aws-endpoint)"),
        ("slow", "project self-tests that take more than a few seconds"),
    ]:
        config.addinivalue_line("markers", f"{marker}: {why}")


@pytest.fixture(scope="session")
def contract(pytestconfig):
    return session.contract(pytestconfig)


@pytest.fixture(scope="session")
def models(pytestconfig):
    return session.models(pytestconfig)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    # A failed check shows its findings table, not the test's arguments and source.
    from core.findings import CheckFailed

    report = yield
    if call.excinfo is not None and isinstance(call.excinfo.value, CheckFailed) and report.failed:
        report.longrepr = call.excinfo.value.render()
    return report


def pytest_sessionstart(session: pytest.Session) -> None:
    # A bad contract or option stops the run with one line before anything is collected.
    from core import session as suite

    suite.contract(session.config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Evaluate the Terraform once, at collection, when any test needs it: bad input then stops
    # the run with one line (pytest.UsageError) instead of an error in every test.
    if any("models" in getattr(item, "fixturenames", ()) for item in items):
        session.models(config)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config):
    # Before pytest's own FAILURES section: every failing finding, the root cause (a var-file line) first.
    from core.cli import root_cause_first

    try:  # h3-secrets' scrubber, once merged: no secret seen in this run reaches the terminal
        from core.redact import scrub
    except ImportError:
        def scrub(text: str) -> str:
            return text
    lines = [scrub(line) for line in root_cause_first(session.recorded(config))]
    if lines:
        terminalreporter.section("failing findings, root cause first", sep="=", red=True, bold=True)
        for line in lines:
            terminalreporter.line(line)
    return (yield)
