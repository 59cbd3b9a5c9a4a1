"""`data load --file s3://bucket/prefix/` (issue 23): a file or a folder of parts, CSV or
Parquet, in a bucket other than the project's, loads as a local file would."""

from datetime import date
from pathlib import Path

import boto3
import duckdb
import pytest

from modelops.stores import external, lake
from modelops.stores.lake import LoadOptions

BUCKET = "company-exports"


def put(key: str, body: bytes) -> None:
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)


@pytest.fixture
def exports(sandbox):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    put("daily/part-00000.csv", b"day,x\n2020-01-01,1\n2020-01-02,NA\n")
    put("daily/part-00001.csv", b"day,x\n2020-02-01,3\n")
    put("daily/_SUCCESS", b"")
    put("one/customers.csv", b"day,x\n2020-03-01,4\n")
    return sandbox


def test_a_folder_of_csv_parts_loads_under_one_header(exports, tmp_path):
    path = external.fetch(f"s3://{BUCKET}/daily/", tmp_path)
    summary = lake.load_file("daily", path, LoadOptions())
    assert summary.rows == 3 and summary.partitions == {date(2020, 1, 1): 2, date(2020, 2, 1): 1}
    assert summary.columns[1].type == "BIGINT" and summary.columns[1].missing == 1


def test_one_object_and_a_folder_of_parquet_parts(exports, tmp_path):
    one = external.fetch(f"s3://{BUCKET}/one/customers.csv", tmp_path / "a")
    assert one.name == "customers.csv" and lake.load_file("one", one).rows == 1
    for index, month in enumerate(("2021-01-05", "2021-02-07")):
        part = tmp_path / f"p{index}.parquet"
        duckdb.sql(f"COPY (SELECT DATE '{month}' AS day, {index} AS x) TO '{part}' (FORMAT parquet)")
        put(f"parquet/part-{index}.parquet", part.read_bytes())
    folder = external.fetch(f"s3://{BUCKET}/parquet", tmp_path / "b")
    summary = lake.load_file("parts", folder)
    assert summary.partitions == {date(2021, 1, 1): 1, date(2021, 2, 1): 1}


def test_a_location_without_data_or_with_mixed_headers_is_named(exports, tmp_path):
    with pytest.raises(external.SourceError, match=f"s3://{BUCKET}/nothing/: no CSV or Parquet file there"):
        external.fetch(f"s3://{BUCKET}/nothing/", tmp_path)
    put("mixed/a.csv", b"day,x\n2020-01-01,1\n")
    put("mixed/b.csv", b"day,y\n2020-01-01,1\n")
    with pytest.raises(external.SourceError, match="its header line is not the first part's"):
        external.fetch(f"s3://{BUCKET}/mixed/", tmp_path)


def test_a_local_folder_of_parts_is_joined(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "a.csv").write_text("day,x\n2020-01-01,1\n")
    (folder / "b.csv").write_text("day,x\n2020-01-02,2\n")
    joined = external.fetch(str(folder), tmp_path)
    assert Path(joined).read_text() == "day,x\n2020-01-01,1\n2020-01-02,2\n"
