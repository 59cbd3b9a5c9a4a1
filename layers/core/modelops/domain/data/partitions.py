"""Tables of the Glue Data Catalog as sources (pure): a spec names one ``database.table``; the
engines read the partitions of it that may hold days the SQL sees (none named before them),
decided here from the table's own partition keys."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from modelops.domain.periods import Window

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_QUALIFIED = re.compile(rf"^({_NAME})\.({_NAME})\Z")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")
QUALIFIED_PATTERN = rf"{_NAME}\.{_NAME}"


def catalog_name(table: str) -> tuple[str, str] | None:
    """(database, table) of a qualified source name, None for a lake table's plain name."""
    match = _QUALIFIED.match(table)
    return (match.group(1), match.group(2)) if match else None


def bare_name(table: str) -> str:
    """The name the spec's SQL reads a source table by (a catalog table's, without its database)."""
    qualified = catalog_name(table)
    return qualified[1] if qualified else table


@dataclass(frozen=True)
class PartitionKey:
    name: str
    type: str  # the Glue (Hive) type: string, date, int, ...


@dataclass(frozen=True)
class Partition:
    values: tuple[str, ...]  # one per partition key, as the catalog holds them
    location: str  # s3:// folder of its files


def as_day(value: str) -> date | None:
    """A partition value as a day (``YYYY-MM-DD``), None when it is not one."""
    if not _ISO_DAY.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def date_keys(keys: tuple[PartitionKey, ...], partitions: tuple[Partition, ...]) -> list[int]:
    """The positions of the keys whose values are days: typed ``date``, or text whose every value
    reads as ``YYYY-MM-DD`` (Hive's ``dt=2025-01-31/``). Only these prune."""
    dated = []
    for index, key in enumerate(keys):
        values = [partition.values[index] for partition in partitions]
        kind = key.type.lower()
        textual = kind == "date" or kind.startswith(("string", "varchar", "char"))
        if values and textual and all(as_day(value) is not None for value in values):
            dated.append(index)
    return dated


def _kept_days(days: set[date], window: Window) -> set[date]:
    """The days of one key whose partitions may hold rows of the window: every one from the
    window's first day on, and the latest one before it unless one starts on its first day.

    A partition's date is not always its rows' date. Rows that arrive late land in a later
    partition (a table partitioned by the day it was loaded), so no partition after the window
    is left out: the SQL's own filter on the time column keeps the window. A row is never in a
    partition named before it, except that a partition named by a month's or a week's first
    day holds the days after it, hence the latest one before the window."""
    kept = {day for day in days if day >= window.start}
    earlier = [day for day in days if day < window.start]
    if earlier and window.start not in days:
        kept.add(max(earlier))
    return kept


def partitions_to_read(
    keys: tuple[PartitionKey, ...], partitions: tuple[Partition, ...], window: Window
) -> list[Partition]:
    """The partitions that may hold rows of the window's days (a closed interval): pruned on
    every key whose values are days (``date_keys``), within each combination of the other
    keys' values (one region's weekly partitions need not start where another's do); a table
    without such a key is read whole, and the spec's SQL filters it by its own time column."""
    dated = date_keys(keys, partitions)
    groups: dict[tuple[str, ...], list[Partition]] = {}
    for partition in partitions:
        others = tuple(v for i, v in enumerate(partition.values) if i not in dated)
        groups.setdefault(others, []).append(partition)
    kept: set[int] = set()
    for group in groups.values():
        days = {
            index: _kept_days({day for p in group if (day := as_day(p.values[index]))}, window)
            for index in dated
        }
        kept.update(id(p) for p in group if all(as_day(p.values[index]) in days[index] for index in dated))
    return [p for p in partitions if id(p) in kept]
