"""The Athena query engine: the spec's SQL over the lake's Glue tables, its result UNLOADed as
Parquet parts under the run's prefix, so data beyond one function's memory never passes
through one.

Two queries per extraction: one counts the rows (and repeated entities when scoring), one
UNLOADs them (training: a stratified sample when there are more than the spec allows). Each
table of the spec is narrowed to the window's partitions first, so Athena reads only those.
"""

from __future__ import annotations

import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from modelops.domain.data.partitions import as_day, bare_name, catalog_name, date_keys
from modelops.domain.data.repeats import refusal
from modelops.domain.periods import Window
from modelops.settings import settings
from modelops.stores import aws, lake, objects, tabular
from modelops.stores.query.base import (
    DuplicateEntityError,
    Extract,
    NoDataError,
    Part,
    Query,
    QueryError,
    Sample,
    bind_window,
    entity_sql,
    period_sql,
    repeats_of,
    repeats_sql,
)
from modelops.stores.query.sources import describe
from modelops.stores.tabular import quote

POLL_SECONDS = 1.0
TIMEOUT_SECONDS = 840.0  # inside one Lambda invocation


class QueryFailed(RuntimeError):
    """Athena could not run a query; the message is Athena's reason."""


def _narrowed_catalog(table: str, window: Window) -> str:
    """A catalog table cut to the partitions that hold the window's days (as the DuckDB engine
    reads them): each date-valued partition key to the days of the kept partitions."""
    described = describe(table)
    kept = described.in_window(window)
    conditions = []
    for index in date_keys(described.keys, described.partitions):
        key = described.keys[index]
        typed = "DATE " if key.type.lower() == "date" else ""
        days = sorted({day for p in kept if (day := as_day(p.values[index]))})
        listed = ", ".join(f"{typed}'{day.isoformat()}'" for day in days)
        conditions.append(f"{quote(key.name)} IN ({listed})")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT * FROM {quote(described.database)}.{quote(described.name)}{where}"  # nosec B608  # quoted, our dates


def _narrowed(table: str, window: Window) -> str:
    """A table cut to the partitions that hold the window's days, so Athena reads only those."""
    if catalog_name(table) is not None:
        return _narrowed_catalog(table, window)
    database = settings().lake_database
    first = lake.partition_floor(table, window.start)
    return (
        f"SELECT * FROM {quote(database)}.{quote(table)} WHERE period "
        f"BETWEEN '{first.isoformat()}' AND '{window.end.isoformat()}'"  # nosec B608  # quoted, our dates
    )


def scoped_sql(query: Query) -> str:
    """The spec's SQL with each of its tables narrowed to the partitions the SQL sees (a WITH
    that shadows the table's name), and the window parameters bound (milliseconds: Athena's
    timestamps)."""
    narrowed = ", ".join(
        f"{quote(bare_name(table))} AS ({_narrowed(table, query.sees)})" for table in query.tables
    )
    return f"WITH {narrowed} {bind_window(query.sql, query.sees, fraction=3)}"


def _bounds(query: Query) -> tuple[str, str]:
    keeps = query.keeps
    stop = keeps.end + timedelta(days=1)
    return f"timestamp '{keeps.start.isoformat()} 00:00:00'", f"timestamp '{stop.isoformat()} 00:00:00'"


def sampled_sql(source: str, columns: list[str], sample: Sample, matched: int) -> str:
    """Athena SQL: ``source`` cut down to the sample, the same share of every stratum."""
    fraction = min(1.0, sample.rows / max(matched, 1))
    partition = ", ".join(quote(column) for column in sample.strata)
    listed = ", ".join(quote(column) for column in columns)
    key = ", ".join(f"CAST({quote(column)} AS varchar)" for column in sample.key)
    order = f"xxhash64(to_utf8(concat_ws('|', {key}, '{sample.seed}')))"
    return (
        f"SELECT {listed} FROM (SELECT *, row_number() OVER (PARTITION BY {partition} ORDER BY {order}) "
        f"AS modelops_rank, count(*) OVER (PARTITION BY {partition}) AS modelops_size FROM ({source})) "
        f"WHERE modelops_rank <= floor(modelops_size * {fraction!r})"  # nosec B608  # quoted names, numbers
    )


def _run(sql: str) -> str:
    """Start a query in the project's workgroup and wait for it; returns its execution id."""
    client = aws.client("athena")
    try:
        execution = client.start_query_execution(QueryString=sql, WorkGroup=settings().athena_workgroup)[
            "QueryExecutionId"
        ]
    except aws.AwsError as error:
        raise QueryFailed(str(error.response.get("Error", {}).get("Message", error))) from None
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while True:
        status = client.get_query_execution(QueryExecutionId=execution)["QueryExecution"]["Status"]
        if status["State"] == "SUCCEEDED":
            return str(execution)
        if status["State"] in ("FAILED", "CANCELLED"):
            raise QueryFailed(status.get("StateChangeReason", f"query {execution} {status['State'].lower()}"))
        if time.monotonic() > deadline:
            client.stop_query_execution(QueryExecutionId=execution)
            raise QueryFailed(f"query {execution} still running after {TIMEOUT_SECONDS:.0f}s")
        time.sleep(POLL_SECONDS)


def _rows(execution: str) -> tuple[list[str], list[list[str | None]]]:
    """(column names, rows) of a query's result (small results: counts per period)."""
    pages = aws.client("athena").get_paginator("get_query_results").paginate(QueryExecutionId=execution)
    names: list[str] = []
    rows: list[list[str | None]] = []
    for page in pages:
        result = page["ResultSet"]
        names = names or [c["Name"] for c in result["ResultSetMetadata"]["ColumnInfo"]]
        rows += [[cell.get("VarCharValue") for cell in row["Data"]] for row in result["Rows"]]
    return names, rows[1:]  # the first row is the header


def _source_counts(query: Query, columns: list[str]) -> tuple[dict[date, int] | None, str | None]:
    """The counted table's rows per period of the window, on its own date column (as the
    DuckDB engine counts them)."""
    if query.counted is None:
        return None, None
    table = query.counted.table
    column = query.counted.column or (None if catalog_name(table) else lake.date_column(table))
    if column is None and query.timestamp in columns:
        column = query.timestamp
    if column is None:
        return None, None
    start, stop = _bounds(query)
    at = f"CAST({quote(column)} AS timestamp)"
    try:
        _, rows = _rows(
            _run(
                f"SELECT {period_sql(at, query.period)}, count(*) FROM ({_narrowed(table, query.keeps)}) "
                f"WHERE {at} >= {start} AND {at} < {stop} GROUP BY 1"  # nosec B608  # quoted, our dates
            )
        )
    except QueryFailed as error:
        raise QueryError(f"table {table!r} cannot be counted by column {column!r}: {error}") from None
    return {date.fromisoformat(str(day)[:10]): int(n or 0) for day, n in rows if day}, column


class AthenaEngine:
    def extract(self, query: Query, destination_prefix: str) -> Extract:
        scoped = scoped_sql(query)
        start, stop = _bounds(query)
        at = f"TRY_CAST({quote(query.timestamp)} AS timestamp)"
        distinct = f"count(DISTINCT {entity_sql(query.unique)})" if query.unique else "0"
        # The spec's own SQL (its author's, by design), its window bound by bind_window.
        columns, _ = _rows(_run(f"SELECT * FROM ({scoped}) LIMIT 1"))  # nosec B608  # the spec's SQL
        if columns and query.timestamp not in columns:
            raise QueryError(
                f"the query returns no column {query.timestamp!r} (the spec's timestamp); "
                f"it returns {', '.join(columns)}"
            )
        side = f"CASE WHEN {at} < {start} THEN 'before' WHEN {at} >= {stop} THEN 'after' ELSE 'in' END"
        _, counted = _rows(
            _run(
                f"SELECT side, period, count(*) AS n, {distinct} AS entities FROM ("
                f"SELECT *, {side} AS side, {period_sql(at, query.period)} AS period FROM ({scoped})) "
                "GROUP BY 1, 2"  # nosec B608  # the spec's SQL, quoted names, dates we format
            )
        )
        periods = {date.fromisoformat(str(p)[:10]): int(n or 0) for s, p, n, _ in counted if s == "in" and p}
        before = sum(int(n or 0) for s, _, n, _ in counted if s == "before")
        after = sum(int(n or 0) for s, _, n, _ in counted if s == "after")
        matched = sum(int(n or 0) for s, _, n, _ in counted if s == "in")
        if matched == 0:
            raise NoDataError(f"the query returns no rows between {query.window.start} and {query.keeps.end}")
        repeated = sum(int(n or 0) - int(e or 0) for s, _, n, e in counted if s == "in")
        within = f"{at} IS NULL OR ({at} >= {start} AND {at} < {stop})"
        repeats = None
        if query.unique and repeated:  # only then the query that names the most repeated entity
            window_rows = f"(SELECT * FROM ({scoped}) WHERE {within})"  # nosec B608  # the spec's SQL
            _, found = _rows(_run(repeats_sql(window_rows, query, at)))
            repeats = repeats_of(found[0] if found else None)
        if message := refusal(query.unique, repeats, query.duplicates):
            raise DuplicateEntityError(message)
        source, source_column = _source_counts(query, columns)
        listed = ", ".join(quote(column) for column in columns)
        selected = f"SELECT {listed} FROM ({scoped}) WHERE {within}"  # nosec B608  # spec's SQL, quoted names
        available = matched
        if repeats is not None:  # one row per entity and period, first or last by the timestamp
            order = "DESC" if query.duplicates == "last" else "ASC"
            selected = (
                f"SELECT {listed} FROM (SELECT *, row_number() OVER (PARTITION BY "
                f"{entity_sql(query.unique)}, {period_sql(at, query.period)} ORDER BY {at} {order} "
                f"NULLS LAST) AS modelops_rank FROM ({selected})) "
                "WHERE modelops_rank = 1"  # nosec B608  # the spec's SQL, quoted names
            )
            available -= repeats.rows
        if query.sample is not None and available > query.sample.rows:
            selected = sampled_sql(selected, columns, query.sample, available)
        for stale in objects.list_keys(destination_prefix):  # UNLOAD needs an empty location
            objects.delete(stale)
        _run(
            f"UNLOAD ({selected}) TO '{objects.uri(destination_prefix)}' "
            "WITH (format = 'PARQUET', compression = 'SNAPPY')"
        )
        parts = []
        with tempfile.TemporaryDirectory() as scratch:
            for key in objects.list_keys(destination_prefix):
                path = objects.download_file(key, Path(scratch) / "part.parquet")
                parts.append(Part(key, tabular.parquet_rows(path)))
                path.unlink()
        rows = sum(part.rows for part in parts)
        return Extract(
            [p for p in parts if p.rows],
            columns,
            rows,
            matched,
            periods,
            before,
            after,
            source,
            source_column,
            repeats,
        )
