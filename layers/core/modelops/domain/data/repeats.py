"""An entity repeated within a period. Scoring scores each entity once per period, so the
rule is the same wherever a spec's rows are read (training, scoring, the outcomes, `spec
check`): within a period each entity (the spec's entity columns, or the timestamp when it has
none) has one row. The spec's ``duplicates`` policy says what a run does with a repeat:
``fail`` (the default) refuses the extract with one message, naming the most repeated entity
and its period; ``first`` and ``last`` keep the entity's earliest or latest row of the period
(by the timestamp) and count the rows dropped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

DuplicatesPolicy = Literal["fail", "first", "last"]


class DuplicateEntityError(ValueError):
    """An entity appears more than once in a period, and the spec's policy is to fail."""


@dataclass(frozen=True)
class Repeats:
    """What an extract held of entities repeated within a period."""

    rows: int  # rows beyond the first of their entity and period
    groups: int  # (entity, period) pairs with more than one row
    entity: str  # the most repeated entity (a composite key's values joined with '|')
    count: int  # its rows in that period
    period: date | None  # that period's start (None: rows without a readable timestamp)


def most_repeated(columns: Sequence[str], repeats: Repeats) -> str:
    """Which entity repeated most, how often, and in which period."""
    where = (
        f"in the period starting {repeats.period.isoformat()}"
        if repeats.period is not None
        else "among rows without a readable timestamp"
    )
    return f"{'|'.join(columns)} {repeats.entity!r} appears {repeats.count} times {where}"


def repeats_message(columns: Sequence[str], repeats: Repeats) -> str:
    """The one sentence every check gives (scoring, training, the outcomes, `spec check`)."""
    rows = "row" if repeats.rows == 1 else "rows"
    groups = "entity-period" if repeats.groups == 1 else "entity-periods"
    return (
        f"{most_repeated(columns, repeats)} ({repeats.rows} repeated {rows} in {repeats.groups} "
        f"{groups}); each entity is scored once per period: fix the data or the SQL, or set the "
        "spec's duplicates to first or last"
    )


def refusal(columns: Sequence[str], repeats: Repeats | None, policy: DuplicatesPolicy) -> str | None:
    """Why the policy refuses the extract (its message), or None when it does not."""
    if repeats is None or repeats.rows == 0 or policy != "fail":
        return None
    return repeats_message(columns, repeats)
