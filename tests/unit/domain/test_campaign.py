"""Whom a campaign contacts: selection, cooldown, claims."""

from dataclasses import FrozenInstanceError, dataclass
from datetime import date

import pytest

from modelops.domain.campaign import Contact, claim_outcome, cooldown_cutoff, select_contacts
from modelops.domain.publication import becomes_latest
from modelops.domain.spec import Campaign


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
