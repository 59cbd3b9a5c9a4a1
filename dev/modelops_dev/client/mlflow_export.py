"""A registered version as an MLflow model directory (`modelops models export --format mlflow`).

The directory holds the version's files under ``modelops/`` (model.joblib, verified against the
registry's sha256 when written and again when loaded; the spec it is scored with; its feature
schema; its registry record and recipe) and the code that scores them (``code/``: the library
and this module). Its MLmodel names a ``python_function`` flavor whose loader is this module's
``_load_pyfunc``: a DataFrame is scored by ``local.predict``, the encoding, checks and estimator
of batch scoring, so ``mlflow.pyfunc.load_model(DIR).predict(frame)`` gives batch's scores
(``params={"invalid": "policy"}``: refused values treated as a scoring run treats them).

The input signature lists the feature schema's columns (required; a count with missing values
at training is a double, as a pandas integer column with a missing value is) and the entity
columns (optional: without them a row is labelled by the frame's index). MLflow checks a frame
against it before the model sees it, more strictly than ``local.predict``: a categorical
feature's column is text (a frame holding its categories as numbers casts them with
``astype(str)`` first), and a numeric one holding whole numbers as integers is cast to float.

mlflow is a developer requirement only, never in a layer: it is imported by the functions that
use it, and its absence is a one-line error.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from modelops_dev.client import local
from modelops_dev.client.inputs import RequestError

MISSING = "mlflow is not installed: pip install mlflow-skinny"
LOADER = "modelops_dev.client.mlflow_export"
DATA = "modelops"  # the version's files, inside the model directory
COLUMN_TYPES = {"numeric": "double", "count": "long", "categorical": "string", "boolean": "boolean"}
# What the scoring code imports beside the libraries the version was trained with.
SCORING_LIBRARIES = ("pandas", "scipy", "duckdb", "pydantic", "PyYAML", "boto3")
# The developer-side modules the loader needs (the rest of modelops_dev stays out).
DEV_MODULES = (
    "__init__.py", "client/__init__.py", "client/inputs.py", "client/local.py", "client/mlflow_export.py",
)  # fmt: skip


def mlflow_module() -> Any:
    """mlflow, or a RequestError saying how to install it."""
    try:
        import mlflow
        import mlflow.pyfunc
    except ImportError:
        raise RequestError(MISSING) from None
    return mlflow


@dataclass(frozen=True)
class Exported:
    model: str
    version: str
    path: str
    inputs: list[str]  # the signature's input columns


def column_type(info: Any) -> str:
    """The MLflow type of a feature's input column."""
    if info.type == "count" and info.missing_share > 0:
        return "double"
    return COLUMN_TYPES[info.type]


def signature(version: local.LocalVersion) -> Any:
    """The feature schema's input columns, the entity columns (optional), the output columns
    of ``local.predict`` and the ``invalid`` parameter."""
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import ColSpec, ParamSchema, ParamSpec, Schema

    spec = version.spec
    features: list[Any] = [
        ColSpec(column_type(info), spec.column_of(info.name)) for info in version.schema.features
    ]
    entity = [ColSpec("string", column, required=False) for column in spec.entity_columns]
    outputs: list[Any] = [
        ColSpec("string", "entity_id"), ColSpec("double", "score"), ColSpec("string", "model_version"),
    ]  # fmt: skip
    return ModelSignature(
        inputs=Schema([*features, *entity]),
        outputs=Schema(outputs),
        params=ParamSchema([ParamSpec("invalid", "string", "raise")]),
    )


def requirements(metadata: dict[str, Any]) -> list[str]:
    """The libraries the version was trained with (scikit-learn, joblib, numpy), and those the
    scoring code imports at this environment's versions."""
    trained = {name: v for name, v in metadata.get("libraries", {}).items() if name != "python"}
    found = dict(trained)
    for name in SCORING_LIBRARIES:
        try:
            found.setdefault(name, importlib.metadata.version(name))
        except importlib.metadata.PackageNotFoundError:
            continue
    return [f"{name}=={found[name]}" for name in sorted(found, key=str.lower)]


def _stage_code(root: Path) -> list[str]:
    """The library (modelops) and the loader's developer-side modules, copied under ``root``."""
    import modelops
    import modelops_dev

    library = root / "modelops"
    shutil.copytree(Path(modelops.__file__).parent, library, ignore=shutil.ignore_patterns("__pycache__"))
    dev_root = Path(modelops_dev.__file__).parent
    for name in DEV_MODULES:
        target = root / "modelops_dev" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dev_root / name, target)
    return [str(library), str(root / "modelops_dev")]


def refuse_existing(out: Path) -> None:
    """A RequestError if ``out`` is a file or a directory holding anything."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RequestError(f"{out} already exists and is not empty: export into a new directory")


def export(model: str, version: str | None, out: str | Path) -> Exported:
    """Write the version (default: the champion; never a retired one) as an MLflow model
    directory at ``out`` (new, or empty)."""
    from modelops.stores import registry

    mlflow = mlflow_module()
    target = Path(out)
    refuse_existing(target)
    try:
        this = local.load(model, version)
    except (registry.UnknownVersion, registry.RetiredVersion) as error:
        raise RequestError(str(error)) from None
    record = this.record
    metadata = registry.verified_metadata(record)
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch) / DATA
        data.mkdir()
        (data / "model.joblib").write_bytes(registry.verified_artifact(record))
        (data / "spec.json").write_text(json.dumps(this.spec.model_dump(mode="json"), indent=1))
        (data / "feature_schema.json").write_text(json.dumps(this.schema.to_dict(), indent=1))
        (data / "version.json").write_text(json.dumps(record.__dict__, indent=1))
        recipe = registry.recipe_text(record)
        if recipe is not None:
            (data / "recipe.yaml").write_text(recipe)
        described = signature(this)
        with warnings.catch_warnings():  # the signature says what a frame holds; no example rows
            warnings.filterwarnings("ignore", message=".*An input example was not provided")
            mlflow.pyfunc.save_model(
                str(target),
                loader_module=LOADER,
                data_path=str(data),
                code_paths=_stage_code(Path(scratch) / "code"),
                pip_requirements=requirements(metadata),
                signature=described,
                metadata={
                    "modelops": {
                        "model": model,
                        "version": record.version,
                        "run_id": record.run_id,
                        "sha256": record.sha256,
                        "recipe_sha256": record.recipe_sha256,
                        "trained_through": record.trained_through,
                    }
                },
            )
    return Exported(model, record.version, str(target), list(described.inputs.input_names()))


class Scorer:
    """What ``mlflow.pyfunc`` loads: a version scored with ``local.predict``."""

    def __init__(self, version: local.LocalVersion) -> None:
        self.version = version

    def predict(self, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        invalid = (params or {}).get("invalid", "raise")
        return local.predict(self.version, model_input, invalid)


def _load_pyfunc(data_path: str) -> Scorer:
    """The python_function flavor's loader: the exported files, the model verified against
    its sha256 and the feature schema against the schema's."""
    import joblib

    from modelops.domain.data.features import FeatureSchema
    from modelops.domain.spec import ModelSpec
    from modelops.stores import registry

    data = Path(data_path)
    record = registry.ModelVersion(**json.loads((data / "version.json").read_text()))
    body = (data / "model.joblib").read_bytes()
    found = hashlib.sha256(body).hexdigest()
    if found != record.sha256:
        raise registry.IntegrityError(
            f"model {record.model} {record.version}: model.joblib sha256 {found} does not match the "
            f"exported record's {record.sha256}"
        )
    schema_document = json.loads((data / "feature_schema.json").read_text())
    if registry.schema_sha256(schema_document) != record.schema_sha256:
        raise registry.IntegrityError(
            f"model {record.model} {record.version}: feature_schema.json is not the schema it was "
            "trained with"
        )
    spec = ModelSpec.model_validate(json.loads((data / "spec.json").read_text()))
    estimator = joblib.load(io.BytesIO(body))  # verified against the sha256 above
    return Scorer(local.LocalVersion(record, spec, FeatureSchema.from_dict(schema_document), estimator))
