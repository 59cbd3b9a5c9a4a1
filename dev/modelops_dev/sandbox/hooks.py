"""A handler on every botocore client of this process: how the sandbox watches the calls
that functions, state machines and tests make (the role check in iam/, the change tracking
in state.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def every_client_hooked(event: str, handler: Callable[..., Any], unique_id: str) -> Iterator[None]:
    """``handler`` on ``event`` (e.g. "before-call") for the clients of every session made
    while the block runs (botocore copies its built-in handlers into each new session) and of
    boto3's default session, whenever it was made. A client made during the block keeps the
    handler after it (a client copies its session's handlers when it is made)."""
    import boto3
    import botocore.handlers

    entry = (event, handler)
    botocore.handlers.BUILTIN_HANDLERS.append(entry)
    session = boto3.DEFAULT_SESSION  # made before: the built-in handlers came too late for it
    if session is not None:
        session.events.register(event, handler, unique_id=unique_id)
    try:
        yield
    finally:
        botocore.handlers.BUILTIN_HANDLERS.remove(entry)
        if session is not None:
            session.events.unregister(event, unique_id=unique_id)
        if boto3.DEFAULT_SESSION is not None and boto3.DEFAULT_SESSION is not session:
            boto3.DEFAULT_SESSION.events.unregister(event, handler)  # made during: a built-in
