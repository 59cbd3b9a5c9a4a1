"""Whom a campaign contacts: the selection rule, the cooldown, and whether a run may claim a
customer (the contacts store's conditional write enforces the same rule atomically)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol, TypeVar

from modelops.domain.spec import Campaign


class Scored(Protocol):
    @property
    def entity_id(self) -> str: ...

    @property
    def score(self) -> float: ...


S = TypeVar("S", bound=Scored)


def select_contacts(candidates: Iterable[S], rule: Campaign) -> list[S]:
    """Whom a campaign contacts: the highest scores at or above ``min_score``, at most
    ``top_n``; ties go to the smaller entity id so the selection is stable."""
    eligible = [c for c in candidates if rule.min_score is None or c.score >= rule.min_score]
    ranked = sorted(eligible, key=lambda c: (-c.score, c.entity_id))
    return ranked if rule.top_n is None else ranked[: rule.top_n]


def cooldown_cutoff(today: date, cooldown_days: int) -> date:
    """A customer last contacted on or before this day may be contacted again today."""
    return today - timedelta(days=cooldown_days)


@dataclass(frozen=True)
class Contact:
    """A customer's last contact by a campaign run."""

    run_id: str
    contacted_on: date
    status: str  # "pending" (claimed, maybe not sent) or "sent"


def claim_outcome(previous: Contact | None, run_id: str, cutoff: date) -> str:
    """May ``run_id`` contact a customer whose last contact was ``previous``?
    'claim': yes (never contacted, cooldown over, or this run claimed it and did not finish);
    'already_sent': this run sent it before; 'cooldown': another run contacted it recently.
    The contacts store's conditional write enforces the same rule atomically."""
    if previous is None:
        return "claim"
    if previous.run_id == run_id:  # this run's own contact: never twice, whatever the cooldown
        return "claim" if previous.status == "pending" else "already_sent"
    return "claim" if previous.contacted_on <= cutoff else "cooldown"
