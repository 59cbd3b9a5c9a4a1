"""`modelops spec check` and `modelops spec put`."""

from __future__ import annotations

import argparse
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from modelops_dev.cli.common import CliError, connect, load_options, print_json, read_spec


def cmd_spec_put(args: argparse.Namespace) -> int:
    from modelops.stores.specs import store_spec

    spec = read_spec(args.file)
    connect(args.endpoint_url)
    _, uri = store_spec(Path(args.file).read_text(), source=args.file)
    if args.json:
        print_json({"model": spec.name, "stored": uri})
    else:
        print(f"stored spec {spec.name!r} at {uri}")
    return 0


def cmd_spec_check(args: argparse.Namespace) -> int:
    from modelops.domain.data.datacheck import check_repeats, check_spec

    spec = read_spec(args.file)
    report: dict[str, Any] = {"model": spec.name, "valid": True, "findings": []}
    if not args.json:
        print(
            f"{args.file}: spec {spec.name!r} is valid ({len(spec.features)} features, period {spec.period})"
        )
    if not args.data and not args.lake:
        if args.json:
            print_json(report)
        return 0
    reconciliation = None
    with tempfile.TemporaryDirectory() as scratch:
        if args.data:
            profiles, where, counted = _profiles_of_files(spec, args, Path(scratch))
        else:
            profiles, where, counted, reconciliation = _profiles_of_lake(spec, args)
    rows = next(iter(profiles.values())).rows if profiles else 0
    findings = [*check_spec(spec, profiles), *check_repeats(spec, counted.repeats)]
    errors = [f for f in findings if f.level == "error"]
    report.update(
        rows=rows,
        checked=where,
        findings=[{"level": f.level, "field": f.field, "message": f.message} for f in findings],
    )
    if reconciliation is not None:
        report["reconciliation"] = reconciliation.model_dump(mode="json")
    failed = bool(errors) or (reconciliation is not None and reconciliation.error is not None)
    if args.json:
        print_json(report)
        return 1 if failed else 0
    print(f"checked against {rows:,} rows of the query over {where}")
    for finding in findings:
        print(f"{finding.level}: {args.file}: {finding}")
    if not findings:
        print("ok: every column the spec names is there, with the type it declares")
    for line in [] if reconciliation is None else _reconciliation_lines(reconciliation):
        print(line)
    return 1 if failed else 0


def _reconciliation_lines(reconciled: Any) -> list[str]:
    """What the reconciliation of the checked rows found, a line each."""
    if reconciled.note is not None:
        return [f"warning: {reconciled.note}"]
    counted = (
        f"{reconciled.extracted_rows:,} of the {reconciled.source_rows:,} rows table "
        f"{reconciled.table!r} holds by {reconciled.column}"
    )
    if not reconciled.warnings:
        return [f"ok: every period is complete ({counted})"]
    lines = [f"warning: {warning}" for warning in reconciled.warnings]
    if reconciled.error is not None:
        lines.append(f"error: {reconciled.error}")
    return [f"reconciled: {counted}", *lines]


def _profiles_of_files(spec: Any, args: argparse.Namespace, scratch: Path) -> tuple[Any, str, Any]:
    """The profiles of the spec's query over the --data files (converted as `data load`
    reads them), where that was, and the rows counted as an extract would count them."""
    from modelops.domain.periods import FIRST_RUN_DAY, LAST_RUN_DAY, Window
    from modelops.pipeline.common import query_for
    from modelops.stores import lake
    from modelops.stores.query import duckdb_engine

    files = {}
    for item in args.data:
        table, separator, path = item.partition("=")
        if not separator:
            if len(spec.source.tables) != 1:
                raise CliError(
                    f"the spec reads {', '.join(spec.source.tables)}: give --data TABLE=FILE for each"
                )
            table, path = spec.source.tables[0], item
        parquet = scratch / f"{table}.parquet"
        suggest = ["modelops", "spec", "check", str(args.file), "--data", item]
        files[table] = lake.convert_file(Path(path), load_options(args), parquet, suggest)
    absent = [table for table in spec.source.tables if table not in files]
    if absent:
        raise CliError(f"no --data for table {absent[0]!r} (give --data {absent[0]}=FILE)")
    query = query_for(spec, Window(start=FIRST_RUN_DAY, end=LAST_RUN_DAY), reconcile=False)
    profiles, counted = duckdb_engine.profile_result(query, files=files)
    return profiles, " and ".join(item.partition("=")[2] or item for item in args.data), counted


def _profiles_of_lake(spec: Any, args: argparse.Namespace) -> tuple[Any, str, Any, Any]:
    """The profiles of the spec's query over the sandbox's lake (--lake) for the training
    window, where that was, the rows counted as an extract would count them, and the window's
    rows reconciled with the source as a run would."""
    from modelops.pipeline.common import query_for, reconciled
    from modelops.stores.query import duckdb_engine

    connect(args.endpoint_url)
    query = query_for(spec, _check_window(spec, args))
    profiles, counted = duckdb_engine.profile_result(query, lake_tables=spec.source.tables)
    where = f"the lake, {query.keeps.start} … {query.keeps.end}"
    return profiles, where, counted, reconciled(spec, query, counted)


def _partition_days(table: str) -> list[date]:
    """The days a table's partitions are named by: a lake table's periods, a catalog table's
    date-valued partition keys (none: it has no such key)."""
    from modelops.domain.data.partitions import as_day, catalog_name, date_keys
    from modelops.stores import layout, objects
    from modelops.stores.query import sources

    if catalog_name(table) is None:
        keys = objects.list_keys(layout.table_prefix(table))
        return [period for key in keys if (period := layout.partition_period(key)) is not None]
    described = sources.describe(table)
    return [
        day
        for index in date_keys(described.keys, described.partitions)
        for partition in described.partitions
        if (day := as_day(partition.values[index])) is not None
    ]


def _check_window(spec: Any, args: argparse.Namespace) -> Any:
    """The training window a --lake check reads: up to --as-of, or to the newest partition."""
    from modelops.domain.contract import RunRequest, plan_run
    from modelops.domain.periods import Window

    as_of = args.as_of
    if as_of is None:
        periods = [period for table in spec.source.tables for period in _partition_days(table)]
        if not periods:
            raise CliError(
                f"the lake has no data for {', '.join(spec.source.tables)}: load it with `modelops data load`"
                " (or give --as-of for a catalog table without date partitions)"
            )
        as_of = max(periods).isoformat()
    request = RunRequest(model=spec.name, as_of=date.fromisoformat(as_of))
    run = plan_run(request, "training", spec.window.training_periods, 0, period=spec.period)
    window: Window = run.window
    return window
