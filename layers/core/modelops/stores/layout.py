"""The bucket's key layout, in one place.

```
specs/<model>.yaml                                   model specs
data/<table>/period=<YYYY-MM-DD>/part-<n>.parquet    the data lake (period: its first day)
data/<table>/_table.json                             the table's period (hidden from Athena: "_")
runs/<run_id>/spec/<sha256>.yaml                     the spec a run started with (pinned)
runs/<run_id>/raw/part-<n>.parquet                   a run's extract, in parts
runs/<run_id>/features/..., runs/<run_id>/*          a training run's objects
runs/<run_id>/chunks/<index>/...                     a scoring chunk's objects
runs/<run_id>/publication-parts/part-<n>.json.gz     a bulk publication's import source
models/<model>/<version>/{model.joblib,fast.npz,metadata.json,recipe.yaml}         the model store
models/<model>/<version>/{performance.json,metrics.json}    its calibration and figures
scores/model=<model>/as_of=<YYYY-MM-DD>/source=<source>/part-<n>.parquet   the score history
reports/<model>/drift.html                           the drift report
```

template.yaml must agree with two of these: the Glue table's location of the score history,
and the scoring state machine's ItemReader, which reads the chunk manifest's key from the
stage document (tests check both).
"""

from __future__ import annotations

import re
from datetime import date

_PARTITION = re.compile(r"/period=(\d{4}-\d{2}-\d{2})/")


SPECS_PREFIX = "specs/"


def spec_key(model: str) -> str:
    return f"{SPECS_PREFIX}{model}.yaml"


def spec_model(key: str) -> str | None:
    """The model whose spec a key holds, or None for any other key."""
    if key.startswith(SPECS_PREFIX) and key.endswith(".yaml") and "/" not in key[len(SPECS_PREFIX) :]:
        return key[len(SPECS_PREFIX) : -len(".yaml")]
    return None


# ---------------------------------------------------------------- the lake
def table_prefix(table: str) -> str:
    return f"data/{table}/"


def table_info_key(table: str) -> str:
    """What a table's loads agreed on (its period); no partition key matches it."""
    return f"{table_prefix(table)}_table.json"


def partition_key(table: str, period: date, part: int = 0) -> str:
    return f"{table_prefix(table)}period={period.isoformat()}/part-{part:05d}.parquet"


def partition_period(key: str) -> date | None:
    """The period of a lake partition's key, or None for any other key."""
    match = _PARTITION.search(key)
    return date.fromisoformat(match.group(1)) if match else None


# ---------------------------------------------------------------- a run's objects
def run_prefix(run_id: str) -> str:
    return f"runs/{run_id}/"


def pinned_spec_key(run_id: str, sha256: str) -> str:
    """The spec a run started with (by its sha256: a re-run with another spec pins that one)."""
    return f"{run_prefix(run_id)}spec/{sha256}.yaml"


def plan_key(run_id: str) -> str:
    """The run as first planned: a re-run of the same run id reuses it."""
    return f"{run_prefix(run_id)}run.json"


def raw_prefix(run_id: str) -> str:
    return f"{run_prefix(run_id)}raw/"


def raw_part_key(run_id: str, index: int) -> str:
    return f"{raw_prefix(run_id)}part-{index:05d}.parquet"


def schema_key(run_id: str) -> str:
    return f"{run_prefix(run_id)}schema.json"


def manifest_key(run_id: str) -> str:
    """The extract's chunks: a JSON array the scoring Map's ItemReader reads directly."""
    return f"{raw_prefix(run_id)}manifest.json"


def features_manifest_key(run_id: str) -> str:
    """A training run's feature chunks."""
    return f"{run_prefix(run_id)}features/manifest.json"


def feature_chunk_key(run_id: str, index: int) -> str:
    return f"{run_prefix(run_id)}features/part-{index:05d}.npz"


def chunk_key(run_id: str, index: int, name: str) -> str:
    """A scoring chunk's objects: features.npz, feature_sketch.npz, scores.npz,
    score_sketch.npz, history.parquet, receipt.json."""
    return f"{run_prefix(run_id)}chunks/{index:05d}/{name}"


def publication_parts_prefix(run_id: str) -> str:
    """A bulk publication's import source: one DynamoDB JSON part per chunk, nothing else."""
    return f"{run_prefix(run_id)}publication-parts/"


def publication_part_key(run_id: str, index: int) -> str:
    return f"{publication_parts_prefix(run_id)}part-{index:05d}.json.gz"


def publication_import_key(run_id: str) -> str:
    """Which import fills the run's publication table (outside the import's source prefix)."""
    return f"{run_prefix(run_id)}publication-import.json"


def run_key(run_id: str, name: str) -> str:
    """Any other object of a run, by name under its prefix."""
    return f"{run_prefix(run_id)}{name}"


def training_key(run_id: str, name: str) -> str:
    """train_model's outputs: model.joblib, fast.npz, test_scores.npz, test_features.npz,
    training.json, performance.json, metrics.json."""
    return f"{run_prefix(run_id)}{name}"


# ---------------------------------------------------------------- the model store
def model_prefix(model: str, version: str) -> str:
    return f"models/{model}/{version}/"


def model_artifact_key(model: str, version: str) -> str:
    return f"{model_prefix(model, version)}model.joblib"


def model_fast_key(model: str, version: str) -> str:
    return f"{model_prefix(model, version)}fast.npz"


def model_metadata_key(model: str, version: str) -> str:
    return f"{model_prefix(model, version)}metadata.json"


def model_recipe_key(model: str, version: str) -> str:
    """The spec the version was trained with (its recipe)."""
    return f"{model_prefix(model, version)}recipe.yaml"


def model_performance_key(model: str, version: str) -> str:
    """The version's calibration and its test sample's performance per period."""
    return f"{model_prefix(model, version)}performance.json"


def model_metrics_key(model: str, version: str) -> str:
    """The figures of the version's report on its test sample (curves, deciles, importance)."""
    return f"{model_prefix(model, version)}metrics.json"


# ---------------------------------------------------------------- scores and reports
def history_prefix(model: str, as_of: date | None = None, source: str | None = None) -> str:
    """The score history of a model, of one of its periods, or of one source in it."""
    prefix = f"scores/model={model}/"
    if as_of is not None:
        prefix += f"as_of={as_of.isoformat()}/"
        if source is not None:
            prefix += f"source={source}/"
    return prefix


def history_part_key(model: str, as_of: date, source: str, index: int) -> str:
    return f"{history_prefix(model, as_of, source)}part-{index:05d}.parquet"


# The Glue table's storage.location.template in template.yaml, as CloudFormation resolves it.
HISTORY_LOCATION_TEMPLATE = "scores/model=${model}/as_of=${as_of}/source=${source}/"


def report_key(model: str) -> str:
    return f"reports/{model}/drift.html"
