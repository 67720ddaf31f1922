"""pytest plugin of the live checks: --aws-profile, --aws-region, --aws-endpoint, --require-live.

The live run (one guarded boto3 session, inventories read once) is built lazily by the ``live``
fixture, so runs without live tests never touch AWS settings. Without credentials (and without
--aws-endpoint) every live test skips with one reason; --require-live turns that into failures.
"""

from __future__ import annotations

import pytest

from core import session

_run_key = pytest.StashKey[object]()
NO_CREDENTIALS = ("no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID (or --aws-profile), "
                  "or pass --aws-endpoint URL for a sandbox (python -m live_checks.sandbox)")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("live", "live checks against deployed AWS (read-only)")
    group.addoption("--aws-profile", default=None, help="AWS profile for the live checks (default: the environment)")
    group.addoption("--aws-region", default=None,
                    help="region of every environment (default: var.aws_region of each environment)")
    group.addoption("--aws-endpoint", default=None, metavar="URL",
                    help="AWS-compatible endpoint, e.g. a sandbox: http://127.0.0.1:5555 (LocalStack, moto)")
    group.addoption("--require-live", action="store_true",
                    help="fail, instead of skip, when the live checks cannot run (nightly audit, promotion)")
    group.addoption("--live-deadline", default="900", metavar="SECONDS",
                    help="overall deadline of the live run's AWS reads (default 900); past it, ERROR with reports")


def pytest_configure(config: pytest.Config) -> None:
    endpoint, region = config.getoption("--aws-endpoint"), config.getoption("--aws-region")
    profile = config.getoption("--aws-profile")
    deadline = config.getoption("--live-deadline")
    try:
        if not 0 < float(deadline) < 1e7:
            raise ValueError
    except ValueError:
        raise pytest.UsageError(f"--live-deadline {deadline!r}: expected a number of seconds, e.g. 900") from None
    if endpoint is None and region is None and profile is None:
        return  # nothing to validate: do not even import boto3
    from live_checks.aws import valid_endpoint, valid_region

    if endpoint is not None and not valid_endpoint(endpoint):
        raise pytest.UsageError(f"--aws-endpoint {endpoint!r}: expected a URL like http://127.0.0.1:5555")
    if region is not None and not valid_region(region):
        raise pytest.UsageError(f"--aws-region {region!r}: expected a region name like us-east-1")
    if profile is not None:
        import boto3

        if profile not in boto3.Session().available_profiles:
            raise pytest.UsageError(f"--aws-profile {profile!r}: no such profile in the AWS config files")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Live parity compares every environment: with --env narrowing the run (one account per job) it is
    deselected, not skipped, so --require-live still means that everything collected ran."""
    if not config.getoption("--env"):
        return
    if set(session.selected_envs(config)) == set(session.contract(config).environments):
        return
    parity = [i for i in items if i.get_closest_marker("live") and "row" in getattr(i, "fixturenames", ())]
    if parity:
        config.hook.pytest_deselected(items=parity)
        items[:] = [i for i in items if i not in parity]


def live_run(config: pytest.Config):
    """The run, or the reason it cannot run (a string), built once per pytest run."""
    if _run_key not in config.stash:
        from live_checks.aws import AwsSession, Limiter
        from live_checks.run import LiveRun, build_sessions

        endpoint, region = config.getoption("--aws-endpoint"), config.getoption("--aws-region")
        contract = session.contract(config)
        limiter = Limiter(deadline=float(config.getoption("--live-deadline")))
        aws = AwsSession(profile=config.getoption("--aws-profile"), region=region, endpoint=endpoint, limiter=limiter)
        sessions = build_sessions(contract, aws, config.getoption("--aws-profile"), region)
        if isinstance(sessions, str):
            config.stash[_run_key] = sessions
            return sessions
        if not all(s.has_credentials for s in [aws, *sessions.values()]):
            config.stash[_run_key] = NO_CREDENTIALS
        else:
            config.stash[_run_key] = LiveRun(aws, session.models(config), contract, region=region,
                                             root=str(session.ROOT), sessions=sessions)
    return config.stash[_run_key]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """One skip (or, with --require-live, one failure) for every live test when the run cannot happen."""
    if item.get_closest_marker("live") is None or "live" not in getattr(item, "fixturenames", ()):
        return
    run = live_run(item.config)
    if isinstance(run, str):
        if item.config.getoption("--require-live"):
            pytest.fail(f"--require-live: {run}", pytrace=False)
        pytest.skip(run)


@pytest.fixture(scope="session")
def live(pytestconfig):
    """The live run (LiveRun): inventories read once, checks computed on demand."""
    return live_run(pytestconfig)
