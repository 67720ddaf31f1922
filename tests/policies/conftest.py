"""Shared fixtures of the policy self-tests: fixture models, mutated copies of terraform/, one checkov batch."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from core.contract import load_contract
from core.model import EnvModel, EnvSpec, load_hcl
from policies import checkov_run
from policies.common import Context
from tests.helpers import CONTRACT, DOCS, TF_DIR, copy_tf, mutate

FIXTURES = Path(__file__).parent / "fixtures"
# The environment each policy fixture is evaluated as (name, workspace); the default is staging.
FIXTURE_ENV = {"CKV_CD_3": ("production", "default"), "CKV_CD_12": ("production", "default")}

# Mutations of terraform/ (file, old, new). Each is applied to its own copy.
DB_INGRESS = '''    description     = "PostgreSQL from the app"
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [aws_security_group.app.id]'''
MUTATIONS = {
    "rds_unencrypted": [("rds.tf", "storage_encrypted = true", "storage_encrypted = false")],
    "db_open_in_staging_workspace": [("security_groups.tf", DB_INGRESS, DB_INGRESS + '''
    cidr_blocks     = terraform.workspace == "staging" ? ["0.0.0.0/0"] : []''')],
    "health_check_root": [("alb.tf", 'path                = "/api/health"', 'path                = "/"')],
    "old_tls_policy": [("alb.tf", '"ELBSecurityPolicy-TLS13-1-2-2021-06"', '"ELBSecurityPolicy-2016-08"')],
    "bucket_tagged_prod": [("s3.tf", "tags = { Name = var.s3_bucket_name }",
                            'tags = { Name = var.s3_bucket_name, Environment = "prod" }')],
    "production_deletable": [("rds.tf", "deletion_protection       = local.is_production",
                              "deletion_protection       = false")],
    "bucket_unversioned": [("s3.tf", 'versioning_configuration {\n    status = "Enabled"',
                            'versioning_configuration {\n    status = "Suspended"')],
    "db_from_alb": [("security_groups.tf", DB_INGRESS,
                     DB_INGRESS.replace("aws_security_group.app.id", "aws_security_group.alb.id"))],
    "redirect_to_http": [("alb.tf", 'protocol    = "HTTPS"', 'protocol    = "HTTP"')],
    "alarm_prefix": [("locals.tf", '"[PROD]"', '"[PRD]"')],
    "staging_names_prod_bucket": [("iam.tf", 'Resource = ["arn:aws:s3:::${var.s3_bucket_name}/*"]',
                                   'Resource = ["arn:aws:s3:::${var.s3_bucket_name}/*", '
                                   '"arn:aws:s3:::codedetect-prod-uploads-2025/*"]')],
    "staging_t3_small": [("staging.tfvars", "enable_ssl     = false",
                          'enable_ssl     = false\ninstance_type  = "t3.small"')],
}
# The mutations whose policy is a checkov check: scanned together in one checkov run.
CHECKOV_MUTATIONS = ("rds_unencrypted", "db_open_in_staging_workspace", "health_check_root", "old_tls_policy")
CHECKOV_FIXTURES = ("CKV_CD_2", "CKV_CD_5", "CKV_CD_7", "CKV_CD_8")


def envs(tf_dir: Path) -> dict[str, EnvSpec]:
    return dict(load_contract(CONTRACT, tf_dir).environments)


def evaluate(tf_dir: Path) -> dict[str, EnvModel]:
    """Every environment of the contract, evaluated from ``tf_dir`` as the gate does."""
    from core.model import load

    return {name: load(tf_dir, spec) for name, spec in envs(tf_dir).items()}


def fixture_model(policy_id: str, env: str | None = None) -> EnvModel:
    name, workspace = (env, "default" if env == "production" else env) if env else \
        FIXTURE_ENV.get(policy_id, ("staging", "staging"))
    return load_hcl(FIXTURES / policy_id, EnvSpec(name, workspace, tag=name))


def context(models: dict[str, EnvModel], docs: Path = DOCS) -> Context:
    """The gate's context with the bundled contract's project section (codedetect's price region and tags)."""
    return Context(models=models, docs=docs, project=load_contract(CONTRACT).project)


class Mutated:
    """Mutated copies of terraform/, made and evaluated once per session on first use."""

    def __init__(self, base: Path):
        self.base = base
        self._models: dict[str, dict[str, EnvModel]] = {}

    def tf(self, name: str) -> Path:
        target = self.base / name / "terraform"
        if not target.exists():
            (self.base / name).mkdir(parents=True)
            copy_tf(self.base / name)
            for file, old, new in MUTATIONS[name]:
                mutate(target / file, old, new)
        return target

    def models(self, name: str) -> dict[str, EnvModel]:
        if name not in self._models:
            self._models[name] = evaluate(self.tf(name))
        return self._models[name]


@pytest.fixture(scope="session")
def mutated(tmp_path_factory) -> Mutated:
    return Mutated(tmp_path_factory.mktemp("mutated"))


@pytest.fixture(scope="session")
def bundled() -> dict[str, EnvModel]:
    return evaluate(TF_DIR)


@pytest.fixture(scope="session")
def checkov_batch(mutated, bundled) -> dict[str, tuple[checkov_run.Scan, EnvModel]]:
    """One checkov run over the checkov-check fixtures, the bundled terraform and the checkov mutations.

    Keys: ``fixture:<policy id>``, ``bundled:<env>`` and ``<mutation>:<env>``; values: (scan, model).
    """
    models = {f"fixture:{p}": fixture_model(p) for p in CHECKOV_FIXTURES}
    models.update({f"bundled:{env}": m for env, m in bundled.items()})
    for name in CHECKOV_MUTATIONS:
        models.update({f"{name}:{env}": m for env, m in mutated.models(name).items()})
    scan = checkov_run.start(models).wait()
    return {key: (scan, model) for key, model in models.items()}


def checkov_findings(batch, key: str, check: str | None = None):
    """The findings of one checkov check (all checks if None) in one batch entry, as the gate makes them."""
    scan, model = batch[key]
    env = key.split(":")[-1]
    return [replace(checkov_run.to_finding(r, model), env=env) for r in scan.for_env(key)
            if check is None or r.check == check]
