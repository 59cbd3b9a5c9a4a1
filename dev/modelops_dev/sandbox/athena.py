"""Athena in the sandbox: moto records queries but runs none, so StartQueryExecution is
replaced by DuckDB over the same S3 objects the Glue tables point at.

What the emulation covers is what modelops sends: SELECT queries over tables named
``"<database>"."<table>"`` (Glue tables whose location template ends in
``period=${period}/``), and ``UNLOAD (...) TO 's3://…/' WITH (format = 'PARQUET', ...)``.
SELECT results are answered by GetQueryResults in Athena's shape (a header row, then the
rows, as strings); UNLOAD writes Parquet parts under the target prefix, several when the
result is large, as Athena does. Athena functions the engine uses are defined as DuckDB
macros (``xxhash64``, ``to_utf8``). One deviation, documented: a query that fails is refused
at StartQueryExecution (InvalidRequestException, with DuckDB's message) instead of reaching
a FAILED state; the engine handles both.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import boto3

UNLOAD = re.compile(
    r"^\s*UNLOAD\s*\((?P<query>.*)\)\s*TO\s*'(?P<target>s3://[^']+)'\s*WITH\s*\((?P<options>[^)]*)\)\s*$",
    re.S | re.I,
)
TABLE = re.compile(r'"(?P<database>[A-Za-z0-9_-]+)"\."(?P<table>[A-Za-z0-9_]+)"')
UNLOAD_PART_ROWS = 250_000  # Athena splits large results across files; so does the emulation


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _download_table(database: str, table: str, workdir: Path) -> tuple[list[str], dict[str, str]]:
    """The Parquet files of a Glue table's partitions, downloaded, with the partition in the
    path (Hive's ``key=value/``), and the DuckDB types of its partition keys (Glue's)."""
    from modelops.stores.query.sources import DUCKDB_TYPES

    described = boto3.client("glue").get_table(DatabaseName=database, Name=table)["Table"]
    keys = {
        key["Name"]: DUCKDB_TYPES.get(str(key.get("Type", "string")).lower(), "VARCHAR")
        for key in described.get("PartitionKeys", [])
    }
    bucket, prefix = _split(described["StorageDescriptor"]["Location"])
    s3 = boto3.client("s3")
    files = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if item["Key"].endswith(".parquet"):
                path = workdir / database / item["Key"]
                path.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(bucket, item["Key"], str(path))
                files.append(str(path))
    return files, keys


def run_query(sql: str) -> tuple[list[str], list[list[Any]]] | None:
    """Run an Athena query with DuckDB: (column names, rows) of a SELECT, None for an UNLOAD."""
    from modelops.stores import tabular

    unload = UNLOAD.match(sql)
    query = unload.group("query") if unload else sql
    with tempfile.TemporaryDirectory() as scratch, tabular.connect() as connection:
        workdir = Path(scratch)
        connection.execute("CREATE MACRO to_utf8(x) AS CAST(x AS VARCHAR)")
        connection.execute("CREATE MACRO xxhash64(x) AS hash(x)")
        for database, table in sorted({(m["database"], m["table"]) for m in TABLE.finditer(query)}):
            files, keys = _download_table(database, table, workdir)
            name = f"{tabular.quote(database)}.{tabular.quote(table)}"
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {tabular.quote(database)}")
            types = ", ".join(f"{tabular.literal(k)}: {tabular.literal(t)}" for k, t in keys.items())
            source = (
                f"read_parquet({tabular.literal_list(files)}, hive_partitioning = true, "
                f"union_by_name = true{f', hive_types = {{{types}}}' if keys else ''})"
                if files
                else "(SELECT NULL AS period WHERE false)"
            )
            view = f"CREATE VIEW {name} AS SELECT * FROM {source}"  # nosec B608  # quoted names, literals
            connection.execute(view)
        if unload is None:
            result = connection.execute(query)
            return [c[0] for c in result.description], result.fetchall()
        connection.execute(f"CREATE TABLE unloaded AS {query}")
        rows = int(connection.execute("SELECT count(*) FROM unloaded").fetchone()[0])
        bucket, prefix = _split(unload.group("target"))
        s3 = boto3.client("s3")
        for index, offset in enumerate(range(0, max(rows, 1), UNLOAD_PART_ROWS)):
            output = workdir / f"part-{index}.parquet"
            connection.execute(
                f"COPY (SELECT * FROM unloaded ORDER BY rowid LIMIT {UNLOAD_PART_ROWS} OFFSET {offset}) "
                f"TO {tabular.literal(str(output))} (FORMAT parquet)"  # nosec B608  # numbers, a literal
            )
            s3.upload_file(str(output), bucket, f"{prefix.rstrip('/')}/unload-{index:05d}.parquet")
    return None


def _as_results(columns: list[str], rows: list[list[Any]]) -> Any:
    from moto.athena.models import QueryResults

    def cell(value: Any) -> dict[str, str]:
        return {} if value is None else {"VarCharValue": str(value)}

    header = {"Data": [{"VarCharValue": name} for name in columns]}
    body = [{"Data": [cell(value) for value in row]} for row in rows]
    info = [{"Name": name, "Label": name, "Type": "varchar"} for name in columns]
    return QueryResults(rows=[header, *body], column_info=info)


@contextmanager
def emulated() -> Iterator[None]:
    """Patch moto's Athena backend so that queries run (see the module's docstring)."""
    from moto.athena.models import AthenaBackend
    from moto.core.exceptions import JsonRESTError

    original = AthenaBackend.start_query_execution

    def start_query_execution(backend: Any, query: str, *args: Any, **kwargs: Any) -> str:
        try:
            answered = run_query(query)
        except Exception as error:  # noqa: BLE001 - every engine error is Athena's refusal
            raise JsonRESTError("InvalidRequestException", f"{type(error).__name__}: {error}") from None
        execution_id: str = original(backend, query, *args, **kwargs)
        if answered is not None:
            backend.query_results[execution_id] = _as_results(*answered)
        return execution_id

    with mock.patch.object(AthenaBackend, "start_query_execution", start_query_execution):
        yield
