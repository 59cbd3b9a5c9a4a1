"""What the runs published: `modelops top`, `modelops scores history|export`, `modelops metadata
export` and `modelops report` (the drift report)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from modelops_dev.cli.common import CliError, connect, model_of, print_json

METADATA_FIELDS = ("model", "stage", "metric", "decile", "value", "timestamp")


def cmd_top(args: argparse.Namespace) -> int:
    from modelops.stores import latest

    connect(args.endpoint_url)
    model = model_of(args)
    top = latest.top(model, args.n)
    if args.json:
        print_json([score.__dict__ for score in top])
        return 0
    if not top:
        raise CliError(f"model {model!r} has no published scores (run `modelops score` first)")
    width = max(12, *(len(score.entity_id) for score in top))
    print(f"{'rank':>4}  {'entity':<{width}} {'score':>8}  {'version':<8} {'as of':<10}")
    for rank, score in enumerate(top, 1):
        print(
            f"{rank:>4}  {score.entity_id:<{width}} {score.score:>8.4f}  "
            f"{score.model_version:<8} {score.as_of:<10}"
        )
    return 0


def cmd_scores_history(args: argparse.Namespace) -> int:
    from modelops.stores import history

    connect(args.endpoint_url)
    model = model_of(args)
    rows = history.read(model, args.entity)
    if args.json:
        print_json(rows)
        return 0 if rows else 1
    if not rows:
        raise CliError(f"no scores for entity {args.entity!r} of model {model!r}")
    print(f"{'as of':<10}  {'score':>8}  {'version':<8} {'source':<7} run")
    for row in rows:
        print(
            f"{row['as_of']:%Y-%m-%d}  {row['score']:>8.4f}  {row['model_version']:<8} "
            f"{row['source']:<7} {row['run_id']}"
        )
    return 0


def cmd_metadata_export(args: argparse.Namespace) -> int:
    from modelops.domain.contract import VALIDATION_STAGES
    from modelops.stores import metadata

    connect(args.endpoint_url)
    model = model_of(args)
    rows = sorted(
        (row for stage in VALIDATION_STAGES for row in metadata.read_rows(model, stage)),
        key=lambda r: (r["stage"], r["metric"], r["timestamp"], r["decile"]),
    )
    out = Path(args.out)
    if args.format == "csv":
        _write_csv(out, rows)
    else:
        _write_parquet(out, rows)
    summary = {"rows": len(rows), "file": str(out), "format": args.format}
    if args.json:
        print_json(summary)
    else:
        print(f"wrote {len(rows):,} metadata rows of {model!r} to {out} ({args.format})")
    return 0


def _write_csv(out: Path, rows: list[dict[str, Any]]) -> None:
    import csv

    with out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(METADATA_FIELDS))
        writer.writeheader()
        writer.writerows(rows)


def _write_parquet(out: Path, rows: list[dict[str, Any]]) -> None:
    import duckdb

    connection = duckdb.connect()
    connection.execute(
        "CREATE TABLE metadata (model VARCHAR, stage VARCHAR, metric VARCHAR, decile VARCHAR, "
        "value DOUBLE, timestamp DATE)"
    )
    connection.executemany(
        "INSERT INTO metadata VALUES (?, ?, ?, ?, ?, ?)", [[row[f] for f in METADATA_FIELDS] for row in rows]
    )
    from modelops.stores.tabular import literal

    connection.execute(f"COPY metadata TO {literal(str(out))} (FORMAT parquet)")  # the user's path, a literal


def cmd_report(args: argparse.Namespace) -> int:
    from modelops.pipeline.monitoring import report_html

    connect(args.endpoint_url)
    model = model_of(args)
    out = Path(args.out or f"out/{model}-drift.html")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report_html(model))
    if args.json:
        print_json({"report": str(out)})
    else:
        print(f"wrote the drift report of {model!r} to {out}")
    return 0


SCORE_FIELDS = ("entity_id", "score", "as_of", "model_version", "run_id", "scored_at", "source")


def cmd_scores_export(args: argparse.Namespace) -> int:
    """The latest scores (the published run's batch rows), one period's (--as-of), or the whole
    history (--history), to Parquet or CSV."""
    from datetime import date

    from modelops.stores import history, latest

    connect(args.endpoint_url)
    model = model_of(args)
    if args.history:
        rows, what = history.read(model), "the whole history"
    elif args.as_of:
        rows, what = history.read(model, as_of=date.fromisoformat(args.as_of)), f"as of {args.as_of}"
        if not rows:
            periods = sorted({f"{row['as_of']:%Y-%m-%d}" for row in history.read(model)})
            raise CliError(
                f"no scores of {model!r} as of {args.as_of} (a period's first day; scored: "
                f"{', '.join(periods) or 'none'})"
            )
    else:
        current = latest.pointer(model)
        if current is None:
            raise CliError(f"model {model!r} has no published scores (run `modelops score` first)")
        rows = [
            row
            for row in history.read(model, source="batch", as_of=date.fromisoformat(current.as_of))
            if row["run_id"] == current.run_id
        ]
        what = f"the latest ({current.as_of}, run {current.run_id})"
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _export(out, rows, args.format)
    if args.json:
        print_json({"rows": len(rows), "file": str(out), "format": args.format})
    else:
        print(f"wrote {len(rows):,} scores of {model!r}, {what}, to {out} ({args.format})")
    return 0


def _export(out: Path, rows: list[dict[str, Any]], kind: str) -> None:
    """Score rows to a Parquet or CSV file (DuckDB: types kept, dates as dates)."""
    import duckdb
    import pandas as pd

    from modelops.stores.tabular import literal

    frame = pd.DataFrame(rows, columns=list(SCORE_FIELDS))
    with duckdb.connect() as connection:
        connection.register("scores", frame)
        target = literal(str(out))
        form = "(FORMAT parquet)" if kind == "parquet" else "(FORMAT csv, HEADER true)"
        copy = f"COPY (SELECT * REPLACE (CAST(as_of AS DATE) AS as_of) FROM scores) TO {target} {form}"  # nosec B608  # a literal path, a constant form
        connection.execute(copy)
