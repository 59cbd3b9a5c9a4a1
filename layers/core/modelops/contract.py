"""The stage contract (DESIGN.md §3): one small JSON document in, the same document out."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Pipeline = Literal["training", "scoring"]


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


class Window(BaseModel):
    model_config = ConfigDict(frozen=True)
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.start > self.end:
            raise ValueError(f"window start {self.start} is after its end {self.end}")
        return self


class Run(BaseModel):
    model_config = ConfigDict(frozen=True)
    run_id: str
    model: str
    pipeline: Pipeline
    as_of: date
    window: Window
    model_version: str | None = None

    @property
    def prefix(self) -> str:
        return f"runs/{self.run_id}/"


class StageDoc(BaseModel):
    """What every stage receives and returns; data stays in S3, only keys travel here."""

    run: Run
    artifacts: dict[str, str] = Field(default_factory=dict)
    results: dict[str, Any] = Field(default_factory=dict)


class RunRequest(BaseModel):
    """What a person, the CLI or a schedule asks for; get_data turns it into a Run."""

    model_config = ConfigDict(extra="forbid")
    model: str
    as_of: date | None = None
    scheduled_time: datetime | None = None
    run_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,80}$")
    model_version: str | None = None

    @model_validator(mode="after")
    def _when(self) -> RunRequest:
        if (self.as_of is None) == (self.scheduled_time is None):
            raise ValueError("give exactly one of as_of or scheduled_time")
        return self


def plan_run(request: RunRequest, pipeline: Pipeline, training_periods: int, outcome_lag_periods: int) -> Run:
    """Derive as_of and the window (monthly periods) from the request.

    A scheduled run at time t scores the last complete month and trains on months whose
    outcome is already known: that is ``outcome_lag_periods`` further back.
    """
    if request.as_of is not None:
        as_of = month_start(request.as_of)
    else:
        assert request.scheduled_time is not None
        lag = 1 + (outcome_lag_periods if pipeline == "training" else 0)
        as_of = add_months(month_start(request.scheduled_time.date()), -lag)
    periods = training_periods if pipeline == "training" else 1
    window = Window(start=add_months(as_of, -(periods - 1)), end=as_of)
    run_id = request.run_id or f"{pipeline}-{request.model}-{as_of.isoformat()}"
    return Run(
        run_id=run_id,
        model=request.model,
        pipeline=pipeline,
        as_of=as_of,
        window=window,
        model_version=request.model_version,
    )
