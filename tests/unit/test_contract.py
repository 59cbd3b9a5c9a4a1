from datetime import date, datetime

import pytest
from pydantic import ValidationError

from modelops.domain.contract import RunRequest, StageDoc, plan_run
from modelops.domain.periods import add_months


def test_add_months_crosses_years():
    assert add_months(date(2025, 11, 1), 3) == date(2026, 2, 1)
    assert add_months(date(2025, 1, 1), -1) == date(2024, 12, 1)


def test_a_request_with_as_of_trains_on_the_periods_up_to_it():
    run = plan_run(RunRequest(model="churn", as_of=date(2025, 8, 17)), "training", 8, 1)
    assert run.as_of == date(2025, 8, 1)
    assert (run.window.start, run.window.end) == (date(2025, 1, 1), date(2025, 8, 1))
    assert run.run_id == "training-churn-2025-08-01"


def test_a_scheduled_run_derives_the_window_from_the_scheduled_time():
    scheduled = datetime.fromisoformat("2025-10-02T03:00:00+00:00")
    training = plan_run(RunRequest(model="churn", scheduled_time=scheduled), "training", 8, 1)
    # October's run: September is the last complete month, its outcome is known one month later.
    assert training.as_of == date(2025, 8, 1)
    assert training.window.start == date(2025, 1, 1)
    scoring = plan_run(RunRequest(model="churn", scheduled_time=scheduled), "scoring", 8, 1)
    assert scoring.as_of == date(2025, 9, 1)
    assert scoring.window.start == scoring.window.end == date(2025, 9, 1)


@pytest.mark.parametrize(
    "body",
    [
        {"model": "churn"},
        {"model": "churn", "as_of": "2025-01-01", "scheduled_time": "2025-01-01T00:00:00Z"},
        {"model": "churn", "as_of": "2025-01-01", "run_id": "bad id/with slash"},
        {"as_of": "2025-01-01"},
    ],
)
def test_bad_requests_are_rejected(body):
    with pytest.raises(ValidationError):
        RunRequest.model_validate(body)


@pytest.mark.parametrize(
    ("period", "as_of", "start"),
    [
        ("day", date(2025, 3, 5), date(2025, 3, 3)),  # 3 days up to the requested one
        ("week", date(2025, 3, 3), date(2025, 2, 17)),  # as of Monday 2025-03-03's week
        ("quarter", date(2025, 1, 1), date(2024, 7, 1)),
    ],
)
def test_the_window_is_counted_in_the_specs_period(period, as_of, start):
    run = plan_run(RunRequest(model="m", as_of=date(2025, 3, 5)), "training", 3, 0, period)
    assert (run.as_of, run.window.start) == (as_of, start)
    assert run.run_id == f"training-m-{as_of.isoformat()}"


def test_a_scheduled_daily_run_scores_yesterday_and_trains_on_days_with_known_outcomes():
    scheduled = datetime.fromisoformat("2025-10-02T03:00:00+00:00")
    scoring = plan_run(RunRequest(model="m", scheduled_time=scheduled), "scoring", 30, 2, "day")
    assert scoring.window.start == scoring.window.end == date(2025, 10, 1)
    training = plan_run(RunRequest(model="m", scheduled_time=scheduled), "training", 30, 2, "day")
    assert (training.window.start, training.window.end) == (date(2025, 8, 31), date(2025, 9, 29))


def test_a_partial_window_is_allowed_by_the_request_or_the_spec_and_otherwise_absent():
    request = RunRequest(model="m", as_of=date(2025, 3, 1))
    assert plan_run(request, "training", 3, 0).allow_partial is None
    assert plan_run(request, "training", 3, 0, allow_partial=True).allow_partial is True
    asked = RunRequest(model="m", as_of=date(2025, 3, 1), allow_partial=True)
    run = plan_run(asked, "training", 3, 0)
    assert run.allow_partial is True
    assert "allow_partial" not in StageDoc(run=plan_run(request, "training", 3, 0)).to_json()["run"]
