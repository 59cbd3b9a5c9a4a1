"""What the notebook client and the CLI refuse before asking AWS anything, each in one line."""

from datetime import date, datetime

import pytest

from modelops_dev.client.inputs import (
    RequestError,
    known_model,
    model_name,
    period,
    run_day,
    table_name,
    top_count,
)


@pytest.mark.parametrize("value", [None, "../../etc", "Churn", "", "a b", 7, "m" * 64])
def test_a_model_name_no_spec_can_have_is_refused(value):
    with pytest.raises(RequestError, match="is not a model name") as refused:
        model_name(value)
    assert "\n" not in str(refused.value)


def test_an_unknown_model_is_refused_with_the_closest_name_or_the_list():
    assert known_model("churn", ["churn", "hymod"]) == "churn"
    with pytest.raises(RequestError, match=r"^no model 'chrun' has a stored spec; did you mean 'churn'\?$"):
        known_model("chrun", ["churn", "hymod"])
    with pytest.raises(RequestError, match=r"^no model 'nobody' has a stored spec \(models: churn, hymod\)$"):
        known_model("nobody", ["churn", "hymod"])
    with pytest.raises(RequestError, match="no model has a stored spec yet"):
        known_model("churn", [])


def test_a_run_day_is_a_date_within_the_calendar_a_run_may_cover():
    assert (
        run_day("2025-09-01")
        == run_day(date(2025, 9, 1))
        == run_day(datetime(2025, 9, 1, 3))
        == date(2025, 9, 1)
    )
    with pytest.raises(RequestError, match=r"^as_of 9999-12-31 is outside 1000-01-01 … 9000-12-31"):
        run_day("9999-12-31")
    with pytest.raises(RequestError, match="'2025-13-01' is not a date"):
        run_day("2025-13-01")
    with pytest.raises(RequestError, match=r"must be a date .*got NoneType"):
        run_day(None)


@pytest.mark.parametrize("n", [0, -1, 2.5, "3", True, None])
def test_top_takes_a_whole_number_of_at_least_one(n):
    with pytest.raises(RequestError, match="n must be a whole number of at least 1"):
        top_count(n)


def test_a_period_and_a_table_name_follow_the_lakes_rules():
    assert period("week") == "week" and table_name("hymod_2") == "hymod_2"
    with pytest.raises(RequestError, match="period 'year' is not one of day, week, month, quarter"):
        period("year")
    for bad in ("../../x", "a/b", "1st", "", None):
        with pytest.raises(RequestError, match="is not an identifier"):
            table_name(bad)
