"""Real plans of terraform/ made once per test process (real Terraform, offline, moto for data sources)."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.contract import load_contract
from core.model import EnvModel, load
from core.terraform import unavailable_reason
from tests.helpers import CONTRACT, TF_DIR

needs_terraform = pytest.mark.skipif(unavailable_reason() is not None,
                                     reason=f"the exact evaluator cannot run here: {unavailable_reason()}")


@dataclass(frozen=True)
class Plans:
    paths: dict[str, Path]  # env -> `terraform show -json` output
    exact: dict[str, EnvModel]  # env -> model read from it (--evaluator terraform)
    fast: dict[str, EnvModel]  # env -> HCL model (--evaluator fast)


def scratch() -> Path:
    path = Path(tempfile.mkdtemp(prefix="codedetect-test-plans-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


@functools.cache
def bundled_plans() -> Plans:
    from core.exact import exact_models

    envs = load_contract(CONTRACT, TF_DIR).environments
    exact = exact_models(TF_DIR, envs, scratch())
    fast = {name: load(TF_DIR, env) for name, env in envs.items()}
    return Plans({n: Path(m.env.plan_json) for n, m in exact.items()}, exact, fast)
