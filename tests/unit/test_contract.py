from datetime import date, datetime

import pytest
from pydantic import ValidationError

from modelops.domain.contract import RunRequest, plan_run
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


def test_the_extract_is_cut_into_chunks_of_at_most_chunk_rows():
    from modelops.pipeline.shared import chunks_of

    chunks = chunks_of([("a", 250), ("b", 0), ("c", 100)], 100)
    assert [(c.index, c.key, c.offset, c.rows) for c in chunks] == [
        (0, "a", 0, 100),
        (1, "a", 100, 100),
        (2, "a", 200, 50),
        (3, "c", 0, 100),
    ]


def test_the_window_binds_only_the_window_parameters():
    from modelops.domain.periods import Window
    from modelops.stores.query import bind_window

    window = Window(start=date(2025, 1, 1), end=date(2025, 8, 1))
    sql = "SELECT $start_note FROM t WHERE d BETWEEN $start AND $end"
    assert bind_window(sql, window) == (
        "SELECT $start_note FROM t WHERE d BETWEEN DATE '2025-01-01' AND DATE '2025-08-01'"
    )
