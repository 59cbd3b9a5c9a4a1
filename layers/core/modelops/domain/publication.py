"""Whether a scoring run's publication becomes the latest scores: time only moves forward."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Decision:
    accept: bool
    reason: str


def becomes_latest(current_as_of: date | None, run_as_of: date, *, force: bool = False) -> Decision:
    """Whether a scoring run's publication replaces the latest one: time only moves forward,
    so an older period goes to the history only, unless forced."""
    if current_as_of is None:
        return Decision(True, "first publication")
    if run_as_of >= current_as_of:
        return Decision(True, f"{run_as_of} is not older than the latest {current_as_of}")
    if force:
        return Decision(True, f"forced: {run_as_of} replaces the newer {current_as_of}")
    return Decision(False, f"{run_as_of} is older than the latest {current_as_of}: history only")
