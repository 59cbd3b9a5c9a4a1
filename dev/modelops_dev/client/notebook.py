"""A Python client for notebooks: what modelops stores, as pandas DataFrames, and a DataFrame
loaded into the lake. Developer side (pandas is not in the Lambda layers).

```
from modelops_dev.client.notebook import Client
ops = Client.sandbox()                      # a served sandbox (`modelops sandbox`)
ops = Client.stack("modelops-dev")          # a deployed stack: names from its outputs
ops.load(frame, table="hymod", date_column="Date")
ops.train("hymod", "2014-12-01"); ops.score("hymod", "2015-01-01")
ops.top("hymod", 10); ops.score_history("hymod", "2015-01-05")
ops.deciles("hymod", stage="validate_data"); ops.drift("churn"); ops.versions("hymod")
ops.card("hymod", "1.0.0", out="hymod-1.0.0.html")  # the model report and card
```

The library reads its resource names from the environment (as in Lambda), so a client sets
them in this process when it is made and before each call.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from modelops.domain.periods import Period
from modelops_dev.client import inputs, local
from modelops_dev.client.inputs import RequestError
from modelops_dev.client.results import (
    LoadResult,
    ScoringResult,
    SpecResult,
    TrainingResult,
    VersionReport,
)

# CloudFormation output -> the environment variable the library reads it from (template.yaml).
STACK_OUTPUTS = {
    "DataBucketName": "MODELOPS_BUCKET",
    "RegistryTableName": "REGISTRY_TABLE",
    "MetadataTableName": "METADATA_TABLE",
    "ScoresTableName": "SCORES_TABLE",
    "ContactsTableName": "CONTACTS_TABLE",
    "OnlineFeaturesTableName": "ONLINE_FEATURES_TABLE",
    "OnlineScoresTableName": "ONLINE_SCORES_TABLE",
    "CampaignQueueUrl": "CAMPAIGN_QUEUE_URL",
    "AlertTopicArn": "ALERT_TOPIC_ARN",
}
TOP_COLUMNS = ["rank", "entity_id", "score", "model_version", "as_of", "run_id", "scored_at"]
HISTORY_COLUMNS = ["entity_id", "score", "as_of", "model_version", "run_id", "scored_at", "source"]
DECILE_COLUMNS = ["model", "stage", "metric", "decile", "value", "timestamp"]
DRIFT_COLUMNS = [
    "timestamp", "run_id", "severity", "stage", "metric", "value", "test",
    "statistic", "p_value", "adjusted_p", "effect",
]  # fmt: skip
MODEL_COLUMNS = ["model", "champion", "versions", "description"]
VERSION_COLUMNS = ["version", "champion", "test_auc", "created_at", "run_id", "sha256"]


__all__ = ["Client", "RequestError", "environment_from_outputs"]


def environment_from_outputs(outputs: dict[str, str]) -> dict[str, str]:
    """The library's environment from a stack's outputs; a missing output is a RequestError."""
    missing = sorted(name for name in STACK_OUTPUTS if name not in outputs)
    if missing:
        raise RequestError(f"the stack has no output {missing[0]!r} (deployed from an older template.yaml?)")
    return {variable: outputs[name] for name, variable in STACK_OUTPUTS.items()}


@dataclass
class Client:
    """Resource names (the library's environment), the state machines, and where AWS is."""

    environment: dict[str, str]
    state_machines: dict[str, str] = field(default_factory=dict)  # pipeline -> ARN
    aws: dict[str, str] = field(default_factory=dict)  # endpoint and credentials of a sandbox

    # ------------------------------------------------------------------ making one
    @classmethod
    def sandbox(cls, endpoint: str | None = None) -> Client:
        """A served sandbox (`modelops sandbox`): names from template.yaml, as the sandbox makes them."""
        from modelops_dev.sandbox import DEFAULT_PORT, Sandbox, client_environment

        sandbox = Sandbox()
        url = endpoint or os.environ.get("MODELOPS_ENDPOINT_URL", f"http://127.0.0.1:{DEFAULT_PORT}")
        return cls(sandbox.environment, _machines(sandbox), client_environment(url))

    @classmethod
    def embedded(cls, sandbox: Any) -> Client:
        """The sandbox of this very process (`sandbox.embedded()`, as tests use it)."""
        return cls(dict(sandbox.environment), _machines(sandbox))

    @classmethod
    def stack(cls, name: str, region: str | None = None) -> Client:
        """A deployed stack: its outputs name the bucket, tables and state machines (AWS
        credentials as boto3 finds them)."""
        import boto3

        cloudformation = boto3.client("cloudformation", region_name=region)
        [description] = cloudformation.describe_stacks(StackName=name)["Stacks"]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])}
        machines = {
            "training": outputs.get("TrainingStateMachineArn", ""),
            "scoring": outputs.get("ScoringStateMachineArn", ""),
        }
        aws = {"AWS_DEFAULT_REGION": region} if region else {}
        return cls(environment_from_outputs(outputs), machines, aws)

    @contextmanager
    def _active(self) -> Iterator[None]:
        """This client's names (and sandbox endpoint) in the process environment."""
        from modelops import caches

        wanted = {**self.environment, **self.aws}
        if any(os.environ.get(key) != value for key, value in wanted.items()):
            os.environ.update(wanted)
            caches.clear_all()
        yield

    def _model(self, model: str | None) -> str:
        """``model`` if it has a stored spec (else a RequestError, with the closest name), or
        the only model there is."""
        from modelops.stores.specs import list_models

        with self._active():
            models = list_models()
        if model is not None:
            return inputs.known_model(model, models)
        if len(models) != 1:
            raise RequestError(f"name the model: the stack has {len(models)} ({', '.join(models)})")
        return models[0]

    # ------------------------------------------------------------------ reading
    def models(self) -> pd.DataFrame:
        """Every model with a stored spec: its champion, how many versions it has, what it is."""
        from modelops.stores import registry, specs

        with self._active():
            rows = []
            for name in specs.list_models():
                spec, _ = specs.read(name)
                rows.append((name, registry.champion(name), len(registry.versions(name)), spec.description))
        return pd.DataFrame(rows, columns=MODEL_COLUMNS)

    def top(self, model: str | None = None, n: int = 20) -> pd.DataFrame:
        """The latest run's top ``n`` scores, best first."""
        from modelops.stores import latest

        count = inputs.top_count(n)
        with self._active():
            scores = latest.top(self._model(model), count)
        rows = [{"rank": rank, **score.__dict__} for rank, score in enumerate(scores, 1)]
        frame = pd.DataFrame(rows, columns=TOP_COLUMNS)
        frame["as_of"] = pd.to_datetime(frame["as_of"])
        return frame

    def score_history(self, model: str | None = None, entity: str | None = None) -> pd.DataFrame:
        """Every batch score (of one entity, or of all), oldest first."""
        from modelops.stores import history

        with self._active():
            rows = history.read(self._model(model), entity)
        frame = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
        frame["as_of"] = pd.to_datetime(frame["as_of"])
        frame["scored_at"] = pd.to_datetime(frame["scored_at"])
        return frame

    def deciles(self, model: str | None = None, stage: str | None = None) -> pd.DataFrame:
        """The decile metadata: (model, stage, metric, decile, value, timestamp) rows."""
        from modelops.domain.contract import VALIDATION_STAGES
        from modelops.stores import metadata

        stages = [stage] if stage else list(VALIDATION_STAGES)
        unknown = [s for s in stages if s not in VALIDATION_STAGES]
        if unknown:
            raise RequestError(f"no stage {unknown[0]!r} (stages: {', '.join(VALIDATION_STAGES)})")
        with self._active():
            name = self._model(model)
            rows = [row for s in stages for row in metadata.read_rows(name, s)]
        frame = pd.DataFrame(rows, columns=DECILE_COLUMNS)
        frame["timestamp"] = pd.to_datetime(frame["timestamp"])
        return frame.sort_values(["stage", "metric", "timestamp", "decile"], ignore_index=True)

    def drift(self, model: str | None = None) -> pd.DataFrame:
        """Every finding of every drift alert sent, one row per finding."""
        from modelops.stores import metadata

        with self._active():
            alerts = metadata.alerts(self._model(model))
        rows = [
            {
                "timestamp": alert["timestamp"],
                "run_id": alert["run_id"],
                "severity": alert["severity"],
                **{key: finding.get(key) for key in DRIFT_COLUMNS[3:]},
            }
            for alert in alerts
            for finding in alert["findings"]
        ]
        frame = pd.DataFrame(rows, columns=DRIFT_COLUMNS)
        frame["timestamp"] = pd.to_datetime(frame["timestamp"])
        return frame

    def versions(self, model: str | None = None) -> pd.DataFrame:
        """The model's registered versions, oldest first, and which is the champion."""
        from modelops.stores import registry

        with self._active():
            name = self._model(model)
            champion = registry.champion(name)
            rows = [{**v.__dict__, "champion": v.version == champion} for v in registry.versions(name)]
        return pd.DataFrame(rows, columns=VERSION_COLUMNS)

    # ------------------------------------------------------------------ writing and running
    def load(
        self,
        frame: pd.DataFrame,
        table: str,
        date_column: str | None = None,
        period: Period = "month",
        *,
        dry_run: bool = False,
        **reading: Any,
    ) -> LoadResult:
        """Load a DataFrame into a lake table (one partition per period), through the same
        engine and checks as `modelops data load` (``reading``: the other LoadOptions, e.g.
        ``na_values``, ``types``, ``date_format``); returns what it found (columns and
        partitions as DataFrames). A timezone-aware column is read as its wall-clock time in its
        own zone: a row dated 2025-02-01 00:00 in Europe/Berlin is in February."""
        import duckdb

        from modelops.domain.data.loadcheck import header_problems
        from modelops.stores import lake
        from modelops.stores.tabular import literal, quote

        if not isinstance(frame, pd.DataFrame):
            raise RequestError(f"load takes a pandas DataFrame, got {type(frame).__name__}")
        name, by = inputs.table_name(table), inputs.period(period)
        if frame.empty:
            raise RequestError(f"the frame for table {name!r} has no rows (or no columns): nothing to load")
        names = [str(column) for column in frame.columns]
        problems = header_problems(names)
        if problems:
            raise lake.LoadError("; ".join(p.message for p in problems))
        unknown = sorted(set(reading) - set(lake.LoadOptions.__dataclass_fields__))
        if unknown:
            raise RequestError(f"load: unknown option {unknown[0]!r}")
        # Copy-on-write (pandas 3): the columns replaced below are new, the others stay the
        # frame's own arrays; DuckDB scans them in place (never a copy of the whole frame).
        local = frame.reset_index(drop=True)
        columns = []
        for column_name, values in local.items():
            if isinstance(values.dtype, pd.DatetimeTZDtype):
                local[column_name] = values.dt.tz_localize(None)  # the wall-clock time, not UTC
            column = quote(str(column_name))
            dates = _only_dates(local[column_name])
            columns.append(f"CAST({column} AS DATE) AS {column}" if dates else column)
        selected = ", ".join(columns)
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "frame.parquet"  # the table's name never becomes a path
            connection = duckdb.connect()
            connection.register("frame", local)
            target = literal(str(path))
            copy = f"COPY (SELECT {selected} FROM frame) TO {target} (FORMAT parquet)"  # nosec B608  # quoted
            connection.execute(copy)
            connection.close()
            del local  # the columns made here (timezones dropped) are not kept while the load runs
            options = lake.LoadOptions(date_column=date_column, period=by, **reading)
            with self._active():
                return LoadResult.of(lake.inspect_file(name, path, options, write=not dry_run))

    def put_spec(self, spec: str | Path | dict[str, Any]) -> SpecResult:
        """Check a spec (YAML text, a file, or a dict) and store it where the stages read it; a
        mistake is a RequestError naming the field."""
        import hashlib

        import yaml

        from modelops.domain.spec import SpecError
        from modelops.stores.specs import store_spec

        if isinstance(spec, dict):
            text, source = yaml.safe_dump(spec, sort_keys=False), "<dict>"
        elif isinstance(spec, Path) or (
            isinstance(spec, str) and "\n" not in spec and spec.endswith((".yaml", ".yml"))
        ):
            path = Path(spec)
            if not path.is_file():
                raise RequestError(f"no spec file {str(path)!r}")
            text, source = path.read_text(), str(path)
        else:
            text, source = str(spec), "<text>"
        try:
            with self._active():
                parsed, uri = store_spec(text, source=source)
        except SpecError as error:
            raise RequestError(str(error)) from None
        return SpecResult(parsed.name, uri, hashlib.sha256(text.encode()).hexdigest())

    def _run(self, pipeline: str, model: str, as_of: str | date, **request: Any) -> Any:
        from modelops.stores.specs import list_models
        from modelops_dev.client import runner

        arn = self.state_machines.get(pipeline)
        if not arn:
            raise RequestError(f"no {pipeline} state machine known to this client")
        day = inputs.run_day(as_of)
        with self._active():
            name = inputs.known_model(model, list_models())  # before anything starts
            execution = runner.start(arn, {"model": name, "as_of": day.isoformat(), **request})
            result = runner.follow(execution)
        if result.status != "SUCCEEDED" or result.output is None:
            failure = f"{result.status}: {result.error}: {result.failure}"
            raise RequestError(f"{pipeline} {model} as of {as_of}: {failure}")
        return result

    def train(self, model: str, as_of: str | date, **request: Any) -> TrainingResult:
        """Run the training state machine and wait: the version, the gate's verdict, its test
        metrics (a DataFrame) and every stage's results. With ``MLFLOW_TRACKING_URI`` set, the
        version is also logged as an MLflow run (best effort: a failure is a warning)."""
        from modelops_dev.client.mlflow_tracking import track_training

        trained = TrainingResult.of("training", self._run("training", model, as_of, **request))
        if "deploy_model" in trained.results:
            with self._active():
                track_training(trained.model, trained.version)
        return trained

    def score(self, model: str, as_of: str | date, **request: Any) -> ScoringResult:
        """Run the scoring state machine and wait: the version, the rows published, realized
        metrics where measured, and every stage's results."""
        return ScoringResult.of("scoring", self._run("scoring", model, as_of, **request))

    # ------------------------------------------------------------------ a version, locally
    def _version(
        self, model: str | None, version: str | None, *, servable: bool = True
    ) -> local.LocalVersion:
        from modelops.stores import registry

        with self._active():
            name = self._model(model)
            try:
                return local.load(name, version, servable=servable)
            except (registry.UnknownVersion, registry.RetiredVersion) as error:
                raise RequestError(str(error)) from None

    def model(self, model: str | None = None, version: str | None = None) -> Any:
        """The version's fitted scikit-learn estimator (default: the champion; a retired one
        too, for inspection), verified against its sha256."""
        return self._version(model, version, servable=False).estimator

    def predict(
        self,
        frame: pd.DataFrame,
        model: str | None = None,
        version: str | None = None,
        *,
        invalid: local.Invalid = "raise",
    ) -> pd.DataFrame:
        """Score a DataFrame in this process with the registered version (default: the champion),
        its recipe and its schema, exactly as batch scoring scores the same rows: (entity_id,
        score, model_version), indexed as ``frame``. A value the schema refuses is an error
        naming its row, as the online API's 422 (``invalid="policy"``: as a scoring run treats it)."""
        if not isinstance(frame, pd.DataFrame):
            raise RequestError(f"predict takes a pandas DataFrame, got {type(frame).__name__}")
        version_ = self._version(model, version)
        try:
            return local.predict(version_, frame, invalid)
        except local.PredictError as error:
            raise RequestError(str(error)) from None

    def extract(self, run_id: str) -> pd.DataFrame:
        """The rows a run's SQL returned (its extract), as a DataFrame."""
        with self._active():
            try:
                return local.extract(run_id)
            except local.PredictError as error:
                raise RequestError(str(error)) from None

    def compare(
        self, a: str, b: str, model: str | None = None, frame: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Two versions' metrics on the same rows, side by side (and ``b`` minus ``a``): the rows
        of ``frame`` (with the outcome), or by default ``b``'s out-of-time test sample."""
        first, second = self._version(model, a, servable=False), self._version(model, b, servable=False)
        with self._active():
            try:
                rows = local.out_of_time_rows(second) if frame is None else frame
                return local.compare(first, second, rows)
            except local.PredictError as error:
                raise RequestError(str(error)) from None

    def report(self, model: str | None = None, version: str | None = None) -> VersionReport:
        """A version's record: test metrics, hyperparameters, recipe, training window, the
        promotion evidence and the audit trail (default: the champion)."""
        from modelops.stores import registry
        from modelops_dev.client import lifecycle

        with self._active():
            name = self._model(model)
            try:
                shown = lifecycle.show(name, version)
            except registry.UnknownVersion as error:
                raise RequestError(str(error)) from None
        return VersionReport.of(shown)

    def card(
        self, model: str | None = None, version: str | None = None, out: str | Path | None = None
    ) -> str:
        """The version's model report and card (default: the champion), as `modelops models
        report` writes it: the HTML itself, or, with ``out``, the path of the file written."""
        from modelops.stores import registry
        from modelops_dev.client import model_report

        with self._active():
            name = self._model(model)
            try:
                data = model_report.gather(name, version)
            except (registry.UnknownVersion, local.PredictError) as error:
                raise RequestError(str(error)) from None
        return model_report.render(data) if out is None else str(model_report.write(data, Path(out)))


def _only_dates(values: pd.Series) -> bool:
    """pandas has no date type: a datetime column holding only midnights is a column of dates."""
    if not pd.api.types.is_datetime64_any_dtype(values):
        return False
    present = values.dropna()
    return bool((present == present.dt.normalize()).all())


def _machines(sandbox: Any) -> dict[str, str]:
    return {"training": sandbox.ref("TrainingStateMachine"), "scoring": sandbox.ref("ScoringStateMachine")}
