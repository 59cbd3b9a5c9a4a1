"""The dispatcher: one Scheduler schedule runs it (hourly); it starts the training and scoring
runs of every stored spec whose own schedule is due, so a new model needs a spec, not a
redeploy. Which runs are due is decided by ``domain.schedules.due_runs``; this only reads
the specs and starts executions (named after the model, pipeline and firing time, so a
retried tick starts nothing twice).

Each spec is judged alone: one that is not UTF-8, not YAML, not a valid spec, or stored under
another model's name is skipped (its runs do not start) and alerted once per model and
content, and every other model's runs start."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from modelops.domain.schedules import due_runs
from modelops.domain.spec import ModelSpec, SpecError
from modelops.stores import executions, layout, metadata, notifications, specs

SPEC_ALERT = "spec"  # the metadata table's record of unreadable-spec alerts sent


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
    alerted: list[str] = []  # the unreadable specs alerted at this tick (each once per content)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def judged(model: str, body: bytes) -> ModelSpec:
    """The stored spec of ``model``, or a SpecError saying why it cannot be run."""
    key = layout.spec_key(model)
    spec = specs.parsed(body, key)
    if spec.name != model:
        raise SpecError(f"{key}: the spec is model {spec.name!r}; store it as {layout.spec_key(spec.name)}")
    return spec


def _alert_once(model: str, body: bytes, reason: str) -> bool:
    """Alert an unreadable spec unless this model's spec with these bytes was alerted before."""
    fingerprint = hashlib.sha256(body).hexdigest()
    if not metadata.record_incident(model, SPEC_ALERT, fingerprint, reason):
        return False
    try:
        notifications.send_spec_alert(model, reason, fingerprint)
    except Exception:
        metadata.forget_incident(model, SPEC_ALERT, fingerprint)  # the retried tick sends it
        raise
    return True


def dispatch(request: DispatchRequest) -> DispatchResult:
    """Start every pipeline whose schedule fired since the previous tick."""
    tick = (
        request.scheduled_time
        if request.scheduled_time.tzinfo
        else request.scheduled_time.replace(tzinfo=UTC)
    )
    schedules: dict[str, dict[str, str]] = {}
    unreadable: dict[str, tuple[str, bytes]] = {}
    for model in specs.list_models():
        body = specs.stored(model)
        try:
            schedules[model] = judged(model, body).schedule.expressions()
        except SpecError as error:  # one broken spec must not stop the other models' runs
            unreadable[model] = (str(error), body)
    started = []
    for due in due_runs(schedules, tick, timedelta(minutes=request.interval_minutes)):
        request_document = {"model": due.model, "scheduled_time": due.fired_at.isoformat()}
        arn, new = executions.start(due.pipeline, due.execution_name, request_document)
        started.append(
            Started(model=due.model, pipeline=due.pipeline, fired_at=due.fired_at, execution=arn, new=new)
        )
    # After the starts: an alert that cannot be sent fails the tick, which the Scheduler
    # retries, without holding up any model's runs.
    alerted = [model for model, (reason, body) in unreadable.items() if _alert_once(model, body, reason)]
    return DispatchResult(
        tick=tick,
        started=started,
        unreadable={model: reason for model, (reason, _) in unreadable.items()},
        alerted=alerted,
    )
