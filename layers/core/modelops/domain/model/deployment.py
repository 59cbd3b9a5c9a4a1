"""What deploy_model does once the promotion gate has judged a candidate: promote it, record
its rejection, or leave the champion where it is, and why.

Pure: the gate's verdict, what the registry holds for the candidate's bytes (possibly
registered by an earlier run that crashed before promoting), the champion the gate compared
with and the champion now. An operator's choice made while the candidate trained stands; a
re-run completes a decision a crash left half done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Audit kinds that point the champion alias at a version.
CHAMPION_CHANGES = frozenset({"promotion", "promote", "rollback"})
REJECTED, RETIRED = "rejected", "retired"


@dataclass(frozen=True)
class Registered:
    """What the registry holds for the candidate's bytes."""

    version: str
    run_id: str  # the run that registered them (an earlier one when a re-run trained the same bytes)
    status: str  # registered, rejected or retired
    was_champion: bool  # the alias pointed at it before
    rejection_noted: bool  # its rejection is in the audit trail (and was alerted)


@dataclass(frozen=True)
class Deployment:
    """The decision: ``promote`` moves the alias (conditional on it still pointing at
    ``expected``); ``reject`` records and alerts the gate's rejection; ``hold`` records that
    the candidate passed but the champion moved meanwhile."""

    champion: bool  # the candidate is the champion once this is done
    reason: str
    promote: bool = False
    expected: str | None = None
    reject: bool = False
    hold: bool = False


def history(version: str, audit: Iterable[tuple[str, str]]) -> tuple[bool, bool]:
    """(was it the champion, was its rejection noted) from the audit trail's (kind, version)."""
    kinds = {kind for kind, of in audit if of == version}
    return bool(kinds & CHAMPION_CHANGES), REJECTED in kinds


def decide(
    *,
    accept: bool,
    verdict: str,
    registered: Registered,
    compared: str | None,
    current: str | None,
) -> Deployment:
    """What to do with a judged candidate. ``accept``/``verdict``: the gate's decision and its
    reason; ``compared``: the champion the gate compared with (None: there was none);
    ``current``: the champion now."""
    version = registered.version
    if current == version:
        return Deployment(True, "already the champion")
    if registered.status == RETIRED:
        return Deployment(False, f"the same model is registered as {version}, which is retired")
    if registered.was_champion:
        return Deployment(
            False,
            f"the same model is already registered as {version} ({registered.status}) and was the "
            f"champion before: the champion chosen since ({current}) stands",
        )
    if not accept:
        return Deployment(False, verdict, reject=not registered.rejection_noted)
    if compared != current:
        return Deployment(
            False,
            f"passed the gate against {compared or 'no champion'}, but the champion moved to {current} "
            f"meanwhile: {version} stays registered, not promoted (train again to compare with {current})",
            hold=True,
        )
    return Deployment(True, verdict, promote=True, expected=current)
