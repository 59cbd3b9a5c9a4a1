"""A table of the Glue Data Catalog that other code wrote (Hive-style ``dt=YYYY-MM-DD/``
Parquet in its own bucket, registered with its own partitions) as a spec's source: trained on
and scored, every call within the roles the template gives with SourceDatabases and
SourceBuckets set, and nothing of it readable without them."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import boto3
import numpy as np
import yaml

from modelops_dev.demo import synthetic
from modelops_dev.sandbox import Sandbox
from tests.helpers import churn_spec, event, invoke_raw, score, train
from tests.states import LAKE

LAKE_ROWS = {str(month): int(columns["customer_id"].size) for month, columns in synthetic.generate(LAKE)}

DATABASE, TABLE, BUCKET = "partner", "customers_ext", "partner-warehouse"
PREFIX = f"s3://{BUCKET}/exports/{TABLE}/"
GLUE_TYPES = {"M": "date", "i": "bigint", "f": "double", "b": "boolean"}
SQL = f"""SELECT customer_id, snapshot_month, tenure_months, age, region, plan, contract,
       monthly_charges, data_usage_gb, support_calls, late_payments,
       CAST(churned_next_month AS INTEGER) AS churned_next_month
FROM {TABLE}
WHERE snapshot_month BETWEEN $start AND $end
"""


def write_foreign_table(late: int = 0) -> list[str]:
    """The demo's months as another team would export them: one ``dt=<month>/`` folder of
    Parquet each in its own bucket, a Glue table over them with partition key dt (a string),
    each partition registered; the dt values written. ``late`` rows of September arrived late
    and sit in October's partition (the table is partitioned by the month it was loaded)."""
    from modelops.stores import tabular

    s3, glue = boto3.client("s3"), boto3.client("glue")
    s3.create_bucket(Bucket=BUCKET)
    months = synthetic.generate(LAKE)
    if late:
        tables = dict(months)
        september, october = tables[date(2025, 9, 1)], tables[date(2025, 10, 1)]
        for name in september:
            october[name] = np.concatenate([september[name][-late:], october[name]])
            september[name] = september[name][:-late]
    with tempfile.TemporaryDirectory() as scratch:
        for month, columns in months:
            path = tabular.write_columns(Path(scratch) / f"{month}.parquet", columns)
            s3.upload_file(str(path), BUCKET, f"exports/{TABLE}/dt={month}/part-00000.parquet")
        s3.put_object(Bucket=BUCKET, Key=f"exports/{TABLE}/_SUCCESS", Body=b"")
    columns = months[0][1]
    descriptor = {
        "Location": PREFIX,
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
        "Columns": [
            {"Name": name, "Type": GLUE_TYPES.get(values.dtype.kind, "string")}
            for name, values in columns.items()
        ],
    }
    glue.create_database(DatabaseInput={"Name": DATABASE})
    glue.create_table(
        DatabaseName=DATABASE,
        TableInput={
            "Name": TABLE,
            "TableType": "EXTERNAL_TABLE",
            "PartitionKeys": [{"Name": "dt", "Type": "string"}],
            "StorageDescriptor": descriptor,
        },
    )
    for month, _ in months:
        glue.create_partition(
            DatabaseName=DATABASE,
            TableName=TABLE,
            PartitionInput={
                "Values": [str(month)],
                "StorageDescriptor": {**descriptor, "Location": f"{PREFIX}dt={month}/"},
            },
        )
    return [str(month) for month, _ in months]


def put_partner_spec(**source: str) -> None:
    from modelops.stores.specs import store_spec

    document = churn_spec(name="partner", source={"tables": [f"{DATABASE}.{TABLE}"], "sql": SQL, **source})
    store_spec(yaml.safe_dump(document, sort_keys=False), source="test spec")


def read_keys(sandbox: Sandbox, since: int, principal: str) -> set[str]:
    """The source objects ``principal`` read (s3:GetObject) since call ``since``."""
    assert sandbox.iam is not None
    return {
        c.request.resource.split(f"/{TABLE}/", 1)[1].split("/", 1)[0]
        for c in sandbox.iam.calls[since:]
        if c.principal == principal
        and c.request.action == "s3:GetObject"
        and f":::{BUCKET}/" in c.request.resource
    }


def test_a_catalog_table_written_by_other_code_is_trained_on_and_scored_within_the_roles(sandbox: Sandbox):
    assert sandbox.iam is not None
    months = write_foreign_table(late=25)
    put_partner_spec()
    with sandbox.parameters(SourceDatabases=DATABASE, SourceBuckets=BUCKET):
        before = len(sandbox.iam.calls)
        trained = train(sandbox, model="partner")
        window = trained.output["run"]["window"]
        # The partitions from the window's first month on (late rows land in later ones).
        read = sorted(day.removeprefix("dt=") for day in read_keys(sandbox, before, "GetDataFunction"))
        wanted = [m for m in months if window["start"] <= m <= window["end"]]
        assert read == [m for m in months if m >= window["start"]] and len(wanted) == 8
        extracted = trained.output["results"]["get_data"]
        reconciled = extracted["reconciliation"]
        assert reconciled["table"] == f"{DATABASE}.{TABLE}" and reconciled["column"] == "snapshot_month"
        assert reconciled["source_rows"] == reconciled["extracted_rows"] > 0 and not reconciled["warnings"]
        assert trained.output["results"]["deploy_model"]["version"] == "1.0.0"

        before = len(sandbox.iam.calls)
        scored = score(sandbox, model="partner")
        assert read_keys(sandbox, before, "GetDataFunction") == {
            f"dt={m}" for m in months if m >= "2025-09-01"
        }
        # Every customer of September, the 25 that arrived in October's partition too.
        assert scored.output["results"]["get_data"]["matched"] == LAKE_ROWS["2025-09-01"]
        catalog_calls = {
            (c.principal, c.request.action)
            for c in sandbox.iam.calls[before:]
            if c.request.resource.endswith(f"table/{DATABASE}/{TABLE}")
        }
        assert {
            ("GetDataFunction", "glue:GetTable"),
            ("GetDataFunction", "glue:GetPartitions"),
        } <= catalog_calls
        assert sandbox.iam.denied() == []


def test_without_the_parameters_the_catalog_table_is_not_readable(sandbox: Sandbox):
    """The stack deployed without SourceDatabases grants nothing on the catalog table: its
    get_data fails with AccessDenied, as on AWS."""
    assert sandbox.iam is not None
    write_foreign_table()
    put_partner_spec()
    request = event("get_data")
    request["request"]["model"] = "partner"
    with sandbox.iam.isolated() as calls:
        error, failed = invoke_raw(sandbox, "GetDataFunction", request)
    assert failed and "AccessDenied" in error["errorMessage"]
    [denied] = [c for c in calls if not c.allowed][:1]
    assert denied.request.action == "glue:GetTable" and f"/{DATABASE}" in denied.request.resource


def test_a_table_of_csv_files_is_refused_by_the_duckdb_engine_in_one_line(sandbox: Sandbox):
    """DuckDB reads a catalog table's Parquet files; a CSV table is named as such (Athena reads
    it), and Spark's _temporary attempts are never read as data."""
    from modelops.domain.data.partitions import Partition
    from modelops.stores.query import sources

    write_foreign_table()
    glue = boto3.client("glue")
    table = glue.get_table(DatabaseName=DATABASE, Name=TABLE)["Table"]
    text = "org.apache.hadoop.mapred.TextInputFormat"
    serde = {"SerializationLibrary": "csv"}
    descriptor = {**table["StorageDescriptor"], "InputFormat": text, "SerdeInfo": serde}
    glue.update_table(
        DatabaseName=DATABASE,
        TableInput={"Name": TABLE, "PartitionKeys": table["PartitionKeys"], "StorageDescriptor": descriptor},
    )
    put_partner_spec()
    request = event("get_data")
    request["request"]["model"] = "partner"
    with sandbox.parameters(SourceDatabases=DATABASE, SourceBuckets=BUCKET):
        error, failed = invoke_raw(sandbox, "GetDataFunction", request)
    assert failed and error["errorType"] == "QueryError"
    assert f"table '{DATABASE}.{TABLE}' is stored as {text} csv" in error["errorMessage"]
    attempt = f"exports/{TABLE}/dt=2025-09-01/_temporary/0/part-1.parquet"
    boto3.client("s3").put_object(Bucket=BUCKET, Key=attempt)
    september = Partition(("2025-09-01",), f"{PREFIX}dt=2025-09-01/")
    with tempfile.TemporaryDirectory() as scratch:
        read = sources.download(september, Path(scratch))
    assert [path.name for path in read] == ["part-00000.parquet"]


def test_spec_check_checks_a_spec_against_the_catalog_table(sandbox: Sandbox, tmp_path, monkeypatch, capsys):
    """`spec check --lake` runs the spec's query over the catalog table (its newest date
    partition sets the window): a misspelled column is named, the right spec passes."""
    from modelops_dev.cli import main, spec

    write_foreign_table()
    monkeypatch.setattr(spec, "connect", lambda endpoint: None)  # the embedded sandbox already
    good = tmp_path / "partner.yaml"
    document = churn_spec(name="partner", source={"tables": [f"{DATABASE}.{TABLE}"], "sql": SQL})
    good.write_text(yaml.safe_dump(document, sort_keys=False))
    assert main(["spec", "check", str(good), "--lake"]) == 0
    printed = capsys.readouterr().out
    assert "2025-05-01 … 2025-12-31" in printed and "ok: every period is complete" in printed
    misspelled = tmp_path / "misspelled.yaml"
    document["features"]["late_payment"] = document["features"].pop("late_payments")
    misspelled.write_text(yaml.safe_dump(document, sort_keys=False))
    assert main(["spec", "check", str(misspelled), "--lake"]) == 1
    assert "'late_payment'" in capsys.readouterr().out


def test_athena_reads_the_catalog_table_by_name_as_duckdb_does(sandbox: Sandbox):
    """The training extract of both engines: the same rows per period, Athena's SQL naming
    the catalog table and the dt values from the window's start on."""
    write_foreign_table()
    request = event("get_data")
    request["request"]["model"] = "partner"
    extracted = {}
    with sandbox.parameters(SourceDatabases=DATABASE, SourceBuckets=BUCKET):
        for engine in ("duckdb", "athena"):
            put_partner_spec(engine=engine)
            body, failed = invoke_raw(sandbox, "GetDataFunction", request)
            assert not failed, body
            extracted[engine] = body["results"]["get_data"]
    assert extracted["athena"]["matched"] == extracted["duckdb"]["matched"] > 0
    assert extracted["athena"]["reconciliation"] == extracted["duckdb"]["reconciliation"]
    athena = boto3.client("athena")
    queries = [
        athena.get_query_execution(QueryExecutionId=execution)["QueryExecution"]["Query"]
        for page in athena.get_paginator("list_query_executions").paginate()
        for execution in page["QueryExecutionIds"]
    ]
    unload = next(q for q in queries if q.startswith("UNLOAD"))
    # From the window's first month on: rows that arrived late sit in later partitions.
    assert f'"{DATABASE}"."{TABLE}" WHERE "dt" IN (' in unload and "'2025-12-01'" in unload
