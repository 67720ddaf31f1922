"""Organisation policies on each environment as Terraform will build it.

Run: ``pytest policies`` (part of ``make gate``). Test ids name the policy and the environment, e.g.
``policies/test_policies.py::test_policy[CKV_CD_3-production]``; checkov's built-in checks are
``test_builtin[staging]``; the secret rules ``test_secret[CKV_CD_21]``; the cost guard ``test_cost[CKV_CD_30-staging]``.
"""

import pytest

from policies import catalog, gate, secrets


def _custom(policy_id):
    return policy_id in {p.id for p in catalog.checkov_policies()}


@pytest.mark.policy
def test_policy(policy_id, env, pytestconfig):
    """One of our policies (a checkov check in policies/checks/ or a Python policy on the model) in one environment."""
    if _custom(policy_id):
        findings = gate.custom_check_findings(pytestconfig, policy_id, env)
    else:
        findings = gate.model_policy_findings(pytestconfig, policy_id, env)
    gate.conclude(pytestconfig, f"policy {policy_id} in {env}", findings)


@pytest.mark.policy
def test_builtin(env, pytestconfig):
    """checkov's built-in checks on the environment's evaluated plan; failures only where the baseline says why."""
    gate.conclude(pytestconfig, f"checkov built-in checks in {env}", gate.builtin_findings(pytestconfig, env))


@pytest.mark.policy
def test_baseline(pytestconfig):
    """policies/baseline.yaml: every skip has a reason, a known environment, and still excuses a failing check."""
    gate.conclude(pytestconfig, "baseline", gate.baseline_findings(pytestconfig))


@pytest.mark.secrets
def test_secret(rule, pytestconfig):
    """Secret hygiene on the raw Terraform source; findings show file:line and names, never values."""
    gate.conclude(pytestconfig, f"secret rule {rule}: {secrets.RULES[rule]}", gate.secret_findings(pytestconfig, rule))


@pytest.mark.cost
def test_cost(policy_id, env, pytestconfig):
    """The environment's monthly cost estimate against the documented Cost table."""
    gate.conclude(pytestconfig, f"cost {policy_id} in {env}", gate.model_policy_findings(pytestconfig, policy_id, env))
