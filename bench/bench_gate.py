"""Wall time of the whole gate against one plain checkov run, on this machine, in this run.

    .venv/bin/python -m bench.bench_gate [--repeat 5]     (make bench runs it with the other benchmarks)

The gate is `pytest -m "not live" parity policies` (as `make gate` runs it, reports included); the yardstick is one
plain `checkov -d terraform/` (with --skip-download: no network, as in the gate). Runs alternate (checkov, gate,
checkov, gate, ...) after one warm-up each, so both see the same machine load; the report gives medians and the
ratio. Target: the gate takes at most 1.0x one plain checkov run (checkov's start-up overlaps the evaluation, see
policies/gate.py). Nothing here asserts: timing is reported, not tested.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.0


def checkov_binary() -> str:
    return os.environ.get("CODEDETECT_CHECKOV") or str(ROOT / ".venv-checkov" / "bin" / "checkov")


def timed(cmd: list[str], ok: tuple[int, ...]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:
        sys.exit(f"{' '.join(cmd[:4])}... exited with {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return elapsed


def run(repeat: int = 5, warm_up: bool = True, echo=print) -> dict:
    """Alternating timed runs; returns the medians, the ratio and every run's time."""
    with tempfile.TemporaryDirectory(prefix="bench-gate-") as reports:
        gate = [sys.executable, "-m", "pytest", "-m", "not live", "parity", "policies", "-q", "-p",
                "no:cacheprovider", "--report-dir", reports]
        checkov = [checkov_binary(), "-d", "terraform/", "--skip-download", "-o", "json", "--compact"]
        if warm_up:
            timed(checkov, (0, 1))  # imports and byte-code caches
            timed(gate, (0, 1))
        times: dict[str, list[float]] = {"checkov": [], "gate": []}
        for _ in range(repeat):
            times["checkov"].append(timed(checkov, (0, 1)))
            times["gate"].append(timed(gate, (0, 1)))
    med = {name: statistics.median(values) for name, values in times.items()}
    pair_ratios = [g / c for g, c in zip(times["gate"], times["checkov"], strict=True)]
    ratio = med["gate"] / med["checkov"]
    for name, cmd in (("checkov", "checkov -d terraform/"), ("gate", 'pytest -m "not live" parity policies')):
        values = ", ".join(f"{v:.2f}" for v in times[name])
        echo(f"{name:8} median {med[name]:6.2f} s   [{values}]   ({cmd})")
    echo(f"ratio gate / plain checkov: {ratio:.2f} (median of medians), {statistics.median(pair_ratios):.2f} "
         f"(median of pairs); target <= {TARGET}: {'met' if ratio <= TARGET else 'NOT met'}")
    return {"ratio": round(ratio, 3), "ratio_median_of_pairs": round(statistics.median(pair_ratios), 3),
            "target": TARGET, "met": ratio <= TARGET, "repeat": repeat,
            "median_s": {k: round(v, 3) for k, v in med.items()},
            "runs_s": {k: [round(x, 3) for x in v] for k, v in times.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each command (default 5)")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} CPUs, load average {load:.2f}; {args.repeat} alternating runs after a warm-up")
    run(args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
