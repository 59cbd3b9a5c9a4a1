"""The sections of a model spec (pydantic models, each forbidding unknown fields): where the
data comes from, the features, the estimator and its search, the split, the promotion gate,
the window, scoring, the campaign, drift, skew, the online API and the schedule."""

from __future__ import annotations

import re
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from modelops.domain.data.partitions import bare_name, catalog_name
from modelops.domain.schedules import ScheduleError, parse_cron

# A feature's or a lake table's name: a SQL identifier (and, for a table, an S3 prefix).
IDENTIFIER_PATTERN = r"[A-Za-z_][A-Za-z0-9_]*"
_IDENTIFIER = re.compile(rf"^{IDENTIFIER_PATTERN}\Z")  # \Z: "$" would allow a trailing newline
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


class Rows(_Strict):
    """How the query's rows relate to a source table's, for the reconciliation of every
    extract (domain/data/reconcile.py): each period's rows against the rows the table holds
    for that period, counted on the table's own date column."""

    table: str | None = None  # the table with one row per result row (default: the first table)
    column: str | None = None  # its date column (default: the one `data load` recorded)
    # The SQL returns fewer rows on purpose (a WHERE beyond the window, an inner join, an
    # aggregation): the counts are reported, not judged.
    filtered: bool = False
    tolerance: float = Field(default=0.001, ge=0, le=1)  # the share of a period's rows that may go missing


class Source(_Strict):
    # A lake table's name, or a Glue Data Catalog table's ``database.table`` (written by other
    # code, with its own partitions or none), which the SQL reads by its table name.
    tables: list[str] = Field(min_length=1)
    sql: str
    engine: Literal["duckdb", "athena"] = "duckdb"  # athena: UNLOAD over the Glue tables
    rows: Rows = Rows()

    @field_validator("tables")
    @classmethod
    def _identifiers(cls, tables: list[str]) -> list[str]:
        for table in tables:
            if not _IDENTIFIER.match(table) and catalog_name(table) is None:
                raise ValueError(f"table name {table!r} is neither an identifier nor database.table")
        names = [bare_name(table) for table in tables]
        if repeated := sorted({name for name in names if names.count(name) > 1}):
            raise ValueError(f"two tables are read as {repeated[0]!r}: the SQL could not tell them apart")
        return tables

    @field_validator("sql")
    @classmethod
    def _window_parameters(cls, sql: str) -> str:
        for parameter in ("$start", "$end"):  # $end_exclusive counts as $end
            if parameter not in sql:
                raise ValueError(f"the query must filter on the window parameter {parameter}")
        return sql

    @model_validator(mode="after")
    def _reconciled_table(self) -> Source:
        if self.rows.table is not None and self.rows.table not in self.tables:
            raise ValueError(
                f"rows.table {self.rows.table!r} is not one of the tables ({', '.join(self.tables)})"
            )
        return self

    @property
    def reconciled_table(self) -> str:
        """The table whose rows the extract is reconciled with."""
        return self.rows.table or self.tables[0]


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
    """How many periods a training run reads, how late outcomes arrive, how many earlier
    periods the SQL sees (for lag, lead and rolling features: their rows are computed, never
    scored, trained on or profiled), and whether a run may read a window with periods missing
    (refused by default: it would train on less than asked)."""

    training_periods: int = Field(default=12, ge=1)
    outcome_lag_periods: int = Field(default=1, ge=0)
    lookback_periods: int = Field(default=0, ge=0, le=120)
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
    # From this many rows a run publishes by one bulk import into a table of its own, below it
    # item by item into the shared tables; null: always item by item (docs/scaling.md).
    import_from_rows: int | None = Field(default=100_000, ge=0)


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
    # Categorical features that slice every metric: each is profiled and tested per segment
    # (its max_segments largest categories in the training window, the rest as "other") too.
    segments: list[str] = Field(default_factory=list)
    max_segments: int = Field(default=10, ge=1, le=50)
    # A period (or a segment of one) with fewer rows is too small to judge: not tested, and said so.
    min_rows: int = Field(default=20, ge=2)
    # Performance: the least drop of ROC AUC a finding needs (rates use min_share_change).
    min_auc_drop: float = Field(default=0.02, ge=0, le=1)

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


class Skew(_Strict):
    """Training/serving skew (domain/data/skew.py): each scored feature against the same
    feature in the model version's training. A contract, not drift: no reference, no
    calibration; its findings join the run's alert."""

    # A feature missing in more than this share of rows above training's share: high severity.
    max_missing_increase: float = Field(default=0.20, ge=0, le=1)
    # Values outside training's range (numbers) or categories training never saw: medium.
    max_outside_share: float = Field(default=0.05, ge=0, le=1)


class Online(_Strict):
    """The online API: which features each request brings (the rest come from the online
    feature table the scoring pipeline fills), and how much it accepts."""

    # false: the model has no online API, and its scoring runs write no online features.
    enabled: bool = True
    realtime_features: list[str] = Field(default_factory=list)
    max_records: int = Field(default=100, ge=1, le=1000)
    range_margin: float = Field(default=0.5, ge=0)  # accepted: training [min, max] ± margin x span


class Card(_Strict):
    """The model card's free text (`modelops models report`): what the model is for, who owns
    it, what it must not be used for, anything else a reader should know. Operational: a
    changed owner or note applies to every version's card at once."""

    intended_use: str = ""
    owner: str = ""
    limitations: str = ""
    notes: str = ""


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


# The sections of a spec that say how a model is run, not how its scores are built: a stored
# spec's values of these take effect at once, even for a version trained with other ones. Every
# other section is the version's recipe (its SQL, features, window, estimator, ...), which only
# a new training turns into a new version (docs/architecture.md, "Recipes").
