"""The stage contract: what each stage of the two state machines receives and returns.

A stage gets one small JSON document and returns it extended: the run, the S3 URIs of the
artifacts written so far and each stage's results (Step Functions passes at most 256 KB, so
data moves through S3 under the run's prefix, never inside the document). Every model here
forbids unknown fields, so a stage fed the wrong document fails by name at its entry.
The first stage takes a request (``GetDataInput``); the stages inside the scoring Map take
and return one chunk's item (``ChunkItem``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from modelops.domain.periods import FIRST_RUN_DAY, LAST_RUN_DAY, Period, Window, add_periods, period_start

Pipeline = Literal["training", "scoring"]
# The stages that write decile metadata, in flow order; each is also its metadata stage name.
VALIDATION_STAGES = (
    "validate_data",
    "validate_model",
    "validate_scores",
    "validate_online",
    "validate_outcomes",
)


class ContractError(ValueError):
    """A stage got a document that its place in the flow rules out."""


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Run(_Document):
    model_config = ConfigDict(extra="forbid", frozen=True)
    run_id: str
    model: str
    pipeline: Pipeline
    as_of: date
    window: Window
    model_version: str | None = None
    force: bool = False  # publish as latest even if a newer period is already published
    started_at: datetime | None = None  # when the run was first planned; a re-run keeps it
    shadow_version: str | None = None  # scoring: a challenger scored alongside (history only)
    allow_partial: bool | None = None  # read the window even if some periods have no rows
    spec_sha256: str | None = None  # the spec the run pinned at its start (every stage reads it)

    def spec(self) -> str:
        """The sha256 of the spec the run pinned (get_data pins it)."""
        if self.spec_sha256 is None:
            raise ContractError(f"run {self.run_id}: get_data pins the spec every stage reads")
        return self.spec_sha256

    def started(self) -> datetime:
        if self.started_at is None:
            raise ContractError(f"run {self.run_id}: get_data records when the run started")
        return self.started_at

    def version(self) -> str:
        """The model version a scoring run uses (resolved once, by get_data)."""
        if self.model_version is None:
            raise ContractError(f"run {self.run_id}: a scoring run needs the model version get_data resolves")
        return self.model_version


class RunRequest(_Document):
    """What a person, the CLI or a schedule asks for; get_data turns it into a Run."""

    model: str
    as_of: date | None = None
    scheduled_time: datetime | None = None
    run_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,80}$")
    model_version: str | None = None
    force: bool = False
    allow_partial: bool = False  # accept a window with periods that have no rows

    @model_validator(mode="after")
    def _when(self) -> RunRequest:
        if (self.as_of is None) == (self.scheduled_time is None):
            raise ValueError("give exactly one of as_of or scheduled_time")
        day = self.as_of or (self.scheduled_time.date() if self.scheduled_time else None)
        if day is not None and not FIRST_RUN_DAY <= day <= LAST_RUN_DAY:
            raise ValueError(
                f"{day.isoformat()} is outside {FIRST_RUN_DAY} … {LAST_RUN_DAY}, the days a run may cover"
            )
        return self


class GetDataInput(_Document):
    """The first stage's input: which flow, the request that started it, and the execution
    (a training run's id is unique per execution, so no attempt overwrites another's files)."""

    pipeline: Pipeline
    request: RunRequest
    execution: str | None = None


class Artifacts(_Document):
    """S3 URIs of what the run has written so far."""

    raw: str | None = None  # the extract (Parquet)
    feature_schema: str | None = None  # schema.json the features were encoded with
    features: str | None = None  # the chunk manifest (JSON list of Chunk)
    model: str | None = None  # the fitted estimator (joblib)
    fast_model: str | None = None  # the NumPy scorer, where the estimator has one
    test_scores: str | None = None  # ScoreSet of the out-of-time test sample
    test_features: str | None = None  # FeatureMatrix of the test sample
    training: str | None = None  # training.json: params, candidates, metrics, schema, window
    champion_test: str | None = None  # the test rows encoded with the champion's schema
    champion_scores: str | None = None  # the champion's scores of the test rows

    def require(self, name: str) -> str:
        value = getattr(self, name)
        if value is None:
            raise ContractError(f"the stage needs the {name!r} artifact, which no earlier stage wrote")
        return str(value)


class Chunk(_Document):
    """One slice of the extract, an item of the manifest the scoring Map reads: rows
    ``[offset, offset + rows)`` of the Parquet part at ``key``."""

    index: int = Field(ge=0)
    key: str
    offset: int = Field(default=0, ge=0)
    rows: int = Field(ge=0)


class Evidence(_Document):
    """One flagged drift finding, as carried in results and alerts."""

    stage: str
    metric: str
    value: str
    test: str
    statistic: float
    p_value: float | None = None
    adjusted_p: float | None = None
    effect: float
    series: list[float] = Field(default_factory=list)
    expected: float | None = None  # band: what the reference expected; skew: training's share
    severity: str | None = None  # set by contract checks (skew); drift findings get theirs from the effect
    reference: str | None = None  # "seasonal" (same season of earlier cycles) or "pooled"
    since: date | None = None  # the first period of the change (unbroken run of flags)


class AlertOutcome(_Document):
    sent: bool
    retrain: bool = False  # the alert asks for a retraining
    severity: str
    metrics: list[str]
    findings: int
    reason: str | None = None
    summary: str | None = None  # one sentence: what changed most, by how much, since when


class Reconciliation(_Document):
    """The extract against its source table, period by period (domain/data/reconcile.py)."""

    table: str
    column: str | None = None  # the table's date column its rows were counted on
    source_rows: int | None = None  # the table's rows in the window (None: not reconciled)
    extracted_rows: int
    filtered: bool = False  # the spec declares that its SQL drops rows on purpose
    warnings: list[str] = Field(default_factory=list)  # each period that came out short or over
    error: str | None = None  # a period off by more than the spec's tolerance
    note: str | None = None  # why there was no reconciliation


class Duplicates(_Document):
    """Rows that repeated an entity within a period, which the spec's policy dropped."""

    policy: str  # first or last: the row of each entity and period that was kept
    rows: int  # rows dropped
    entities: int  # entity-periods that repeated
    example: str  # the most repeated one, as the fail policy would have said it


class GetDataResult(_Document):
    rows: int  # extracted (training: after the bounded sample)
    matched: int  # rows of the window the query returned
    columns: int
    chunks: int
    manifest_key: str  # the chunk manifest; the scoring Map's ItemReader reads this key
    lookback_rows: int = 0  # rows of earlier periods the SQL computed (lag features), not kept
    lookahead_rows: int = 0  # rows of later periods it computed (lead() outcomes), not kept
    reconciliation: Reconciliation | None = None
    duplicates: Duplicates | None = None  # set when the spec's policy dropped repeated rows
    notes: list[str] = Field(default_factory=list)  # what the run decided not to do, and why


class TransformResult(_Document):
    rows: int
    features: int
    chunks: int
    champion: str | None = None  # the champion the candidate will be compared with
    champion_comparable: str | None = None  # why it cannot be, when it cannot


class ValidationResult(_Document):
    rows: int
    profiles: int
    invalid: dict[str, float] = Field(default_factory=dict)  # feature -> share the schema refuses
    drift: list[Evidence] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)  # periods and segments too small to judge
    alert: AlertOutcome | None = None
    report: str | None = None


class TrainResult(_Document):
    params: dict[str, Any]
    metrics: dict[str, float]


class DeployModelResult(_Document):
    version: str
    status: str
    sha256: str
    artifact: str
    metadata: str
    champion: bool
    reason: str
    online_scorer: str
    evidence: dict[str, Any] = Field(default_factory=dict)


class VerifyModelResult(_Document):
    model_version: str
    sha256: str


class DeployScoresResult(_Document):
    history: str
    publication: str
    rows: int
    latest: bool  # whether this run became the latest publication
    reason: str
    table: str | None = None  # the publication's own table, when it was imported in bulk
    retired: list[str] = Field(default_factory=list)  # superseded publication tables deleted
    retire_later: bool = False  # superseded tables wait out the readers' grace: retire_publications


class RetireResult(_Document):
    retired: list[str] = Field(default_factory=list)  # superseded publication tables deleted


class CampaignResult(_Document):
    selected: int
    in_cooldown: int
    already_sent: int
    sent: int
    skipped: str | None = None  # why nothing was handed off (switched off, or not the latest)


class OutcomeGroup(_Document):
    """One source's scores of a period joined with the period's outcomes."""

    source: str
    version: str
    rows: int
    key: str  # the ScoreSet (with outcomes) under the run's prefix


class CollectResult(_Document):
    outcome_period: date
    groups: list[OutcomeGroup] = Field(default_factory=list)
    online_rows: int = 0
    note: str | None = None  # why no scores could be joined with outcomes


class OutcomesResult(_Document):
    outcome_period: date | None = None
    online_rows: int = 0
    realized: dict[str, dict[str, Any]] = Field(default_factory=dict)  # source -> version, measures
    # The batch scores' performance of the period just scored, estimated before its outcomes.
    estimated: dict[str, Any] = Field(default_factory=dict)
    drift: list[Evidence] = Field(default_factory=list)
    note: str | None = None  # why realized performance was not measured, in one line
    notes: list[str] = Field(default_factory=list)  # measures too small or too new to judge


class Results(_Document):
    """Each stage's summary, under the stage's name."""

    get_data: GetDataResult | None = None
    transform_data: TransformResult | None = None
    validate_data: ValidationResult | None = None
    train_model: TrainResult | None = None
    validate_model: ValidationResult | None = None
    deploy_model: DeployModelResult | None = None
    verify_model: VerifyModelResult | None = None
    collect_outcomes: CollectResult | None = None
    validate_outcomes: OutcomesResult | None = None
    validate_scores: ValidationResult | None = None
    deploy_scores: DeployScoresResult | None = None
    campaign: CampaignResult | None = None
    retire_publications: RetireResult | None = None

    def findings(self, *stages: str) -> list[Evidence]:
        """The drift findings of the named validation stages of this run."""
        found: list[Evidence] = []
        for stage in stages:
            result = getattr(self, stage, None)  # validate_online's findings travel in validate_outcomes
            if isinstance(result, ValidationResult | OutcomesResult):
                found += result.drift
        return found


class StageDoc(_Document):
    """What every stage between get_data and the end receives and returns."""

    run: Run
    artifacts: Artifacts = Field(default_factory=Artifacts)
    results: Results = Field(default_factory=Results)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = self.model_dump(mode="json", exclude_none=True)
        return document


class TransformChunkResult(_Document):
    rows: int
    invalid: dict[str, int] = Field(default_factory=dict)  # feature -> rows the schema refuses
    # feature -> its skew counts (domain/data/skew.Tally as a list): rows, missing, outside, low, high
    tallies: dict[str, list[float | None]] = Field(default_factory=dict)
    seconds: float = 0.0


class ScoreChunkResult(_Document):
    rows: int
    seconds: float = 0.0


class PublishChunkResult(_Document):
    history_rows: int
    latest_rows: int
    online_feature_rows: int
    shadow_rows: int = 0
    seconds: float = 0.0


class ChunkResults(_Document):
    transform_chunk: TransformChunkResult | None = None
    score_data: ScoreChunkResult | None = None
    publish_chunk: PublishChunkResult | None = None


class ChunkItem(_Document):
    """One item of the scoring Map, passed through its states (transform_chunk, score_data,
    publish_chunk), each adding its result. Per-chunk objects live under the run's prefix at
    keys derived from the chunk's index."""

    run: Run
    artifacts: Artifacts
    chunk: Chunk
    results: ChunkResults = Field(default_factory=ChunkResults)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = self.model_dump(mode="json", exclude_none=True)
        return document


def attempt_suffix(execution: str | None) -> str:
    """A short, stable tag of one execution (empty without one)."""
    import hashlib

    return "" if not execution else "-" + hashlib.sha256(execution.encode()).hexdigest()[:8]


def plan_run(
    request: RunRequest,
    pipeline: Pipeline,
    training_periods: int,
    outcome_lag_periods: int,
    execution: str | None = None,
    period: Period = "month",
    allow_partial: bool = False,
) -> Run:
    """Derive as_of and the window (in the spec's periods) from the request.

    ``as_of`` is the start of the period holding the requested date. A scheduled run at time t
    scores the last complete period and trains on periods whose outcome is already known:
    that is ``outcome_lag_periods`` further back. The window is the ``training_periods``
    periods up to as_of (one period when scoring).
    """
    if request.as_of is not None:
        as_of = period_start(request.as_of, period)
    elif request.scheduled_time is not None:
        lag = 1 + (outcome_lag_periods if pipeline == "training" else 0)
        as_of = add_periods(request.scheduled_time.date(), -lag, period)
    else:  # RunRequest's validator rules this out; kept for the type checker and python -O
        raise ContractError("a run request needs as_of or scheduled_time")
    periods = training_periods if pipeline == "training" else 1
    window = Window(start=add_periods(as_of, -(periods - 1), period), end=as_of)
    # A training attempt gets its own id (its files never overwrite another attempt's); a
    # scoring run keeps one id per period, so that running it again republishes the same rows.
    suffix = attempt_suffix(execution) if pipeline == "training" else ""
    run_id = request.run_id or f"{pipeline}-{request.model}-{as_of.isoformat()}{suffix}"
    return Run(
        run_id=run_id,
        model=request.model,
        pipeline=pipeline,
        as_of=as_of,
        window=window,
        model_version=request.model_version,
        force=request.force,
        allow_partial=True if allow_partial or request.allow_partial else None,
    )
