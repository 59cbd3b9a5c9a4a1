"""What the notebook client's actions return: typed results whose tables are DataFrames (a
load's columns and partitions, a run's stages and metrics), with the run's full results kept
for anything else."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

import pandas as pd

from modelops_dev.client.summary import run_lines


@dataclass(frozen=True)
class LoadResult:
    """A lake load: what it found and (unless a dry run) wrote."""

    table: str
    rows: int
    date_column: str
    period: str
    written: bool
    columns: pd.DataFrame  # name, type, missing
    partitions: pd.DataFrame  # period, rows
    missing_markers: tuple[str, ...]  # the text values read as missing

    @classmethod
    def of(cls, summary: Any) -> LoadResult:
        """From a ``lake.LoadSummary``."""
        columns = pd.DataFrame(
            [(c.name, c.type, c.missing) for c in summary.columns], columns=["name", "type", "missing"]
        )
        partitions = pd.DataFrame(sorted(summary.partitions.items()), columns=["period", "rows"])
        partitions["period"] = pd.to_datetime(partitions["period"])
        return cls(
            summary.table,
            summary.rows,
            summary.date_column,
            summary.period,
            summary.written,
            columns,
            partitions,
            tuple(summary.missing_markers),
        )


@dataclass(frozen=True)
class SpecResult:
    """A stored spec: its model, where it is, and its sha256."""

    model: str
    uri: str
    sha256: str


@dataclass(frozen=True)
class RunResult:
    """A finished execution of a state machine: its run, each state's time, what it noted,
    and each stage's results (``results``, the stage document's)."""

    pipeline: str
    model: str
    run_id: str
    as_of: str
    seconds: float
    results: dict[str, Any]
    stages: pd.DataFrame  # state, seconds
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, pipeline: str, execution: Any) -> Self:
        """From a ``runner.ExecutionResult`` that succeeded."""
        output = execution.output
        run = output["run"]
        return cls(
            pipeline,
            run["model"],
            run["run_id"],
            str(run["as_of"]),
            round(execution.seconds, 3),
            output["results"],
            pd.DataFrame(execution.states, columns=["state", "seconds"]),
            run_lines(output["results"]),
        )


@dataclass(frozen=True)
class TrainingResult(RunResult):
    """A training run: the version it registered, the gate's verdict and the test metrics."""

    @property
    def version(self) -> str:
        return str(self.results["deploy_model"]["version"])

    @property
    def status(self) -> str:
        return str(self.results["deploy_model"]["status"])

    @property
    def promoted(self) -> bool:
        return bool(self.results["deploy_model"]["champion"])

    @property
    def reason(self) -> str:
        return str(self.results["deploy_model"]["reason"])

    @property
    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = self.results["train_model"]["params"]
        return params

    @property
    def metrics(self) -> pd.DataFrame:
        """The version's metrics on its out-of-time test sample: (metric, value)."""
        metrics = self.results["train_model"]["metrics"]
        return pd.DataFrame(sorted(metrics.items()), columns=["metric", "value"])


@dataclass(frozen=True)
class ScoringResult(RunResult):
    """A scoring run: the version that scored, the rows published, and whether they became the
    latest scores."""

    @property
    def version(self) -> str:
        return str(self.results["verify_model"]["model_version"])

    @property
    def rows(self) -> int:
        return int(self.results["deploy_scores"]["rows"])

    @property
    def latest(self) -> bool:
        return bool(self.results["deploy_scores"]["latest"])

    @property
    def metrics(self) -> pd.DataFrame:
        """Realized performance, where the run measured it: (source, version, metric, value)."""
        realized = (self.results.get("validate_outcomes") or {}).get("realized", {})
        rows = [
            (source, found.get("version"), metric, value)
            for source, found in realized.items()
            for metric, value in found.items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        ]
        return pd.DataFrame(rows, columns=["source", "version", "metric", "value"])


@dataclass(frozen=True)
class VersionReport:
    """A registered version: its record, test metrics per sample, hyperparameters, recipe,
    training window, the gate's evidence, and the model's audit trail."""

    model: str
    version: str
    status: str
    champion: bool
    sha256: str
    recipe_sha256: str
    params: dict[str, Any]
    training_window: dict[str, Any]
    metrics: pd.DataFrame  # sample (train, validation, test) x metric
    evidence: dict[str, Any]  # the promotion gate's, from the audit row that decided the version
    audit: pd.DataFrame

    @classmethod
    def of(cls, shown: dict[str, Any]) -> VersionReport:
        """From ``lifecycle.show``."""
        record = shown["version"]
        version = record["version"]
        metrics = pd.DataFrame(
            {sample: values for sample, values in shown["metrics"].items() if isinstance(values, dict)}
        ).T
        decided = [
            entry for entry in shown["audit"] if entry.get("version") == version and entry.get("evidence")
        ]
        return cls(
            shown["model"],
            version,
            record["status"],
            shown["champion"] == version,
            record["sha256"],
            record.get("recipe_sha256", ""),
            shown["params"],
            shown["training_window"] or {},
            metrics,
            dict(decided[-1]["evidence"]) if decided else {},
            pd.DataFrame(shown["audit"]),
        )
