"""Query engines: run a spec's SQL over the lake for a window and store the result as Parquet
parts under the run's prefix, which become the scoring Map's chunks.

DuckDB runs it in-process (locally and in Lambda) for data that fits one function; Athena
runs the same SQL with UNLOAD for data that does not. Both implement ``QueryEngine``
(``base.py``), which the pipeline gets from ``engine_for``.
"""

from __future__ import annotations

from modelops.stores.query.base import (
    Counted,
    DuplicateEntityError,
    Extract,
    NoDataError,
    Part,
    Query,
    QueryEngine,
    QueryError,
    Sample,
    bind_window,
)

__all__ = [
    "Counted",
    "DuplicateEntityError",
    "Extract",
    "NoDataError",
    "Part",
    "Query",
    "QueryEngine",
    "QueryError",
    "Sample",
    "bind_window",
    "engine_for",
]


def engine_for(name: str) -> QueryEngine:
    """The engine a spec names; each is imported only by the functions that use it."""
    if name == "duckdb":
        from modelops.stores.query.duckdb_engine import DuckDBEngine

        return DuckDBEngine()
    if name == "athena":
        from modelops.stores.query.athena import AthenaEngine

        return AthenaEngine()
    raise ValueError(f"unknown query engine {name!r}")
