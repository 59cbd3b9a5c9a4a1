"""Per-spec schedules: cron expressions as EventBridge writes them, and which runs a
dispatcher tick starts (every firing exactly once across consecutive ticks)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelops.domain.schedules import (
    MAX_EXECUTION_NAME,
    MAX_MODEL_NAME,
    Due,
    ScheduleError,
    due_runs,
    execution_name,
    latest_firing,
    parse_cron,
)
from modelops.domain.spec import MODEL_NAME_PATTERN

HOUR = timedelta(hours=1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "fires", "quiet"),
    [
        ("cron(0 3 2 * ? *)", "2025-10-02T03:00", "2025-10-02T03:01"),
        ("cron(0 4 1 * ? *)", "2025-01-01T04:00", "2025-01-02T04:00"),
        ("cron(*/15 * * * ? *)", "2025-01-01T10:45", "2025-01-01T10:46"),
        ("cron(0 6 ? * MON *)", "2025-03-03T06:00", "2025-03-04T06:00"),  # 2025-03-03 is a Monday
        ("cron(0 6 ? * 2 *)", "2025-03-03T06:00", "2025-03-02T06:00"),  # 2 = Monday (1 = Sunday)
        ("cron(0 6 ? * SUN-TUE *)", "2025-03-02T06:00", "2025-03-05T06:00"),
        ("cron(0 3 2 1,4,7,10 ? *)", "2025-07-02T03:00", "2025-08-02T03:00"),
        ("cron(30 4 1 JAN-MAR ? 2025)", "2025-02-01T04:30", "2026-02-01T04:30"),
        ("cron(0 0-12/6 * * ? *)", "2025-05-05T12:00", "2025-05-05T18:00"),
    ],
)
def test_a_cron_fires_when_eventbridge_would(expression, fires, quiet):
    cron = parse_cron(expression)
    assert cron.fires_at(at(fires)) and not cron.fires_at(at(quiet))


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 3 2 * ? *", "is not cron("),
        ("cron(0 3 2 * ?)", "has 5 fields"),
        ("cron(0 3 2 * * *)", "exactly one of day-of-month and day-of-week must be '?'"),
        ("cron(0 3 ? * ? *)", "exactly one of day-of-month and day-of-week must be '?'"),
        ("cron(60 3 2 * ? *)", "minutes: 60 is outside 0-59"),
        ("cron(0 3 L * ? *)", "uses L, W or #"),
        ("cron(0 3 ? * 2#1 *)", "uses L, W or #"),
        ("cron(0 3 15W * ? *)", "uses L, W or #"),
        ("cron(0 3 2 FOO ? *)", "month: 'FOO' is not a number or one of JAN/"),
        ("cron(0 5-3 2 * ? *)", "range '5-3' runs backwards"),
        ("cron(0/0 3 2 * ? *)", "step '0' is not a positive number"),
    ],
)
def test_a_bad_expression_says_what_is_wrong(expression, message):
    with pytest.raises(ScheduleError, match=message.replace("(", r"\(").replace("?", r"\?")):
        parse_cron(expression)


def test_a_tick_starts_what_fired_since_the_previous_tick_with_its_firing_time():
    schedules = {
        "churn": {"training": "cron(0 3 2 * ? *)", "scoring": "cron(0 4 1 * ? *)"},
        "hymod": {"scoring": "cron(30 3 * * ? *)"},  # daily at 03:30
        "idle": {},
    }
    assert due_runs(schedules, at("2025-10-02T03:00"), HOUR) == [
        Due("churn", "training", at("2025-10-02T03:00")),
    ]
    assert due_runs(schedules, at("2025-10-02T04:00"), HOUR) == [
        Due("hymod", "scoring", at("2025-10-02T03:30")),  # fired between the ticks
    ]
    due = due_runs(schedules, at("2025-10-01T04:00"), HOUR)
    assert [(d.model, d.pipeline) for d in due] == [("churn", "scoring"), ("hymod", "scoring")]
    assert due[0].execution_name == "churn-scoring-20251001T0400Z"
    assert due_runs(schedules, at("2025-10-01T05:00"), HOUR) == []


def test_every_model_name_the_spec_allows_gives_an_execution_name_step_functions_accepts():
    longest = "m" * int(re.search(r"\{0,(\d+)\}", MODEL_NAME_PATTERN).group(1)) + "m"
    assert re.fullmatch(MODEL_NAME_PATTERN, longest) and len(longest) <= MAX_MODEL_NAME
    fired = at("2025-10-01T04:00")
    names = {
        execution_name(longest, pipeline, moment)
        for pipeline in ("training", "scoring")
        for moment in (fired, fired + HOUR)
    }
    assert len(names) == 4  # one per pipeline and firing: a retried tick starts nothing twice
    assert all(len(name) <= MAX_EXECUTION_NAME and name.startswith(f"{longest}-") for name in names)
    assert execution_name(longest, "training", fired) == execution_name(longest, "training", fired)
    assert execution_name("churn", "training", fired) == "churn-training-20251001T0400Z"  # fits: readable
    with pytest.raises(ScheduleError, match="at most 67 for the model"):
        execution_name("m" * (MAX_MODEL_NAME + 1), "training", fired)


def test_a_naive_tick_is_utc_and_a_too_long_interval_is_refused():
    assert due_runs({"m": {"training": "cron(0 3 2 * ? *)"}}, datetime(2025, 10, 2, 3), HOUR)
    with pytest.raises(ScheduleError, match="longer than 31 days"):
        latest_firing(parse_cron("cron(0 3 2 * ? *)"), at("2025-01-01T00:00"), at("2025-03-01T00:00"))


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from(
        [
            "cron(0 3 2 * ? *)",
            "cron(17 */5 * * ? *)",
            "cron(0 6 ? * MON *)",
            "cron(45 23 28-31 * ? *)",
        ]
    ),
    st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 1, 1)),
    st.sampled_from([timedelta(minutes=30), HOUR, timedelta(hours=6)]),
)
def test_consecutive_ticks_start_every_firing_exactly_once(expression, start, interval):
    cron = parse_cron(expression)
    start = start.replace(second=0, microsecond=0, tzinfo=UTC)
    ticks = [start + interval * k for k in range(1, int(timedelta(days=4) / interval) + 1)]
    started = [d.fired_at for tick in ticks for d in due_runs({"m": {"scoring": expression}}, tick, interval)]
    minute, firings = start + timedelta(minutes=1), []
    while minute <= ticks[-1]:
        if cron.fires_at(minute):
            firings.append(minute)
        minute += timedelta(minutes=1)
    # A schedule firing more often than the dispatcher runs once per tick: its latest firing.
    expected = [
        max(f for f in firings if tick - interval < f <= tick)
        for tick in ticks
        if any(tick - interval < f <= tick for f in firings)
    ]
    assert started == expected
    assert len(set(started)) == len(started)
