"""Which partitions of a catalog table a window reads (domain/data/partitions.py)."""

from datetime import date

from modelops.domain.data.partitions import (
    Partition,
    PartitionKey,
    bare_name,
    catalog_name,
    date_keys,
    partitions_to_read,
)
from modelops.domain.periods import Window

DT = (PartitionKey("dt", "string"),)


def parts(*values: tuple[str, ...]) -> tuple[Partition, ...]:
    return tuple(Partition(v, "s3://b/t/" + "/".join(v) + "/") for v in values)


def read(
    keys: tuple[PartitionKey, ...], partitions: tuple[Partition, ...], start: str, end: str
) -> list[tuple[str, ...]]:
    window = Window(start=date.fromisoformat(start), end=date.fromisoformat(end))
    return [p.values for p in partitions_to_read(keys, partitions, window)]


def test_daily_partitions_are_read_from_the_window_s_first_day_on():
    """Late rows land in later partitions (a table partitioned by load day): none after the
    window's start is left out; the earlier ones are."""
    days = parts(*[(f"2025-01-{d:02d}",) for d in range(1, 32)])
    assert read(DT, days, "2025-01-10", "2025-01-12") == [(f"2025-01-{d:02d}",) for d in range(10, 32)]


def test_a_partition_named_by_an_earlier_day_runs_into_the_window():
    """Monthly partitions named by their first day: a window from the 15th reads its month's."""
    months = parts(("2025-01-01",), ("2025-02-01",), ("2025-03-01",))
    assert read(DT, months, "2025-01-15", "2025-02-10") == [("2025-01-01",), ("2025-02-01",), ("2025-03-01",)]
    assert read(DT, months, "2025-02-01", "2025-02-28") == [("2025-02-01",), ("2025-03-01",)]
    assert read(DT, months, "2025-03-01", "2025-03-31") == [("2025-03-01",)]


def test_keys_that_are_not_days_never_prune():
    """A region key is read whole; a dt key with one value that is not a day prunes nothing."""
    keys = (PartitionKey("region", "string"), PartitionKey("dt", "string"))
    both = parts(("eu", "2025-01-01"), ("us", "2025-01-01"), ("eu", "2025-02-01"), ("us", "2025-02-01"))
    assert read(keys, both, "2025-02-10", "2025-02-28") == [("eu", "2025-02-01"), ("us", "2025-02-01")]
    assert date_keys(keys, both) == [1]
    odd = parts(("2025-01-01",), ("__HIVE_DEFAULT_PARTITION__",))
    assert date_keys(DT, odd) == [] and len(read(DT, odd, "2025-02-01", "2025-02-28")) == 2
    assert date_keys((PartitionKey("dt", "int"),), parts(("2025-01-01",))) == []


def test_a_date_typed_key_prunes_and_a_window_after_every_partition_reads_the_last_one():
    keys = (PartitionKey("day", "date"),)
    both = parts(("2025-01-01",), ("2025-03-01",))
    assert read(keys, both, "2025-02-01", "2025-02-28") == [("2025-01-01",), ("2025-03-01",)]
    assert read(keys, both, "2025-04-01", "2025-04-30") == [("2025-03-01",)]  # it may run into April
    assert read(keys, parts(("2025-03-01",)), "2025-01-01", "2025-01-31") == [("2025-03-01",)]


def test_a_qualified_name_is_a_catalog_table_read_by_its_table_name():
    assert (
        catalog_name("partner.customers") == ("partner", "customers")
        and bare_name("partner.customers") == "customers"
    )
    assert catalog_name("customers") is None and bare_name("customers") == "customers"
    assert catalog_name("a.b.c") is None and catalog_name("partner.") is None


def test_each_region_keeps_its_own_partition_that_runs_into_the_window():
    """Weekly partitions per region, on different days: eu's week from 2024-12-29 runs into
    January although us has a partition on 2025-01-01."""
    keys = (PartitionKey("region", "string"), PartitionKey("dt", "string"))
    weeks = parts(("eu", "2024-12-22"), ("eu", "2024-12-29"), ("us", "2024-12-25"), ("us", "2025-01-01"))
    assert read(keys, weeks, "2025-01-01", "2025-01-31") == [("eu", "2024-12-29"), ("us", "2025-01-01")]
