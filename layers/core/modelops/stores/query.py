"""Query engines: run a spec's SQL over the lake for a window and store the result as Parquet.

DuckDB runs it in-process (locally and in Lambda). An engine for data that outgrows one
function (Athena) implements the same ``QueryEngine`` protocol.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from modelops.domain.periods import Window
from modelops.stores import lake, objects, tabular


class NoDataError(ValueError):
    """The window selects no data."""


@dataclass(frozen=True)
class Extract:
    uri: str
    columns: list[str]
    rows: int


class QueryEngine(Protocol):
    def extract(self, sql: str, tables: list[str], window: Window, destination_key: str) -> Extract:
        """Run ``sql`` with $start/$end bound to the window; store the result as Parquet."""
        ...


class DuckDBEngine:
    def extract(self, sql: str, tables: list[str], window: Window, destination_key: str) -> Extract:
        with tempfile.TemporaryDirectory() as scratch:
            workdir = Path(scratch)
            with tabular.connect() as connection:
                for table in tables:
                    keys = lake.partitions_in_window(table, window)
                    if not keys:
                        raise NoDataError(
                            f"table {table!r} has no partitions between {window.start} and {window.end}"
                        )
                    files = [str(objects.download_file(key, workdir / key)) for key in keys]
                    # table: an identifier the spec validated; files: our own temporary copies.
                    connection.execute(
                        f"CREATE VIEW {table} AS SELECT * FROM read_parquet({files!r}, "  # nosec B608
                        "hive_partitioning = false, union_by_name = true)"
                    )
                params = {"start": window.start, "end": window.end}
                connection.execute(f"CREATE TABLE extract AS {sql}", params)
                columns = [row[0] for row in connection.execute("DESCRIBE extract").fetchall()]
                rows = connection.execute("SELECT count(*) FROM extract").fetchone()[0]
                output = workdir / "extract.parquet"
                connection.execute(f"COPY extract TO '{output}' (FORMAT parquet, COMPRESSION zstd)")
            return Extract(uri=objects.upload_file(output, destination_key), columns=columns, rows=rows)


def engine_for(name: str) -> QueryEngine:
    if name == "duckdb":
        return DuckDBEngine()
    raise ValueError(f"unknown query engine {name!r}")
