"""Evaluation and diff time, and peak memory, on synthetic root modules of growing size (bench/synth.py).

    .venv/bin/python -m bench.bench_scale [--sizes 100,500,1000,5000] [--envs 2,4,8] [--jobs N]

Each point (N resources, E environments) runs in a fresh process: generate, evaluate every environment as the gate
does (``core.session.evaluate``: the source read here, tfparse's runs in worker processes unless ``--jobs 1``, each
model redacted as it is built; then ``core.session.finish``, the rest of the redaction every check's models go
through), then ``Comparison.build`` (the parity diff). ``eval_s`` is both steps (also reported apart).

Reported per point: seconds for each phase; CPU seconds of this process and of its workers; peak resident memory
of the whole process tree (this process and its workers, sampled together: what the machine holds at once), with
this process's and the largest worker's own peaks; and growth rates (time(N) / time(smallest N), time(5000) /
time(500)). At the largest point, a baseline measured in the same run: tfparse alone, one run of the whole
module per environment in the same number of worker processes (what any use of tfparse that does not split the
module, core/partition.py, takes at least); the suite's time is reported as a ratio to it. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"eval_plus_diff_s_at_5000x8": 10.0, "peak_mib_at_5000x8": 1024.0, "growth_5000_over_500": 12.0}


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
    except OSError:
        return 0


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux /proc)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(x) for x in fh.read().split()]
        except OSError:
            pass
    return out


@contextmanager
def tree_peak(interval: float = 0.02):
    """The peak of this process tree's summed resident memory while the block runs, in MiB (``peak["mib"]``);
    0 where /proc is not there."""
    peak = {"mib": 0.0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak["mib"] = max(peak["mib"], sum(_rss_kib(p) for p in set(_tree(os.getpid()))) / 1024)
            done.wait(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        done.set()
        thread.join()


def _cpu() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def point(resources: int, envs: int, jobs: int | None) -> dict:
    """One measurement, in this process (run it in a fresh one: see ``measure``)."""
    sys.path.insert(0, str(ROOT))
    from bench.synth import generate
    from core.contract import load_contract
    from core.session import evaluate, finish, sealer_for
    from parity.engine import Comparison

    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        tf, contract_path = generate(Path(tmp), resources, envs)
        contract = load_contract(contract_path, tf)
        cpu_before = _cpu()
        with tree_peak() as peak:
            start = time.perf_counter()
            sealer = sealer_for(tf, contract.environments)  # (the gate's models: what every check reads)
            evaluate(tf, contract.environments, jobs=jobs, sealer=sealer)
            evaluated = time.perf_counter()
            models = finish(sealer)
            sealed = time.perf_counter()
            comparison = Comparison.build(contract, models)
            done = time.perf_counter()
        cpu_after = _cpu()
    failing = [v for v in comparison.verdicts if not v.allowed]
    return {
        "resources": resources, "envs": envs, "jobs": jobs,
        "eval_s": round(sealed - start, 3), "tfparse_and_model_s": round(evaluated - start, 3),
        "redact_s": round(sealed - evaluated, 3), "diff_s": round(done - sealed, 3),
        "total_s": round(done - start, 3),
        "cpu_s": round(cpu_after[0] - cpu_before[0], 2), "worker_cpu_s": round(cpu_after[1] - cpu_before[1], 2),
        "peak_mib": round(peak["mib"], 1),  # the whole tree at once
        "own_peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "worker_peak_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "differences": len(comparison.verdicts), "disallowed": len(failing),  # the synthetic contract holds: 0
    }


def evaluator_floor(resources: int, envs: int, jobs: int) -> dict:
    """The baseline: every environment's bare tfparse run of the whole module (no parts, no source read, no
    model, no diff) in ``jobs`` worker processes of core/evaluator.py."""
    sys.path.insert(0, str(ROOT))
    from bench.synth import generate
    from core import evaluator
    from core.contract import load_contract

    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
        tf, contract_path = generate(Path(tmp), resources, envs)
        specs = list(load_contract(contract_path, tf).environments.values())
        cpu_before = _cpu()
        start = time.perf_counter()
        with evaluator.Pool(jobs) as pool:
            waiting = [pool.submit(tf, e.workspace, list(e.var_files)) for e in specs]
            for later in waiting:
                later()
        elapsed = time.perf_counter() - start
        cpu_after = _cpu()
    return {"resources": resources, "envs": envs, "jobs": jobs, "tfparse_only_s": round(elapsed, 3),
            "worker_cpu_s": round(cpu_after[1] - cpu_before[1], 2)}


def measure(resources: int, envs: int, jobs: int | None, floor: bool = False) -> dict:
    cmd = [sys.executable, "-m", "bench.bench_scale", "--floor" if floor else "--point", str(resources), str(envs)]
    if jobs is not None:
        cmd += ["--jobs", str(jobs)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"bench point {resources}x{envs} failed: {proc.stderr.strip()[-800:]}")
    return json.loads(proc.stdout)


def summarise(points: list[dict]) -> dict:
    """Ratios and growth rates from the points (time per resource per environment, N-growth per E)."""
    by = {(p["resources"], p["envs"]): p for p in points}
    sizes = sorted({p["resources"] for p in points})
    envs = sorted({p["envs"] for p in points})
    growth = {}
    for e in envs:
        base = by.get((sizes[0], e))
        growth[str(e)] = {str(n): round(by[(n, e)]["total_s"] / base["total_s"], 2)
                          for n in sizes if (n, e) in by and base and base["total_s"] > 0}
    out = {
        "points": points,
        "growth_vs_smallest": {"smallest": sizes[0], "by_envs": growth},
        "ms_per_resource_env": {f"{p['resources']}x{p['envs']}": round(1000 * p["total_s"] /
                                                                        (p["resources"] * p["envs"]), 3)
                                for p in points},
        "targets": TARGETS,
    }
    if (5000, 8) in by and (500, 8) in by:
        out["growth_5000_over_500"] = round(by[(5000, 8)]["total_s"] / by[(500, 8)]["total_s"], 2)
    if (5000, 8) in by:
        out["eval_plus_diff_s_at_5000x8"] = by[(5000, 8)]["total_s"]
        out["peak_mib_at_5000x8"] = by[(5000, 8)]["peak_mib"]
    return out


def run(sizes: list[int], envs: list[int], jobs: int | None = None, repeat: int = 3, echo=print) -> dict:
    """Every point once; the largest ``repeat`` times, alternating with the baseline (tfparse alone) so both see
    the same machine: its figures are the medians, and the ratio the median of the pairs' ratios."""
    points = []
    for e in envs:
        for n in sizes:
            p = measure(n, e, jobs)
            echo(f"scale {n:5} resources x {e} envs: eval {p['eval_s']:7.2f} s  diff {p['diff_s']:6.2f} s  "
                 f"cpu {p['cpu_s']:5.1f} + workers {p['worker_cpu_s']:5.1f} s  peak {p['peak_mib']:7.1f} MiB")
            points.append(p)
    largest = max(points, key=lambda p: (p["resources"] * p["envs"], p["envs"]))
    runs, floors = [largest], []
    for i in range(repeat):
        floors.append(measure(largest["resources"], largest["envs"], jobs, floor=True))
        if i + 1 < repeat:
            runs.append(measure(largest["resources"], largest["envs"], jobs))
    ratios = [r["total_s"] / f["tfparse_only_s"] for r, f in zip(runs, floors, strict=False)]
    median_run = sorted(runs, key=lambda r: r["total_s"])[len(runs) // 2]
    points[points.index(largest)] = {**median_run, "runs_total_s": [r["total_s"] for r in runs],
                                     "peak_mib": max(r["peak_mib"] for r in runs)}
    floor = sorted(floors, key=lambda f: f["tfparse_only_s"])[len(floors) // 2]
    floor = {**floor, "runs_s": [f["tfparse_only_s"] for f in floors],
             "suite_over_tfparse_only": round(sorted(ratios)[len(ratios) // 2], 2)}
    echo(f"scale {largest['resources']} x {largest['envs']}, {len(runs)} runs: eval + diff "
         f"{[r['total_s'] for r in runs]} s; tfparse alone {floor['runs_s']} s (workers' CPU "
         f"{floor['worker_cpu_s']:.1f} s); the suite takes {floor['suite_over_tfparse_only']}x tfparse alone")
    out = summarise(points)
    out["evaluator_floor"] = floor
    return out


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_ints, default=[100, 500, 1000, 5000])
    parser.add_argument("--envs", type=_ints, default=[2, 4, 8])
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per CPU)")
    parser.add_argument("--point", type=int, nargs=2, metavar=("N", "E"), help=argparse.SUPPRESS)
    parser.add_argument("--floor", type=int, nargs=2, metavar=("N", "E"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    jobs = args.jobs if args.jobs is not None else _all_cpus()
    if args.point:
        print(json.dumps(point(*args.point, jobs=jobs)))
        return 0
    if args.floor:
        print(json.dumps(evaluator_floor(*args.floor, jobs=min(jobs, args.floor[1]))))
        return 0
    print(json.dumps(run(args.sizes, args.envs, args.jobs), indent=1))
    return 0


def _all_cpus() -> int:
    return os.cpu_count() or 1


if __name__ == "__main__":
    raise SystemExit(main())
