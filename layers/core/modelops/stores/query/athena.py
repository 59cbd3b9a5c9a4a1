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
from pathlib import Path
from typing import Any

from modelops.domain.periods import Window
from modelops.settings import settings
from modelops.stores import aws, objects, tabular
from modelops.stores.query.base import (
    DuplicateEntityError,
    Extract,
    NoDataError,
    Part,
    Query,
    Sample,
    bind_window,
)

POLL_SECONDS = 1.0
TIMEOUT_SECONDS = 840.0  # inside one Lambda invocation


class QueryFailed(RuntimeError):
    """Athena could not run a query; the message is Athena's reason."""


def scoped_sql(query: Query) -> str:
    """The spec's SQL with each of its tables narrowed to the window's partitions (a WITH that
    shadows the table's name), and $start/$end bound."""
    window: Window = query.window
    database = settings().lake_database
    narrowed = ", ".join(
        f'"{table}" AS (SELECT * FROM "{database}"."{table}" '
        f"WHERE period BETWEEN '{window.start.isoformat()}' AND '{window.end.isoformat()}')"
        for table in query.tables
    )
    return f"WITH {narrowed} {bind_window(query.sql, window)}"


def sampled_sql(source: str, columns: list[str], sample: Sample, matched: int) -> str:
    """Athena SQL: ``source`` cut down to the sample, the same share of every stratum."""
    fraction = min(1.0, sample.rows / max(matched, 1))
    partition = ", ".join(f'"{column}"' for column in sample.strata)
    listed = ", ".join(f'"{column}"' for column in columns)
    key = ", ".join(f'CAST("{column}" AS varchar)' for column in sample.key)
    order = f"xxhash64(to_utf8(concat_ws('|', {key}, '{sample.seed}')))"
    return (
        f"SELECT {listed} FROM (SELECT *, row_number() OVER (PARTITION BY {partition} ORDER BY {order}) "
        f"AS modelops_rank, count(*) OVER (PARTITION BY {partition}) AS modelops_size FROM ({source})) "
        f"WHERE modelops_rank <= floor(modelops_size * {fraction!r})"
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


def _one_row(execution: str) -> tuple[list[str], list[str | None]]:
    """(column names, values) of a query's single result row."""
    result: dict[str, Any] = aws.client("athena").get_query_results(QueryExecutionId=execution)
    names = [c["Name"] for c in result["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
    rows = result["ResultSet"]["Rows"]
    values = [cell.get("VarCharValue") for cell in rows[-1]["Data"]]  # the first row is the header
    return names, values


class AthenaEngine:
    def extract(self, query: Query, destination_prefix: str) -> Extract:
        scoped = scoped_sql(query)
        entity = ", ".join(f'CAST("{column}" AS varchar)' for column in query.unique)
        unique = f"count(DISTINCT concat_ws('|', {entity}))" if query.unique else "0"
        _, values = _one_row(_run(f"SELECT count(*) AS matched, {unique} AS entities FROM ({scoped})"))
        matched, entities = int(values[0] or 0), int(values[1] or 0)
        if matched == 0:
            raise NoDataError(
                f"the query returns no rows between {query.window.start} and {query.window.end}"
            )
        if query.unique and entities != matched:
            raise DuplicateEntityError(
                f"{matched - entities} rows repeat an entity ({'|'.join(query.unique)}) between "
                f"{query.window.start} and {query.window.end}; each entity is scored once per period"
            )
        columns, _ = _one_row(_run(f"SELECT * FROM ({scoped}) LIMIT 1"))
        selected = scoped
        if query.sample is not None and matched > query.sample.rows:
            selected = sampled_sql(scoped, columns, query.sample, matched)
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
        return Extract(parts=[p for p in parts if p.rows], columns=columns, rows=rows, matched=matched)
