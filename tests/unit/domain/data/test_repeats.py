"""An entity repeated within a period: one rule and one message wherever a spec's rows are read,
and the spec's policy (fail, first, last)."""

from datetime import date

import pytest

from modelops.domain.data.datacheck import check_repeats
from modelops.domain.data.repeats import Repeats, most_repeated, refusal, repeats_message
from modelops.domain.spec import SpecError, parse_spec
from tests.helpers import CHURN_SPEC, churn_spec

WEEKLY = Repeats(rows=5_010, groups=30, entity="s-7", count=168, period=date(2025, 9, 1))


def test_the_message_names_the_most_repeated_entity_its_period_and_the_counts():
    assert repeats_message(["sensor"], WEEKLY) == (
        "sensor 's-7' appears 168 times in the period starting 2025-09-01 (5010 repeated rows in 30 "
        "entity-periods); each entity is scored once per period: fix the data or the SQL, or set the "
        "spec's duplicates to first or last"
    )
    glitch = Repeats(rows=1, groups=1, entity="a|b", count=2, period=None)
    assert repeats_message(["region", "customer"], glitch).startswith(
        "region|customer 'a|b' appears 2 times among rows without a readable timestamp (1 repeated row in "
        "1 entity-period)"
    )
    assert (
        most_repeated(["sensor"], WEEKLY)
        == "sensor 's-7' appears 168 times in the period starting 2025-09-01"
    )


@pytest.mark.parametrize(
    ("repeats", "policy", "refused"),
    [
        (WEEKLY, "fail", True),
        (WEEKLY, "first", False),
        (WEEKLY, "last", False),
        (None, "fail", False),
        (Repeats(rows=0, groups=0, entity="", count=0, period=None), "fail", False),
    ],
)
def test_only_the_fail_policy_refuses_and_only_a_repeat(repeats, policy, refused):
    message = refusal(["sensor"], repeats, policy)
    assert (message is not None) == refused
    if refused:
        assert message == repeats_message(["sensor"], WEEKLY)


def test_the_policy_is_a_spec_field_fail_by_default_and_operational():
    from modelops.domain.spec.model import OPERATIONAL

    assert parse_spec(CHURN_SPEC.read_text()).duplicates == "fail"
    import yaml

    assert parse_spec(yaml.safe_dump(churn_spec(duplicates="last"))).duplicates == "last"
    with pytest.raises(SpecError, match="duplicates: Input should be 'fail', 'first' or 'last'"):
        parse_spec(yaml.safe_dump(churn_spec(duplicates="keep")))
    assert "duplicates" in OPERATIONAL  # a repeat in new data needs no retraining to be scored


def test_spec_check_gives_the_runs_message_or_counts_what_a_run_drops():
    import yaml

    failing = parse_spec(CHURN_SPEC.read_text())
    [error] = check_repeats(failing, WEEKLY)
    assert (error.level, error.field) == ("error", "duplicates")
    assert error.message == repeats_message(["customer_id"], WEEKLY)
    keeping = parse_spec(yaml.safe_dump(churn_spec(duplicates="first")))
    [warning] = check_repeats(keeping, WEEKLY)
    assert warning.level == "warning" and warning.message.endswith(
        "a run keeps the first row of each entity and period and drops 5,010 rows"
    )
    assert check_repeats(failing, None) == []
