"""The DuckDB query engine: the spec's SQL over the lake's partitions (downloaded into the
function), in-process, locally and in Lambda, for data that fits one function."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from modelops.domain.data.datacheck import ColumnProfile
from modelops.domain.periods import Window
from modelops.stores import lake, objects, tabular
from modelops.stores.query.base import (
    DuplicateEntityError,
    Extract,
    NoDataError,
    Part,
    Query,
    QueryError,
    Sample,
    bind_window,
)


def _sampled(source: str, sample: Sample, matched: int) -> str:
    """DuckDB SQL: ``source`` cut down to the sample, stratum by stratum."""
    fraction = min(1.0, sample.rows / max(matched, 1))
    partition = ", ".join(tabular.quote(column) for column in sample.strata)
    key = ", ".join(f"CAST({tabular.quote(column)} AS VARCHAR)" for column in sample.key)
    return (
        "SELECT * EXCLUDE (modelops_rank, modelops_size) FROM ("
        f"SELECT *, row_number() OVER (PARTITION BY {partition} "
        f"ORDER BY hash(concat_ws('|', {key}, '{sample.seed}'))) AS modelops_rank, "
        f"count(*) OVER (PARTITION BY {partition}) AS modelops_size FROM {source}) "
        f"WHERE modelops_rank <= floor(modelops_size * {fraction!r})"
    )


def _attach(connection: Any, table: str, files: list[str]) -> None:
    """Parquet files as a view named after the lake table the SQL reads."""
    # files: our own temporary copies (or the developer's file for `spec check`).
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
    try:
        # The spec's own SQL, over the views above; only the window's dates are bound into it.
        connection.execute(f"CREATE TABLE {into} AS {bind_window(sql, window)}")
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
    def extract(self, query: Query, destination_prefix: str) -> Extract:
        window = query.window
        with tempfile.TemporaryDirectory() as scratch:
            workdir = Path(scratch)
            with tabular.connect() as connection:
                _attach_lake(connection, query.tables, window, workdir)
                _run(connection, query.sql, window, "extract")
                matched = int(connection.execute("SELECT count(*) FROM extract").fetchone()[0])
                if query.unique and matched:
                    key = ", ".join(tabular.quote(column) for column in query.unique)
                    repeated = connection.execute(
                        f"SELECT concat_ws('|', {key}), count(*) FROM extract "
                        "GROUP BY ALL HAVING count(*) > 1 LIMIT 1"
                    ).fetchone()
                    if repeated:
                        raise DuplicateEntityError(
                            f"{'|'.join(query.unique)} {repeated[0]!r} appears {repeated[1]} times between "
                            f"{window.start} and {window.end}; each entity is scored once per period"
                        )
                if query.sample is not None and matched > query.sample.rows:
                    connection.execute(f"CREATE TABLE kept AS {_sampled('extract', query.sample, matched)}")
                    connection.execute("DROP TABLE extract")
                    connection.execute("ALTER TABLE kept RENAME TO extract")
                columns = [row[0] for row in connection.execute("DESCRIBE extract").fetchall()]
                rows = int(connection.execute("SELECT count(*) FROM extract").fetchone()[0])
                parts = []
                for index, offset in enumerate(range(0, rows, query.part_rows)):
                    output = workdir / f"part-{index:05d}.parquet"
                    connection.execute(
                        f"COPY (SELECT * FROM extract ORDER BY rowid LIMIT {query.part_rows} "
                        f"OFFSET {offset}) TO '{output}' (FORMAT parquet, COMPRESSION zstd)"
                    )
                    key = f"{destination_prefix}part-{index:05d}.parquet"
                    objects.upload_file(output, key)
                    parts.append(Part(key, min(query.part_rows, rows - offset)))
        return Extract(parts=parts, columns=columns, rows=rows, matched=matched)
