"""The system's decisions, each on its boundaries: versions, alerts, campaign, publication,
retraining. (Promotion has its own tests: test_promotion.py.)"""

from dataclasses import FrozenInstanceError, dataclass
from datetime import date

import numpy as np
import pytest

from modelops.domain.campaign import Contact, claim_outcome, cooldown_cutoff, select_contacts
from modelops.domain.model.versions import next_version, parse_version, rollback_target
from modelops.domain.publication import becomes_latest
from modelops.domain.spec import Campaign

# ---------------------------------------------------------------- versions


@pytest.mark.parametrize(
    ("version", "parsed"), [("1.0.0", (1, 0, 0)), ("2.13.4", (2, 13, 4)), ("0.0.10", (0, 0, 10))]
)
def test_a_semantic_version_parses_to_three_numbers(version, parsed):
    assert parse_version(version) == parsed


@pytest.mark.parametrize("version", ["1.2", "1.2.3.4", "1.x.0", "v1.2.0", "1.-2.0", "", "1..0"])
def test_anything_else_is_named_in_the_error(version):
    with pytest.raises(ValueError) as raised:
        parse_version(version)
    assert str(raised.value) == f"{version!r} is not a semantic version (major.minor.patch)"


def test_the_first_model_is_1_0_0():
    assert next_version([], "schema-a") == "1.0.0"


def test_a_retrain_on_the_same_schema_is_a_minor_version_with_patch_zero():
    assert next_version([("1.0.0", "a")], "a") == "1.1.0"
    assert next_version([("3.4.7", "a")], "a") == "3.5.0"


def test_a_new_feature_schema_is_a_major_version():
    assert next_version([("1.0.0", "a")], "b") == "2.0.0"
    assert next_version([("3.4.7", "a")], "b") == "4.0.0"


def test_the_newest_version_is_found_by_number_not_by_text():
    registered = [("1.9.0", "a"), ("1.10.0", "b"), ("1.2.0", "a")]
    # As text "1.9.0" sorts last; by number 1.10.0 is the newest, and its schema is "b".
    assert next_version(registered, "b") == "1.11.0"
    assert next_version(registered, "a") == "2.0.0"


# Alerts (severity, fingerprint, summary) are tested in test_alerts.py.


# ---------------------------------------------------------------- campaign


@dataclass(frozen=True)
class Customer:
    entity_id: str
    score: float


CUSTOMERS = [Customer("c", 0.9), Customer("a", 0.5), Customer("b", 0.9), Customer("d", 0.2)]


def ids(selected: list[Customer]) -> list[str]:
    return [c.entity_id for c in selected]


def test_the_top_n_highest_scores_ties_to_the_smaller_id():
    assert ids(select_contacts(CUSTOMERS, Campaign(top_n=3))) == ["b", "c", "a"]
    assert ids(select_contacts(CUSTOMERS, Campaign(top_n=1))) == ["b"]


def test_min_score_is_inclusive_and_combines_with_top_n():
    assert ids(select_contacts(CUSTOMERS, Campaign(top_n=None, min_score=0.5))) == ["b", "c", "a"]
    assert ids(select_contacts(CUSTOMERS, Campaign(top_n=2, min_score=0.2))) == ["b", "c"]
    assert ids(select_contacts(CUSTOMERS, Campaign(top_n=10, min_score=0.95))) == []


def test_without_a_limit_everyone_eligible_is_contacted_in_score_order():
    assert ids(select_contacts(CUSTOMERS, Campaign(top_n=None, min_score=0.0))) == ["b", "c", "a", "d"]
    assert ids(select_contacts(iter(CUSTOMERS), Campaign(top_n=100))) == ["b", "c", "a", "d"]


def test_the_cooldown_cutoff_is_that_many_days_back():
    assert cooldown_cutoff(date(2025, 3, 31), 30) == date(2025, 3, 1)
    assert cooldown_cutoff(date(2025, 3, 1), 1) == date(2025, 2, 28)
    assert cooldown_cutoff(date(2025, 3, 1), 0) == date(2025, 3, 1)


CUTOFF = date(2025, 3, 1)


@pytest.mark.parametrize(
    ("previous", "outcome"),
    [
        (None, "claim"),  # never contacted
        (Contact("other", date(2025, 3, 1), "sent"), "claim"),  # on the cutoff: cooldown over
        (Contact("other", date(2025, 3, 2), "sent"), "cooldown"),
        (Contact("other", date(2025, 3, 2), "pending"), "cooldown"),
        (Contact("run-1", date(2025, 3, 2), "pending"), "claim"),  # this run, crashed before sending
        (Contact("run-1", date(2025, 3, 2), "sent"), "already_sent"),  # this run, a retry
        (Contact("run-1", date(2025, 2, 1), "sent"), "already_sent"),  # this run: never twice
    ],
)
def test_who_may_claim_a_customer(previous, outcome):
    assert claim_outcome(previous, "run-1", CUTOFF) == outcome


def test_decisions_and_contacts_are_values():
    decision = becomes_latest(None, date(2025, 9, 1))
    with pytest.raises(FrozenInstanceError):
        decision.accept = False  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        Contact("run-1", CUTOFF, "sent").status = "pending"  # type: ignore[misc]


def test_time_only_moves_forward_unless_forced():
    assert becomes_latest(None, date(2025, 9, 1)).accept
    assert becomes_latest(date(2025, 9, 1), date(2025, 9, 1)).accept  # a re-score of the same period
    assert becomes_latest(date(2025, 9, 1), date(2025, 10, 1)).accept
    older = becomes_latest(date(2025, 10, 1), date(2025, 9, 1))
    assert not older.accept and older.reason == "2025-09-01 is older than the latest 2025-10-01: history only"
    assert becomes_latest(date(2025, 10, 1), date(2025, 9, 1), force=True).accept


def test_each_chunk_indexes_its_top_rows_and_everything_above_the_floor():
    from modelops.stores.latest import indexed_rows

    score = np.array([0.1, 0.9, 0.5, 0.7, 0.3])
    assert indexed_rows(score, 2, None).tolist() == [False, True, False, True, False]
    assert indexed_rows(score, 1, 0.4).tolist() == [False, True, True, True, False]
    assert indexed_rows(np.empty(0), 3, 0.5).tolist() == []


def test_a_run_never_contacts_its_own_customers_twice_even_without_cooldown():
    from modelops.domain.campaign import Contact, claim_outcome

    today = date(2025, 10, 1)
    sent = Contact("run-10", today, "sent")
    assert claim_outcome(sent, "run-10", cutoff=today) == "already_sent"  # cooldown 0: cutoff is today
    assert claim_outcome(Contact("run-10", today, "pending"), "run-10", cutoff=today) == "claim"
    assert claim_outcome(Contact("run-09", date(2025, 9, 1), "sent"), "run-10", cutoff=today) == "claim"
    assert (
        claim_outcome(Contact("run-09", date(2025, 9, 20), "sent"), "run-10", cutoff=date(2025, 9, 1))
        == "cooldown"
    )
    assert claim_outcome(None, "run-10", cutoff=today) == "claim"


def test_retraining_needs_the_minimum_severity():
    from modelops.domain.monitoring.alerts import should_retrain

    assert should_retrain("high", "medium") and should_retrain("medium", "medium")
    assert not should_retrain("low", "medium") and not should_retrain("high", None)


def test_a_rollback_goes_back_along_the_line_of_champions_never_forth():
    promoted = [("promotion", "1.0.0"), ("promotion", "1.3.0")]
    assert rollback_target([("promotion", "1.0.0")]) is None  # the first champion
    assert rollback_target(promoted) == "1.0.0"
    assert rollback_target([*promoted, ("rollback", "1.0.0")]) is None  # not back to 1.3.0
    three = [*promoted, ("promote", "1.4.0")]
    assert rollback_target(three) == "1.3.0"
    assert rollback_target([*three, ("rollback", "1.3.0")]) == "1.0.0"
    # an operator's promotion of an older version is undone like any other
    assert rollback_target([*promoted, ("promote", "1.0.0")]) == "1.3.0"
    # a trail that began after the first champion: a rollback names where it went
    assert rollback_target([("rollback", "0.9.0"), ("promotion", "1.0.0")]) == "0.9.0"
