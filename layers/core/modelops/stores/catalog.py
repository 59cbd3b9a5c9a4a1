"""The lake's Glue catalog: one Glue table per lake table, partitioned by ``period`` with
partition projection (no crawler), so Athena can query what the lake holds."""

from __future__ import annotations

from typing import Any

import numpy as np

from modelops.settings import settings
from modelops.stores import aws, layout, objects


def array_types(columns: dict[str, np.ndarray]) -> dict[str, str]:
    """Athena column types of NumPy columns (as the lake's Parquet files store them)."""

    def of(values: np.ndarray) -> str:
        kind = values.dtype.kind
        if kind == "M":
            return "date" if np.datetime_data(values.dtype)[0] == "D" else "timestamp"
        return {"b": "boolean", "i": "bigint", "u": "bigint", "f": "double"}.get(kind, "string")

    return {name: of(values) for name, values in columns.items()}


def sql_types(columns: dict[str, str]) -> dict[str, str]:
    """Athena column types of DuckDB-typed columns (as `data load` writes them)."""
    names = {"BIGINT": "bigint", "INTEGER": "bigint", "DOUBLE": "double", "BOOLEAN": "boolean"}
    names |= {"DATE": "date", "TIMESTAMP": "timestamp"}
    return {name: names.get(kind.upper(), "string") for name, kind in columns.items()}


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


def register(table: str, columns: dict[str, str]) -> None:
    """Create or update the lake table's Glue table (columns: name -> Athena type)."""
    if not settings().lake_database:
        return  # a stack without a lake catalog (Athena unused)
    glue = aws.client("glue")
    described = table_input(table, columns)
    try:
        glue.create_table(DatabaseName=settings().lake_database, TableInput=described)
    except aws.AwsError as error:
        if aws.error_code(error) != "AlreadyExistsException":
            raise
        glue.update_table(DatabaseName=settings().lake_database, TableInput=described)
