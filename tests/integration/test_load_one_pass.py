"""A clean CSV file is typed in one pass of DuckDB's reader (stores/fastload.py); anything the
pass is not sure of goes to the full check. Both must give the same answer: for each file and
set of options, the summary, the date column, every typed row and every column type, or the
same one-line refusal. A difference is the one pass deciding something the checks do not."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from modelops.stores import fastload, loader, tabular
from modelops.stores.csvtext import LoadError
from modelops.stores.loader import LoadOptions


def _days(rows: int, last: str) -> str:
    """More rows than DuckDB's sniffer samples (20,480), the odd one last."""
    return "day,a\n" + "".join(f"2020-01-{i % 28 + 1:02d},{i}\n" for i in range(rows)) + last


FILES = {
    "plain": "day,a,b,c\n2020-01-01,1,1.5,x\n2020-01-02,2,2.5,y\n",
    "spaces": "day,a,b,c\n 2020-01-01 , 1 , 1.5 , x \n2020-01-02,2,2.5,y\n",
    "padded codes": "day,a\n2020-01-01,007\n2020-01-02,8\n",
    "booleans": "day,a,b\n2020-01-01,TRUE,t\n2020-01-02,false ,f\n",
    "zoned": "day,ts\n2020-01-01,2020-01-01T10:00:00+02:00\n2020-01-02,2020-01-02T10:00:00Z\n",
    "whole floats": "day,a\n2020-01-01,5.0\n2020-01-02,6\n",
    "mostly numbers": "day,a\n2020-01-01,5\n2020-01-02,6\n2020-01-03,x\n",
    "nan and inf": "day,a,b\n2020-01-01,NaN,inf\n2020-01-02,6.5,1\n",
    "missing date": "day,a\n2020-01-01,1\n,2\n",
    "dotted dates": "day,a\n01.02.2020,1\n02.02.2020,2\n",
    "impossible date": "day,a\n2020-02-30,1\n2020-01-02,2\n",
    "exponents and signs": "day,a,b\n2020-01-01,1e5,+5\n2020-01-02,2E-3,-0\n",
    "quoted": 'day,a\n2020-01-01,"1,5"\n2020-01-02,"x ""y"""\n',
    "ragged": "day,a\n2020-01-01,1,3\n2020-01-02,2\n",
    "too big for BIGINT": "day,a\n2020-01-01,99999999999999999999\n2020-01-02,1\n",
    "too big among fractions": "day,a\n2020-01-01,1.5\n2020-01-02,2.25\n2020-01-03,99999999999999999999\n",
    "text past the sample": _days(21_000, "2020-01-01,oops\n"),
    "a fraction past the sample": _days(21_000, "2020-01-01,1.5\n"),
}
OPTIONS = {
    "defaults": LoadOptions(),
    "no default missing markers": LoadOptions(default_na=False),
    "local time": LoadOptions(local_time=True),
    "date column": LoadOptions(date_column="day"),  # the zoned file's timestamps then go through the one pass
    "date format": LoadOptions(date_column="day", date_format="%d.%m.%Y"),
    "types": LoadOptions(date_column="day", types={"a": "text"}),
    "missing markers": LoadOptions(na_values=("x", "oops")),
}


@functools.cache
def _database() -> Any:
    return tabular.connect()


@contextmanager
def _connection() -> Iterator[Any]:
    """A connection to one database for every case, emptied after each (opening a database
    costs 20 ms, and the cases load 940 times)."""
    with tabular._configured(_database().cursor()) as connection:  # UTC, as tabular.connect()
        try:
            yield connection
        finally:
            for kind, name in connection.execute(
                "SELECT 'VIEW', view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main' "
                "UNION ALL SELECT 'TABLE', table_name FROM duckdb_tables() WHERE schema_name = 'main'"
            ).fetchall():
                connection.execute(f"DROP {kind} IF EXISTS {tabular.quote(name)} CASCADE")


def _load(path: Path, options: LoadOptions, keep: bool = True) -> Any:
    with _connection() as connection:
        try:
            summary, date, source = loader.typed(
                connection, path, options, ["load"], scratch=path.parent, keep=keep
            )
        except LoadError as error:
            return "refused", str(error)
        row = tabular.quote(source.row)
        rows = connection.execute(
            f"SELECT * EXCLUDE ({row}), {row} FROM typed ORDER BY {row}"  # nosec B608  # quoted name
        ).fetchall()
        types = connection.execute("SELECT column_name, column_type FROM (DESCRIBE typed)").fetchall()
        if source.dates is not None:  # a dry run's count of rows per date: the typed rows'
            per_date = f"SELECT {tabular.quote(date)}, {{}} FROM {{}} GROUP BY 1 ORDER BY 1"  # nosec B608  # a quoted name
            counted = connection.execute(per_date.format("sum(rows)", source.dates)).fetchall()
            assert counted == connection.execute(per_date.format("count(*)", "typed")).fetchall()
        return summary, date, rows, types


# The files the one pass types with the default options (the others need the full check): a
# one pass that silently stopped working would still agree with the full check everywhere.
ONE_PASS = {
    "plain", "spaces", "padded codes", "booleans", "whole floats", "exponents and signs", "quoted",
    "too big for BIGINT",
}  # fmt: skip
LONG = ("text past the sample", "a fraction past the sample")  # with the defaults only: 21,000 rows
CASES = [(name, key) for name in FILES for key in OPTIONS if name not in LONG or key == "defaults"]


@pytest.mark.parametrize("keep", [True, False], ids=["kept", "counted"])
@pytest.mark.parametrize(("name", "key"), CASES)
def test_the_one_pass_and_the_full_check_agree(name, key, keep, tmp_path, monkeypatch):
    """Kept: the pass writes the typed rows (a load); counted: it only counts (a dry run)."""
    options = OPTIONS[key]
    path = tmp_path / "file.csv"
    path.write_text(FILES[name])
    taken = []
    one_pass = fastload.typed

    def watched(*args: Any, **kwargs: Any) -> Any:
        found = one_pass(*args, **kwargs)
        taken.append(found is not None)
        return found

    monkeypatch.setattr(fastload, "typed", watched)
    fast = _load(path, options, keep)
    monkeypatch.setattr(fastload, "typed", lambda *args, **kwargs: None)
    assert fast == _load(path, options, keep)
    if key == "defaults":  # clean files are typed by the one pass, the rest by the full check
        assert taken == [name in ONE_PASS]
    if (name, key) == ("too big for BIGINT", "defaults"):  # an id past 64 bits: text, not a crash
        assert ("a", "VARCHAR") in fast[3]


# The rule each check stands for, as the full check states it: a value fits its guess where the
# full check's pattern takes it (spaces around it allowed), and, for a whole number of 19 digits
# or more, it fits 64 bits; a date is also a day.
def _pattern(pattern: str) -> str:
    return f"regexp_full_match({{raw}}, '^ *({pattern[1:-1]}) *$')"


_BIG = f"(strlen({{raw}}) >= 19 AND {_pattern(tabular._INTEGER)} AND TRY_CAST({{raw}} AS BIGINT) IS NULL)"
RULES = {
    "BIGINT": f"(NOT {_pattern(tabular._INTEGER)} OR {_BIG})",
    "DOUBLE": f"(NOT {_pattern(tabular._NUMBER)} OR {_BIG})",
    "DATE": f"(NOT {_pattern(tabular._DATE)} OR TRY_CAST({{raw}} AS DATE) IS NULL)",
}
# Every string of up to 4 characters of these (signs, points, exponents, leading zeros, spaces,
# the underscores and hex DuckDB's casts take), and the values at the edges.
_SYMBOLS = "019+-.eE_x "
_NUMBERS = [
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "+9223372036854775807", "09223372036854775807", "99999999999999999999", "1000000000000000000.5",
    "1e999", "-1e-999", "1_000", "0x1F", "0b11", "\t5", "5\t", "inf", "-Infinity", "nan", " 12 ", "1.50",
    "007", "-007", "00.5", "1.5e3", "5.", ".5", "+.5", "1e+20", "0.1", "123.4567", "-0", "-0.0",
]  # fmt: skip
_DATES = [
    "2020-01-05", "2020-02-30", "2020-02-29", "2021-02-29", "10000-01-05", "0900-01-05", "0000-01-01",
    "0001-01-01", "2020-1-5", " 2020-01-05", "2020-01-05 ", "2020-01-05T00:00", "2020-01-05 00:00:00",
    "+2020-01-05", "-2020-01-05", "0044-03-15 (BC)", "infinity", "-infinity", "20200105", "2020/01/05",
    "2020-13-01", "2020-00-10", "9999-12-31", "02020-01-05", "2020-01-5 ", "\t2020-01-05",
]  # fmt: skip


def _near(value: str, symbols: str) -> list[str]:
    """Every string one character away from a value: each character replaced, dropped, or one
    of ``symbols`` put before it."""
    spots = range(len(value) + 1)
    return [
        *(value[:i] + c + value[i + 1 :] for i in spots for c in symbols),
        *(value[:i] + value[i + 1 :] for i in spots),
        *(value[:i] + c + value[i:] for i in spots for c in symbols),
    ]


@pytest.mark.parametrize("guess", sorted(fastload._CHECKS))
def test_each_check_flags_exactly_what_the_rule_refuses(guess):
    values = ["".join(chars) for size in range(1, 5) for chars in itertools.product(_SYMBOLS, repeat=size)]
    values += _NUMBERS + _DATES + _near("2020-01-05", "0129-: T+")
    with tabular.connect() as connection:
        connection.execute("CREATE TABLE v AS SELECT unnest($values) AS raw", {"values": values})
        check = fastload._CHECKS[guess].replace("{raw}", "raw")
        rule = RULES[guess].replace("{raw}", "raw")
        differ = connection.execute(
            f"SELECT raw, {check}, {rule} FROM v WHERE ({check}) IS DISTINCT FROM ({rule})"  # nosec B608  # constant SQL
        ).fetchall()
        flagged = connection.execute(f"SELECT count(*) FILTER (WHERE {check}) FROM v").fetchone()[0]  # nosec B608  # constant SQL
    assert differ == []
    assert 0 < flagged < len(values)  # the values do test both ways


# A text column typed BIGINT, DOUBLE, BOOLEAN or DATE by its values' kinds is not cast again to
# check it (fastload._checked): every value of a kind that type takes casts to it.
CASTS = {"BIGINT": ("integer",), "DOUBLE": ("integer", "number"), "BOOLEAN": ("boolean",), "DATE": ("date",)}


@pytest.mark.parametrize("kind", sorted(CASTS))
def test_a_value_of_a_kind_casts_to_the_type_it_gives_a_column(kind):
    values = ["".join(chars) for size in range(1, 5) for chars in itertools.product(_SYMBOLS, repeat=size)]
    values += _NUMBERS + _DATES + _near("2020-01-05", "0129-: T+") + _near("true", "TtFf ") + [" FALSE "]
    with tabular.connect() as connection:
        connection.execute("CREATE TABLE v AS SELECT trim(unnest($values)) AS t", {"values": values})
        kinds = ", ".join(tabular.literal(k) for k in CASTS[kind])
        taken, refused = connection.execute(
            f"SELECT count(*), count(*) FILTER (WHERE TRY_CAST(t AS {kind}) IS NULL) FROM v "  # nosec B608  # constant SQL
            f"WHERE {tabular._kind('t')} IN ({kinds})"
        ).fetchone()
    assert taken > 0 and refused == 0
