"""`make bench`: benchmarks, each figure next to a baseline measured in the same run.

Writes a list of ``{name, value, unit, baseline, ratio, target, ok}`` to bench/results.json.
Machines are shared and noisy, so figures are ratios against a baseline taken on the same
machine moments apart, never absolute times asserted in a test. One module per benchmark;
each runs in a fresh interpreter (``--worker``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from modelops_dev.sandbox import PROJECT_ROOT
from modelops_dev.tools.bench.figures import Figure

# name -> the module whose function of the same name runs it
BENCHMARKS = (
    "online_latency",
    "validation",
    "training_pipeline",
    "batch_scoring",
    "detection_quality",
    "small_samples",
    "performance",
    "segments",
    "real_data",
)


def run(name: str) -> list[Figure]:
    module = importlib.import_module(f"modelops_dev.tools.bench.{name}")
    figures: list[Figure] = getattr(module, name)()
    return figures


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f} {unit}" if abs(value) >= 1000 else f"{value:.4g} {unit}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results.json")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append")
    parser.add_argument("--worker", choices=sorted(BENCHMARKS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:  # one benchmark, its figures as JSON on stdout
        print(json.dumps([asdict(f) for f in run(args.worker)]))
        return 0
    figures: list[Figure] = []
    for name in args.only or list(BENCHMARKS):
        print(f"running {name} …", flush=True)
        # Each benchmark gets a fresh interpreter: one's threads and heap must not slow the next.
        done = subprocess.run(  # noqa: S603 - this module, this interpreter
            [sys.executable, "-m", "modelops_dev.tools.bench", "--worker", name],
            capture_output=True,
            text=True,
            check=True,
        )
        figures += [Figure(**figure) for figure in json.loads(done.stdout.strip().splitlines()[-1])]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps([asdict(f) for f in figures], indent=2) + "\n")
    print(f"{'figure':<62} {'value':>16} {'baseline':>16} {'ratio':>7} {'target':>6}  ok")
    for f in figures:
        verdict = "" if f.ok is None else ("yes" if f.ok else "NO")
        target = "" if f.target is None else f"{f.target:g}"
        print(
            f"{f.name:<62} {_number(f.value, f.unit):>16} {_number(f.baseline, f.unit):>16} "
            f"{f.ratio or 0:>7.3f} {target:>6}  {verdict}"
        )
    print(f"wrote {args.out}")
    return 0 if all(f.ok is not False for f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
