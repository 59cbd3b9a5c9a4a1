"""`modelops data load`: a CSV or Parquet file into a lake table, or the demo's customers."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from modelops_dev.cli import progress
from modelops_dev.cli.common import DEFAULT_SPEC, CliError, connect, load_options, print_json


def cmd_data_load(args: argparse.Namespace) -> int:
    from modelops.stores import external, lake

    if args.file is None:
        return _load_demo_data(args)
    if not args.table:
        raise CliError("--file needs --table (the lake table the spec's SQL reads)")
    options = load_options(args)
    if not args.dry_run or args.file.startswith("s3://"):
        connect(args.endpoint_url)
    suggest = lake.command(args.table, args.file, options, write=not args.dry_run)
    with tempfile.TemporaryDirectory() as scratch:
        # An s3:// file or folder of parts is downloaded; a folder of CSV parts joined.
        path = external.fetch(args.file, Path(scratch), options.skip_rows)
        bar = progress.bar_for(path, json=args.json)
        try:
            summary = lake.inspect_file(
                args.table, path, options, write=not args.dry_run, suggest=suggest, progress=bar
            )
        finally:
            if bar is not None:
                bar.close()
    if args.json:
        print_json(
            {
                "table": summary.table,
                "rows": summary.rows,
                "date_column": summary.date_column,
                "period": summary.period,
                "columns": [c.__dict__ for c in summary.columns],
                "partitions": {d.isoformat(): n for d, n in summary.partitions.items()},
                "missing_markers": list(summary.missing_markers),
                "written": summary.written,
            }
        )
        return 0
    _print_summary(args, summary)
    return 0


def _load_demo_data(args: argparse.Namespace) -> int:
    """Without --file: the churn spec and the demo's customers."""
    from modelops_dev.client import runner
    from modelops_dev.demo import synthetic

    if args.table or args.date_column:
        raise CliError("--table and --date-column go with --file (without --file the demo data is loaded)")
    connect(args.endpoint_url)
    runner.put_spec(DEFAULT_SPEC)
    config = synthetic.DemoConfig(
        customers=args.customers, months=args.months, drift_month=None if args.no_drift else 9
    )
    counts = synthetic.load_demo_data(config)
    if args.json:
        print_json({"partitions": counts})
    else:
        for period, rows in counts.items():
            print(f"  {period}: {rows:,} rows")
        print(f"loaded {sum(counts.values()):,} rows in {len(counts)} partitions")
    return 0


def _print_summary(args: argparse.Namespace, summary: Any) -> None:
    periods = list(summary.partitions)
    print(f"{args.file}: {summary.rows:,} rows, {len(summary.columns)} columns")
    width = max(len(repr(column.name)) for column in summary.columns)
    for column in summary.columns:
        notes = [f"{column.missing:,} missing"] if column.missing else []
        notes += ["the date column"] if column.name == summary.date_column else []
        notes += [column.note] if column.note else []
        print(f"  {column.name!r:<{width}}  {column.type:<9}  {', '.join(notes)}".rstrip())
    if summary.missing_markers:
        markers = ", ".join(repr(marker) for marker in summary.missing_markers)
        default = (
            "" if "NA" not in summary.missing_markers else "; --no-default-na reads NA, null, - … as values"
        )
        print(f"missing values: {markers}{default}")
    span = f"{periods[0]} … {periods[-1]}" if periods else "none"
    verb = "would load" if args.dry_run else "loaded"
    print(
        f"{verb} into table {summary.table!r}: {len(periods)} {summary.period} partitions ({span})"
        + ("; nothing written (--dry-run)" if args.dry_run else "")
    )
