"""Query engines: run a spec's SQL over the lake for a window and store the result as Parquet.

DuckDB runs it in-process (locally and in Lambda). An engine for data that outgrows one
function (Athena) implements the same ``QueryEngine`` protocol.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from modelops.domain.datacheck import ColumnProfile
from modelops.domain.periods import Window
from modelops.stores import lake, objects, tabular


class NoDataError(ValueError):
    """The window selects no data."""


class QueryError(ValueError):
    """The spec's SQL does not run; the message is the engine's first line."""


@dataclass(frozen=True)
class Extract:
    uri: str
    columns: list[str]
    rows: int


class QueryEngine(Protocol):
    def extract(self, sql: str, tables: list[str], window: Window, destination_key: str) -> Extract:
        """Run ``sql`` with $start/$end bound to the window's first and last day (a closed
        interval of days, whatever the spec's period); store the result as Parquet."""
        ...


def _attach(connection: Any, table: str, files: list[str]) -> None:
    """Parquet files as a view named after the lake table the SQL reads."""
    connection.execute(
        f"CREATE VIEW {tabular.quote(table)} AS SELECT * FROM read_parquet({files!r}, "
        "hive_partitioning = false, union_by_name = true)"
    )


def _attach_lake(connection: Any, tables: list[str], window: Window, workdir: Path) -> None:
    for table in tables:
        keys = lake.partitions_in_window(table, window)
        if not keys:
            raise NoDataError(f"table {table!r} has no partitions between {window.start} and {window.end}")
        _attach(connection, table, [str(objects.download_file(key, workdir / key)) for key in keys])


def _run(connection: Any, sql: str, window: Window, into: str) -> None:
    params = {"start": window.start, "end": window.end}
    try:
        connection.execute(f"CREATE TABLE {into} AS {sql}", params)
    except Exception as error:  # noqa: BLE001 - DuckDB's errors share no useful base
        raise QueryError(str(error).strip().splitlines()[0]) from None


def profile_result(
    sql: str, window: Window, *, lake_tables: Sequence[str] = (), files: dict[str, Path] | None = None
) -> dict[str, ColumnProfile]:
    """Run the SQL over lake tables (their partitions in the window) and/or Parquet files named
    as tables, and profile every column of the result (for `spec check`)."""
    with tempfile.TemporaryDirectory() as scratch, tabular.connect() as connection:
        _attach_lake(connection, list(lake_tables), window, Path(scratch))
        for table, path in (files or {}).items():
            _attach(connection, table, [str(path)])
        _run(connection, sql, window, "result")
        connection.execute(
            "CREATE TABLE numbered AS SELECT *, (row_number() OVER ()) - 1 AS __row FROM result"
        )
        profiles: dict[str, ColumnProfile] = tabular.profile_columns(
            connection, "numbered", lambda row: f"row {row + 1} of the result"
        )
        return profiles


class DuckDBEngine:
    def extract(self, sql: str, tables: list[str], window: Window, destination_key: str) -> Extract:
        with tempfile.TemporaryDirectory() as scratch:
            workdir = Path(scratch)
            with tabular.connect() as connection:
                _attach_lake(connection, tables, window, workdir)
                _run(connection, sql, window, "extract")
                columns = [row[0] for row in connection.execute("DESCRIBE extract").fetchall()]
                rows = connection.execute("SELECT count(*) FROM extract").fetchone()[0]
                output = workdir / "extract.parquet"
                connection.execute(f"COPY extract TO '{output}' (FORMAT parquet, COMPRESSION zstd)")
            return Extract(uri=objects.upload_file(output, destination_key), columns=columns, rows=rows)


def engine_for(name: str) -> QueryEngine:
    if name == "duckdb":
        return DuckDBEngine()
    raise ValueError(f"unknown query engine {name!r}")
