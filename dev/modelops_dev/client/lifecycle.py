"""Operations on a model's versions, each with a required reason and an audit row: show,
promote, roll back, retire. The online path (within its refresh interval) and the next
scoring run pick a change up; the registry's conditional writes keep two operators from
overwriting each other."""

from __future__ import annotations

import difflib
from typing import Any

from modelops.domain.model.versions import rollback_target
from modelops.stores import registry


class NothingToRollBack(LookupError):
    """The champion has no earlier champion to return to."""


def _reason(reason: str) -> str:
    if not reason.strip():
        raise ValueError("a reason is required: it goes into the audit trail")
    return reason.strip()


def show(model: str, version: str | None = None) -> dict[str, Any]:
    """A version (default: the champion; a retired one too) with its metadata, and the model's
    audit trail."""
    record = (
        registry.resolve_version(model, None) if version is None else registry.get_version(model, version)
    )
    metadata = registry.verified_metadata(record)
    return {
        "model": model,
        "champion": registry.champion(model),
        "version": {**record.__dict__},
        "metrics": metadata.get("metrics", {}),
        "params": metadata.get("params", {}),
        "training_window": metadata.get("training_window"),
        "audit": registry.audit(model),
    }


def recipe_diff(model: str, old: str, new: str) -> str:
    """A unified diff of the specs two versions were trained with (empty when the same)."""
    texts = []
    for version in (old, new):
        text = registry.recipe_text(registry.get_version(model, version))
        if text is None:
            raise ValueError(f"{model} {version} was registered before versions kept their recipe")
        texts.append(text)
    lines = difflib.unified_diff(
        texts[0].splitlines(keepends=True),
        texts[1].splitlines(keepends=True),
        fromfile=f"{model} {old}",
        tofile=f"{model} {new}",
    )
    return "".join(lines)


def promote(model: str, version: str, *, reason: str, caller: str) -> dict[str, Any]:
    """Make ``version`` the champion by hand (it may have been rejected by the gate, not retired)."""
    current = registry.champion(model)
    registry.get_version(model, version)
    if current == version:
        return {"model": model, "champion": version, "changed": False}
    registry.change_champion(model, version, current, kind="promote", reason=_reason(reason), caller=caller)
    return {"model": model, "champion": version, "from": current, "changed": True}


def previous_champion(model: str) -> str | None:
    """The champion before the current one, from the audit trail's champion changes."""
    changes = [
        (str(entry["kind"]), str(entry["version"]))
        for entry in registry.audit(model)
        if entry["kind"] in ("promotion", "promote", "rollback")
    ]
    return rollback_target(changes)


def rollback(model: str, *, reason: str, caller: str) -> dict[str, Any]:
    """Return to the champion before the current one."""
    current = registry.champion(model)
    if current is None:
        raise NothingToRollBack(f"model {model!r} has no champion")
    previous = previous_champion(model)
    if previous is None:
        raise NothingToRollBack(f"{model} {current} has no earlier champion to roll back to")
    registry.change_champion(model, previous, current, kind="rollback", reason=_reason(reason), caller=caller)
    return {"model": model, "champion": previous, "from": current, "changed": True}


def retire(model: str, version: str, *, reason: str, caller: str) -> dict[str, Any]:
    """A version that must never serve again (it cannot be the champion or the shadow)."""
    registry.set_status(model, version, registry.RETIRED, reason=_reason(reason), caller=caller)
    return {"model": model, "version": version, "status": registry.RETIRED}
