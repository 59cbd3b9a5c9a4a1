"""The score history: every score of every run, as Parquet under ``scores/model=<m>/as_of=<d>/``,
queryable by Athena through the Glue table ``score_history`` (template.yaml)."""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from modelops.stores import layout, objects, tabular


def write(
    model: str,
    as_of: date,
    entity_id: np.ndarray,
    score: np.ndarray,
    model_version: str,
    run_id: str,
    scored_at: datetime,
) -> str:
    """One Parquet object per (model, as_of): one PUT, so readers see all of it or none,
    and a re-run of the same run replaces it."""
    rows = entity_id.size
    columns = {
        "entity_id": entity_id.astype(str),
        "score": score.astype(np.float64),
        "model_version": np.full(rows, model_version),
        "run_id": np.full(rows, run_id),
        "as_of": np.full(rows, np.datetime64(as_of, "us")),
        "scored_at": np.full(rows, np.datetime64(scored_at.replace(tzinfo=None), "us")),
        "source": np.full(rows, "batch"),
    }
    with tempfile.TemporaryDirectory() as scratch:
        output = tabular.write_columns(Path(scratch) / "scores.parquet", columns, order_by="entity_id")
        return objects.upload_file(output, layout.history_key(model, as_of))


def read(model: str, entity_id: str | None = None) -> list[dict[str, Any]]:
    """Rows of the score history (locally; on AWS, Athena queries the same objects)."""
    keys = objects.list_keys(layout.history_prefix(model))
    if not keys:
        return []
    with tempfile.TemporaryDirectory() as scratch:
        files = [str(objects.download_file(key, Path(scratch) / key)) for key in keys]
        with tabular.connect() as connection:
            where, params = ("WHERE entity_id = $entity", {"entity": entity_id}) if entity_id else ("", {})
            # The files are this function's own temporary copies; the entity id is bound.
            query = f"SELECT * FROM read_parquet({files!r}) {where} ORDER BY as_of, entity_id"  # nosec B608
            result = connection.execute(query, params)
            columns = [column[0] for column in result.description]
            rows = [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
    return rows
