"""Data access: the query engine over the data lake, behind one interface.

The lake holds Parquet under ``data/<table>/period=<YYYY-MM-DD>/``. DuckDB runs the spec's
SQL in-process (locally and in Lambda); an Athena engine can implement the same interface
for data that outgrows one function.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from modelops import store
from modelops.contract import Window

_PERIOD = re.compile(r"/period=(\d{4}-\d{2}-\d{2})/")


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


def table_prefix(table: str) -> str:
    return f"data/{table}/"


def partition_key(table: str, period: date, part: int = 0) -> str:
    return f"{table_prefix(table)}period={period.isoformat()}/part-{part:05d}.parquet"


def partitions_in_window(table: str, window: Window) -> list[str]:
    """Parquet keys of a table whose period lies in the window (partition pruning)."""
    keys = []
    for key in store.list_keys(table_prefix(table)):
        match = _PERIOD.search(key)
        if match and window.start <= date.fromisoformat(match.group(1)) <= window.end:
            keys.append(key)
    return keys


def connect(database: str = ":memory:") -> Any:
    import duckdb

    connection = duckdb.connect(database)
    # Lambda's only writable place is /tmp; DuckDB looks for a home directory at start.
    connection.execute(f"SET home_directory='{tempfile.gettempdir()}'")
    return connection


class DuckDBEngine:
    def extract(self, sql: str, tables: list[str], window: Window, destination_key: str) -> Extract:
        with tempfile.TemporaryDirectory() as scratch:
            workdir = Path(scratch)
            with connect() as connection:
                for table in tables:
                    keys = partitions_in_window(table, window)
                    if not keys:
                        raise NoDataError(
                            f"table {table!r} has no partitions between {window.start} and {window.end}"
                        )
                    files = [str(store.download_file(key, workdir / key)) for key in keys]
                    connection.execute(
                        f"CREATE VIEW {table} AS SELECT * FROM read_parquet({files!r}, "
                        "hive_partitioning = false, union_by_name = true)"
                    )
                params = {"start": window.start, "end": window.end}
                connection.execute(f"CREATE TABLE extract AS {sql}", params)
                columns = [row[0] for row in connection.execute("DESCRIBE extract").fetchall()]
                rows = connection.execute("SELECT count(*) FROM extract").fetchone()[0]
                output = workdir / "extract.parquet"
                connection.execute(f"COPY extract TO '{output}' (FORMAT parquet, COMPRESSION zstd)")
            return Extract(uri=store.upload_file(output, destination_key), columns=columns, rows=rows)


def write_partition(table: str, period: date, columns: dict[str, Any]) -> str:
    """Write one period of a table (column name -> numpy array) as a lake partition."""
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "part.parquet"
        with connect() as connection:
            # DuckDB scans this local by name; it reads datetime64 only at microsecond precision.
            partition_rows = {  # noqa: F841
                name: values.astype("datetime64[us]") if values.dtype.kind == "M" else values
                for name, values in columns.items()
            }
            connection.execute(
                f"COPY (SELECT * FROM partition_rows) TO '{output}' (FORMAT parquet, COMPRESSION zstd)"
            )
        return store.upload_file(output, partition_key(table, period))


def load_file(table: str, path: Path, period_column: str) -> dict[date, int]:
    """Load a CSV or Parquet file into the lake, one partition per distinct period."""
    with connect() as connection:
        reader = "read_parquet" if path.suffix == ".parquet" else "read_csv_auto"
        connection.execute(f"CREATE TABLE incoming AS SELECT * FROM {reader}('{path}')")
        columns = [row[0] for row in connection.execute("DESCRIBE incoming").fetchall()]
        if period_column not in columns:
            raise ValueError(f"{path}: no column {period_column!r} (columns: {', '.join(columns)})")
        loaded = {}
        periods = connection.execute(
            f"SELECT DISTINCT CAST({period_column} AS DATE) FROM incoming ORDER BY 1"
        ).fetchall()
        for (period,) in periods:
            rows = connection.execute(
                f"SELECT * FROM incoming WHERE CAST({period_column} AS DATE) = $period", {"period": period}
            ).fetchnumpy()
            write_partition(table, period, rows)
            loaded[period] = len(next(iter(rows.values())))
    return loaded
