"""What every query engine shares: the query (the spec's SQL for a window), the extract it
writes (Parquet parts under the run's prefix), the errors, and how $start/$end are bound."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from modelops.domain.periods import Window


class NoDataError(ValueError):
    """The window selects no data."""


class DuplicateEntityError(ValueError):
    """An entity appears more than once in a period that is scored once per entity."""


class QueryError(ValueError):
    """The spec's SQL does not run; the message is the engine's first line."""


@dataclass(frozen=True)
class Sample:
    """Keep at most ``rows`` rows, the same share of every (period, outcome) stratum, chosen by
    a hash of the entity so a re-run keeps the same rows."""

    rows: int
    strata: tuple[str, ...]
    key: tuple[str, ...]  # the columns that name an entity
    seed: int


@dataclass(frozen=True)
class Query:
    sql: str  # the spec's SQL, with $start and $end
    tables: list[str]
    window: Window
    part_rows: int  # at most this many rows per Parquet part
    sample: Sample | None = None
    unique: tuple[str, ...] = ()  # columns whose values must not repeat (the entity, when scoring)


@dataclass(frozen=True)
class Part:
    key: str
    rows: int


@dataclass(frozen=True)
class Extract:
    parts: list[Part]
    columns: list[str]
    rows: int  # after sampling
    matched: int  # rows the query returned, before sampling


class QueryEngine(Protocol):
    def extract(self, query: Query, destination_prefix: str) -> Extract:
        """Run the query for its window; store the result as Parquet parts under the prefix."""
        ...


def bind_window(sql: str, window: Window) -> str:
    """The spec's SQL with $start and $end as date literals (both engines read them alike)."""
    for name, day in (("start", window.start), ("end", window.end)):
        sql = re.sub(rf"\${name}\b", f"DATE '{day.isoformat()}'", sql)
    return sql
