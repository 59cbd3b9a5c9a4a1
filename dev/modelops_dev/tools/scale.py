"""`make scale`: one large scoring run of the real scoring state machine in the sandbox, with
rows counted at every step and each chunk's work measured.

A model is trained on the demo data (10,000 customers), then one month of ``--rows``
customers is scored in ``--chunks`` chunks. The report checks that rows are conserved end to
end (extract = scored = history = latest = online features, each counted from the store
itself) and gives per-chunk seconds of each Map stage, which docs/scaling.md turns into cost.
Writes its figures to ``--out`` (JSON).

The sandbox's DynamoDB (moto) takes about a millisecond per item written through the API,
single-threaded: with ``--publication items`` two items per row (latest score, online features)
make it the slow part here. The default publishes by bulk import (``ImportTable``), which
moto loads in-process.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import time
from datetime import date
from pathlib import Path
from typing import Any

from modelops_dev.sandbox import PROJECT_ROOT, Sandbox


def present_items(table: str, keys: list[dict[str, str]], attribute: str = "pk") -> int:
    """How many of ``keys`` a table holds with ``attribute``, by BatchGetItem (100 keys a
    call; unprocessed keys asked again). Each expected key is looked up, so a missing or an
    extra row cannot hide in a total; a Scan would also do, but moto re-sorts the whole table
    for every 1 MB page, which makes counting a million rows take hours."""
    import boto3

    client = boto3.client("dynamodb")
    found = 0
    for start in range(0, len(keys), 100):
        batch = keys[start : start + 100]
        request: dict[str, Any] = {
            table: {
                "Keys": [{name: {"S": value} for name, value in key.items()} for key in batch],
                "ProjectionExpression": f"pk, {attribute}",
            }
        }
        while request:
            response = client.batch_get_item(RequestItems=request)
            found += sum(attribute in item for item in response["Responses"].get(table, []))
            request = response.get("UnprocessedKeys") or {}
    return found


def history_entities(prefix: str) -> list[str]:
    """The entity ids of every row of the history parts under ``prefix``."""
    import tempfile

    from modelops.stores import objects, tabular

    entities: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        for key in objects.list_keys(prefix):
            path = objects.download_file(key, Path(scratch) / "part.parquet")
            entities += [str(entity) for entity in tabular.read_columns(path)["entity_id"]]
    return entities


# moto runs the Map's children as threads of one process: as many at once as there are cores,
# so that each child's seconds measure its own work, as in its own Lambda (the ASL allows 100).
MAP_CONCURRENCY = 2


def run(rows: int, chunks: int, engine: str, import_from_rows: int | None) -> dict[str, Any]:
    from modelops_dev.sandbox import QUIET, embedded

    with embedded(environment=QUIET, map_concurrency=MAP_CONCURRENCY) as sandbox:
        report, _ = score_at_scale(sandbox, rows, chunks, engine, import_from_rows)
    return report


def score_at_scale(
    sandbox: Sandbox, rows: int, chunks: int, engine: str, import_from_rows: int | None = 100_000
) -> tuple[dict[str, Any], Any]:
    """Train, then score one month of ``rows`` customers in ``chunks`` chunks with ``engine``
    in an empty sandbox, published by import from ``import_from_rows`` rows (None: item by
    item): the report, and the scoring execution's output document."""
    import yaml

    from modelops.domain.contract import StageDoc
    from modelops.pipeline.scoring import receipts
    from modelops.stores import lake, latest, layout, objects, specs
    from modelops_dev.client import runner
    from modelops_dev.demo import synthetic

    month = date(2025, 9, 1)
    chunk_rows = -(-rows // chunks)
    document = yaml.safe_load((PROJECT_ROOT / "models" / "churn.yaml").read_text())
    document["scoring"] = {
        **document.get("scoring", {}),
        "chunk_rows": chunk_rows,
        "import_from_rows": import_from_rows,
    }
    document["source"] = {**document["source"], "engine": engine}
    specs.store_spec(yaml.safe_dump(document, sort_keys=False), "scale spec")
    synthetic.load_demo_data(synthetic.DemoConfig(customers=10_000, months=8))
    trained = runner.follow(
        runner.start(sandbox.ref("TrainingStateMachine"), {"model": "churn", "as_of": "2025-08-01"}),
        timeout=3600,
    )
    if trained.status != "SUCCEEDED":
        raise RuntimeError(f"training failed: {trained.error}: {trained.cause}")
    started = time.perf_counter()
    [(_, columns)] = synthetic.generate(
        synthetic.DemoConfig(customers=rows, months=1, start=month, burn_in=24)
    )
    lake.write_partition("customers", month, columns)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    scored = runner.follow(
        runner.start(sandbox.ref("ScoringStateMachine"), {"model": "churn", "as_of": month.isoformat()}),
        timeout=6 * 3600,
        poll=5.0,
    )
    wall = time.perf_counter() - started
    if scored.status != "SUCCEEDED" or scored.output is None:
        raise RuntimeError(f"scoring failed: {scored.error}: {scored.cause}")
    results = scored.output["results"]
    publication = results["deploy_scores"]["publication"]
    done = receipts(StageDoc.model_validate(scored.output))
    entities = history_entities(layout.history_prefix("churn", month, "batch"))
    pointer = latest.pointer("churn")
    own = None if pointer is None else pointer.table  # imported: one item per entity, features on it
    counted = {
        "extract": results["get_data"]["rows"],
        "scored": sum(r.score_data.rows for r in done if r.score_data),
        "validated": results["validate_scores"]["rows"],
        "history": len(entities),
        "history_entities": len(set(entities)),  # each customer once
        "latest": present_items(own, [{"pk": e} for e in entities], "score")
        if own
        else present_items(
            sandbox.ref("ScoresTable"), [latest.row_key("churn", publication, e) for e in entities]
        ),
        "online_features": present_items(own, [{"pk": e} for e in entities], "features")
        if own
        else present_items(
            sandbox.ref("OnlineFeaturesTable"), [{"pk": f"churn#{publication}#{e}"} for e in entities]
        ),
    }

    def per_chunk(stage: str) -> dict[str, float]:
        seconds = [getattr(r, stage).seconds for r in done if getattr(r, stage)]
        return {
            "median": round(statistics.median(seconds), 3),
            "max": round(max(seconds), 3),
            "total": round(sum(seconds), 3),
        }

    # What ImportTable bills: the uncompressed size of its source (docs/scaling.md).
    import_bytes = (
        sum(
            len(gzip.decompress(objects.get_bytes(key)))
            for key in objects.list_keys(layout.publication_parts_prefix(scored.output["run"]["run_id"]))
        )
        if own
        else 0
    )
    report = {
        "rows": rows,
        "import_source_bytes": import_bytes,
        "chunks": len(done),
        "chunk_rows": chunk_rows,
        "engine": engine,
        "publication": "import" if own else "items",
        "map_concurrency": sandbox.map_concurrency,
        "conserved": len(set(counted.values())) == 1 and counted["extract"] == rows,
        "counts": counted,
        "latest_pointer_rows": None if pointer is None else pointer.rows,
        "seconds": {
            "generate_data": round(generated, 1),
            "scoring_wall": round(wall, 1),
            "states": {state: round(seconds, 1) for state, seconds in scored.states},
        },
        "per_chunk_seconds": {
            stage: per_chunk(stage) for stage in ("transform_chunk", "score_data", "publish_chunk")
        },
    }
    return report, scored.output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--chunks", type=int, default=16)
    parser.add_argument("--engine", choices=["duckdb", "athena"], default="duckdb")
    parser.add_argument(
        "--publication",
        choices=["import", "items"],
        default="import",
        help="publish by bulk import (the spec's default from 100,000 rows) or item by item",
    )
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "scale.json")
    args = parser.parse_args(argv)
    report = run(args.rows, args.chunks, args.engine, 100_000 if args.publication == "import" else None)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0 if report["conserved"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
