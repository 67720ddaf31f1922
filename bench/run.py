"""Every benchmark, written to reports/bench.json (``make bench``; ``make bench QUICK=1`` for a smoke run).

    .venv/bin/python -m bench.run [--quick] [--out reports/bench.json]

- ``gate``: the whole gate on terraform/ against one plain checkov run, alternating (bench/bench_gate.py);
- ``scale``: evaluation + diff time, peak memory and growth on synthetic modules (bench/bench_scale.py);
- ``live``: API calls of the live audit against a local moto server as resources grow (bench/bench_live.py).

Figures are ratios and growth rates with the machine they were measured on; nothing is asserted. The file's other
keys (e.g. ``exact``, written by another benchmark) are kept: each benchmark replaces only its own key.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "reports" / "bench.json"

FULL = {"gate": {"repeat": 5, "warm_up": True},
        "scale": {"sizes": [100, 500, 1000, 5000], "envs": [2, 4, 8], "repeat": 3},  # repeat: the largest point
        "live": {"sizes": [50, 500]}}
QUICK = {"gate": {"repeat": 1, "warm_up": False}, "scale": {"sizes": [20, 40], "envs": [2], "repeat": 1},
         "live": {"sizes": [4, 8]}}


def merge_into(path: Path, updates: dict) -> dict:
    """Replace ``updates``' keys in the JSON object at ``path`` (created if missing), keeping every other key."""
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        doc = {}
    except json.JSONDecodeError as err:
        raise SystemExit(f"{path}:{err.lineno}: not valid JSON ({err.msg}); fix or delete it") from None
    if not isinstance(doc, dict):
        raise SystemExit(f"{path}: not a JSON object; fix or delete it")
    doc.update(updates)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    partial.replace(path)
    return doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one run each: a smoke test, not figures")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON file (default {DEFAULT_OUT})")
    parser.add_argument("--only", choices=["gate", "scale", "live"], action="append",
                        help="run only this benchmark (repeatable)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from bench import bench_gate, bench_live, bench_scale

    plan = QUICK if args.quick else FULL
    chosen = args.only or ["gate", "scale", "live"]
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    updates: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "load_average_at_start": [round(x, 2) for x in load],
                                 "measured": datetime.now(UTC).isoformat(timespec="seconds"),
                                 "quick": args.quick}}
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.2f}" + (" (quick mode)" if args.quick else ""))
    if "gate" in chosen:
        updates["gate"] = bench_gate.run(**plan["gate"])
    if "scale" in chosen:
        updates["scale"] = bench_scale.run(**plan["scale"])
    if "live" in chosen:
        updates["live"] = bench_live.run(plan["live"]["sizes"])
    merge_into(args.out, updates)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
