"""The lake's Glue catalog: one Glue table per lake table, partitioned by ``period`` with
partition projection (no crawler), so Athena can query what the lake holds."""

from __future__ import annotations

from typing import Any

import numpy as np

from modelops.settings import settings
from modelops.stores import aws, layout, objects


def athena_type(values: np.ndarray) -> str:
    kind = values.dtype.kind
    if kind == "b":
        return "boolean"
    if kind in "iu":
        return "bigint"
    if kind == "f":
        return "double"
    if kind == "M":
        return "timestamp"
    return "string"


def table_input(table: str, columns: dict[str, str]) -> dict[str, Any]:
    """The Glue TableInput of a lake table (columns: name -> Athena type)."""
    location = objects.uri(layout.table_prefix(table))
    return {
        "Name": table,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {
            "classification": "parquet",
            "projection.enabled": "true",
            "projection.period.type": "date",
            "projection.period.format": "yyyy-MM-dd",
            "projection.period.range": "1900-01-01,NOW",
            "projection.period.interval": "1",
            "projection.period.interval.unit": "DAYS",
            "storage.location.template": f"{location}period=${{period}}/",
        },
        "PartitionKeys": [{"Name": "period", "Type": "string"}],
        "StorageDescriptor": {
            "Location": location,
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {
                "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
            },
            "Columns": [{"Name": name, "Type": kind} for name, kind in columns.items()],
        },
    }


def register(table: str, columns: dict[str, np.ndarray]) -> None:
    """Create or update the lake table's Glue table from a sample of its columns."""
    if not settings().lake_database:
        return  # a stack without a lake catalog (Athena unused)
    glue = aws.client("glue")
    described = table_input(table, {name: athena_type(values) for name, values in columns.items()})
    try:
        glue.create_table(DatabaseName=settings().lake_database, TableInput=described)
    except aws.AwsError as error:
        if aws.error_code(error) != "AlreadyExistsException":
            raise
        glue.update_table(DatabaseName=settings().lake_database, TableInput=described)
