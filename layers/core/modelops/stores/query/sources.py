"""Tables of the Glue Data Catalog that other code wrote (a spec's ``database.table``): their
location, partition keys and partitions (GetTable, GetPartitions), the partitions a window
reads (``domain/data/partitions.py``), and their Parquet files, in whatever bucket they are."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from modelops.domain.data.partitions import Partition, PartitionKey, catalog_name, partitions_to_read
from modelops.domain.periods import Window
from modelops.stores import aws
from modelops.stores.external import split_uri
from modelops.stores.query.base import NoDataError, QueryError

# Glue (Hive) types of partition keys as DuckDB types; any other reads as text.
DUCKDB_TYPES = {
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "tinyint": "INTEGER",
    "smallint": "INTEGER",
    "int": "INTEGER",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
}


@dataclass(frozen=True)
class CatalogTable:
    database: str
    name: str
    location: str  # s3:// folder (the table's StorageDescriptor)
    keys: tuple[PartitionKey, ...]
    partitions: tuple[Partition, ...]  # empty for a table without partition keys
    storage: str = ""  # the table's input format and SerDe, as the catalog names them

    @property
    def parquet(self) -> bool:
        return "parquet" in self.storage.lower()

    def in_window(self, window: Window) -> list[Partition]:
        """The partitions holding days of the window (the whole table, unpartitioned)."""
        if not self.keys:
            return [Partition((), self.location)]
        kept = partitions_to_read(self.keys, self.partitions, window)
        if not kept:
            raise NoDataError(
                f"table {self.database}.{self.name} has no partitions between {window.start} and {window.end}"
            )
        return kept


def describe(table: str) -> CatalogTable:
    """The catalog table a spec names (``database.table``), with its partitions."""
    qualified = catalog_name(table)
    if qualified is None:
        raise ValueError(f"{table!r} is not a catalog table's database.table")
    database, name = qualified
    glue = aws.client("glue")
    try:
        described = glue.get_table(DatabaseName=database, Name=name)["Table"]
    except aws.AwsError as error:
        if aws.error_code(error) == "EntityNotFoundException":
            raise QueryError(f"table {table!r} is not in the Glue Data Catalog") from None
        raise
    keys = tuple(PartitionKey(k["Name"], k.get("Type", "string")) for k in described.get("PartitionKeys", []))
    partitions: list[Partition] = []
    if keys:
        pages = glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=name)
        partitions = [
            Partition(tuple(p["Values"]), p["StorageDescriptor"]["Location"])
            for page in pages
            for p in page["Partitions"]
        ]
    descriptor = described["StorageDescriptor"]
    serde = descriptor.get("SerdeInfo", {}).get("SerializationLibrary", "")
    storage = f"{descriptor.get('InputFormat', '')} {serde}"
    ordered = tuple(sorted(partitions, key=lambda p: p.values))
    return CatalogTable(database, name, descriptor["Location"], keys, ordered, storage)


def download(partition: Partition, workdir: Path) -> list[Path]:
    """A partition's Parquet files (Spark's _SUCCESS and hidden files left out), downloaded."""
    bucket, prefix = split_uri(partition.location.rstrip("/") + "/")
    s3 = aws.client("s3")
    files = []
    root = (workdir / bucket).resolve()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            key = item["Key"]
            # Spark's _SUCCESS, _temporary/ attempts and hidden files are not the table's data.
            parts = key[len(prefix) :].split("/")
            if key.endswith("/") or any(part.startswith(("_", ".")) for part in parts):
                continue
            path = workdir / bucket / key
            if not path.resolve().is_relative_to(root):
                raise QueryError(f"object s3://{bucket}/{key} names a path outside its folder")
            path.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, key, str(path))
            files.append(path)
    return files
