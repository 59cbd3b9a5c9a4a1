"""Each model's own training and scoring schedule, and which runs are due at a dispatcher tick.

A schedule is an EventBridge-style cron expression in UTC,
``cron(minutes hours day-of-month month day-of-week year)``: numbers, ``*``, ``?``, lists
(``1,15``), ranges (``1-5``), steps (``*/15``, ``0-30/10``), month names (JAN-DEC) and day
names (SUN-SAT; 1 is Sunday, as in EventBridge). One of day-of-month and day-of-week is
``?``. ``L``, ``W`` and ``#`` are not supported.

The dispatcher runs every ``interval`` (hourly in template.yaml); at a tick t it starts the
runs whose schedule fires in (t - interval, t], each with the time it fired, so consecutive
ticks start every firing exactly once. A schedule that fires more often than the dispatcher
runs once per tick (the latest firing).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

Pipeline = Literal["training", "scoring"]
PIPELINES: tuple[Pipeline, ...] = ("training", "scoring")

_CRON = re.compile(r"^cron\((.+)\)$")
_UNSUPPORTED = re.compile(r"\d*L|\d+W|LW")
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
# (name, lowest, highest, names for lowest.., in order)
_FIELDS: list[tuple[str, int, int, list[str]]] = [
    ("minutes", 0, 59, []),
    ("hours", 0, 23, []),
    ("day-of-month", 1, 31, []),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2199, []),
]
MAX_INTERVAL = timedelta(days=31)
# Step Functions refuses an execution name over 80 characters; a shortened name keeps the
# model whole and replaces the rest with a hash of the full name (``-`` and 12 hex digits).
MAX_EXECUTION_NAME = 80
_HASHED_SUFFIX = 13
MAX_MODEL_NAME = MAX_EXECUTION_NAME - _HASHED_SUFFIX


class ScheduleError(ValueError):
    """A schedule expression that cannot be parsed; the message says what is wrong."""


@dataclass(frozen=True)
class Cron:
    """A parsed cron expression: the allowed values of each field (None: any)."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None
    months: frozenset[int]
    weekdays: frozenset[int] | None  # 1 = Sunday .. 7 = Saturday
    years: frozenset[int] | None

    def fires_at(self, moment: datetime) -> bool:
        """Whether the schedule fires at this minute (UTC)."""
        weekday = moment.isoweekday() % 7 + 1  # Monday=1..Sunday=7 -> Sunday=1..Saturday=7
        return (
            moment.minute in self.minutes
            and moment.hour in self.hours
            and moment.month in self.months
            and (self.days is None or moment.day in self.days)
            and (self.weekdays is None or weekday in self.weekdays)
            and (self.years is None or moment.year in self.years)
        )


def _value(text: str, field: str, low: int, high: int, names: list[str]) -> int:
    upper = text.upper()
    if upper in names:
        return low + names.index(upper)
    if not text.isdigit():
        raise ScheduleError(
            f"{field}: {text!r} is not a number" + (f" or one of {'/'.join(names)}" if names else "")
        )
    number = int(text)
    if not low <= number <= high:
        raise ScheduleError(f"{field}: {number} is outside {low}-{high}")
    return number


def _field(text: str, field: str, low: int, high: int, names: list[str]) -> frozenset[int] | None:
    """The values one field allows; None for ``*`` or ``?`` (any)."""
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for part in text.split(","):
        if "#" in part or _UNSUPPORTED.fullmatch(part.upper()):
            raise ScheduleError(f"{field}: {part!r} uses L, W or #, which are not supported")
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ScheduleError(f"{field}: step {step_text!r} is not a positive number")
        if base in ("*", "?"):
            first, last = low, high
        elif "-" in base:
            start_text, end_text = base.split("-", 1)
            first = _value(start_text, field, low, high, names)
            last = _value(end_text, field, low, high, names)
            if first > last:
                raise ScheduleError(f"{field}: range {base!r} runs backwards")
        else:
            first = _value(base, field, low, high, names)
            last = high if step else first
        values.update(range(first, last + 1, step or 1))
    return frozenset(values)


def parse_cron(expression: str) -> Cron:
    """Parse ``cron(m h dom mon dow year)``; a ScheduleError says what is wrong."""
    match = _CRON.match(expression.strip())
    if not match:
        raise ScheduleError(f"{expression!r} is not cron(minutes hours day-of-month month day-of-week year)")
    parts = match.group(1).split()
    if len(parts) != 6:
        raise ScheduleError(f"{expression!r} has {len(parts)} fields, a cron expression has 6")
    if (parts[2] == "?") == (parts[4] == "?"):
        raise ScheduleError(f"{expression!r}: exactly one of day-of-month and day-of-week must be '?'")
    allowed = [_field(text, *spec) for text, spec in zip(parts, _FIELDS, strict=True)]
    minutes, hours, _, months, _, _ = allowed
    return Cron(
        expression=expression,
        minutes=minutes if minutes is not None else frozenset(range(60)),
        hours=hours if hours is not None else frozenset(range(24)),
        days=allowed[2],
        months=months if months is not None else frozenset(range(1, 13)),
        weekdays=allowed[4],
        years=allowed[5],
    )


def latest_firing(cron: Cron, after: datetime, until: datetime) -> datetime | None:
    """The last minute in (after, until] at which the schedule fires, or None."""
    if until - after > MAX_INTERVAL:
        raise ScheduleError(f"a dispatch interval longer than {MAX_INTERVAL.days} days")
    moment = until.astimezone(UTC).replace(second=0, microsecond=0)
    start = after.astimezone(UTC)
    while moment > start:
        if cron.fires_at(moment):
            return moment
        moment -= timedelta(minutes=1)
    return None


@dataclass(frozen=True)
class Due:
    """A run the dispatcher starts: which model, which pipeline, and when its schedule fired."""

    model: str
    pipeline: Pipeline
    fired_at: datetime

    @property
    def execution_name(self) -> str:
        """Deterministic, so a retried tick starts nothing twice (Step Functions names are unique)."""
        return execution_name(self.model, self.pipeline, self.fired_at)


def execution_name(model: str, pipeline: str, fired_at: datetime) -> str:
    """``<model>-<pipeline>-<firing time>``, or, past Step Functions' 80 characters,
    ``<model>-<12 hex digits of the full name's sha256>``: still unique per firing and
    deterministic, and a list of executions still finds a model's runs by its name. A model
    name longer than ``MAX_MODEL_NAME`` cannot fit and is refused (the spec's name pattern
    allows fewer)."""
    if len(model) > MAX_MODEL_NAME:
        raise ScheduleError(
            f"model name {model[:20]!r}… has {len(model)} characters: an execution name keeps it whole, "
            f"and Step Functions allows {MAX_EXECUTION_NAME} (so at most {MAX_MODEL_NAME} for the model)"
        )
    full = f"{model}-{pipeline}-{fired_at:%Y%m%dT%H%MZ}"
    if len(full) <= MAX_EXECUTION_NAME:
        return full
    return f"{model}-{hashlib.sha256(full.encode()).hexdigest()[: _HASHED_SUFFIX - 1]}"


def due_runs(schedules: dict[str, dict[str, str]], tick: datetime, interval: timedelta) -> list[Due]:
    """Every (model, pipeline) whose schedule fired in (tick - interval, tick], in model order.
    ``schedules``: model -> pipeline -> cron expression (a pipeline without one never runs)."""
    if tick.tzinfo is None:
        tick = tick.replace(tzinfo=UTC)
    found = []
    for model in sorted(schedules):
        for pipeline in PIPELINES:
            expression = schedules[model].get(pipeline)
            if not expression:
                continue
            fired = latest_firing(parse_cron(expression), tick - interval, tick)
            if fired is not None:
                found.append(Due(model, pipeline, fired))
    return found
