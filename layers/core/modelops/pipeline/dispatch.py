"""The dispatcher: one Scheduler schedule runs it (hourly); it starts the training and scoring
runs of every stored spec whose own schedule is due, so a new model needs a spec, not a
redeploy. Which runs are due is decided by ``domain.schedules.due_runs``; this only reads
the specs and starts executions (named after the model, pipeline and firing time, so a
retried tick starts nothing twice)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from modelops.domain.schedules import due_runs
from modelops.domain.spec import SpecError
from modelops.stores import executions, specs


class DispatchRequest(BaseModel):
    """What the Scheduler sends: its scheduled time, and how often it runs."""

    model_config = ConfigDict(extra="forbid")
    scheduled_time: datetime
    interval_minutes: int = Field(default=60, ge=1, le=31 * 24 * 60)


class Started(BaseModel):
    model: str
    pipeline: str
    fired_at: datetime
    execution: str
    new: bool  # False: a retried tick found it already started


class DispatchResult(BaseModel):
    tick: datetime
    started: list[Started]
    unreadable: dict[str, str]  # model -> why its spec was skipped

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def dispatch(request: DispatchRequest) -> DispatchResult:
    """Start every pipeline whose schedule fired since the previous tick."""
    tick = (
        request.scheduled_time
        if request.scheduled_time.tzinfo
        else request.scheduled_time.replace(tzinfo=UTC)
    )
    schedules: dict[str, dict[str, str]] = {}
    unreadable: dict[str, str] = {}
    for model in specs.list_models():
        try:
            schedules[model] = specs.load_spec(model).schedule.expressions()
        except SpecError as error:  # one broken spec must not stop the other models' runs
            unreadable[model] = str(error)
    started = []
    for due in due_runs(schedules, tick, timedelta(minutes=request.interval_minutes)):
        request_document = {"model": due.model, "scheduled_time": due.fired_at.isoformat()}
        arn, new = executions.start(due.pipeline, due.execution_name, request_document)
        started.append(
            Started(model=due.model, pipeline=due.pipeline, fired_at=due.fired_at, execution=arn, new=new)
        )
    return DispatchResult(tick=tick, started=started, unreadable=unreadable)
