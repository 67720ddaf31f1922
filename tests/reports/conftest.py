"""Gate runs on mutated copies of terraform/, shared by the end-to-end report tests (each runs once)."""

import pytest

from tests.helpers import copy_tf, mutate, run_pytest

PLANTED_SECRET = "Pl4nted-S3cret-7d1e9b0a"


def gate(tf, out, *extra):
    return run_pytest("parity", "policies", "-m", "not live", "--tf-dir", str(tf), "--report-dir", str(out),
                      "-q", "--tb=short", *extra)


@pytest.fixture(scope="session")
def failing_gate(tmp_path_factory):
    """Staging's instance type set in its tfvars (a parity row fails) and RDS encryption switched off in both
    environments (a policy fails, parity still holds)."""
    base = tmp_path_factory.mktemp("failing-gate")
    tf = copy_tf(base)
    (tf / "staging.tfvars").write_text((tf / "staging.tfvars").read_text() + 'instance_type = "t3.small"\n')
    mutate(tf / "rds.tf", "storage_encrypted = true", "storage_encrypted = false")
    out = base / "reports"
    return gate(tf, out), out, tf


@pytest.fixture(scope="session")
def secret_gate(tmp_path_factory):
    """A secret-looking value given to the sensitive variable db_password in a var file."""
    base = tmp_path_factory.mktemp("secret-gate")
    tf = copy_tf(base)
    (tf / "staging.tfvars").write_text((tf / "staging.tfvars").read_text() + f'db_password = "{PLANTED_SECRET}"\n')
    out = base / "reports"
    return gate(tf, out), out, tf
