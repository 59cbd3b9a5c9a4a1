"""Model versions: semantic version numbers, and which version a rollback returns to."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def parse_version(version: str) -> tuple[int, int, int]:
    """'1.2.0' -> (1, 2, 0); anything else is a ValueError naming it."""
    parts = version.split(".")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise ValueError(f"{version!r} is not a semantic version (major.minor.patch)")
    major, minor, patch = (int(part) for part in parts)
    return major, minor, patch


def next_version(existing: Sequence[tuple[str, str]], schema_hash: str) -> str:
    """The version of a new model, given ``(version, schema hash)`` of those registered: a new
    feature schema is a new major version, a retrain on the newest one's schema a minor one."""
    if not existing:
        return "1.0.0"
    newest, newest_schema = max(existing, key=lambda pair: parse_version(pair[0]))
    major, minor, _ = parse_version(newest)
    if newest_schema != schema_hash:
        return f"{major + 1}.0.0"
    return f"{major}.{minor + 1}.0"


def rollback_target(champion_changes: Iterable[tuple[str, str]]) -> str | None:
    """The version a rollback returns to, from the champion changes ``(kind, new champion)``
    oldest first: promotions stack champions up, a rollback takes the top one off, so rolling
    back twice goes two champions back, never forth again. None when there is no earlier one."""
    line: list[str] = []
    for kind, version in champion_changes:
        if kind == "rollback":
            if line:
                line.pop()
            if not line or line[-1] != version:  # a history that began before the trail did
                line.append(version)
        else:
            line.append(version)
    return line[-2] if len(line) >= 2 else None
