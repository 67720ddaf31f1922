"""Parts (core/partition.py) against real Terraform: modules evaluated in parts of one block give the resources
real plans give, with the same known values; so does the block one tfparse run drops (test_partition.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core import model, partition
from core.exact import exact_models_of
from core.model import is_unknown
from tests.model.test_partition import DROPS, READS, TWO

PROVIDER = '\nprovider "aws" {\n  region = "us-east-1"\n}\n'


def _compared(fast, exact) -> tuple[int, list]:
    """(values compared, differences) between a fast model and a plan's, over the plan's managed resources."""
    count, differences = 0, []
    for address, r in exact.resources.items():
        if r.mode != "managed":
            continue
        mine = fast.resources.get(address)
        if mine is None:
            differences.append((address, "missing"))
            continue
        for key, value in mine.values.items():
            planned = r.values.get(key)
            if is_unknown(value) or planned is None or is_unknown(planned):
                continue
            count += 1
            if value != planned:
                differences.append((address, key, value, planned))
    extra = {a for a, r in fast.resources.items() if r.mode == "managed"} - set(exact.resources)
    return count, differences + [(a, "not planned") for a in sorted(extra)]


def test_parts_give_what_real_plans_give(tmp_path, monkeypatch):
    dirs = []
    for name, text in (("reads", READS), ("drops", DROPS)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "main.tf").write_text(text + PROVIDER)
        dirs.append(tmp_path / name)
    (tmp_path / "plans").mkdir()
    plans = exact_models_of([(d, TWO) for d in dirs], tmp_path / "plans")
    monkeypatch.setattr(partition, "SIZE", 1)
    for directory, exact in zip(dirs, plans, strict=True):
        fast = model.load_all(directory, TWO)
        for env in TWO:
            count, differences = _compared(fast[env], exact[env])
            assert differences == [], (directory.name, env)
            assert count >= 5, (directory.name, env)  # (values really compared)
    assert plans[1]["staging"].resources['aws_sqs_queue.r1["Env"]'].values["tags"] == {"Name": "Env-e0-staging"}


@pytest.mark.parametrize("broken", ["values", "instances"])
def test_the_comparison_sees_a_wrong_value_and_a_missing_instance(broken, tmp_path, monkeypatch):
    """Shown to fail: the comparison above is not blind."""
    (tmp_path / "drops").mkdir()
    (tmp_path / "drops" / "main.tf").write_text(DROPS + PROVIDER)
    (tmp_path / "plans").mkdir()
    exact = exact_models_of([(tmp_path / "drops", TWO)], tmp_path / "plans")[0]["staging"]
    monkeypatch.setattr(partition, "SIZE", 1)
    fast = model.load_all(tmp_path / "drops", TWO)["staging"]
    address = 'aws_sqs_queue.r1["Env"]'
    if broken == "values":
        fast.resources[address] = replace(fast.resources[address], values={"tags": {"Name": "Env-e0-production"}})
    else:
        del fast.resources[address]
    assert _compared(fast, exact)[1]
