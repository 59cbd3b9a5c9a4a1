"""`make bench`: benchmarks, each figure next to a baseline measured in the same run.

Writes a list of ``{name, value, unit, baseline, ratio, target, ok}`` to bench/results.json.
Machines are shared and noisy, so figures are ratios against a baseline taken on the same
machine moments apart, never absolute times asserted in a test.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from modelops_local.sandbox import PROJECT_ROOT


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    baseline: float | None
    ratio: float | None
    target: float | None  # upper bound of ratio (None: reported, not judged)
    ok: bool | None

    @classmethod
    def judged(cls, name: str, value: float, unit: str, baseline: float, target: float | None) -> Figure:
        ratio = value / baseline if baseline else None
        ok = None if target is None or ratio is None else ratio <= target
        return cls(
            name,
            round(value, 6),
            unit,
            round(baseline, 6),
            None if ratio is None else round(ratio, 4),
            target,
            ok,
        )


def training_pipeline(customers: int = 10_000) -> list[Figure]:
    """Wall time of the training state machine on the demo data, per stage, against the bare
    fit (the same search on the same in-memory matrix, no AWS, no serialisation)."""
    from modelops import store, training
    from modelops.features import FeatureMatrix, FeatureSchema
    from modelops.stages import load_spec
    from modelops_local import demo_data, runner
    from modelops_local.sandbox import embedded

    with embedded(environment={"POWERTOOLS_LOG_LEVEL": "WARNING"}) as sandbox:
        runner.put_spec(PROJECT_ROOT / "models" / "churn.yaml")
        runner.load_demo_data(demo_data.DemoConfig(customers=customers))
        arn = runner.start(sandbox.ref("TrainingStateMachine"), {"model": "churn", "as_of": "2025-08-01"})
        result = runner.follow(arn, poll=0.05)
        if result.status != "SUCCEEDED" or result.output is None:
            raise RuntimeError(f"training failed: {result.error}: {result.cause}")
        artifacts = result.output["artifacts"]
        matrix = FeatureMatrix.from_bytes(store.get_bytes(store.key_of(artifacts["features"])))
        schema = FeatureSchema.from_dict(store.get_json(store.key_of(artifacts["schema"])))
        spec = load_spec("churn")
        started = time.perf_counter()
        training.fit(matrix, spec.estimator, spec.split, schema.categorical_mask)
        bare_fit = time.perf_counter() - started
    total = sum(seconds for _, seconds in result.states)
    figures = [Figure.judged("training.pipeline_seconds_vs_bare_fit", total, "s", bare_fit, target=3.0)]
    figures += [
        Figure.judged(f"training.stage.{state}_seconds_share", seconds, "s", total, target=None)
        for state, seconds in result.states
    ]
    return figures


BENCHMARKS: dict[str, Callable[[], list[Figure]]] = {"training_pipeline": training_pipeline}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results.json")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append")
    args = parser.parse_args(argv)
    figures: list[Figure] = []
    for name in args.only or list(BENCHMARKS):
        print(f"running {name} …", flush=True)
        figures += BENCHMARKS[name]()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps([asdict(f) for f in figures], indent=2) + "\n")
    print(f"{'figure':<52} {'value':>12} {'baseline':>12} {'ratio':>8} {'target':>7}  ok")
    for f in figures:
        verdict = "" if f.ok is None else ("yes" if f.ok else "NO")
        print(
            f"{f.name:<52} {f.value:>10.4f}{f.unit:<2} {f.baseline or 0:>10.4f}{f.unit:<2} "
            f"{f.ratio or 0:>8.3f} {f.target or '':>7}  {verdict}"
        )
    print(f"wrote {args.out}")
    return 0 if all(f.ok is not False for f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
