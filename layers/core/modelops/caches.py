"""Process-wide caches (settings, loaded models): one Lambda container keeps them warm.

Every cache registers its ``clear`` here, so a new local sandbox can start cold with one
call (``clear_all``) instead of knowing each cache by name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])
_CLEARS: list[Callable[[], None]] = []


def register(clear: Callable[[], None]) -> None:
    _CLEARS.append(clear)


def process_cache(maxsize: int | None = None) -> Callable[[F], F]:
    """functools.lru_cache whose entries ``clear_all`` drops."""

    def decorate(function: F) -> F:
        cached = functools.lru_cache(maxsize=maxsize)(function)
        register(cached.cache_clear)
        return cached  # type: ignore[return-value]

    return decorate


def clear_all() -> None:
    for clear in _CLEARS:
        clear()
