"""The stage contract: what each stage of the two state machines receives and returns.

A stage gets one small JSON document and returns it extended: the run, the S3 URIs of the
artifacts written so far and each stage's results (Step Functions passes at most 256 KB, so
data moves through S3 under the run's prefix, never inside the document). Every model here
forbids unknown fields, so a stage fed the wrong document fails by name at its entry.
The exceptions are the first stage (``GetDataInput``: a request) and the chunk stage of the
scoring Map (``ScoreChunkInput`` in, ``ScoreChunkOutput`` out).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from modelops.domain.periods import Period, Window, add_periods, period_start

Pipeline = Literal["training", "scoring"]
# The stages that write decile metadata, in flow order; each is also its metadata stage name.
VALIDATION_STAGES = ("validate_data", "validate_model", "validate_scores")


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
    allow_partial: bool | None = None  # read the window even if some periods have no rows

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
    allow_partial: bool = False  # accept a window with periods that have no rows

    @model_validator(mode="after")
    def _when(self) -> RunRequest:
        if (self.as_of is None) == (self.scheduled_time is None):
            raise ValueError("give exactly one of as_of or scheduled_time")
        return self


class GetDataInput(_Document):
    """The first stage's input: which flow, and the request that started it."""

    pipeline: Pipeline
    request: RunRequest


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

    def require(self, name: str) -> str:
        value = getattr(self, name)
        if value is None:
            raise ContractError(f"the stage needs the {name!r} artifact, which no earlier stage wrote")
        return str(value)


class Chunk(_Document):
    """One slice of the rows to score: an item of the manifest the scoring Map reads."""

    index: int = Field(ge=0)
    key: str
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


class AlertOutcome(_Document):
    sent: bool
    severity: str
    metrics: list[str]
    findings: int
    reason: str | None = None


class GetDataResult(_Document):
    rows: int
    columns: int


class TransformResult(_Document):
    rows: int
    features: int
    chunks: int
    manifest_key: str  # the scoring Map's ItemReader reads this key


class ValidationResult(_Document):
    rows: int
    profiles: int
    drift: list[Evidence] = Field(default_factory=list)
    alert: AlertOutcome | None = None
    report: str | None = None


class TrainResult(_Document):
    params: dict[str, Any]
    metrics: dict[str, float]


class DeployModelResult(_Document):
    version: str
    sha256: str
    artifact: str
    metadata: str
    champion: bool
    reason: str
    online_scorer: str


class VerifyModelResult(_Document):
    model_version: str
    sha256: str


class DeployScoresResult(_Document):
    history: str
    publication: str
    rows: int


class CampaignResult(_Document):
    selected: int
    in_cooldown: int
    already_sent: int
    sent: int
    skipped: str | None = None  # why nothing was handed off (the spec switched the campaign off)


class Results(_Document):
    """Each stage's summary, under the stage's name."""

    get_data: GetDataResult | None = None
    transform_data: TransformResult | None = None
    validate_data: ValidationResult | None = None
    train_model: TrainResult | None = None
    validate_model: ValidationResult | None = None
    deploy_model: DeployModelResult | None = None
    verify_model: VerifyModelResult | None = None
    validate_scores: ValidationResult | None = None
    deploy_scores: DeployScoresResult | None = None
    campaign: CampaignResult | None = None

    def findings(self, *stages: str) -> list[Evidence]:
        """The drift findings of the named validation stages of this run."""
        found: list[Evidence] = []
        for stage in stages:
            result = getattr(self, stage)
            if isinstance(result, ValidationResult):
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


class ScoreChunkInput(_Document):
    """One item of the scoring Map: the run, its artifacts and the chunk to score."""

    run: Run
    artifacts: Artifacts
    chunk: Chunk


class ScoreChunkOutput(_Document):
    chunk: int
    rows: int

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def plan_run(
    request: RunRequest,
    pipeline: Pipeline,
    training_periods: int,
    outcome_lag_periods: int,
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
    run_id = request.run_id or f"{pipeline}-{request.model}-{as_of.isoformat()}"
    return Run(
        run_id=run_id,
        model=request.model,
        pipeline=pipeline,
        as_of=as_of,
        window=window,
        model_version=request.model_version,
        allow_partial=True if allow_partial or request.allow_partial else None,
    )
