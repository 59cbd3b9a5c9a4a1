"""Parquet files through DuckDB, in-process: columns of NumPy arrays in and out.

Functions that cannot also carry a Parquet reader (the scikit-learn ones) never import this.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np


def connect(database: str = ":memory:") -> Any:
    import duckdb

    connection = duckdb.connect(database)
    # Lambda's only writable place is /tmp; DuckDB looks for a home directory at start.
    connection.execute(f"SET home_directory='{tempfile.gettempdir()}'")
    return connection


def read_columns(path: Path) -> dict[str, np.ndarray]:
    """Every column of a Parquet file as NumPy arrays (masked where values are missing)."""
    with connect() as connection:
        columns: dict[str, np.ndarray] = connection.execute(
            "SELECT * FROM read_parquet($path)", {"path": str(path)}
        ).fetchnumpy()
    return columns


def read_slice(path: Path, offset: int, rows: int) -> dict[str, np.ndarray]:
    """Rows ``[offset, offset + rows)`` of a Parquet file, in file order."""
    with connect() as connection:
        columns: dict[str, np.ndarray] = connection.execute(
            "SELECT * EXCLUDE (file_row_number) FROM read_parquet($path, file_row_number = true) "
            "WHERE file_row_number >= $first AND file_row_number < $last ORDER BY file_row_number",
            {"path": str(path), "first": offset, "last": offset + rows},
        ).fetchnumpy()
    return columns


def parquet_rows(path: Path) -> int:
    """Rows of a Parquet file (from its footer)."""
    with connect() as connection:
        found = connection.execute(
            "SELECT sum(row_group_num_rows) FROM (SELECT DISTINCT row_group_id, row_group_num_rows "
            "FROM parquet_metadata($path))",
            {"path": str(path)},
        ).fetchone()
    return int(found[0] or 0) if found else 0


def write_columns(path: Path, columns: dict[str, np.ndarray], order_by: str | None = None) -> Path:
    """Columns (name -> array of one length) as a zstd-compressed Parquet file."""
    # DuckDB scans this local by name; it reads datetime64 only at microsecond precision.
    frame = {  # noqa: F841
        name: values.astype("datetime64[us]") if values.dtype.kind == "M" else values
        for name, values in columns.items()
    }
    # order_by is a column the calling code names, never input.
    query = "SELECT * FROM frame" + (f' ORDER BY "{order_by}"' if order_by else "")  # nosec B608
    with connect() as connection:
        connection.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
    return path
