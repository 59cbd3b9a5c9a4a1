"""A clean CSV file typed in one pass of DuckDB's reader, checked after (issue 23).

DuckDB's sniffer guesses each column's type from a sample; the one read of the file streams
each value cast to its column's guess into a Parquet file of the load's own (memory stays
bounded whatever the file's size), with a flag on every row where a value does not fit it by
the rules of a load's profile (``tabular``'s patterns). Text columns, and the guesses that
need their text (booleans, timestamps), are stored as text and profiled after, in one query
over all of them, then read through a cast. A dry run keeps nothing: the same pass counts
and profiles as it reads (writing the file costs as much as the rest). Never a Python object
per row or cell.

A file whose guesses all hold and that has no problem is typed exactly as ``loader``'s full
check types it; anything else (a flagged row, a column that would be refused, a date problem)
returns None, and the load takes the full check, which names every problem.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from modelops.domain.data.datacheck import ColumnError, ColumnProfile, Example, column_type
from modelops.stores.tabular import _DATE, _INTEGER, _NUMBER, _kind, literal, quote


def _spaced(pattern: str) -> str:
    """A value pattern (``^...$``) that also takes the spaces ``trim`` would take off."""
    return f"^ *({pattern[1:-1]}) *$"


# DuckDB's guess -> SQL true where a value {raw} (as read) does not fit it; DuckDB's casts
# take the spaces around a value, so a value passing is cast untrimmed. The other guesses are
# stored as text and profiled after. A value the pattern takes is cast again only where the
# cast can still fail: a date that is no day (2020-02-30), a whole number of 19 digits or more
# (past 64 bits: a code to the full check, ``tabular._kind``, in a column of integers or of
# fractions alike). Every number the pattern takes is a DOUBLE to DuckDB (out of range: ±inf
# or 0, as the full check's CAST reads it).
# Each is a CASE, not AND/OR: DuckDB evaluates every operand of AND/OR over every row of a
# projection, but a CASE's branch only over the rows that reach it. An integer or a date
# written as DuckDB writes its cast back (an integer without sign, leading zero or space; a
# date of 10 characters: 4-digit years, not BC) fits by that alone, tested before the
# pattern, which costs several times as much.
_BIG = (
    f"WHEN strlen({{raw}}) < 19 THEN false WHEN regexp_full_match({{raw}}, '{_spaced(_INTEGER)}') "
    "THEN TRY_CAST({raw} AS BIGINT) IS NULL ELSE false"
)
_CHECKS = {
    "BIGINT": (
        "CASE WHEN CAST(TRY_CAST({raw} AS BIGINT) AS VARCHAR) = {raw} THEN false "
        f"WHEN NOT regexp_full_match({{raw}}, '{_spaced(_INTEGER)}') THEN true {_BIG} END"
    ),
    "DOUBLE": f"CASE WHEN NOT regexp_full_match({{raw}}, '{_spaced(_NUMBER)}') THEN true {_BIG} END",
    "DATE": (
        "CASE WHEN strlen({raw}) = 10 AND CAST(TRY_CAST({raw} AS DATE) AS VARCHAR) = {raw} THEN false "
        f"WHEN NOT regexp_full_match({{raw}}, '{_spaced(_DATE)}') THEN true "
        "ELSE TRY_CAST({raw} AS DATE) IS NULL END"
    ),
}
# The counts a text column's profile needs: of its values of these kinds (``tabular._kind``).
_TEXT_COUNTS = (
    ("integers", ("integer",)),
    ("numbers", ("integer", "number")),
    ("booleans", ("boolean",)),
    ("dates", ("date",)),
    ("timestamps", ("timestamp", "zoned")),
    ("padded", ("padded",)),
    ("zoned", ("zoned",)),
)
_TIME = ("DATE", "TIMESTAMP")


@dataclass(frozen=True)
class Stored:
    """How a column is read: ``role`` ("guess", "text", "forced" or "dated"), its type, the
    SQL of its value over the trimmed text {t} (or the text as read, {raw}), and the SQL true
    where a present value does not fit (None: nothing to check)."""

    role: str
    type: str
    value: str
    bad: str | None = None


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    missing: int
    note: str = ""


@dataclass(frozen=True)
class Reading:
    """What the full check is also told: the flags that change how columns are read."""

    forced: dict[str, str]  # column -> SQL type (--types)
    date_column: str | None
    date_format: str | None
    local_time: bool


def timestamp_sql(value: str, zoned: bool, local_time: bool) -> tuple[str, str]:
    """SQL reading ISO-8601 text as TIMESTAMP: with offsets, in UTC (or the local time written,
    with --local-time); and the note the summary shows."""
    if not zoned:
        return f"CAST({value} AS TIMESTAMP)", ""
    if local_time:
        return f"CAST({value} AS TIMESTAMP)", "timezone offsets dropped: local times (--local-time)"
    utc = f"CAST(CAST({value} AS TIMESTAMPTZ) AS TIMESTAMP)"
    return utc, "timezone offsets converted to UTC (--local-time keeps local times)"


def date_format_sql(date_format: str) -> tuple[str, str]:
    """SQL reading the text {t} in a --date-format, and its type (TIMESTAMP with a time)."""
    parsed = f"TRY_STRPTIME({{t}}, {literal(date_format)})"
    if any(code in date_format for code in ("%H", "%I", "%M", "%S")):
        return parsed, "TIMESTAMP"
    return f"CAST({parsed} AS DATE)", "DATE"


def _guesses(connection: Any, arguments: str, header: list[str]) -> list[str] | None:
    """DuckDB's guess of each column's type (ISO dates only); None if its names differ."""
    import duckdb

    try:
        columns = connection.execute(
            f"SELECT Columns FROM sniff_csv({arguments}, dateformat='%Y-%m-%d')"  # nosec B608  # the reader's literal options
        ).fetchone()[0]
    except duckdb.Error:  # a file the sniffer cannot read is left to the full check
        return None
    if [str(column["name"]) for column in columns] != header:
        return None
    return [str(column["type"]) for column in columns]


def _free(name: str, taken: Sequence[str]) -> str:
    lowered = {n.lower() for n in taken}
    while name.lower() in lowered:
        name += "_"
    return name


def _stored(column: str, guess: str, reading: Reading) -> Stored:
    if column == reading.date_column and reading.date_format is not None:
        value, kind = date_format_sql(reading.date_format)
        return Stored("dated", kind, value, f"{value} IS NULL")
    if column in reading.forced and column != reading.date_column:
        cast = f"TRY_CAST({{t}} AS {reading.forced[column]})"
        return Stored("forced", reading.forced[column], cast, f"{cast} IS NULL")
    if guess in _CHECKS:
        return Stored("guess", guess, f"TRY_CAST({{raw}} AS {guess})", _CHECKS[guess])
    return Stored("text", "VARCHAR", "{raw}")


def _sql(template: str, column: str) -> str:
    """A template's SQL for a column (not ``str.format``: the patterns hold braces)."""
    return template.replace("{t}", f"trim({quote(column)})").replace("{raw}", quote(column))


def _text_kind(column: str) -> str:
    """``tabular._kind`` of a text column's trimmed values, its patterns tried only on values
    that may match one: a value whose first character is an ASCII letter or sign past '9' is
    text, or a boolean (``lower(t) IN ('true', 'false')``: only ASCII letters lower to those;
    its first character a letter, trimming its end is trimming it)."""
    name = quote(column)
    return (
        f"CASE WHEN ascii({name}) <= 57 OR ascii({name}) > 127 THEN {_kind(f'trim({name})')} "
        f"WHEN ascii({name}) IN (70, 84, 102, 116) AND lower(rtrim({name})) IN ('true', 'false') "
        "THEN 'boolean' ELSE 'text' END"
    )


def _text_type(connection: Any, profile: ColumnProfile) -> str | None:
    """``column_type`` of a text column from its counts; the distinct values that are not
    numbers (dates) are counted only where they decide. None where it would refuse."""
    present, dates = profile.present, profile.dates + profile.timestamps
    non: dict[str, int] = {}
    for which, count, kinds in (
        ("numbers", profile.numbers, "('integer', 'number')"),
        ("dates", dates, "('date', 'timestamp', 'zoned')"),
    ):
        non[which] = 0
        if not profile.padded and 0 < count < present and count >= present / 2:
            non[which] = connection.execute(
                f"SELECT count(DISTINCT t) FROM (SELECT trim({quote(profile.name)}) AS t FROM load_rows) "  # nosec B608  # a quoted name, constant SQL
                f"WHERE t IS NOT NULL AND {_kind('t')} NOT IN {kinds}"
            ).fetchone()[0]
    some = Example("", "")  # only whether there is one counts for the type
    counted = replace(
        profile,
        non_numbers=non["numbers"],
        non_dates=non["dates"],
        first_non_number=some if profile.numbers < present else None,
        first_non_date=some if dates < present else None,
    )
    try:
        return column_type(counted)
    except ColumnError:
        return None


# The column read_parquet adds for the row number; a file with a column of that name takes the
# full check.
_ROW_NUMBER = "file_row_number"


def typed(
    connection: Any,
    arguments: str,
    header: list[str],
    row: str,
    reading: Reading,
    read: Callable[[str], None],
    stored: Path | None,
) -> tuple[list[Column], str, str | None] | None:
    """Read a CSV file (``arguments``: read_csv's, without all_varchar) into the view ``typed``
    (its columns typed, and ``row``), in one pass into the Parquet file ``stored``; ``read(sql)``
    runs the read (watching it, refusing the rows the reader set aside). Without ``stored`` (a
    dry run) the pass only counts and ``typed`` reads the file again where scanned; then the
    rows of each date of a date column DuckDB typed are counted in the pass, into the table
    named third. None: the file needs the full check."""
    if reading.date_column is None and (reading.forced or reading.date_format is not None):
        return None
    if reading.date_column not in (None, *header) or set(reading.forced) - set(header):
        return None
    if _ROW_NUMBER in (name.lower() for name in header):
        return None
    guesses = _guesses(connection, arguments, header)
    if guesses is None:
        return None
    columns = {column: _stored(column, guess, reading) for column, guess in zip(header, guesses, strict=True)}
    flagged = _free(row + "_bad", [*header, row])
    checks = [f"({quote(c)} IS NOT NULL AND {_sql(s.bad, c)})" for c, s in columns.items() if s.bad]
    values = [f"{_sql(s.value, c)} AS {quote(c)}" for c, s in columns.items()]
    rows_sql = (
        f"SELECT {', '.join(values)}, {' OR '.join(checks) or 'false'} AS {quote(flagged)} "  # nosec B608  # quoted names, constant SQL and literals
        f"FROM read_csv({arguments}, all_varchar=true, store_rejects=true)"
    )
    counted: Counted | None
    if stored is None:
        counted = _counted(connection, rows_sql, header, columns, flagged, read)
    else:
        counted = _kept(connection, rows_sql, stored, header, columns, read)
    if counted is None:
        return None
    checked = _checked(connection, arguments, header, row, columns, reading, counted)
    if checked is None:
        return None
    found, date_column = checked
    dates = None
    if date_column in counted.dates:  # its rows per date, as a table
        dates = "load_dates"
        connection.execute(
            f"CREATE TABLE {dates} AS SELECT unnest(map_keys(d)) AS {quote(date_column)}, "  # nosec B608  # a quoted name, a constant name
            f"unnest(map_values(d)) AS rows FROM (SELECT {quote(counted.dates[date_column])} AS d "
            "FROM load_counts)"
        )
    return found, date_column, dates


@dataclass(frozen=True)
class Counted:
    """What the pass found: rows, each column's missing values, whether a row is flagged, the
    looks ``_looks`` asks for, and (a pass that only counts) the column of ``load_counts``
    holding each DATE guess's rows per date."""

    rows: int
    missing: list[int]
    flagged: bool
    looks: Sequence[Any] = ()
    dates: dict[str, str] = field(default_factory=dict)


def _looks(stored: dict[str, Stored]) -> tuple[list[str], list[str], str, list[str]]:
    """The text columns, the DOUBLE guesses, the SQL selecting their values' kinds (``k0``...)
    and the aggregates over them: whether each DOUBLE guess is all whole, each text column's
    values of each kind (one histogram: cheaper than a count for each)."""
    text = [c for c, s in stored.items() if s.role == "text"]
    doubles = [c for c, s in stored.items() if s.role == "guess" and s.type == "DOUBLE"]
    kinds = ", ".join(f"{_text_kind(c)} AS {quote(f'k{i}')}" for i, c in enumerate(text))
    parts = [
        *(f"coalesce(bool_and({quote(c)} = floor({quote(c)})), false)" for c in doubles),
        *(f"histogram({quote(f'k{i}')}) FILTER (WHERE {quote(c)} IS NOT NULL)" for i, c in enumerate(text)),
    ]
    return text, doubles, kinds, parts


def _kept(
    connection: Any,
    rows_sql: str,
    path: Path,
    header: list[str],
    stored: dict[str, Stored],
    read: Callable[[str], None],
) -> Counted | None:
    """The pass into a Parquet file: the counts from its footer, the looks from its columns."""
    read(f"COPY ({rows_sql}) TO {literal(str(path))} (FORMAT parquet)")  # nosec B608  # the pass's SQL, a literal path
    connection.execute(
        f"CREATE VIEW load_rows AS SELECT * FROM read_parquet({literal(str(path))}, {_ROW_NUMBER} = true)"  # nosec B608  # a literal path
    )
    footer = _footer_counts(connection, path, len(header) + 1)
    if footer is None:
        return None
    rows, missing, flagged = footer
    text, doubles, kinds, parts = _looks(stored)
    looks: Sequence[Any] = ()
    if rows and not flagged and parts:  # only the columns whose values need a look are read
        looked_at = ", ".join([*(quote(c) for c in [*doubles, *text]), *([kinds] if kinds else [])])
        looks = connection.execute(
            f"SELECT {', '.join(parts)} FROM (SELECT {looked_at} FROM load_rows)"  # nosec B608  # quoted names, constant SQL
        ).fetchone()
    return Counted(rows, missing, flagged, looks)


def _counted(
    connection: Any,
    rows_sql: str,
    header: list[str],
    stored: dict[str, Stored],
    flagged: str,
    read: Callable[[str], None],
) -> Counted:
    """The pass counting only (into the one-row table ``load_counts``): no file is written,
    which costs as much as the rest of the pass. ``load_rows`` reads the file again."""
    _, _, kinds, parts = _looks(stored)
    dated = [c for c, s in stored.items() if s.role == "guess" and s.type == "DATE"]
    aggregates = [
        "count(*)",
        *(f"count({quote(c)})" for c in header),
        f"coalesce(bool_or({quote(flagged)}), false)",
        *parts,
        *(f"histogram({quote(c)}) AS {quote(f'd{i}')}" for i, c in enumerate(dated)),
    ]
    looked_at = f"SELECT *{', ' + kinds if kinds else ''} FROM ({rows_sql})"  # nosec B608  # the pass's SQL, kinds of quoted names
    read(f"CREATE TEMP TABLE load_counts AS SELECT {', '.join(aggregates)} FROM ({looked_at})")  # nosec B608  # quoted names, constant SQL
    found = connection.execute("SELECT * FROM load_counts").fetchone()
    connection.execute(
        f"CREATE VIEW load_rows AS SELECT *, (row_number() OVER ()) - 1 AS {_ROW_NUMBER} FROM ({rows_sql})"  # nosec B608  # the pass's SQL
    )
    rows, width = int(found[0]), len(header)
    missing = [rows - int(present) for present in found[1 : 1 + width]]
    looks = found[2 + width : 2 + width + len(parts)]
    return Counted(rows, missing, bool(found[1 + width]), looks, {c: f"d{i}" for i, c in enumerate(dated)})


def _footer_counts(connection: Any, path: Path, width: int) -> tuple[int, list[int], bool] | None:
    """From the Parquet file's footer, without reading its values: its rows, each column's
    missing values (in order) and whether a row is flagged (the last column is ever true).
    None where the footer lacks a count."""
    found = connection.execute(
        "SELECT column_id, sum(row_group_num_rows), sum(stats_null_count), bool_or(stats_max = 'true'), "
        "count(*) - count(stats_null_count) FROM parquet_metadata($path) "
        "GROUP BY column_id ORDER BY column_id",
        {"path": str(path)},
    ).fetchall()
    if not found:  # no row group: no rows
        return 0, [0] * (width - 1), False
    if len(found) != width or any(unknown for *_, unknown in found):
        return None
    rows = int(found[0][1])
    return rows, [int(nulls) for _, _, nulls, _, _ in found[:-1]], bool(found[-1][3])


def _checked(
    connection: Any,
    arguments: str,
    header: list[str],
    row: str,
    stored: dict[str, Stored],
    reading: Reading,
    counted: Counted,
) -> tuple[list[Column], str] | None:
    import duckdb

    text, doubles, _, _ = _looks(stored)
    rows, counts = counted.rows, counted.looks
    present = {c: rows - counted.missing[i] for i, c in enumerate(header)}
    if rows == 0 or counted.flagged or any(present[c] == 0 for c, s in stored.items() if s.role == "guess"):
        return None
    integral = dict(zip(doubles, counts[: len(doubles)], strict=True))
    if any(integral.values()) and _whole_numbers(connection, arguments, [c for c in doubles if integral[c]]):
        return None
    found = counts[len(doubles) :]
    types = {c: s.type for c, s in stored.items()}
    read_as = {c: quote(c) for c in header}
    notes: dict[str, str] = {}
    for index, column in enumerate(text):
        of_kind = found[index] or {}
        stats = {name: sum(of_kind.get(kind, 0) for kind in kinds) for name, kinds in _TEXT_COUNTS}
        profile = ColumnProfile(column, "VARCHAR", rows, rows - present[column], **stats)
        kind = _text_type(connection, profile)
        if kind is None:
            return None
        types[column] = kind
        if kind != "VARCHAR":
            value = f"trim({quote(column)})"
            read_as[column] = f"CAST({value} AS {kind})"
            if kind == "TIMESTAMP":
                read_as[column], notes[column] = timestamp_sql(value, profile.zoned > 0, reading.local_time)
    date_column = reading.date_column
    if date_column is None:
        dated = [c for c, s in stored.items() if s.role in ("guess", "text") and types[c] in _TIME]
        if len(dated) != 1:
            return None
        date_column = dated[0]
    if types[date_column] not in _TIME or present[date_column] < rows:
        return None
    # A text column typed BIGINT, DOUBLE, BOOLEAN or DATE holds only values whose kind
    # (``tabular._kind``) was found by its cast succeeding, or by a pattern the cast takes
    # (true/false; a number, ±inf past DOUBLE's range): only TIMESTAMP's cast (offsets to UTC)
    # is not the one the kind tried.
    cast = [f"min({read_as[c]})" for c in text if types[c] == "TIMESTAMP"]
    if cast:
        try:  # every timestamp column read as its type, as the full check would cast it
            connection.execute(f"SELECT {', '.join(cast)} FROM load_rows").fetchone()  # nosec B608  # quoted names, casts of them
        except duckdb.Error:  # a value the cast refuses: the full check names it
            return None
    selected = ", ".join(f"{read_as[c]} AS {quote(c)}" for c in header)
    connection.execute(
        f"CREATE VIEW typed AS SELECT {selected}, {_ROW_NUMBER} AS {quote(row)} FROM load_rows"  # nosec B608  # quoted names, casts of them
    )
    columns = [Column(c, types[c], rows - present[c], notes.get(c, "")) for c in header]
    return columns, date_column


def _whole_numbers(connection: Any, arguments: str, columns: list[str]) -> bool:
    """Whether a column of numbers whose values are all whole holds only integers as written
    ('5', not '5.0': then it is a column of integers)."""
    found = connection.execute(
        "SELECT "  # nosec B608  # quoted names, constant SQL
        + ", ".join(
            f"coalesce(bool_and(regexp_full_match(trim({quote(c)}), '{_INTEGER}')), true)" for c in columns
        )
        + f" FROM read_csv({arguments}, all_varchar=true)"
    ).fetchone()
    return any(found)
