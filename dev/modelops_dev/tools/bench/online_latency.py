"""Warm in-handler latency of one online score, and cold init."""

from __future__ import annotations

import json
import time
from typing import Any

from modelops_dev.sandbox import PROJECT_ROOT
from modelops_dev.tools.bench.figures import Figure


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
        # The customer events/online_score.json names is in this lake.
        synthetic.load_demo_data(synthetic.DemoConfig(customers=synthetic.SAMPLE_CUSTOMERS, months=9))
        for machine, as_of in (("TrainingStateMachine", "2025-08-01"), ("ScoringStateMachine", "2025-09-01")):
            if (
                runner.follow(runner.start(sandbox.ref(machine), {"model": "churn", "as_of": as_of})).status
                != "SUCCEEDED"
            ):
                raise RuntimeError(f"{machine} failed")
        handler = sandbox.handler("OnlineScoreFunction")
        event = json.loads((PROJECT_ROOT / "events" / "online_score.json").read_text())
        entity = json.loads(event["body"])["entity_id"]
        context = sandbox.context("OnlineScoreFunction")
        # The two AWS calls are timed on their own (real calls to the sandbox); inside the
        # timed window the lookup answers what the real call returned and the writes wait
        # until the window closes, so moto's own work is not counted as the handler's.
        lookup, write = online_features.read_published, online_log.record
        found = lookup("churn", [entity])
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
            lookup("churn", [entity])
            lookups.append(time.perf_counter() - started)
            started = time.perf_counter()
            write("churn", results)
            writes.append(time.perf_counter() - started)
        loaded = online.models.get("churn")
        record = {**online_features.read("churn", [entity])[entity], "support_calls": 2, "data_usage_gb": 5.5}
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
        function_environment = dict(sandbox.environment)  # the settings a cold start checks
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
                    env={**os.environ, **function_environment, **QUIET},
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
