"""What the notebook client and the CLI check before they ask AWS anything: a model name (and
that the model exists, with a did-you-mean), a run's date, a count of top scores, a period,
a lake table's name (the lake's own rule, checked before a file is written). Each mistake is
a RequestError of one line naming the problem; the caller lists the models."""

from __future__ import annotations

import difflib
import re
from datetime import date, datetime
from typing import cast

from modelops.domain.periods import FIRST_RUN_DAY, LAST_RUN_DAY, PERIODS, Period
from modelops.domain.spec import IDENTIFIER_PATTERN, MODEL_NAME_PATTERN


class RequestError(ValueError):
    """A request the client cannot serve (no such model, a bad argument, ...); one line."""


def model_name(value: object) -> str:
    """A model's name as specs name them (lowercase letters, digits, '-' or '_')."""
    if not isinstance(value, str) or not re.fullmatch(MODEL_NAME_PATTERN, value):
        raise RequestError(
            f"{value!r} is not a model name (lowercase letters, digits, '-' or '_', starting with a "
            "letter, at most 63 characters)"
        )
    return value


def known_model(value: object, models: list[str]) -> str:
    """A model with a stored spec; an unknown one is refused with the closest name, if any."""
    name = model_name(value)
    if name in models:
        return name
    if not models:
        raise RequestError(f"no model {name!r}: no model has a stored spec yet (`modelops spec put FILE`)")
    close = difflib.get_close_matches(name, models, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f" (models: {', '.join(models)})"
    raise RequestError(f"no model {name!r} has a stored spec{hint}")


def run_day(value: object, what: str = "as_of") -> date:
    """A run's date (a date, a datetime or YYYY-MM-DD), within the days a run may cover."""
    day: date
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    elif isinstance(value, str):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise RequestError(f"{what} {value!r} is not a date (YYYY-MM-DD)") from None
    else:
        raise RequestError(f"{what} must be a date (YYYY-MM-DD), got {type(value).__name__}")
    if not FIRST_RUN_DAY <= day <= LAST_RUN_DAY:
        raise RequestError(
            f"{what} {day.isoformat()} is outside {FIRST_RUN_DAY.isoformat()} … {LAST_RUN_DAY.isoformat()}, "
            "the days a run may cover (its window, lookback and lookahead must fit the calendar)"
        )
    return day


def top_count(value: object) -> int:
    """How many top scores: a whole number, at least 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RequestError(f"n must be a whole number of at least 1, got {value!r}")
    return value


def period(value: object) -> Period:
    if value not in PERIODS:
        raise RequestError(f"period {value!r} is not one of {', '.join(PERIODS)}")
    return cast(Period, value)


def table_name(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(IDENTIFIER_PATTERN, value):
        raise RequestError(f"table name {value!r} is not an identifier (letters, digits, _)")
    return value
