"""The score history: every score of every run, as Parquet under
``scores/model=<m>/as_of=<d>/source=<source>/``, queryable by Athena through the Glue table
``score_history`` (template.yaml).

A scoring chunk stages its part under the run's prefix; ``publish`` copies a run's staged
parts into the history (server-side copies, no rows read) once the run has passed
validation, and removes parts a previous run of the same period left beyond them.
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from modelops.stores import layout, objects, tabular

SOURCES = ("batch", "shadow", "online")


def stage_part(
    key: str,
    as_of: date,
    entity_id: np.ndarray,
    score: np.ndarray,
    model_version: str,
    run_id: str,
    scored_at: datetime,
    source: str,
) -> str:
    """One chunk's history rows as a Parquet object at ``key`` (under the run's prefix)."""
    rows = entity_id.size
    columns = {
        "entity_id": entity_id.astype(str),
        "score": score.astype(np.float64),
        "model_version": np.full(rows, model_version),
        "run_id": np.full(rows, run_id),
        "as_of": np.full(rows, np.datetime64(as_of, "us")),
        "scored_at": np.full(rows, np.datetime64(scored_at.replace(tzinfo=None), "us")),
        "source": np.full(rows, source),
    }
    with tempfile.TemporaryDirectory() as scratch:
        output = tabular.write_columns(Path(scratch) / "part.parquet", columns, order_by="entity_id")
        return objects.upload_file(output, key)


def publish(model: str, as_of: date, source: str, staged: list[str]) -> str:
    """Copy a run's staged parts into the history of (model, as_of, source), in order, and
    remove any other part there; returns the prefix."""
    prefix = layout.history_prefix(model, as_of, source)
    wanted = [layout.history_part_key(model, as_of, source, index) for index in range(len(staged))]
    for source_key, target in zip(staged, wanted, strict=True):
        objects.copy(source_key, target)
    for stale in set(objects.list_keys(prefix)) - set(wanted):
        objects.delete(stale)
    return objects.uri(prefix)


def read(
    model: str, entity_id: str | None = None, source: str | None = None, as_of: date | None = None
) -> list[dict[str, Any]]:
    """Rows of the score history, of one entity, source or period if given (here through DuckDB;
    on AWS, Athena queries the same objects)."""
    keys = [
        k
        for k in objects.list_keys(layout.history_prefix(model, as_of))
        if source is None or f"/source={source}/" in k
    ]
    if not keys:
        return []
    with tempfile.TemporaryDirectory() as scratch:
        files = [str(objects.download_file(key, Path(scratch) / key)) for key in keys]
        with tabular.cursor() as connection:
            # The file list and the entity id are bound parameters: no value is spelled in SQL.
            where = "WHERE entity_id = $entity" if entity_id else ""
            params: dict[str, Any] = {"files": files, **({"entity": entity_id} if entity_id else {})}
            query = (
                f"SELECT * FROM read_parquet($files, hive_partitioning = false) {where} "
                "ORDER BY as_of, source, entity_id"  # nosec B608  # a fixed WHERE clause; values bound
            )
            result = connection.execute(query, params)
            columns = [column[0] for column in result.description]
            rows = [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
    return rows
