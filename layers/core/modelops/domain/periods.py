"""Calendar arithmetic of monthly periods, and the closed date interval a run covers."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, model_validator


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after (or before) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


class Window(BaseModel):
    """The periods a run reads: ``start`` to ``end``, both included."""

    model_config = ConfigDict(frozen=True)
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.start > self.end:
            raise ValueError(f"window start {self.start} is after its end {self.end}")
        return self
