"""Model specification: a model is a YAML document, not code (docs/architecture.md, "A model is a spec")."""

from __future__ import annotations

import difflib
import re
from enum import Enum
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from modelops.domain.periods import Period
from modelops.domain.schedules import ScheduleError, parse_cron

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")  # \Z: "$" would allow a trailing newline
# A model's name: it becomes part of S3 keys and DynamoDB keys (and of the online API's paths).
MODEL_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,62}$"  # also the API's path pattern: fullmatch it

# Hyperparameters each estimator kind accepts in its search space; checked at load time
# so a typo fails before a Lambda is ever invoked.
ESTIMATOR_PARAMS: dict[str, frozenset[str]] = {
    "hist_gradient_boosting": frozenset(
        {
            "learning_rate",
            "max_iter",
            "max_leaf_nodes",
            "max_depth",
            "min_samples_leaf",
            "l2_regularization",
            "max_bins",
        }
    ),
    "logistic_regression": frozenset({"C", "max_iter"}),
}


class SpecError(ValueError):
    """A model specification is invalid; the message names the offending field."""


class FeatureType(Enum):
    numeric = "numeric"
    count = "count"
    categorical = "categorical"
    boolean = "boolean"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Feature(_Strict):
    type: FeatureType
    description: str = ""
    # What batch scoring does with a value the model's schema refuses (an unseen category, a
    # number far outside the training range, missing where training never saw it missing):
    # fail the run when their share passes scoring.max_invalid_share, or treat it as missing,
    # or clip a number into the accepted range. Online requests with such a value get a 422.
    on_invalid: Literal["fail", "missing", "clip"] = "fail"
    # The query result's column this feature reads, when it is not the feature's name
    # (a column named "dew point" or "TURC [mm d-1]" becomes a feature named dew_point ...).
    column: str | None = Field(default=None, min_length=1)


class Source(_Strict):
    tables: list[str] = Field(min_length=1)
    sql: str
    engine: Literal["duckdb", "athena"] = "duckdb"  # athena: UNLOAD over the lake's Glue tables

    @field_validator("tables")
    @classmethod
    def _identifiers(cls, tables: list[str]) -> list[str]:
        for table in tables:
            if not _IDENTIFIER.match(table):
                raise ValueError(f"table name {table!r} is not an identifier")
        return tables

    @field_validator("sql")
    @classmethod
    def _window_parameters(cls, sql: str) -> str:
        for parameter in ("$start", "$end"):
            if parameter not in sql:
                raise ValueError(f"the query must filter on the window parameter {parameter}")
        return sql


class Search(_Strict):
    method: Literal["grid", "random"] = "grid"
    n_iter: int = Field(default=8, ge=1)
    space: dict[str, list[Any]] = Field(default_factory=dict)


class Estimator(_Strict):
    kind: Literal["hist_gradient_boosting", "logistic_regression"]
    params: dict[str, Any] = Field(default_factory=dict)
    search: Search = Search()

    @model_validator(mode="after")
    def _known_params(self) -> Estimator:
        allowed = ESTIMATOR_PARAMS[self.kind]
        for where, names in (("params", self.params), ("search.space", self.search.space)):
            unknown = sorted(set(names) - allowed)
            if unknown:
                raise ValueError(
                    f"{where}: unknown hyperparameter {unknown[0]!r} for {self.kind} "
                    f"(allowed: {', '.join(sorted(allowed))})"
                )
        for name, values in self.search.space.items():
            if not values:
                raise ValueError(f"search.space.{name}: needs at least one value")
        return self


class Split(_Strict):
    test: Literal["out_of_time", "random"] = "out_of_time"
    test_periods: int = Field(default=1, ge=1)
    test_fraction: float = Field(default=0.2, gt=0, lt=1)
    validation_fraction: float = Field(default=0.2, gt=0, lt=1)
    seed: int = 42
    # A bounded, stratified (period x outcome) sample keeps train_model inside one function.
    max_training_rows: int = Field(default=2_000_000, ge=100)


class Promotion(_Strict):
    """When a candidate replaces the champion. Both are scored on the candidate's own
    out-of-time test sample and compared row by row on ``metric``: the candidate is rejected
    if it is significantly worse (one-sided paired test at ``level``: DeLong for roc_auc, a
    paired bootstrap otherwise) or worse by more than ``tolerance`` (metric units; default per
    metric), if its mean score strays from the observed outcome rate by more than
    ``calibration_tolerance`` (relative), or if the campaign rule would select a share of the
    customers more than ``selection_factor`` times off the champion's. A first model must be
    significantly better than knowing nothing (AUC 0.5, or the constant outcome rate)."""

    metric: Literal["roc_auc", "average_precision", "log_loss", "brier"] = "roc_auc"
    min_test_auc: float = Field(default=0.5, ge=0, le=1)
    tolerance: float | None = Field(default=None, ge=0)
    level: float = Field(default=0.05, gt=0, lt=0.5)
    calibration_tolerance: float = Field(default=0.5, gt=0)
    selection_factor: float = Field(default=2.0, ge=1)

    @property
    def allowed_loss(self) -> float:
        if self.tolerance is not None:
            return self.tolerance
        return {"roc_auc": 0.01, "average_precision": 0.01, "log_loss": 0.01, "brier": 0.002}[self.metric]


class WindowSettings(_Strict):
    """How many periods a training run reads, how late outcomes arrive, and whether a run may
    read a window with periods missing (refused by default: it would train on less than asked)."""

    training_periods: int = Field(default=12, ge=1)
    outcome_lag_periods: int = Field(default=1, ge=0)
    allow_partial: bool = False


class Scoring(_Strict):
    chunk_rows: int = Field(default=100_000, ge=1)
    max_invalid_share: float = Field(default=0.01, ge=0, le=1)  # per feature with on_invalid: fail
    # Rows of a latest publication (scores, online features) expire by DynamoDB TTL this long
    # after they are written: keep it above the time between two scoring runs.
    keep_latest_days: int = Field(default=120, ge=1)
    # Each chunk indexes its top rows for top-N queries (and every row above the campaign's
    # min_score): top N is exact for N up to this.
    top_candidates: int = Field(default=1000, ge=1)


class Campaign(_Strict):
    """Who gets contacted after a scoring run: the top N and/or everyone above a score.
    ``enabled: false`` keeps the scoring flow's campaign stage from sending anything."""

    enabled: bool = True
    top_n: int | None = Field(default=100, ge=1)
    min_score: float | None = Field(default=None, ge=0, le=1)
    cooldown_days: int = Field(default=30, ge=0)
    channel: Literal["email", "sms"] = "email"

    @model_validator(mode="after")
    def _some_rule(self) -> Campaign:
        if self.top_n is None and self.min_score is None:
            raise ValueError("needs top_n, min_score or both")
        return self


class Persistence(_Strict):
    """Alert only when a finding was flagged in at least k of the last n runs."""

    k: int = Field(default=1, ge=1)
    n: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _k_of_n(self) -> Persistence:
        if self.k > self.n:
            raise ValueError(f"k ({self.k}) cannot exceed n ({self.n})")
        return self


class Drift(_Strict):
    """Drift tests on the decile metadata; each switchable (docs/drift.md).

    A period is compared with the model's reference: the periods up to the end of the
    champion's training window (the newest ``reference_periods`` of them), and where that
    reference holds two yearly cycles and the calendar explains a series, with the same season
    of those cycles. Each test's bar comes from its own spread over the reference periods.
    Effects are relative to the metric's reference 90% spread (d10 - d1); shares are absolute."""

    trend: bool = True
    band: bool = True
    ks: bool = True
    chi2: bool = True
    level: float = 0.05  # false discovery rate (Benjamini-Hochberg) across the run's tests
    seasonality: Literal["auto", "none"] | int = "auto"  # or the number of periods in a year
    reference_periods: int | None = Field(default=None, ge=2)  # None: every period up to the model
    min_history: int = Field(default=6, ge=3)  # reference periods the trend test's calibration needs
    band_min_history: int = Field(default=8, ge=3)  # reference periods the band needs
    trend_periods: int = Field(default=6, ge=4)  # the trend test's window: periods after the model
    min_effect: float = Field(default=0.05, ge=0)
    min_share_change: float = Field(default=0.02, ge=0)
    ks_min_effect: float = Field(default=0.05, ge=0, le=1)
    sample_size: int = Field(default=1000, ge=50, le=5000)
    exclude: list[str] = Field(default_factory=list)  # metrics never tested (still profiled)
    persistence: Persistence = Persistence()
    block_promotion: bool = False

    @field_validator("level")
    @classmethod
    def _level(cls, level: float) -> float:
        if level not in (0.10, 0.05, 0.01):
            raise ValueError("must be 0.10, 0.05 or 0.01")
        return level

    @field_validator("seasonality")
    @classmethod
    def _seasonality(cls, seasonality: str | int) -> str | int:
        if isinstance(seasonality, int) and not 2 <= seasonality <= 366:
            raise ValueError("periods per year must be between 2 and 366 (or 'auto' / 'none')")
        return seasonality


class Online(_Strict):
    """The online API: which features each request brings (the rest come from the online
    feature table the scoring pipeline fills), and how much it accepts."""

    realtime_features: list[str] = Field(default_factory=list)
    max_records: int = Field(default=100, ge=1, le=1000)
    range_margin: float = Field(default=0.5, ge=0)  # accepted: training [min, max] ± margin x span


class Schedule(_Strict):
    """When the dispatcher starts this model's pipelines: cron expressions in UTC (see
    domain/schedules.py); a pipeline without one only runs when asked."""

    training: str | None = None
    scoring: str | None = None

    @field_validator("training", "scoring")
    @classmethod
    def _cron(cls, expression: str | None) -> str | None:
        if expression is not None:
            try:
                parse_cron(expression)
            except ScheduleError as error:
                raise ValueError(str(error)) from None
        return expression

    def expressions(self) -> dict[str, str]:
        return {
            pipeline: cron
            for pipeline, cron in (("training", self.training), ("scoring", self.scoring))
            if cron
        }


def alias_for(column: str) -> str:
    """A feature name (an identifier) for a column name such as 'dew point' or 'TURC [mm d-1]'."""
    name = re.sub(r"[^0-9A-Za-z_]+", "_", column).strip("_").lower() or "feature"
    return f"f_{name}" if name[0].isdigit() else name


class ModelSpec(_Strict):
    name: str
    description: str = ""
    source: Source
    # Column(s) naming who a row is about; none when the data has one row per timestamp
    # (the timestamp is then the key), several for a composite key (joined with '|').
    entity: str | list[str] | None = None
    timestamp: str = Field(min_length=1)
    period: Period = "month"
    outcome: str = Field(min_length=1)
    features: dict[str, Feature] = Field(min_length=1)
    estimator: Estimator
    split: Split = Split()
    promotion: Promotion = Promotion()
    window: WindowSettings = WindowSettings()
    scoring: Scoring = Scoring()
    campaign: Campaign = Campaign()
    drift: Drift = Drift()
    online: Online = Online()
    schedule: Schedule = Schedule()
    # Score the newest registered version that is not the champion alongside it, into the
    # score history only (source=shadow): a challenger's record before it may be promoted.
    shadow: bool = False
    # Start a retraining when a drift alert of at least retrain_min_severity is sent; the
    # promotion gate still decides whether the retrained model replaces the champion.
    retrain_on_drift: bool = False
    retrain_min_severity: Literal["low", "medium", "high"] = "high"

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not re.fullmatch(MODEL_NAME_PATTERN, name):
            raise ValueError("must be lowercase letters, digits, '-' or '_', starting with a letter")
        return name

    @field_validator("entity")
    @classmethod
    def _entity(cls, entity: str | list[str] | None) -> str | list[str] | None:
        columns = [entity] if isinstance(entity, str) else entity or []
        if any(not column for column in columns):
            raise ValueError("an entity column name cannot be empty")
        if len(set(columns)) < len(columns):
            raise ValueError("an entity column is listed twice")
        return entity

    @field_validator("features")
    @classmethod
    def _feature_names(cls, features: dict[str, Feature]) -> dict[str, Feature]:
        for name, feature in features.items():
            if not _IDENTIFIER.match(name):
                raise ValueError(
                    f"{name!r} is not an identifier (letters, digits, _): name the feature "
                    f"{alias_for(name)} and read the column with `{alias_for(name)}: "
                    f'{{column: "{name}", type: {feature.type.value}}}`'
                )
        return features

    @model_validator(mode="after")
    def _distinct_columns(self) -> ModelSpec:
        roles = dict.fromkeys(self.entity_columns, "entity")
        for role in ("timestamp", "outcome"):
            column = getattr(self, role)
            if column in roles:
                raise ValueError(f"{role}: {column!r} is already the {roles[column]}")
            roles[column] = role
        for name in self.features:
            column = self.column_of(name)
            if column in roles:
                raise ValueError(f"features.{name}: column {column!r} is the {roles[column]}, not a feature")
            roles[column] = f"feature {name}"
        for name in self.online.realtime_features:
            if name not in self.features:
                raise ValueError(f"online.realtime_features: {name!r} is not a feature")
        return self

    @property
    def entity_columns(self) -> list[str]:
        """The columns whose values, joined, identify an entity (empty: the timestamp does)."""
        if self.entity is None:
            return []
        return [self.entity] if isinstance(self.entity, str) else list(self.entity)

    @property
    def feature_names(self) -> list[str]:
        return list(self.features)

    def column_of(self, feature: str) -> str:
        """The query result's column a feature reads."""
        return self.features[feature].column or feature

    def needed_columns(self, *, with_outcome: bool) -> list[str]:
        columns = [*self.entity_columns, self.timestamp, *(self.column_of(n) for n in self.features)]
        return [*columns, self.outcome] if with_outcome else columns

    def require_columns(self, columns: list[str], *, with_outcome: bool) -> None:
        """Raise SpecError naming the first spec column the data does not have."""
        for column in self.needed_columns(with_outcome=with_outcome):
            if column not in columns:
                close = difflib.get_close_matches(column, columns, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise SpecError(
                    f"model {self.name!r}: column {column!r} named in the spec is not in the "
                    f"query result{hint} (columns: {', '.join(columns)})"
                )


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The spec section (a pydantic model) that holds the field at ``loc``."""
    model: type[BaseModel] = ModelSpec
    parts = list(loc[:-1])
    while parts:
        field = model.model_fields.get(str(parts.pop(0)))
        if field is None:
            return None
        annotation = field.annotation
        if get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
            if parts:
                parts.pop(0)  # the mapping's key (a feature's name)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _unknown_field(loc: tuple[int | str, ...]) -> str:
    model = _model_at(loc)
    known = list(model.model_fields) if model else []
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    if close:
        return f"unknown field; did you mean {close[0]!r}?"
    return f"unknown field (known: {', '.join(known)})" if known else "unknown field"


def parse_spec(text: str, source: str = "spec") -> ModelSpec:
    """Parse and validate a YAML model spec; every mistake becomes a SpecError naming the field.
    An unknown field is reported before anything else (a typo often also makes a field
    missing), with the field it probably meant."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SpecError(f"{source}: not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise SpecError(f"{source}: a spec is a YAML mapping, got {type(document).__name__}")
    try:
        return ModelSpec.model_validate(document)
    except ValidationError as error:
        errors = error.errors()
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = _unknown_field(first["loc"])
        elif first["type"] == "missing":
            message = "required, and missing"
        field = ".".join(str(part) for part in first["loc"])
        # Checks across fields (loc is empty) name their fields in the message.
        raise SpecError(f"{source}: {field}: {message}" if field else f"{source}: {message}") from None
