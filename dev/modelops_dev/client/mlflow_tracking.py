"""A training run logged to an MLflow tracking server, when ``MLFLOW_TRACKING_URI`` is set
(`modelops train`, ``Client.train``): one MLflow run per registered version, in the
experiment named after the model, with the version's hyperparameters and training window
(params), its validation and test metrics, tags naming the version (model, version, run id,
sha256s) and its model report (HTML) and recipe as artifacts.

Best effort: the training has already succeeded and its version is registered when this
runs, so a tracking server that fails is a one-line warning, not a failed training.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from typing import Any

from modelops_dev.client.mlflow_export import mlflow_module

TRACKING_URI = "MLFLOW_TRACKING_URI"


def tracking_uri() -> str:
    """The tracking server's URI, or '' when runs are not tracked."""
    return os.environ.get(TRACKING_URI, "").strip()


def run_name(model: str, version: str) -> str:
    return f"{model} {version}"


def params_of(metadata: dict[str, Any]) -> dict[str, str]:
    """The version's hyperparameters, its estimator and its training window, as MLflow params."""
    params = {str(name): str(value) for name, value in metadata.get("params", {}).items()}
    window = metadata.get("training_window") or {}
    for side in ("start", "end"):
        if side in window:
            params[f"training_window_{side}"] = str(window[side])
    if metadata.get("estimator"):
        params["estimator"] = str(metadata["estimator"])
    return params


def metrics_of(metadata: dict[str, Any]) -> dict[str, float]:
    """Each sample's metrics (validation, test) as ``<sample>_<metric>``, finite ones only."""
    found: dict[str, float] = {}
    for sample, values in metadata.get("metrics", {}).items():
        for name, value in values.items():
            if isinstance(value, int | float) and math.isfinite(value):
                found[f"{sample}_{name}"] = float(value)
    return found


def _report(model: str, version: str) -> tuple[str | None, str]:
    """The version's model report (HTML), or None and why it could not be made."""
    from modelops_dev.client import model_report

    try:
        return model_report.render(model_report.gather(model, version)), "logged"
    except Exception as error:  # noqa: BLE001 - the report is optional: the run is logged without it
        return None, f"not made: {type(error).__name__}: {' '.join(str(error).split())}"


def log_training(model: str, version: str, tracking_uri: str) -> str:
    """Log the registered version as one MLflow run; returns its run id."""
    from modelops.stores import registry

    mlflow_module()
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    record = registry.get_version(model, version)
    metadata = registry.verified_metadata(record)
    html, report_note = _report(model, version)
    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name(model)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(model)
    tags = {
        "modelops.model": model,
        "modelops.version": version,
        "modelops.run_id": record.run_id,
        "modelops.sha256": record.sha256,
        "modelops.recipe_sha256": record.recipe_sha256,
        "modelops.report": report_note,
    }
    run = client.create_run(experiment_id, run_name=run_name(model, version), tags=tags)
    run_id: str = run.info.run_id
    try:
        now = int(time.time() * 1000)
        client.log_batch(
            run_id,
            metrics=[Metric(name, value, now, 0) for name, value in metrics_of(metadata).items()],
            params=[Param(name, value) for name, value in params_of(metadata).items()],
            tags=[RunTag("modelops.trained_through", record.trained_through)],
        )
        if html is not None:
            client.log_text(run_id, html, f"{model}-{version}-report.html")
        recipe = registry.recipe_text(record)
        if recipe is not None:
            client.log_text(run_id, recipe, "recipe.yaml")
    except Exception:
        with contextlib.suppress(Exception):  # the server that failed may fail this too
            client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id)
    return run_id


def track_training(model: str, version: str) -> str | None:
    """The MLflow run logged for the version when ``MLFLOW_TRACKING_URI`` is set (else None);
    a failure is a one-line warning on stderr, and None."""
    uri = tracking_uri()
    if not uri:
        return None
    try:
        return log_training(model, version, uri)
    except Exception as error:  # noqa: BLE001 - best effort: the training itself succeeded
        reason = " ".join(str(error).split())[:300] or type(error).__name__
        print(
            f"warning: {model} {version} is trained and registered, but logging it to MLflow at {uri} "
            f"failed: {reason}",
            file=sys.stderr,
        )
        return None
