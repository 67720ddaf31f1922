"""policies/auditor-readonly-policy.json is exactly what the live checks need: the whole suite passes in moto
as a user holding only it, and removing any one action makes the audit fail."""

import json

import pytest

from core.session import ROOT
from live_checks.aws import READ_ONLY, iam_actions
from tests.live.auditor import MOTO_CANNOT_ENFORCE, audit, policy_actions

POLICY = json.loads((ROOT / "policies" / "auditor-readonly-policy.json").read_text())
ACTIONS = policy_actions(POLICY)
SERVICE_OF = {action: service for service, ops in READ_ONLY.items() for action in ops.values()}


def test_policy_is_the_guards_allowlist_and_read_only():
    assert ACTIONS == iam_actions()
    assert [s["Effect"] for s in POLICY["Statement"]] == ["Allow"] and POLICY["Statement"][0]["Resource"] == "*"
    verbs = {a.split(":", 1)[1] for a in ACTIONS}
    assert all(v.startswith(("Describe", "Get", "List")) and "*" not in v for v in verbs), sorted(verbs)


def test_whole_suite_passes_as_a_user_holding_only_the_policy(sandbox_env):
    assert audit(sandbox_env, ACTIONS) == []


def test_suite_calls_every_operation_the_guard_allows(sandbox_env):
    run = sandbox_env.run()
    run.everything()
    allowed = {(service, op) for service, ops in READ_ONLY.items() for op in ops}
    assert run.aws.calls == allowed, "the allowlist (and the policy) may only hold calls the suite makes"


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_removing_any_action_fails_the_audit(sandbox_env, action):
    problems = audit(sandbox_env, ACTIONS - {action}, services=(SERVICE_OF[action],))
    assert f"{action}: the live checks call it, the policy does not grant it" in problems
    assert f"{action}: called, not granted" in problems  # the run made the call the policy no longer allows
    if action not in MOTO_CANNOT_ENFORCE:
        assert any("AccessDenied" in p or "HTTP 403" in p for p in problems), problems  # and moto denied it


def test_an_action_the_suite_never_uses_fails_the_audit(sandbox_env):
    problems = audit(sandbox_env, ACTIONS | {"ec2:DescribeVolumes"}, services=("ec2",))
    assert "ec2:DescribeVolumes: granted, but the live checks never call it" in problems
