"""The data lake: Parquet partitions per table and period under ``data/<table>/``."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import numpy as np

from modelops.domain.periods import Window
from modelops.stores import catalog, layout, objects, tabular


def partitions_in_window(table: str, window: Window) -> list[str]:
    """Parquet keys of a table whose period lies in the window (partition pruning)."""
    keys = []
    for key in objects.list_keys(layout.table_prefix(table)):
        period = layout.partition_period(key)
        if period is not None and window.start <= period <= window.end:
            keys.append(key)
    return keys


def write_partition(table: str, period: date, columns: dict[str, np.ndarray]) -> str:
    """Write one period of a table (column name -> numpy array) as a lake partition, and keep
    the table's Glue table in step with its columns."""
    with tempfile.TemporaryDirectory() as scratch:
        output = tabular.write_columns(Path(scratch) / "part.parquet", columns)
        written = objects.upload_file(output, layout.partition_key(table, period))
    catalog.register(table, columns)
    return written


def load_file(table: str, path: Path, period_column: str) -> dict[date, int]:
    """Load a CSV or Parquet file into the lake, one partition per distinct period."""
    with tabular.connect() as connection:
        reader = "read_parquet" if path.suffix == ".parquet" else "read_csv_auto"
        # The developer's own file (`modelops data load`), read by one of two readers.
        connection.execute(f"CREATE TABLE incoming AS SELECT * FROM {reader}('{path}')")  # nosec B608
        columns = [row[0] for row in connection.execute("DESCRIBE incoming").fetchall()]
        if period_column not in columns:
            raise ValueError(f"{path}: no column {period_column!r} (columns: {', '.join(columns)})")
        loaded = {}
        # period_column is one of the file's own columns (checked above).
        periods = connection.execute(
            f"SELECT DISTINCT CAST({period_column} AS DATE) FROM incoming ORDER BY 1"  # nosec B608
        ).fetchall()
        for (period,) in periods:
            rows = connection.execute(
                f"SELECT * FROM incoming WHERE CAST({period_column} AS DATE) = $period",  # nosec B608
                {"period": period},
            ).fetchnumpy()
            write_partition(table, period, rows)
            loaded[period] = len(next(iter(rows.values())))
    return loaded
