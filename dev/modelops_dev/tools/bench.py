"""`make bench`: benchmarks, each figure next to a baseline measured in the same run.

Writes a list of ``{name, value, unit, baseline, ratio, target, ok}`` to bench/results.json.
Machines are shared and noisy, so figures are ratios against a baseline taken on the same
machine moments apart, never absolute times asserted in a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from modelops_dev.sandbox import PROJECT_ROOT


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    baseline: float | None
    ratio: float | None
    target: float | None  # bound on ratio, or on value without a baseline (None: not judged)
    ok: bool | None

    @classmethod
    def judged(
        cls,
        name: str,
        value: float,
        unit: str,
        baseline: float,
        target: float | None,
        *,
        at_least: bool = False,
    ) -> Figure:
        """ratio = value / baseline; ok when ratio <= target (or >= target with at_least)."""
        ratio = value / baseline if baseline else None
        ok = (
            None
            if target is None or ratio is None
            else bool(ratio >= target if at_least else ratio <= target)
        )
        rounded = None if ratio is None else round(float(ratio), 4)
        return cls(name, round(float(value), 6), unit, round(float(baseline), 6), rounded, target, ok)

    @classmethod
    def reported(cls, name: str, value: float, unit: str) -> Figure:
        """A figure shown for context, with no baseline and no target."""
        return cls(name, round(float(value), 6), unit, None, None, None, None)

    @classmethod
    def limited(cls, name: str, value: float, unit: str, limit: float) -> Figure:
        """An absolute target (value <= limit); no baseline."""
        return cls(name, round(float(value), 6), unit, None, None, limit, bool(value <= limit))

    @classmethod
    def at_least(cls, name: str, value: float, unit: str, limit: float) -> Figure:
        """An absolute target (value >= limit); no baseline."""
        return cls(name, round(float(value), 6), unit, None, None, limit, bool(value >= limit))


def training_pipeline(customers: int = 10_000) -> list[Figure]:
    """Wall time of the training state machine on the demo data, per stage, against the bare
    fit (the same search on the same in-memory matrix, no AWS, no serialisation)."""
    from modelops.domain.contract import StageDoc
    from modelops.domain.model import estimators
    from modelops.pipeline.training import load_features
    from modelops.stores.specs import load_spec
    from modelops_dev.client import runner
    from modelops_dev.demo import synthetic
    from modelops_dev.sandbox import QUIET, embedded

    with embedded(environment=QUIET) as sandbox:
        runner.put_spec(PROJECT_ROOT / "models" / "churn.yaml")
        synthetic.load_demo_data(synthetic.DemoConfig(customers=customers))
        arn = runner.start(sandbox.ref("TrainingStateMachine"), {"model": "churn", "as_of": "2025-08-01"})
        result = runner.follow(arn, poll=0.05)
        if result.status != "SUCCEEDED" or result.output is None:
            raise RuntimeError(f"training failed: {result.error}: {result.cause}")
        matrix, schema = load_features(StageDoc.model_validate(result.output))
        spec = load_spec("churn")
        started = time.perf_counter()
        estimators.fit(matrix, spec.estimator, spec.split, schema.categorical_mask)
        bare_fit = time.perf_counter() - started
    total = sum(seconds for _, seconds in result.states)
    # 4x: besides the fit, the pipeline now runs drift tests (~0.5 s) and checks the NumPy scorer
    # (~0.2 s), and the sandbox engine adds ~0.3 s per state.
    figures = [Figure.judged("training.pipeline_seconds_vs_bare_fit", total, "s", bare_fit, target=4.0)]
    figures += [
        Figure.judged(f"training.stage.{state}_seconds_share", seconds, "s", total, target=None)
        for state, seconds in result.states
    ]
    return figures


def batch_scoring(rows: int = 1_000_000, chunks: int = 16) -> list[Figure]:
    """The scoring state machine end to end on ``rows`` rows in ``chunks`` chunks (make scale's
    run, rows conserved) against raw ``predict_proba`` on the same rows in memory. Then, chunk
    after chunk on the same run: the score_data stage against raw predict, its peak traced
    memory in one call against one chunk's feature matrix, and publish_chunk's seconds per
    DynamoDB item against a bare batch write of as many items to the same table (moto's
    DynamoDB sets the pace here, so publishing is judged against it, not in absolute time)."""
    import tracemalloc
    from decimal import Decimal

    import boto3
    import numpy as np

    from modelops.domain.contract import StageDoc
    from modelops.domain.data.features import FeatureMatrix
    from modelops.domain.model import estimators
    from modelops.pipeline.common import chunk_list
    from modelops.pipeline.scoring import receipts
    from modelops.stores import layout, objects, registry
    from modelops_dev.sandbox import QUIET, embedded
    from modelops_dev.tools import scale

    with embedded(environment=QUIET, map_concurrency=scale.MAP_CONCURRENCY) as sandbox:
        report, output = scale.score_at_scale(sandbox, rows, chunks, "duckdb")
        if not report["conserved"]:
            raise RuntimeError(f"rows not conserved: {report['counts']}")
        doc = StageDoc.model_validate(output)
        items = [
            {
                "run": output["run"],
                "artifacts": output["artifacts"],
                "chunk": chunk.model_dump(mode="json"),
                "results": done.model_dump(mode="json", exclude_none=True),
            }
            for chunk, done in zip(chunk_list(doc), receipts(doc), strict=True)
        ]
        X = np.concatenate(
            [
                FeatureMatrix.from_bytes(
                    objects.get_bytes(layout.chunk_key(doc.run.run_id, chunk.index, "features.npz"))
                ).X
                for chunk in chunk_list(doc)
            ]
        )
        estimator = registry.load_estimator(registry.get_version("churn", doc.run.version()))
        started = time.perf_counter()
        estimators.positive_scores(estimator, X)
        raw_seconds = time.perf_counter() - started

        started = time.perf_counter()
        for item in items:  # idempotent: the same scores, written again
            sandbox.call("ScoreDataFunction", item)
        stage_seconds = time.perf_counter() - started

        # Then each call's peak above what was live when it started: the stage's own working
        # memory, as its Lambda would hold it (one window over all calls would also count what
        # the sandbox keeps between them: moto holds every object written, every version).
        tracemalloc.start()
        peak = 0
        for item in items:
            live, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            sandbox.call("ScoreDataFunction", item)
            peak = max(peak, tracemalloc.get_traced_memory()[1] - live)
        tracemalloc.stop()

        started = time.perf_counter()
        published = sandbox.call("PublishChunkFunction", items[0])["results"]["publish_chunk"]
        publish_seconds = time.perf_counter() - started
        written = int(published["latest_rows"])
        table = boto3.resource("dynamodb").Table(sandbox.ref("ScoresTable"))
        started = time.perf_counter()
        with table.batch_writer() as batch:
            for i in range(written):
                batch.put_item(Item={"pk": f"bench#{i}", "sk": "row", "score": Decimal("0.5")})
        bare_seconds = time.perf_counter() - started
    scored = X.shape[0]
    chunk_mb = report["chunk_rows"] * X.shape[1] * 8 / 2**20
    return [
        Figure.judged(
            f"batch.end_to_end_rows_per_s_vs_raw_predict ({scored:,} rows, {len(items)} chunks, sandbox)",
            scored / report["seconds"]["scoring_wall"],
            "rows/s",
            scored / raw_seconds,
            target=None,
        ),
        Figure.judged(
            f"batch.score_stage_rows_per_s_vs_raw_predict ({scored:,} rows)",
            scored / stage_seconds,
            "rows/s",
            scored / raw_seconds,
            target=0.5,
            at_least=True,
        ),
        Figure.judged(
            "batch.score_stage_peak_traced_mb_vs_chunk_mb", peak / 2**20, "MB", chunk_mb, target=6.0
        ),
        Figure.judged(
            f"batch.publish_chunk_s_per_item_vs_bare_batch_write ({written:,} items)",
            publish_seconds / written,
            "s/item",
            bare_seconds / written,
            target=2.0,
        ),
    ]


def validation(rows: int = 1_000_000, features: int = 20, history: int = 10) -> list[Figure]:
    """validate_data's work on rows x features (deciles, samples, writes to the sandbox's
    metadata table, drift tests against ``history`` earlier periods) against the floor: the
    same deciles from one ``numpy.quantile`` call over the matrix."""
    from datetime import date

    import numpy as np

    from modelops.domain.data.features import FeatureInfo, FeatureMatrix, FeatureSchema
    from modelops.domain.monitoring.profiles import DECILE_LEVELS, profile_features
    from modelops.domain.periods import add_months
    from modelops.domain.spec import Drift
    from modelops.pipeline import monitoring
    from modelops_dev.sandbox import QUIET, embedded

    rng = np.random.default_rng(0)
    schema = FeatureSchema([FeatureInfo(f"x{j}", "numeric") for j in range(features)])
    settings = Drift()

    def period(day: date, n: int) -> FeatureMatrix:
        X = rng.normal(size=(n, features))
        return FeatureMatrix(
            np.arange(n).astype(str), np.full(n, np.datetime64(day, "D")), X, None, schema.names
        )

    with embedded(environment=QUIET):
        for i in range(history):  # earlier periods, smaller: only their profiles matter here
            day = add_months(date(2024, 1, 1), i)
            monitoring.validate(
                "bench",
                "validate_data",
                f"r{i}",
                day,
                profile_features(period(day, 20_000), schema),
                settings,
                rows=20_000,
                alert=False,
            )
        day = add_months(date(2024, 1, 1), history)
        matrix = period(day, rows)
        started = time.perf_counter()
        profiles = profile_features(matrix, schema, settings.sample_size)
        monitoring.validate("bench", "validate_data", "now", day, profiles, settings, rows=rows, alert=False)
        seconds = time.perf_counter() - started
    started = time.perf_counter()
    np.quantile(matrix.X, DECILE_LEVELS, axis=0)
    floor = time.perf_counter() - started
    return [
        Figure.judged(
            f"validation.{rows:,}x{features}_seconds_vs_numpy_quantile", seconds, "s", floor, target=3.0
        )
    ]


def online_latency(requests: int = 3000) -> list[Figure]:
    """Warm in-handler latency of one online score (parse, join, validate, score, respond),
    with the two AWS calls (feature lookup, score write) timed apart and taken out; next to
    the naive ``predict_proba(pandas.DataFrame([record]))`` on the same model; and cold init
    (imports + model load from a local file) in a fresh process."""
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    import numpy as np
    import pandas as pd

    from modelops.online import service as online
    from modelops.stores import online_features, online_log, registry
    from modelops_dev.client import runner
    from modelops_dev.demo import synthetic
    from modelops_dev.sandbox import QUIET, embedded

    with embedded(environment=QUIET) as sandbox:
        runner.put_spec(PROJECT_ROOT / "models" / "churn.yaml")
        synthetic.load_demo_data(synthetic.DemoConfig(customers=2_000, months=9))
        for machine, as_of in (("TrainingStateMachine", "2025-08-01"), ("ScoringStateMachine", "2025-09-01")):
            if (
                runner.follow(runner.start(sandbox.ref(machine), {"model": "churn", "as_of": as_of})).status
                != "SUCCEEDED"
            ):
                raise RuntimeError(f"{machine} failed")
        handler = sandbox.handler("OnlineScoreFunction")
        event = json.loads((PROJECT_ROOT / "events" / "online_score.json").read_text())
        context = sandbox.context("OnlineScoreFunction")
        # The two AWS calls are timed on their own (real calls to the sandbox); inside the
        # timed window the lookup answers what the real call returned and the writes wait
        # until the window closes, so moto's own work is not counted as the handler's.
        lookup, write = online_features.read_published, online_log.record
        found = lookup("churn", ["47"])
        pending: list[list[dict[str, Any]]] = []

        def recorded(model: str, results: list[dict[str, Any]], period: str | None = None) -> None:
            pending.append(results)

        online_features.read_published = lambda model, ids: found  # type: ignore[assignment]
        online_log.record = recorded
        own = []
        try:
            for _ in range(requests):
                started = time.perf_counter()
                response = handler(event, context)
                own.append(time.perf_counter() - started)
                if response["statusCode"] != 200:
                    raise RuntimeError(response["body"])
        finally:
            online_features.read_published, online_log.record = lookup, write
        lookups, writes = [], []
        for results in pending[:300]:
            started = time.perf_counter()
            lookup("churn", ["47"])
            lookups.append(time.perf_counter() - started)
            started = time.perf_counter()
            write("churn", results)
            writes.append(time.perf_counter() - started)
        loaded = online.models.get("churn")
        record = {**online_features.read("churn", ["47"])["47"], "support_calls": 2, "data_usage_gb": 5.5}
        vector = online.build_vector(loaded, {"support_calls": 2, "data_usage_gb": 5.5}, record, "")
        encoded = dict(zip(loaded.schema.names, vector[0], strict=True))
        estimator = registry.load_estimator(loaded.record)
        naive = []
        for _ in range(min(requests, 1000)):
            started = time.perf_counter()
            estimator.predict_proba(pd.DataFrame([encoded]).to_numpy())
            naive.append(time.perf_counter() - started)
        fast_bytes = registry.verified_artifact(loaded.record, fast=True)
        metadata_json = json.dumps(loaded.metadata)
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "fast.npz").write_bytes(fast_bytes)
        (Path(scratch) / "metadata.json").write_text(metadata_json)
        app_path = PROJECT_ROOT / "functions" / "online_score" / "app.py"
        script = "\n".join(
            [
                "import time; started = time.perf_counter()",
                "import importlib.util, json, pathlib",
                f"spec = importlib.util.spec_from_file_location('app', {str(app_path)!r})",
                "app = importlib.util.module_from_spec(spec); spec.loader.exec_module(app)",
                "from modelops.domain.model.fastscore import FastModel",
                "from modelops.domain.data.features import FeatureSchema",
                f"FastModel.from_bytes(pathlib.Path({scratch!r}, 'fast.npz').read_bytes())",
                f"document = json.loads(pathlib.Path({scratch!r}, 'metadata.json').read_text())",
                "FeatureSchema.from_dict(document['feature_schema'])",
                "print(time.perf_counter() - started)",
            ]
        )
        inits = [
            float(
                subprocess.run(  # noqa: S603 - our own script, our interpreter
                    [sys.executable, "-c", script],
                    capture_output=True,
                    text=True,
                    check=True,
                    env={**os.environ, **QUIET},
                ).stdout
            )
            for _ in range(3)
        ]
    ms = 1000.0
    own_p50, own_p99 = np.percentile(own, 50) * ms, np.percentile(own, 99) * ms
    naive_p50, naive_p99 = np.percentile(naive, 50) * ms, np.percentile(naive, 99) * ms
    return [
        Figure.judged("online.handler_p50_ms_vs_naive_predict", own_p50, "ms", naive_p50, target=0.25),
        Figure.judged("online.handler_p99_ms_vs_naive_predict", own_p99, "ms", naive_p99, target=0.25),
        Figure.limited("online.handler_p50_ms", own_p50, "ms", 0.5),
        Figure.limited("online.handler_p99_ms", own_p99, "ms", 2.0),
        Figure.reported("online.feature_lookup_p50_ms (moto)", float(np.percentile(lookups, 50) * ms), "ms"),
        Figure.reported("online.score_write_p50_ms (moto)", float(np.percentile(writes, 50) * ms), "ms"),
        Figure.limited("online.cold_init_s (imports + model from a local file)", min(inits), "s", 1.0),
    ]


def detection_quality(seeds: int = 40, customers: int = 2000, runs: int = 200) -> list[Figure]:
    """How well the drift monitor separates seasons from change (modelops_dev.tools.drift_quality):
    on the seasonal demo scenario (36 reference months, a year monitored), the share of quiet
    months that alert; a one-feature change of 0.5 SD in level, or 2x in spread, flagged within
    two periods; and the stationary checks (30 N(0, 1) features, 10 history periods: runs that
    alert; a 0.25-SD shift at n = 5,000: runs that flag it). Shares, each with its target."""
    import numpy as np

    from modelops_dev.tools import drift_quality

    rng = np.random.default_rng(2026)
    stationary = sum(drift_quality.stationary_run(rng, 30, None, 0.0)[0] for _ in range(runs)) / runs
    power = sum(drift_quality.stationary_run(rng, 1, 0, 0.25)[1] for _ in range(runs)) / runs
    quiet = drift_quality.seasonal_false_alarms(range(seeds), customers)
    level = drift_quality.detected_within_two(range(seeds), "level", 0.5, customers)
    spread = drift_quality.detected_within_two(range(seeds), "spread", 2.0, customers)
    return [
        Figure.limited(
            f"drift.seasonal_alerted_months_share ({seeds} seeds x 12 months)", quiet, "share", 0.04
        ),
        Figure.limited(
            f"drift.stationary_runs_alerted_share ({runs} runs x 30 features)", stationary, "share", 0.05
        ),
        Figure.at_least(
            f"drift.level_change_0.5sd_flagged_within_2_share ({seeds} seeds)", level, "share", 0.95
        ),
        Figure.at_least(
            f"drift.spread_change_2x_flagged_within_2_share ({seeds} seeds)", spread, "share", 0.95
        ),
        Figure.at_least(f"drift.shift_0.25sd_n5000_flagged_share ({runs} runs)", power, "share", 0.95),
    ]


def real_data() -> list[Figure]:
    """The monitor on real, seasonal data (modelops_dev.tools.real_data: Chicago weather and
    ridership, daily rows, monthly runs): alerted months in the quiet year, as a share."""
    from modelops_dev.tools import real_data

    result = real_data.monitor_directly()
    return [
        Figure.limited(
            f"drift.real_quiet_year_alerted_months_share ({result.quiet_alerted} of {result.quiet_months})",
            result.quiet_alerted / result.quiet_months,
            "share",
            0.1,
        ),
        Figure.at_least(
            "drift.real_change_flagged_in_its_month (Addison, 2016-04)",
            float(result.change_flagged),
            "bool",
            1.0,
        ),
    ]


def loads() -> list[Figure]:
    """`data load` of a wide and a large CSV against DuckDB's bare read (tools/load_bench.py)."""
    from modelops_dev.tools import load_bench

    return load_bench.loads()


BENCHMARKS: dict[str, Callable[[], list[Figure]]] = {
    "online_latency": online_latency,
    "validation": validation,
    "training_pipeline": training_pipeline,
    "batch_scoring": batch_scoring,
    "detection_quality": detection_quality,
    "real_data": real_data,
    "loads": loads,
}


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
        print(json.dumps([asdict(f) for f in BENCHMARKS[args.worker]()]))
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
