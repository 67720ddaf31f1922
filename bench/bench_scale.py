"""Evaluation and diff time, and peak memory, on synthetic root modules of growing size (bench/synth.py).

    .venv/bin/python -m bench.bench_scale [--sizes 100,500,1000,5000] [--envs 2,4,8] [--jobs N]

Each point (N resources, E environments) runs in a fresh process: generate, evaluate every environment
(``core.session.evaluate``, in worker processes unless ``--jobs 1``), then ``Comparison.build`` (the parity diff).
Reported per point: seconds for each phase, peak resident memory (the point's process and, separately, its largest
worker), and growth rates (time(N) / time(smallest N), time(5000) / time(500)). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"eval_plus_diff_s_at_5000x8": 10.0, "peak_mib_at_5000x8": 1024.0, "growth_5000_over_500": 12.0}


def point(resources: int, envs: int, jobs: int | None) -> dict:
    """One measurement, in this process (run it in a fresh one: see ``measure``)."""
    sys.path.insert(0, str(ROOT))
    from bench.synth import generate
    from core.contract import load_contract
    from core.session import evaluate
    from parity.engine import Comparison

    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        tf, contract_path = generate(Path(tmp), resources, envs)
        contract = load_contract(contract_path, tf)
        start = time.perf_counter()
        models = evaluate(tf, contract.environments, jobs=jobs)
        evaluated = time.perf_counter()
        comparison = Comparison.build(contract, models)
        done = time.perf_counter()
    failing = [v for v in comparison.verdicts if not v.allowed]
    return {
        "resources": resources, "envs": envs, "jobs": jobs,
        "eval_s": round(evaluated - start, 3), "diff_s": round(done - evaluated, 3),
        "total_s": round(done - start, 3),
        "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "worker_peak_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "differences": len(comparison.verdicts), "disallowed": len(failing),  # the synthetic contract holds: 0
    }


def measure(resources: int, envs: int, jobs: int | None) -> dict:
    cmd = [sys.executable, "-m", "bench.bench_scale", "--point", str(resources), str(envs)]
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
        out["peak_mib_at_5000x8"] = max(by[(5000, 8)]["peak_mib"], by[(5000, 8)]["worker_peak_mib"])
    return out


def run(sizes: list[int], envs: list[int], jobs: int | None = None, echo=print) -> dict:
    points = []
    for e in envs:
        for n in sizes:
            p = measure(n, e, jobs)
            echo(f"scale {n:5} resources x {e} envs: eval {p['eval_s']:7.2f} s  diff {p['diff_s']:6.2f} s  "
                 f"peak {max(p['peak_mib'], p['worker_peak_mib']):7.1f} MiB")
            points.append(p)
    return summarise(points)


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_ints, default=[100, 500, 1000, 5000])
    parser.add_argument("--envs", type=_ints, default=[2, 4, 8])
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per CPU)")
    parser.add_argument("--point", type=int, nargs=2, metavar=("N", "E"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.point:
        print(json.dumps(point(*args.point, jobs=args.jobs if args.jobs is not None else _all_cpus())))
        return 0
    print(json.dumps(run(args.sizes, args.envs, args.jobs), indent=1))
    return 0


def _all_cpus() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    raise SystemExit(main())
