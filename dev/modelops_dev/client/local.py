"""A registered version in this process: its fitted estimator (verified against its sha256),
and a DataFrame scored with it exactly as batch scoring scores the same rows.

``predict`` takes the rows the version's recipe (its SQL) returns, or any frame holding the
feature columns. It writes them to Parquet and reads them back as the stages read an extract
(``stores/tabular``), encodes them with the version's feature schema (``features.transform``,
the one encoding), and checks each value the way the online API does: a value the schema
refuses is an error naming its row, feature and why (``online.service.check_value``), or,
with ``invalid="policy"``, is treated by the feature's ``on_invalid`` policy as a scoring
run's chunk treats it. The scores come from the scikit-learn estimator, as in batch.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from modelops.domain.data import validity
from modelops.domain.data.features import FeatureError, FeatureInfo, FeatureMatrix, FeatureSchema, transform
from modelops.domain.model import estimators
from modelops.domain.spec import ModelSpec
from modelops.stores import registry

Invalid = Literal["raise", "policy"]
PREDICT_COLUMNS = ["entity_id", "score", "model_version"]


class PredictError(ValueError):
    """A frame that cannot be scored by the version (a missing column, a value it refuses)."""


@dataclass(frozen=True)
class LocalVersion:
    """A version as batch scoring uses it: the registry row, the recipe under the stored
    spec's operational sections, the feature schema and the fitted estimator."""

    record: registry.ModelVersion
    spec: ModelSpec
    schema: FeatureSchema
    estimator: Any


def load(model: str, version: str | None = None, *, servable: bool = True) -> LocalVersion:
    """The version (default: the champion), every file verified against the registry's sha256
    (an ``IntegrityError`` otherwise). ``servable``: refuse a retired version, as scoring does."""
    from modelops.stores.specs import load_spec

    if servable:
        record = registry.resolve_version(model, version)
    elif version is None:
        record = registry.resolve_version(model, None)
    else:
        record = registry.get_version(model, version)
    schema = FeatureSchema.from_dict(registry.feature_schema(record))
    spec = registry.scoring_spec(record, load_spec(model))
    return LocalVersion(record, spec, schema, registry.load_estimator(record))


def columns_of(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The frame's columns as the stages read an extract: through Parquet (DuckDB), so types,
    dates and missing values are what a scoring run's chunk holds."""
    import duckdb

    from modelops.stores import tabular

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "frame.parquet"
        connection = duckdb.connect()
        connection.register("frame", frame.reset_index(drop=True))
        copy = f"COPY (SELECT * FROM frame) TO {tabular.literal(str(path))} (FORMAT parquet)"  # nosec B608  # a literal path
        connection.execute(copy)
        connection.close()
        return tabular.read_columns(path)


def _completed(frame: pd.DataFrame, spec: ModelSpec) -> pd.DataFrame:
    """The frame with the columns the encoding needs beside the features: a frame without the
    timestamp gets a placeholder (scores never read it), one without the entity the row labels."""
    missing = [spec.column_of(name) for name in spec.features if spec.column_of(name) not in frame.columns]
    if missing:
        raise PredictError(
            f"the frame has no column {missing[0]!r} (a feature of the model; columns: "
            f"{', '.join(map(str, frame.columns))})"
        )
    completed = frame.copy()
    if spec.timestamp not in completed.columns:
        completed[spec.timestamp] = pd.Timestamp("1970-01-01")
    for column in spec.entity_columns:
        if column not in completed.columns:
            completed[column] = [str(label) for label in frame.index]
    return completed


def _refusal(info: FeatureInfo, value: Any, column: str, margin: float) -> str:
    """Why the online API would refuse the value (its own sentence)."""
    from modelops.online.service import RequestError, check_value

    item = value.item() if isinstance(value, np.generic) else value
    if item is np.ma.masked or (isinstance(item, float) and item != item):
        item = None
    try:
        check_value(info, item, column, margin)
    except RequestError as error:
        return str(error)
    return f"{column}: {item!r} is refused by the feature schema"


def encode(version: LocalVersion, frame: pd.DataFrame, invalid: Invalid = "raise") -> FeatureMatrix:
    """The frame encoded with the version's schema, checked as the online API checks a request
    (``invalid="raise"``) or with each refused value treated by its feature's policy, as in a
    scoring run's chunk (``invalid="policy"``)."""
    if invalid not in ("raise", "policy"):
        raise PredictError(f"invalid must be 'raise' or 'policy', got {invalid!r}")
    spec, schema = version.spec, version.schema
    columns = columns_of(_completed(frame, spec))
    try:
        matrix = transform(columns, spec, schema, with_outcome=False)
    except FeatureError as error:
        raise PredictError(str(error)) from None
    margin = spec.online.range_margin
    masks = {
        info.name: validity.invalid_mask(columns[spec.column_of(info.name)], matrix.X[:, j], info, margin)
        for j, info in enumerate(schema.features)
    }
    if invalid == "raise":
        refused = np.logical_or.reduce([masks[info.name] for info in schema.features])
        if refused.any():
            row = int(np.argmax(refused))
            info = next(info for info in schema.features if masks[info.name][row])
            column = spec.column_of(info.name)
            reason = _refusal(info, columns[column][row], column, margin)
            raise PredictError(
                f"row {frame.index[row]!r}: {reason} ({int(refused.sum()):,} of {len(refused):,} rows have a "
                "value the model's schema refuses; invalid='policy' treats them as a scoring run does)"
            )
    else:
        policies = {name: feature.on_invalid for name, feature in spec.features.items()}
        matrix.X = validity.apply_policies(matrix.X, masks, schema, policies, margin)
    return matrix


def predict(version: LocalVersion, frame: pd.DataFrame, invalid: Invalid = "raise") -> pd.DataFrame:
    """Each row's score by the version (entity_id, score, model_version), indexed as the frame."""
    if not isinstance(frame, pd.DataFrame):
        raise PredictError(f"predict takes a pandas DataFrame, got {type(frame).__name__}")
    matrix = encode(version, frame, invalid)
    scores = estimators.positive_scores(version.estimator, matrix.X) if matrix.rows else np.empty(0)
    return pd.DataFrame(
        {"entity_id": matrix.entity, "score": scores, "model_version": version.record.version},
        columns=PREDICT_COLUMNS,
        index=frame.index,
    )


def extract(run_id: str) -> pd.DataFrame:
    """The rows a run's SQL returned (its extract's Parquet parts, in the manifest's order)."""
    import duckdb

    from modelops.stores import layout, objects

    if not objects.exists(layout.manifest_key(run_id)):
        raise PredictError(f"run {run_id!r} has no extract (no such run, or its objects expired)")
    keys = list(dict.fromkeys(str(chunk["key"]) for chunk in objects.get_json(layout.manifest_key(run_id))))
    frames = []
    with tempfile.TemporaryDirectory() as scratch:
        for index, key in enumerate(keys):
            path = objects.download_file(key, Path(scratch) / f"part-{index}.parquet")
            with duckdb.connect() as connection:
                frames.append(connection.execute("SELECT * FROM read_parquet($p)", {"p": str(path)}).df())
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def out_of_time_rows(version: LocalVersion) -> pd.DataFrame:
    """The raw rows of the version's out-of-time test sample: its training run's extract, in
    the periods its test sample holds."""
    from modelops.domain.data.features import as_dates, period_starts
    from modelops.stores import layout, objects

    run_id = version.record.run_id
    test = FeatureMatrix.from_bytes(objects.get_bytes(layout.training_key(run_id, "test_features.npz")))
    frame = extract(run_id)
    column = version.spec.timestamp
    periods = period_starts(as_dates(frame[column].to_numpy(), column), version.spec.period)
    return frame[np.isin(periods, np.unique(test.timestamp))].reset_index(drop=True)


def compare(a: LocalVersion, b: LocalVersion, frame: pd.DataFrame) -> pd.DataFrame:
    """Both versions' metrics on the same rows, side by side (``b`` minus ``a``), and DeLong's
    one-sided p-value that ``b``'s AUC is not worse. Rows are scored as a scoring run scores
    them (refused values by each feature's policy); rows without an outcome are left out."""
    from modelops.domain.model import metrics

    outcome = b.spec.outcome
    if outcome not in frame.columns:
        raise PredictError(f"the frame has no outcome column {outcome!r} to compare the versions on")
    y = pd.to_numeric(frame[outcome], errors="coerce").to_numpy(dtype=np.float64)
    known = ~np.isnan(y)
    if len(np.unique(y[known])) < 2:
        raise PredictError(f"the frame's {outcome!r} holds one class only: AUC needs both")
    scored = {v.record.version: predict(v, frame, "policy")["score"].to_numpy()[known] for v in (a, b)}
    table = pd.DataFrame(
        {version: estimators.score_metrics(y[known], scores) for version, scores in scored.items()}
    )
    table["difference"] = table[b.record.version] - table[a.record.version]
    test = metrics.delong(y[known], scored[b.record.version], scored[a.record.version])
    table.loc["roc_auc_p_worse", "difference"] = test.p_worse
    table.index.name = "metric"
    return table
