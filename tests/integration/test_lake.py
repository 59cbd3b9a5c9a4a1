"""Loading data as it comes: a real daily file with a dd.mm.yyyy date and column names with
spaces and hyphens goes into monthly partitions with its types kept; a file that cannot be
loaded as it is gets one line naming the line, column and value, and nothing is written."""

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from modelops.domain.periods import Window
from modelops.stores import lake, layout, objects
from modelops.stores.lake import LoadError, LoadOptions
from modelops_dev.client.notebook import Client
from tests.helpers import HYMOD_DATA, load_hymod, write_lines


def keys(table: str) -> list[str]:
    return [k for k in objects.list_keys(layout.table_prefix(table)) if layout.partition_period(k)]


def partition(tmp_path: Path, table: str, period: date) -> duckdb.DuckDBPyRelation:
    path = objects.download_file(layout.partition_key(table, period), tmp_path / f"{table}-{period}.parquet")
    return duckdb.sql(f"SELECT * FROM '{path}'")


def test_a_daily_file_as_it_ships_makes_one_partition_per_month_with_its_types(sandbox, tmp_path):
    summary = load_hymod()
    assert summary.rows == 1827 and len(summary.partitions) == 60  # not 1,827 daily partitions
    assert summary.partitions[date(2012, 2, 1)] == 29 and summary.partitions[date(2016, 12, 1)] == 31
    assert [(c.name, c.type, c.missing) for c in summary.columns] == [
        ("Date", "DATE", 0),
        ("rainfall[mm]", "DOUBLE", 0),
        ("TURC [mm d-1]", "DOUBLE", 0),
        ("Discharge[ls-1]", "DOUBLE", 366),  # 'nan' through 2012
    ]
    assert len(keys("hymod")) == 60
    february = partition(tmp_path, "hymod", date(2012, 2, 1))
    assert [(name, str(kind)) for name, kind in zip(february.columns, february.types, strict=True)] == [
        ("Date", "DATE"),  # a DATE stays a DATE (no 00:00:00 anywhere later)
        ("rainfall[mm]", "DOUBLE"),
        ("TURC [mm d-1]", "DOUBLE"),
        ("Discharge[ls-1]", "DOUBLE"),
    ]
    days = [row[0] for row in february.order("Date").select('"Date"').fetchall()]
    assert days[0] == date(2012, 2, 1) and days[-1] == date(2012, 2, 29) and len(days) == 29


def test_a_dry_run_checks_and_summarizes_but_writes_nothing(sandbox):
    summary = lake.inspect_file(
        "hymod",
        HYMOD_DATA,
        LoadOptions(date_column="Date", date_format="%d.%m.%Y", period="week"),
        write=False,
    )
    assert not summary.written and summary.period == "week"
    assert min(summary.partitions) == date(2011, 12, 26)  # the Monday of 2012-01-01's week
    assert all(start.weekday() == 0 for start in summary.partitions)
    assert objects.list_keys("data/") == []


def test_a_crash_halfway_then_a_rerun_leaves_each_period_once(sandbox, monkeypatch, tmp_path):
    real_upload, uploads = objects.upload_file, []

    def flaky(path: Path, key: str) -> str:
        if len(uploads) == 5:
            raise ConnectionError("the network went away")
        uploads.append(key)
        return real_upload(path, key)

    monkeypatch.setattr(objects, "upload_file", flaky)
    with pytest.raises(ConnectionError):
        load_hymod()
    assert len(keys("hymod")) == 5
    monkeypatch.setattr(objects, "upload_file", real_upload)
    load_hymod()
    assert len(keys("hymod")) == 60
    assert partition(tmp_path, "hymod", date(2012, 1, 1)).count("*").fetchall() == [(31,)]


def test_one_table_keeps_one_period(sandbox):
    load_hymod()
    with pytest.raises(LoadError, match="table 'hymod' is partitioned by month: load it with --period month"):
        lake.load_file(
            "hymod", HYMOD_DATA, LoadOptions(date_column="Date", date_format="%d.%m.%Y", period="day")
        )


def test_the_window_reads_the_partitions_that_hold_its_days(sandbox):
    load_hymod("monthly")
    week = Window(start=date(2013, 3, 11), end=date(2013, 3, 17))  # inside March
    assert [layout.partition_period(k) for k in lake.partitions_in_window("monthly", week)] == [
        date(2013, 3, 1)
    ]
    across = Window(start=date(2013, 3, 25), end=date(2013, 4, 7))
    assert [layout.partition_period(k) for k in lake.partitions_in_window("monthly", across)] == [
        date(2013, 3, 1),
        date(2013, 4, 1),
    ]
    months = Window(start=date(2013, 3, 1), end=date(2013, 5, 31))  # aligned: nothing before March
    assert len(lake.partitions_in_window("monthly", months)) == 3
    assert lake.partitions_in_window("monthly", Window(start=date(2020, 1, 1), end=date(2020, 1, 31))) == []
    # A table written without `data load` (no recorded period): the partition before the window
    # may run into it, so it is read too.
    objects.put_bytes(layout.partition_key("loose", date(2013, 3, 1)), b"")
    objects.put_bytes(layout.partition_key("loose", date(2013, 4, 1)), b"")
    assert [layout.partition_period(k) for k in lake.partitions_in_window("loose", week)] == [
        date(2013, 3, 1)
    ]
    aligned = Window(start=date(2013, 4, 1), end=date(2013, 4, 30))
    assert [layout.partition_period(k) for k in lake.partitions_in_window("loose", aligned)] == [
        date(2013, 4, 1)
    ]


# ---------------------------------------------------------------- refused, on one line
def refused(path: Path, **options: object) -> str:
    with pytest.raises(LoadError) as error:
        lake.inspect_file("t", path, LoadOptions(**options), write=False)  # type: ignore[arg-type]
    message = str(error.value)
    assert "\n" not in message
    return message


def test_a_ragged_row_is_named_by_its_line(tmp_path):
    ragged = write_lines(
        tmp_path / "r.csv", "a,b,month", "1,2,2020-01-01", "", "3,4,5,2020-02-01", "6,2020-03-01"
    )
    assert refused(ragged) == ("r.csv: 2 rows do not have the header's 3 fields: line 4 has 4, line 5 has 2")
    metadata_first = write_lines(
        tmp_path / "m.csv", "723170,GREENSBORO", "Date,Temp,Dew-point", "2020-01-01,1,2"
    )
    assert refused(metadata_first) == (
        "m.csv: 2 rows do not have the header's 2 fields: line 2 has 3, line 3 has 3 "
        "(if the header is not the first line, pass --skip-rows)"
    )
    summary = lake.inspect_file("t", metadata_first, LoadOptions(skip_rows=1), write=False)
    assert [c.name for c in summary.columns] == ["Date", "Temp", "Dew-point"]


def test_one_stray_marker_in_numbers_is_refused_with_its_line_unless_declared(tmp_path):
    # 'n/a' is missing by default (issue 23); a marker outside the common ones is still refused.
    data = write_lines(
        tmp_path / "n.csv", "day;dew point;kind", "2020-01-01;1.5;a", "2020-01-02;?;b", "2020-01-03;2;a"
    )
    assert refused(data) == (
        "column 'dew point': 2 of 3 values are numbers, but line 3 holds '?': pass --na-values '?' if it "
        "marks a missing value, or --types 'dew point=text' to load the column as text"
    )
    summary = lake.inspect_file("t", data, LoadOptions(na_values=("?",)), write=False)
    assert [(c.name, c.type, c.missing) for c in summary.columns][1] == ("dew point", "DOUBLE", 1)
    as_text = lake.inspect_file("t", data, LoadOptions(types={"dew point": "text"}), write=False)
    assert as_text.columns[1].type == "VARCHAR"


def test_dates_that_do_not_parse_are_named_with_the_format_that_would(tmp_path):
    assert refused(HYMOD_DATA, date_column="Date") == (
        "date column 'Date' does not hold YYYY-MM-DD dates (line 2 holds '01.01.2012'): "
        "--date-format %d.%m.%Y reads every value"
    )
    bad = write_lines(tmp_path / "d.csv", "Date,x", "01.01.2012,1", "32.01.2012,2")
    assert refused(bad, date_column="Date", date_format="%d.%m.%Y") == (
        "date column 'Date': line 3 holds '32.01.2012', which is not a date in the format %d.%m.%Y"
    )
    gap = write_lines(tmp_path / "g.csv", "day,x", "2012-01-01,1", ",2")
    assert refused(gap) == "date column 'day': line 3 has no date"


def test_a_column_of_numbers_is_no_date_column(tmp_path):
    years = write_lines(tmp_path / "y.csv", "year,x", "1991,1", "1992,2")
    assert refused(years) == (
        "no column of dates (YYYY-MM-DD) found: name the column that dates each row with --date-column "
        "(columns: year, x)"
    )
    assert refused(years, date_column="year") == (
        "date column 'year' does not hold YYYY-MM-DD dates (line 2 holds '1991'): "
        "--date-format %Y reads every value"
    )
    assert refused(years, date_column="month") == "no column 'month' for --date-column (columns: year, x)"
    two = write_lines(tmp_path / "two.csv", "start,end", "2020-01-01,2020-02-01")
    assert refused(two) == "several columns hold dates (start, end): choose one with --date-column"


def test_declared_types_are_checked_value_by_value(tmp_path):
    data = write_lines(tmp_path / "t.csv", "day,code", "2020-01-01,007", "2020-01-02,x1")
    assert (
        refused(data, types={"code": "integer"}) == "column 'code': line 3 holds 'x1', which is not a integer"
    )
    assert refused(data, types={"code": "decimal"}).startswith(
        "--types: unknown type 'decimal' (known: boolean,"
    )
    assert refused(data, types={"cod": "text"}) == "--types: no column 'cod' (columns: day, code)"
    codes = write_lines(tmp_path / "c.csv", "day,zip", "2020-01-01,01234", "2020-01-02,12345")
    summary = lake.inspect_file("t", codes, LoadOptions(), write=False)
    assert summary.columns[1].type == "VARCHAR"  # a leading zero is a code, not a number


def test_files_that_are_not_tables_are_refused(tmp_path):
    assert refused(tmp_path / "absent.csv").endswith("absent.csv: no such file")
    empty = tmp_path / "e.csv"
    empty.write_text("")
    assert refused(empty) == "e.csv: no header line (the file is empty)"
    latin = tmp_path / "l.csv"
    latin.write_bytes("day,name\n2020-01-01,Mu\xf1oz\n".encode("latin-1"))
    assert refused(latin).startswith("l.csv: not UTF-8 text")
    fake = tmp_path / "f.parquet"
    fake.write_text("not parquet")
    assert refused(fake).startswith("f.parquet: not a readable Parquet file")
    with pytest.raises(LoadError, match="table name 'my table' is not an identifier"):
        lake.load_file("my table", HYMOD_DATA)


def test_a_dataframe_loads_through_the_same_checks(sandbox, tmp_path):
    client = Client.embedded(sandbox)
    frame = pd.read_csv(HYMOD_DATA, sep=";")
    frame["Date"] = pd.to_datetime(frame["Date"], format="%d.%m.%Y")  # pandas: datetime64, midnight
    summary = client.load(frame, "frame", "Date")
    assert summary.rows == 1827 and len(summary.partitions) == 60
    assert summary.columns.loc[0, "type"] == "DATE"  # only midnights: dates, not timestamps
    frame.loc[3, "rainfall[mm]"] = None
    frame["rainfall[mm]"] = frame["rainfall[mm]"].astype(object)
    frame.loc[7, "rainfall[mm]"] = "?"  # not one of the missing markers (n/a is)
    with pytest.raises(
        LoadError, match=r"column 'rainfall\[mm\]': 1,825 of 1,826 values are numbers, but row 8"
    ):
        client.load(frame, "frame2", "Date")
    assert keys("frame2") == []


def test_a_dataframe_takes_the_same_options_and_header_checks(sandbox):
    client = Client.embedded(sandbox)
    frame = pd.DataFrame({"day": pd.to_datetime(["2020-01-01", "2020-02-01"]), "x": ["1.5", "?"]})
    with pytest.raises(LoadError, match=r"column 'x': 1 of 2 values are numbers, but row 2 holds '\?'"):
        client.load(frame, "f", dry_run=True)
    summary = client.load(frame, "f", dry_run=True, na_values=("?",))
    assert summary.columns.loc[1].tolist() == ["x", "DOUBLE", 1]
    cased = frame.assign(X=[1, 2])
    with pytest.raises(LoadError, match="columns 'x' and 'X' differ only in case"):
        client.load(cased, "f", dry_run=True)


def test_a_file_is_attached_by_its_path_whatever_characters_it_holds(tmp_path):
    """The file list of a view is spelled with DuckDB's own quoting (Python's repr wrote a path
    holding a quote as a double-quoted identifier)."""
    from modelops.stores import tabular
    from modelops.stores.query import Query
    from modelops.stores.query.duckdb_engine import profile_result

    path = tmp_path / 'it\'s [a] "file".parquet'
    tabular.write_columns(
        path, {"day": pd.to_datetime(["2025-01-02", "2025-02-03"]).values, "v": np.array([1.0, 2.0])}
    )
    query = Query(
        "SELECT * FROM t WHERE day BETWEEN $start AND $end",
        ["t"],
        Window(start=date(2025, 1, 1), end=date(2025, 2, 1)),
        "month",
        "day",
        part_rows=10,
    )
    profiles, counted = profile_result(query, files={"t": path})
    assert counted.periods == {date(2025, 1, 1): 1, date(2025, 2, 1): 1} and profiles["v"].rows == 2
