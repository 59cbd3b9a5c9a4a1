"""Why a scoring run's Map failed, said by the chunk that failed. The Map's own failure
(``States.ExceedToleratedFailureThreshold``) only counts failed children; the run's alert and
its execution name the first failed chunk's error and message instead."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class ChildFailure:
    """A failed Map child: its error name, its cause (a Lambda error's JSON, or text) and the
    chunk it scored (None when its input does not say)."""

    error: str
    cause: str | None
    chunk: int | None


def message_of(cause: str | None) -> str:
    """A cause in one line: a Lambda error's ``errorMessage`` (its JSON also holds the stack
    trace, which a person does not need), else the cause as it is."""
    if not cause:
        return "no cause given"
    try:
        document = json.loads(cause)
    except json.JSONDecodeError:
        document = None
    message = document.get("errorMessage") if isinstance(document, dict) else None
    return " ".join(str(cause if message is None else message).split())


def chunk_of(child_input: str | None) -> int | None:
    """The chunk index of a Map child's input (its ChunkItem), if it has one."""
    try:
        document = json.loads(child_input or "")
    except json.JSONDecodeError:
        return None
    chunk = document.get("chunk") if isinstance(document, dict) else None
    index = chunk.get("index") if isinstance(chunk, dict) else None
    return index if isinstance(index, int) else None


def explain_map_failure(
    map_error: str,
    map_cause: str | None,
    failed: list[ChildFailure],
    failed_items: int | None,
    items: int | None,
) -> tuple[str, str]:
    """(Error, Cause) of the run: the failed child's error name, and a cause (a Lambda error's
    JSON shape, so readers take its ``errorMessage``) naming the chunk, its message and how many
    chunks failed. With no failed child found, the Map's own error and cause."""
    if not failed:
        return map_error, map_cause or ""
    first = min(failed, key=lambda f: (f.chunk is None, f.chunk or 0))
    where = "a chunk" if first.chunk is None else f"chunk {first.chunk}"
    counted = (
        f"{failed_items} of {items} chunks failed"
        if failed_items is not None and items
        else f"{len(failed)} failed"
    )
    message = f"{where} failed with {first.error}: {message_of(first.cause)} ({counted}; {map_error})"
    cause = json.dumps({"errorType": first.error, "errorMessage": message, "mapError": map_error})
    return first.error, cause
