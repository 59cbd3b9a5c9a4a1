"""Reading a CSV or Parquet file into a typed DuckDB table, checked whole: every problem of the
file is found in one pass and reported at once, with the flags that fix them all
(``domain.data.loadcheck``); nothing is written here (``lake`` writes the partitions).

A file that cannot be read as a table at all (not UTF-8, ragged rows, no rows) stops at that
problem; past it, each column's problem is collected and the load is refused with all of them.
A CSV file is first typed in one pass (``fastload``); only a file that pass doubts (a problem,
a guess that did not hold) is read whole as text and profiled here.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelops.domain.data import loadcheck
from modelops.domain.data.datacheck import ColumnError, ColumnProfile, column_type
from modelops.domain.data.loadcheck import Fix, Problem
from modelops.domain.periods import Period
from modelops.stores import csvtext, fastload, tabular
from modelops.stores.csvtext import Lines, LoadError
from modelops.stores.tabular import literal, quote

TYPE_NAMES: dict[str, str] = {
    "integer": "BIGINT",
    "number": "DOUBLE",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "text": "VARCHAR",
    "varchar": "VARCHAR",
}


@dataclass(frozen=True)
class LoadOptions:
    """How to read a file: which column dates each row (and its format, if not YYYY-MM-DD),
    the period to partition by, extra missing-value markers (and whether the common ones are
    missing too), column types to force, how many lines come before the header, and whether
    timezone-aware timestamps keep their local time instead of becoming UTC."""

    date_column: str | None = None
    date_format: str | None = None
    period: Period = "month"
    na_values: tuple[str, ...] = ()
    types: dict[str, str] = field(default_factory=dict)
    skip_rows: int = 0
    default_na: bool = True
    local_time: bool = False

    @property
    def missing_markers(self) -> tuple[str, ...]:
        """The text values read as missing in a CSV file."""
        defaults = loadcheck.DEFAULT_NA if self.default_na else ("",)
        return tuple(dict.fromkeys([*defaults, *self.na_values]))

    def flags(self) -> loadcheck.Flags:
        return loadcheck.Flags(
            self.na_values, dict(self.types), self.date_column, self.date_format, self.skip_rows
        )


@dataclass(frozen=True)
class ColumnSummary:
    name: str
    type: str
    missing: int
    note: str = ""  # e.g. how timezone-aware values were read


@dataclass
class Source:
    """A file read into the table ``raw``: its header, the row number column (a name no column
    of the file has) and how to name a row in messages."""

    path: Path
    header: list[str]
    row: str
    where: Lines
    problems: list[Problem] = field(default_factory=list)
    dates: str | None = None  # a dry run's table of the date column's rows per date, if counted


def _free_name(names: list[str]) -> str:
    """The row number column's name: ``__row`` unless the file has a column of that name."""
    taken, name = {n.lower() for n in names}, "__row"
    while name.lower() in taken:
        name += "_"
    return name


def _parquet_names(connection: Any, path: Path) -> list[str]:
    """The top-level column names as the file spells them (DuckDB renames duplicates)."""
    schema = connection.execute(
        "SELECT name, num_children FROM parquet_schema($path)", {"path": str(path)}
    ).fetchall()
    return [name for name, _ in schema[1 : 1 + int(schema[0][1] or 0)]] if schema else []


def _null_markers(connection: Any, markers: tuple[str, ...]) -> None:
    """Parquet's text columns: the markers given with --na-values (na_values) made missing
    (Parquet has real nulls, so the common markers stay values)."""
    text = [row[0] for row in connection.execute("DESCRIBE raw").fetchall() if str(row[1]) == "VARCHAR"]
    if not markers or not text:
        return
    listed = ", ".join(literal(marker) for marker in markers)
    connection.execute(
        "UPDATE raw SET "  # nosec B608  # quoted names and literals
        + ", ".join(
            f"{quote(c)} = CASE WHEN trim({quote(c)}) IN ({listed}) THEN NULL ELSE {quote(c)} END"
            for c in text
        )
    )


def is_parquet(path: Path) -> bool:
    """A Parquet file, or a folder of Parquet parts."""
    return path.is_dir() or path.suffix.lower() == ".parquet"


Progress = Callable[[float], None]  # told the share of the file read so far (0 to 1)


@contextmanager
def _watched(connection: Any, progress: Progress | None) -> Iterator[None]:
    """Tell ``progress`` how far DuckDB's query on ``connection`` is, four times a second."""
    if progress is None:
        yield
        return
    connection.execute("SET enable_progress_bar = true")
    connection.execute("SET enable_progress_bar_print = false")
    done = threading.Event()

    def poll() -> None:
        while not done.wait(0.25):
            share = connection.query_progress()
            if share >= 0:
                progress(min(share, 100.0) / 100)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
        progress(1.0)


def _csv_arguments(path: Path, delimiter: str, options: LoadOptions) -> str:
    """read_csv's arguments for a file (its typing left to the caller)."""
    markers = ", ".join(literal(v) for v in options.missing_markers)
    return (
        f"{literal(str(path))}, delim={literal(delimiter)}, header=true, skip={options.skip_rows}, "
        f"quote='\"', escape='\"', nullstr=[{markers}]"
    )


def _one_pass(
    connection: Any, path: Path, options: LoadOptions, progress: Progress | None, scratch: Path | None
) -> tuple[list[ColumnSummary], str, Source] | None:
    """A clean CSV file typed in one pass (``fastload``) into a Parquet file in ``scratch``
    (None: only counted); None: it needs the full check."""
    if is_parquet(path):
        return None
    delimiter = csvtext.delimiter(path, options.skip_rows)
    header = csvtext.header(path, delimiter, options.skip_rows)
    if loadcheck.header_problems(header):
        return None
    row, arguments = _free_name(header), _csv_arguments(path, delimiter, options)
    forced = {column: TYPE_NAMES[name] for column, name in options.types.items()}
    reading = fastload.Reading(forced, options.date_column, options.date_format, options.local_time)

    def read(sql: str) -> None:
        with _watched(connection, progress):
            connection.execute(sql)
        csvtext.refuse_rejected(connection, path, delimiter, len(header), options.skip_rows)

    stored = None if scratch is None else scratch / "one-pass.parquet"
    found = fastload.typed(connection, arguments, header, row, reading, read, stored)
    if found is None:
        connection.execute("DROP VIEW IF EXISTS typed")
        connection.execute("DROP VIEW IF EXISTS load_rows")
        connection.execute("DROP TABLE IF EXISTS load_counts")
        if stored is not None:
            stored.unlink(missing_ok=True)
        return None
    columns, date_column, dates = found
    summary = [ColumnSummary(c.name, c.type, c.missing, c.note) for c in columns]
    lines = Lines(path, delimiter, options.skip_rows)
    return summary, date_column, Source(path, header, row, lines, dates=dates)


def read(connection: Any, path: Path, options: LoadOptions, progress: Progress | None = None) -> Source:
    """The file as table ``raw`` (text columns for CSV, typed for Parquet) with a row number;
    ``progress`` is told how much of the file is read."""
    if is_parquet(path):
        files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
        try:
            header = _parquet_names(connection, files[0])
            row = _free_name(header)
            connection.execute(
                f"CREATE TABLE raw AS SELECT *, (row_number() OVER ()) - 1 AS {quote(row)} "  # nosec B608  # a quoted name, literal paths
                f"FROM read_parquet([{', '.join(literal(str(f)) for f in files)}])"
            )
        except Exception as error:  # noqa: BLE001 - DuckDB's errors have no common base worth naming
            raise LoadError(f"{path.name}: not a readable Parquet file ({_first_line(error)})") from None
        _null_markers(connection, options.na_values)
        source = Source(path, header, row, Lines(None))
    else:
        delimiter = csvtext.delimiter(path, options.skip_rows)
        header = csvtext.header(path, delimiter, options.skip_rows)
        row = _free_name(header)
        # One pass of DuckDB's reader; rows it cannot read are set aside (store_rejects) and
        # named after, never a Python object per row or cell.
        with _watched(connection, progress):
            connection.execute(
                f"CREATE TABLE raw AS SELECT *, (row_number() OVER ()) - 1 AS {quote(row)} FROM read_csv("  # nosec B608  # a quoted name, literals and a number
                f"{_csv_arguments(path, delimiter, options)}, all_varchar=true, store_rejects=true)"
            )
        csvtext.refuse_rejected(connection, path, delimiter, len(header), options.skip_rows)
        source = Source(path, header, row, Lines(path, delimiter, options.skip_rows))
    source.problems += loadcheck.header_problems(source.header)
    return source


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]


def _formats_reading(connection: Any, column: str) -> list[str]:
    """The common formats that read every value of a text column (one scan for all of them)."""
    value, present = f"trim(CAST({quote(column)} AS VARCHAR))", f"{quote(column)} IS NOT NULL"
    counts = connection.execute(
        "SELECT "  # nosec B608  # quoted names and literal formats
        + ", ".join(
            f"count(*) FILTER (WHERE {present} AND TRY_STRPTIME({value}, {literal(f)}) IS NULL)"
            for f in loadcheck.DATE_FORMATS
        )
        + " FROM raw"
    ).fetchone()
    return [f for f, unread in zip(loadcheck.DATE_FORMATS, counts, strict=True) if unread == 0]


def _timestamp(value: str, profile: ColumnProfile, options: LoadOptions) -> tuple[str, str]:
    """SQL reading ISO-8601 text as TIMESTAMP (offsets in UTC unless --local-time), its note."""
    return fastload.timestamp_sql(value, profile.zoned > 0, options.local_time)


def _date_expression(
    connection: Any, column: str, profile: ColumnProfile, options: LoadOptions, source: Source
) -> tuple[str, str, str]:
    """(SQL of the date column as DATE or TIMESTAMP, its type, a note); a LoadError names the
    first value that is not a date and a format that reads every value."""
    name, note = quote(column), ""
    if options.date_format is not None:
        parsed = f"TRY_STRPTIME(trim(CAST({name} AS VARCHAR)), {literal(options.date_format)})"
        has_time = any(code in options.date_format for code in ("%H", "%I", "%M", "%S"))
        expression, kind = (parsed, "TIMESTAMP") if has_time else (f"CAST({parsed} AS DATE)", "DATE")
    elif profile.is_time:
        return name, "DATE" if profile.type.upper() == "DATE" else "TIMESTAMP", ""
    elif profile.is_text and profile.dates + profile.timestamps == profile.present and profile.present:
        if profile.timestamps == 0:
            return f"CAST(trim({name}) AS DATE)", "DATE", ""
        expression, note = _timestamp(f"trim({name})", profile, options)
        return expression, "TIMESTAMP", note
    elif profile.is_text:
        formats = _formats_reading(connection, column)
        example = profile.first_non_date or profile.first_non_number
        shown = f" ({example.where} holds {example.value!r})" if example else ""
        advice = loadcheck.date_format_advice(formats)
        raise LoadError(
            f"date column {column!r} does not hold YYYY-MM-DD dates{shown}: {advice}",
            [Problem("", Fix(date_column=column, date_format=formats[0]) if formats else None)],
        )
    else:
        raise LoadError(
            f"date column {column!r} holds {profile.type} values ({', '.join(profile.examples[:2])}), "
            "not dates: name a column of dates with --date-column"
        )
    bad = connection.execute(
        f"SELECT {quote(source.row)}, CAST({name} AS VARCHAR) FROM raw WHERE {name} IS NOT NULL "  # nosec B608  # quoted names, an expression of them and literals
        f"AND {expression} IS NULL ORDER BY {quote(source.row)} LIMIT 1"
    ).fetchone()
    if bad is not None:
        formats = _formats_reading(connection, column) if options.date_format else []
        advice = f"; {loadcheck.date_format_advice(formats)}" if formats else ""
        raise LoadError(
            f"date column {column!r}: {source.where(bad[0])} holds {bad[1]!r}, which is not a date"
            + (f" in the format {options.date_format}" if options.date_format else "")
            + advice,
            [Problem("", Fix(date_format=formats[0]) if formats else None)],
        )
    return expression, kind, note


def _pick_date_column(profiles: dict[str, ColumnProfile], options: LoadOptions) -> str:
    if options.date_column is not None:
        if options.date_column not in profiles:
            raise LoadError(
                f"no column {options.date_column!r} for --date-column (columns: {', '.join(profiles)})"
            )
        return options.date_column
    dated = [
        name
        for name, p in profiles.items()
        if p.is_time or (p.is_text and p.present and p.dates + p.timestamps == p.present)
    ]
    if len(dated) == 1:
        return dated[0]
    if not dated:
        raise LoadError(
            f"no column of dates (YYYY-MM-DD) found: name the column that dates each row with "
            f"--date-column (columns: {', '.join(profiles)})"
        )
    raise LoadError(f"several columns hold dates ({', '.join(dated)}): choose one with --date-column")


def _forced(connection: Any, column: str, type_name: str, source: Source) -> str:
    """SQL casting a column to a type given with --types; a LoadError names the first failure."""
    cast = f"TRY_CAST(trim(CAST({quote(column)} AS VARCHAR)) AS {TYPE_NAMES[type_name]})"
    bad = connection.execute(
        f"SELECT {quote(source.row)}, CAST({quote(column)} AS VARCHAR) FROM raw "  # nosec B608  # quoted names, a cast of one
        f"WHERE {quote(column)} IS NOT NULL AND {cast} IS NULL ORDER BY {quote(source.row)} LIMIT 1"
    ).fetchone()
    if bad is not None:
        raise LoadError(
            f"column {column!r}: {source.where(bad[0])} holds {bad[1]!r}, which is not a {type_name}"
        )
    return cast


def _stray_values(connection: Any, column: str, kind: str) -> tuple[str, ...]:
    """The few distinct values of a column of numbers (dates) that are not: the markers to
    read as missing (every one, so that one more pass finds none)."""
    check = "TRY_CAST(trim({0}) AS DOUBLE)" if kind == "numbers" else "TRY_CAST(trim({0}) AS TIMESTAMP)"
    values = connection.execute(
        f"SELECT DISTINCT trim({quote(column)}) AS v FROM raw WHERE {quote(column)} IS NOT NULL "
        f"AND {check.format(quote(column))} IS NULL ORDER BY v LIMIT 8"  # nosec B608  # quoted names
    ).fetchall()
    return tuple(str(value[0]) for value in values)


def _text_column(
    connection: Any, column: str, profile: ColumnProfile, options: LoadOptions
) -> tuple[str, str, str]:
    """(SQL, type, note) of a text column read as the narrowest type that fits every value."""
    try:
        kind = column_type(profile)
    except ColumnError as error:
        markers = _stray_values(connection, column, error.kind)
        raise LoadError(str(error), [Problem(str(error), Fix(na_values=markers))]) from None
    value = f"trim({quote(column)})"
    if kind == "VARCHAR":
        return quote(column), kind, ""
    if kind == "TIMESTAMP":
        expression, note = _timestamp(value, profile, options)
        return expression, kind, note
    return f"CAST({value} AS {kind})", kind, ""


def _collect(problems: list[Problem], error: LoadError) -> None:
    """Keep a problem's message with the fix its error carries."""
    fix = error.problems[0].fix if error.problems else None
    problems.append(Problem(str(error), fix))


def typed(
    connection: Any,
    path: Path,
    options: LoadOptions,
    command: Sequence[str],
    progress: Progress | None = None,
    *,
    scratch: Path,
    keep: bool = True,
) -> tuple[list[ColumnSummary], str, Source]:
    """Read and check a file into ``typed`` (a table or view: its columns cast to the types
    they hold, and the row number); returns the columns, the date column and the source.
    ``scratch``: a folder that lives as long as ``typed`` is read (a clean CSV file's typed
    rows are kept there; not ``keep``, for a dry run: counted, read again where scanned, the
    date column's rows per date in ``source.dates`` where counted). Every problem found is
    reported at once in one LoadError, with ``command`` followed by the reading flags that fix
    them all."""
    if not path.is_file() and not (path.is_dir() and any(path.glob("*.parquet"))):
        raise LoadError(f"{path}: no such file")
    unknown = sorted(set(options.types.values()) - set(TYPE_NAMES))
    if unknown:
        raise LoadError(f"--types: unknown type {unknown[0]!r} (known: {', '.join(sorted(TYPE_NAMES))})")
    # A load runs beside other work: past 1 GB, DuckDB spills to its temporary directory.
    connection.execute("SET memory_limit = '1GB'")
    # DuckDB's own progress bar would print into the command's output (--json too).
    connection.execute("SET enable_progress_bar_print = false")
    connection.execute(f"SET temp_directory = {literal(str(Path(tempfile.gettempdir()) / 'modelops-load'))}")
    fast = _one_pass(connection, path, options, progress, scratch if keep else None)
    if fast is not None:
        return fast
    source = read(connection, path, options, progress)
    profiles: dict[str, ColumnProfile] = tabular.profile_columns(connection, "raw", source.where, source.row)
    if profiles and next(iter(profiles.values())).rows == 0:
        raise LoadError(f"{path.name}: a header line but no rows of data (columns: {', '.join(profiles)})")
    problems = list(source.problems)
    problems += [
        Problem(f"--types: no column {column!r} (columns: {', '.join(profiles)})")
        for column in options.types
        if column not in profiles
    ]
    date_column: str | None = None
    try:
        date_column = _pick_date_column(profiles, options)
    except LoadError as error:
        _collect(problems, error)
    selected, summary = [], []
    for column, profile in profiles.items():
        try:
            if column == date_column:
                expression, kind, note = _date_expression(connection, column, profile, options, source)
            elif column in options.types:
                kind, note = TYPE_NAMES[options.types[column]], ""
                expression = _forced(connection, column, options.types[column], source)
            elif profile.is_text:
                expression, kind, note = _text_column(connection, column, profile, options)
            else:
                expression, kind, note = quote(column), profile.type, ""
        except LoadError as error:
            _collect(problems, error)
            continue
        selected.append(f"{expression} AS {quote(column)}")
        summary.append(ColumnSummary(column, kind, profile.missing, note))
    if date_column is not None:
        missing_dates = connection.execute(
            f"SELECT min({quote(source.row)}) FROM raw WHERE {quote(date_column)} IS NULL"  # nosec B608  # quoted names
        ).fetchone()[0]
        if missing_dates is not None:
            problems.append(
                Problem(f"date column {date_column!r}: {source.where(int(missing_dates))} has no date")
            )
    if problems:
        fixed = loadcheck.fix_flags(options.flags(), problems)
        raise LoadError(loadcheck.report(path.name, problems, fixed, command), problems)
    assert date_column is not None  # a missing date column is a problem
    typed = f"CREATE TABLE typed AS SELECT {', '.join(selected)}, {quote(source.row)} FROM raw"  # nosec B608  # quoted
    connection.execute(typed)
    return summary, date_column, source
