"""The scoring state machine end to end, and its stages chunk by chunk, against raw predict."""

from __future__ import annotations

import time

from modelops_dev.tools.bench.figures import Figure


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
