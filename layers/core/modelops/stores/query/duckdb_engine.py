"""The DuckDB query engine: the spec's SQL over the lake's partitions (downloaded into the
function), in-process, locally and in Lambda, for data that fits one function."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from modelops.domain.data.datacheck import ColumnProfile
from modelops.domain.data.partitions import bare_name, catalog_name
from modelops.domain.data.repeats import Repeats, refusal
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
    entity_sql,
    period_sql,
    repeats_of,
    repeats_sql,
)
from modelops.stores.query.sources import DUCKDB_TYPES, describe, download


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
        f"WHERE modelops_rank <= floor(modelops_size * {fraction!r})"  # nosec B608  # quoted names, numbers
    )


def _attach(connection: Any, table: str, files: list[str]) -> None:
    """Parquet files as a view named after the lake table the SQL reads."""
    # A view's definition cannot take bound parameters: the paths go in as DuckDB literals.
    connection.execute(
        f"CREATE VIEW {tabular.quote(table)} AS SELECT * FROM read_parquet({tabular.literal_list(files)}, "
        "hive_partitioning = false, union_by_name = true)"  # nosec B608  # name quoted, paths as literals
    )


def _attach_catalog(connection: Any, table: str, query: Query, workdir: Path) -> None:
    """A catalog table as a view (named as the SQL reads it) of its partitions that hold days
    the SQL sees, each partition's key values as typed columns, as Athena reads them."""
    described = describe(table)
    if not described.parquet:
        raise QueryError(
            f"table {table!r} is stored as {described.storage.strip() or 'an unnamed format'}: the "
            "duckdb engine reads Parquet catalog tables (source.engine: athena reads any)"
        )
    selects = []
    for partition in described.in_window(query.sees):
        files = [str(path) for path in download(partition, workdir / "catalog")]
        if not files:
            continue
        keys = ", ".join(
            f"CAST({tabular.literal(value)} AS {DUCKDB_TYPES.get(key.type.lower(), 'VARCHAR')}) "
            f"AS {tabular.quote(key.name)}"
            for key, value in zip(described.keys, partition.values, strict=True)
        )
        selects.append(
            f"SELECT *{', ' + keys if keys else ''} FROM read_parquet({tabular.literal_list(files)}, "
            "hive_partitioning = false, union_by_name = true)"  # nosec B608  # quoted names, literals
        )
    if not selects:
        raise NoDataError(f"table {table!r} has no files between {query.keeps.start} and {query.keeps.end}")
    connection.execute(
        f"CREATE VIEW {tabular.quote(bare_name(table))} AS " + " UNION ALL BY NAME ".join(selects)  # nosec B608  # quoted names, literals
    )


def _attach_lake(connection: Any, tables: list[str], query: Query, workdir: Path) -> None:
    """Each lake table as a view of its partitions that hold days the SQL sees (a catalog
    table's: those its date-valued partition keys name)."""
    for table in tables:
        if catalog_name(table) is not None:
            _attach_catalog(connection, table, query, workdir)
            continue
        keys = lake.partitions_in_window(table, query.sees)
        if not keys:
            window = query.keeps
            raise NoDataError(f"table {table!r} has no partitions between {window.start} and {window.end}")
        _attach(connection, table, [str(objects.download_file(key, workdir / key)) for key in keys])


def _run(connection: Any, sql: str, window: Window, into: str) -> None:
    try:
        # The spec's own SQL, over the views above; only the window's days are bound into it.
        connection.execute(f"CREATE TABLE {into} AS {bind_window(sql, window)}")
    except Exception as error:  # noqa: BLE001 - DuckDB's errors share no useful base
        raise QueryError(str(error).strip().splitlines()[0]) from None


def _columns(connection: Any, relation: str) -> list[str]:
    return [row[0] for row in connection.execute(f"DESCRIBE {relation}").fetchall()]


def _keep_window(connection: Any, query: Query, source: str, into: str) -> tuple[dict[date, int], int, int]:
    """``into``: the rows of ``source`` whose timestamp falls in the window (and rows without
    a readable timestamp, which the stages then name); returns the window's rows per period and
    the rows before and after it, which the SQL computed (lookback, lookahead) but the run
    never uses."""
    if query.timestamp not in _columns(connection, source):
        raise QueryError(
            f"the query returns no column {query.timestamp!r} (the spec's timestamp); "
            f"it returns {', '.join(_columns(connection, source))}"
        )
    at = f"TRY_CAST({tabular.quote(query.timestamp)} AS TIMESTAMP)"
    keeps = query.keeps
    start = f"TIMESTAMP '{keeps.start.isoformat()} 00:00:00'"
    stop = f"TIMESTAMP '{(keeps.end + timedelta(days=1)).isoformat()} 00:00:00'"
    counts = connection.execute(
        f"SELECT CASE WHEN {at} < {start} THEN 'before' WHEN {at} >= {stop} THEN 'after' END AS side, "
        f"{period_sql(at, query.period)} AS period, count(*) FROM {source} "
        "GROUP BY ALL"  # nosec B608  # the timestamp quoted, dates we format, our own table
    ).fetchall()
    periods = {day: int(n) for side, day, n in counts if side is None and day is not None}
    before = sum(int(n) for side, _, n in counts if side == "before")
    after = sum(int(n) for side, _, n in counts if side == "after")
    connection.execute(
        f"CREATE TABLE {into} AS SELECT * FROM {source} "
        f"WHERE {at} IS NULL OR ({at} >= {start} AND {at} < {stop}) "
        "ORDER BY rowid"  # nosec B608  # the timestamp quoted, dates we format, our own tables
    )
    return periods, before, after


def _repeats(connection: Any, query: Query, table: str) -> Repeats | None:
    """The entities of ``table`` repeated within a period (None: none, or no key to check)."""
    if not query.unique:
        return None
    at = f"TRY_CAST({tabular.quote(query.timestamp)} AS TIMESTAMP)"
    return repeats_of(connection.execute(repeats_sql(table, query, at)).fetchone())


def _keep_one(connection: Any, query: Query, table: str) -> None:
    """``table`` with one row per entity and period: the first or the last by the timestamp
    (then by the query result's order), as the spec's policy says; the rows keep their order."""
    at = f"TRY_CAST({tabular.quote(query.timestamp)} AS TIMESTAMP)"
    order = "DESC" if query.duplicates == "last" else "ASC"
    connection.execute(
        "CREATE TABLE modelops_kept AS SELECT * EXCLUDE (modelops_row, modelops_rank) FROM ("
        f"SELECT *, rowid AS modelops_row, row_number() OVER (PARTITION BY {entity_sql(query.unique)}, "
        f"{period_sql(at, query.period)} ORDER BY {at} {order} NULLS LAST, rowid {order}) AS modelops_rank "
        f"FROM {table}) WHERE modelops_rank = 1 ORDER BY modelops_row"  # nosec B608  # quoted names
    )
    connection.execute(f"DROP TABLE {table}")
    connection.execute(f"ALTER TABLE modelops_kept RENAME TO {table}")


def _count_source(connection: Any, query: Query) -> tuple[dict[date, int] | None, str | None]:
    """The counted table's rows per period of the window, on its own date column: the one the
    spec names, else the one the lake recorded at load, else a column named like the spec's
    timestamp. (None, None) when the table has none of them."""
    if query.counted is None:
        return None, None
    table = query.counted.table
    present = _columns(connection, tabular.quote(bare_name(table)))
    column = query.counted.column or (None if catalog_name(table) else lake.date_column(table))
    if column is None and query.timestamp in present:
        column = query.timestamp
    if column is None:
        return None, None
    if column not in present:
        raise QueryError(
            f"table {table!r} has no column {column!r} to count its rows by (source.rows.column)"
        )
    at = f"CAST({tabular.quote(column)} AS TIMESTAMP)"
    keeps = query.keeps
    rows = connection.execute(
        f"SELECT {period_sql(at, query.period)}, count(*) FROM {tabular.quote(bare_name(table))} "
        f"WHERE {at} >= TIMESTAMP '{keeps.start.isoformat()} 00:00:00' "
        f"AND {at} < TIMESTAMP '{(keeps.end + timedelta(days=1)).isoformat()} 00:00:00' "
        "GROUP BY 1"  # nosec B608  # the table and its date column quoted, dates we format
    ).fetchall()
    return {day: int(n) for day, n in rows}, column


def profile_result(
    query: Query, *, lake_tables: Sequence[str] = (), files: dict[str, Path] | None = None
) -> tuple[dict[str, ColumnProfile], Extract]:
    """Run the query over lake tables (their partitions the SQL sees) and/or Parquet files
    named as tables, profile every column of the window's rows (for `spec check`), and count
    them as an extract would (with the source's counts when the query names a table)."""
    with tempfile.TemporaryDirectory() as scratch, tabular.connect() as connection:
        _attach_lake(connection, list(lake_tables), query, Path(scratch))
        for table, path in (files or {}).items():
            _attach(connection, table, [str(path)])
        _run(connection, query.sql, query.sees, "result")
        periods, before, after = _keep_window(connection, query, "result", "kept")
        source, column = _count_source(connection, query)
        connection.execute("CREATE TABLE numbered AS SELECT *, (row_number() OVER ()) - 1 AS __row FROM kept")
        profiles: dict[str, ColumnProfile] = tabular.profile_columns(
            connection, "numbered", lambda row: f"row {row + 1} of the result"
        )
        rows = sum(periods.values())
        repeats = _repeats(connection, query, "kept")
        counted = Extract(
            [], _columns(connection, "kept"), rows, rows, periods, before, after, source, column, repeats
        )
        return profiles, counted


class DuckDBEngine:
    def extract(self, query: Query, destination_prefix: str) -> Extract:
        with tempfile.TemporaryDirectory() as scratch:
            workdir = Path(scratch)
            with tabular.connect() as connection:
                _attach_lake(connection, query.tables, query, workdir)
                _run(connection, query.sql, query.sees, "result")
                periods, before, after = _keep_window(connection, query, "result", "extract")
                connection.execute("DROP TABLE result")
                matched = int(connection.execute("SELECT count(*) FROM extract").fetchone()[0])
                repeats = _repeats(connection, query, "extract")
                if message := refusal(query.unique, repeats, query.duplicates):
                    raise DuplicateEntityError(message)
                available = matched
                if repeats is not None:
                    _keep_one(connection, query, "extract")
                    available -= repeats.rows
                source, column = _count_source(connection, query)
                if query.sample is not None and available > query.sample.rows:
                    connection.execute(f"CREATE TABLE kept AS {_sampled('extract', query.sample, available)}")
                    connection.execute("DROP TABLE extract")
                    connection.execute("ALTER TABLE kept RENAME TO extract")
                columns = _columns(connection, "extract")
                rows = int(connection.execute("SELECT count(*) FROM extract").fetchone()[0])
                parts = []
                for index, offset in enumerate(range(0, rows, query.part_rows)):
                    output = workdir / f"part-{index:05d}.parquet"
                    connection.execute(
                        f"COPY (SELECT * FROM extract ORDER BY rowid LIMIT {query.part_rows} "
                        f"OFFSET {offset}) TO {tabular.literal(str(output))} "
                        "(FORMAT parquet, COMPRESSION zstd)"  # nosec B608  # numbers, our path as a literal
                    )
                    key = f"{destination_prefix}part-{index:05d}.parquet"
                    objects.upload_file(output, key)
                    parts.append(Part(key, min(query.part_rows, rows - offset)))
        return Extract(parts, columns, rows, matched, periods, before, after, source, column, repeats)
