"""Time of the exact evaluator (real Terraform plans) per environment, beside the fast one (tfparse).

    .venv/bin/python bench/bench_exact.py [--repeat 3] [--tf-dir terraform] [--out reports/bench.json]

Per environment of the contract: the fast evaluator (`core.model.load`, HCL) and the exact one (a throwaway copy,
`terraform init`, `plan -refresh=false` against an in-process moto, `show -json`, `load_plan`), run one environment
at a time; then every environment planned at once as `--evaluator terraform` does (in parallel). Medians of
``--repeat`` runs after one warm-up. The figures go to the ``exact`` key of ``reports/bench.json`` (other keys of
that file are kept). Nothing here asserts: timing is reported, not tested.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(tf_dir: Path, repeat: int) -> dict:
    from core.contract import load_contract
    from core.exact import exact_models
    from core.model import load

    envs = load_contract(ROOT / "parity" / "contract.yaml", tf_dir).environments
    with tempfile.TemporaryDirectory(prefix="bench-exact-") as tmp:
        def exact(subset):
            return lambda: exact_models(tf_dir, subset, tmp)

        per_env = {}
        for name, env in envs.items():
            fast = [_timed(lambda env=env: load(tf_dir, env)) for _ in range(repeat + 1)][1:]
            one = [_timed(exact({name: env})) for _ in range(repeat + 1)][1:]
            per_env[name] = {"fast_s": round(statistics.median(fast), 3), "exact_s": round(statistics.median(one), 3),
                             "ratio": round(statistics.median(one) / statistics.median(fast), 1)}
        together = [_timed(exact(dict(envs))) for _ in range(repeat)]
    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"tf_dir": str(tf_dir.relative_to(ROOT) if tf_dir.is_relative_to(ROOT) else tf_dir),
            "repeat": repeat, "cpus": os.cpu_count(), "load_average": load_avg, "environments": per_env,
            "all_environments_parallel_s": round(statistics.median(together), 3),
            "command": "make bench (bench/bench_exact.py)"}


def write(out: Path, figures: dict) -> None:
    """Merge under the ``exact`` key; the rest of the file (e.g. bench_gate's or the scale bench's) stays."""
    doc = {}
    if out.is_file():
        try:
            doc = json.loads(out.read_text())
        except json.JSONDecodeError:
            doc = {}
    doc = doc if isinstance(doc, dict) else {}
    doc["exact"] = figures
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    tmp.replace(out)


def main(argv: list[str] | None = None) -> int:
    from core.terraform import unavailable_reason

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each measurement (default 3)")
    parser.add_argument("--tf-dir", default=str(ROOT / "terraform"))
    parser.add_argument("--out", default=str(ROOT / "reports" / "bench.json"))
    args = parser.parse_args(argv)
    reason = unavailable_reason()
    if reason:
        print(f"exact evaluator: not measured ({reason})")
        return 0
    figures = measure(Path(args.tf_dir).resolve(), args.repeat)
    write(Path(args.out), figures)
    print(f"exact evaluator (real Terraform plans) vs fast (tfparse), medians of {args.repeat} runs, "
          f"{figures['cpus']} CPUs, load average {figures['load_average']:.2f}:")
    for name, f in figures["environments"].items():
        print(f"  {name:12} fast {f['fast_s']:6.2f} s   exact {f['exact_s']:6.2f} s   ({f['ratio']}x)")
    print(f"  all environments in parallel (--evaluator terraform): {figures['all_environments_parallel_s']:.2f} s")
    print(f"written to {args.out} (key 'exact')")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
