"""The benchmarks run (quick mode), so they cannot rot; their figures are never asserted."""

import json
import os
import subprocess
import sys

import pytest

from bench import synth
from tests.helpers import ROOT


def test_synthetic_module_is_deterministic_and_has_the_contract_shape(tmp_path):
    a_tf, a_contract = synth.generate(tmp_path / "a", 20, 3)
    b_tf, b_contract = synth.generate(tmp_path / "b", 20, 3)
    files = sorted(p.name for p in a_tf.iterdir())
    assert files == sorted(p.name for p in b_tf.iterdir()) == ["dev1.tfvars", "main.tf", "r000.tf", "staging.tfvars"]
    assert all((a_tf / f).read_text() == (b_tf / f).read_text() for f in files)
    assert a_contract.read_text() == b_contract.read_text()
    text = (a_tf / "r000.tf").read_text()
    assert [text.count(f'resource "{t}"') for t in synth.TYPES] == [5, 5, 5, 5]


@pytest.mark.slow
def test_quick_bench_writes_every_key_and_keeps_the_others(tmp_path):
    out = tmp_path / "bench.json"
    out.write_text(json.dumps({"exact": {"kept": True}}))
    proc = subprocess.run([sys.executable, "-m", "bench.run", "--quick", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(out.read_text())
    assert doc["exact"] == {"kept": True}  # another benchmark's key survives
    assert doc["machine"]["quick"] is True
    assert doc["gate"]["ratio"] > 0 and len(doc["gate"]["runs_s"]["gate"]) == 1
    points = doc["scale"]["points"]
    assert [(p["resources"], p["envs"]) for p in points] == [(20, 2), (40, 2)]
    assert all(p["disallowed"] == 0 and p["eval_s"] > 0 and p["peak_mib"] > 0 for p in points)
    floor = doc["scale"]["evaluator_floor"]  # the same-run baseline: tfparse alone
    assert (floor["resources"], floor["envs"]) == (40, 2) and floor["tfparse_only_s"] > 0
    assert floor["suite_over_tfparse_only"] > 0
    live = doc["live"]
    assert [p["per_env_resources"] for p in live["points"]] == [4, 8]
    assert all(p["calls"] > 0 and p["by_operation"] for p in live["points"])
    assert "calls_growth" in live and "grown_operations" in live


HOLD = ("import sys, time; block = b'x' * (200 * 2**20); sys.stdout.write('ready\\n'); sys.stdout.flush(); "
        "time.sleep(1)")


def test_peak_memory_counts_the_workers_with_this_process():
    """The scale benchmark's peak is what the machine holds at once: this process and its workers together
    (a worker's own peak alone hid that two of them and their caller passed 1 GiB)."""
    from bench.bench_scale import _rss_kib, tree_peak

    own = _rss_kib(os.getpid()) / 1024
    with tree_peak(interval=0.01) as peak:
        child = subprocess.Popen([sys.executable, "-c", HOLD], stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline() == "ready\n"
        child.wait(timeout=60)
    assert peak["mib"] >= own + 200


def test_bench_refuses_a_broken_bench_json_in_one_line(tmp_path):
    out = tmp_path / "bench.json"
    out.write_text("{not json")
    from bench.run import merge_into

    with pytest.raises(SystemExit, match=r"bench.json:1: not valid JSON .*fix or delete it"):
        merge_into(out, {"gate": {}})
    assert out.read_text() == "{not json"
