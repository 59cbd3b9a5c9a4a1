"""Every problem of a file in one pass (issue 23): the common missing markers, ISO-8601 dates
and timestamps, timezones, duplicate headers, no reserved names, and date-format advice; a
refused file lists each problem and one command line that fixes them all."""

from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from modelops.stores import lake
from modelops.stores.lake import LoadError, LoadOptions
from modelops_dev.cli.main import main
from tests.helpers import write_lines


def refusal(path: Path, **options: object) -> LoadError:
    with pytest.raises(LoadError) as error:
        lake.inspect_file("t", path, LoadOptions(**options), write=False)  # type: ignore[arg-type]
    return error.value


def test_every_problem_is_reported_at_once_with_one_command_that_fixes_them_all(tmp_path, capsys):
    data = write_lines(
        tmp_path / "many.csv",
        "Date,temp,rain,wind",
        "01.01.2012,1.5,?,3",
        "02.01.2012,unknown,2,calm",
        "03.01.2012,2,3,4",
        "04.01.2012,?,4,5",
    )
    error = refusal(data, date_column="Date")
    lines = str(error).splitlines()
    assert lines[0] == "many.csv: 4 problems"
    assert lines[1:4] == [
        "  date column 'Date' does not hold YYYY-MM-DD dates (line 2 holds '01.01.2012'): "
        "--date-format %d.%m.%Y reads every value",
        "  column 'temp': 2 of 4 values are numbers, but line 3 holds 'unknown': pass --na-values 'unknown' "
        "if it marks a missing value, or --types 'temp=text' to load the column as text",
        "  column 'rain': 3 of 4 values are numbers, but line 2 holds '?': pass --na-values '?' if it marks "
        "a missing value, or --types 'rain=text' to load the column as text",
    ]
    assert lines[4].startswith("  column 'wind':")
    suggested = (
        f"fix them all: modelops data load --file {data} --table t --dry-run --date-column Date "
        "--date-format %d.%m.%Y --na-values '?,unknown,calm'"
    )
    assert lines[5] == suggested
    # The suggestion does read the file.
    fixed = LoadOptions(date_column="Date", date_format="%d.%m.%Y", na_values=("?", "unknown", "calm"))
    summary = lake.inspect_file("t", data, fixed, write=False)
    assert [(c.name, c.type, c.missing) for c in summary.columns] == [
        ("Date", "DATE", 0), ("temp", "DOUBLE", 2), ("rain", "BIGINT", 1), ("wind", "BIGINT", 1),
    ]  # fmt: skip
    # The CLI prints the same lines (no traceback), and the suggested command succeeds.
    assert (
        main(["data", "load", "--file", str(data), "--table", "t", "--date-column", "Date", "--dry-run"]) == 2
    )
    err = capsys.readouterr().err
    assert err.splitlines()[0] == "error: many.csv: 4 problems" and err.splitlines()[-1] == suggested
    argv = suggested.removeprefix("fix them all: modelops ").replace("'", "").split(" ")
    assert main(argv) == 0


def test_the_common_missing_markers_are_missing_by_default_and_said_so(tmp_path, capsys):
    markers = ["", "NA", "N/A", "n/a", "null", "NULL", "NaN", "-"]
    data = write_lines(
        tmp_path / "na.csv",
        "day,x",
        *(f"2020-01-{i + 1:02d},{m}" for i, m in enumerate(markers)),
        "2020-01-20,1.5",
    )
    summary = lake.inspect_file("t", data, LoadOptions(), write=False)
    assert summary.columns[1].type == "DOUBLE" and summary.columns[1].missing == len(markers)
    assert set(markers) <= set(summary.missing_markers)
    as_values = lake.inspect_file("t", data, LoadOptions(default_na=False), write=False)
    assert as_values.columns[1].type == "VARCHAR" and as_values.columns[1].missing == 1  # only ''
    assert main(["data", "load", "--file", str(data), "--table", "t", "--dry-run"]) == 0
    assert (
        "missing values: '', 'NA', 'N/A', 'n/a', 'null', 'NULL', 'NaN', 'nan', '-'" in capsys.readouterr().out
    )


def typed_rows(path: Path, options: LoadOptions, tmp_path: Path) -> list[tuple[object, ...]]:
    output = lake.convert_file(path, options, tmp_path / "out.parquet")
    return duckdb.sql(f"SELECT * FROM '{output}'").fetchall()


def test_iso_8601_timestamps_are_recognised_as_the_date_column(tmp_path):
    data = write_lines(
        tmp_path / "iso.csv",
        "id,at",
        "1,2013-01-01T10:00:00Z",
        "2,2013-01-01T10:00:00.250Z",
        "3,2013-02-01T10:00:00",
        "4,2013-02-01 10:00",
    )
    summary = lake.inspect_file("t", data, LoadOptions(), write=False)
    assert summary.date_column == "at" and summary.columns[1].type == "TIMESTAMP"
    assert summary.partitions == {date(2013, 1, 1): 2, date(2013, 2, 1): 2}
    assert typed_rows(data, LoadOptions(), tmp_path)[1] == (2, datetime(2013, 1, 1, 10, 0, 0, 250000))


def test_timezone_aware_values_become_utc_or_stay_local_with_a_flag(tmp_path):
    data = write_lines(tmp_path / "tz.csv", "id,at", "1,2013-01-31T23:30:00-05:00", "2,2013-01-31T10:00:00Z")
    utc = lake.inspect_file("t", data, LoadOptions(period="day"), write=False)
    assert utc.partitions == {date(2013, 1, 31): 1, date(2013, 2, 1): 1}  # 04:30 UTC on the 1st
    assert utc.columns[1].note == "timezone offsets converted to UTC (--local-time keeps local times)"
    assert [row[1] for row in typed_rows(data, LoadOptions(), tmp_path)] == [
        datetime(2013, 2, 1, 4, 30), datetime(2013, 1, 31, 10, 0),
    ]  # fmt: skip
    local = LoadOptions(period="day", local_time=True)
    kept = lake.inspect_file("t", data, local, write=False)
    assert kept.partitions == {date(2013, 1, 31): 2}
    assert kept.columns[1].note == "timezone offsets dropped: local times (--local-time)"
    assert [row[1] for row in typed_rows(data, local, tmp_path)] == [
        datetime(2013, 1, 31, 23, 30), datetime(2013, 1, 31, 10, 0),
    ]  # fmt: skip


def test_duplicate_and_case_colliding_headers_are_refused_by_name(tmp_path):
    twice = write_lines(tmp_path / "twice.csv", "day,x,x", "2020-01-01,1,2")
    assert str(refusal(twice)) == "column 'x' appears twice (columns 2 and 3): rename one"
    cased = write_lines(tmp_path / "cased.csv", "day,X,x", "2020-01-01,1,2")
    assert str(refusal(cased)) == (
        "columns 'X' and 'x' differ only in case (columns 2 and 3; Athena and Glue do not tell them apart): "
        "rename one"
    )


def test_no_reserved_name_leaks_out(tmp_path):
    data = write_lines(tmp_path / "row.csv", "day,__row,x", "2020-01-01,7,a", "2020-01-02,8,b")
    summary = lake.inspect_file("t", data, LoadOptions(), write=False)
    assert [(c.name, c.type) for c in summary.columns] == [
        ("day", "DATE"), ("__row", "BIGINT"), ("x", "VARCHAR"),
    ]  # fmt: skip
    assert typed_rows(data, LoadOptions(), tmp_path) == [
        (date(2020, 1, 1), 7, "a"),
        (date(2020, 1, 2), 8, "b"),
    ]


def test_a_wrong_date_format_is_told_one_that_reads_every_value(tmp_path):
    data = write_lines(tmp_path / "d.csv", "Date,x", "13/01/2012,1", "31/12/2012,2")
    assert str(refusal(data, date_column="Date", date_format="%m/%d/%Y")) == (
        "date column 'Date': line 2 holds '13/01/2012', which is not a date in the format %m/%d/%Y; "
        "--date-format %d/%m/%Y reads every value"
    )
    both = write_lines(tmp_path / "b.csv", "Date,x", "01/02/2012,1", "03/04/2012,2")
    assert str(refusal(both, date_column="Date")).endswith(
        "--date-format %d/%m/%Y reads every value (so does %m/%d/%Y: check which one the file means)"
    )


def test_a_header_only_file_says_it_has_no_rows(tmp_path):
    header = write_lines(tmp_path / "h.csv", "Date,x")
    assert (
        str(refusal(header, date_column="Date"))
        == "h.csv: a header line but no rows of data (columns: Date, x)"
    )
