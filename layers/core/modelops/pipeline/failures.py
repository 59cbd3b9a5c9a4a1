"""The scoring flow's failure path after its Map: the Map's own error only counts failed
children, so before the alert this names the failed chunk's error and message (its child
execution's, read through ListMapRuns, DescribeMapRun, ListExecutions and DescribeExecution)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from modelops.domain.failures import ChildFailure, chunk_of, explain_map_failure
from modelops.stores import executions


class Caught(BaseModel):
    """What a Catch puts in ``$.error``."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    error: str = Field(alias="Error")
    cause: str | None = Field(default=None, alias="Cause")


class MapFailure(BaseModel):
    """The failed execution and the Map's error as its Catch caught it."""

    model_config = ConfigDict(extra="forbid")
    execution: str
    error: Caught


def explain(request: MapFailure) -> dict[str, str]:
    """``{"Error", "Cause"}`` for ``$.error``: the first failed chunk's error name, and a cause
    naming the chunk, its message and how many chunks failed (the Map's own when none is found)."""
    children, failed_items, items = executions.map_failures(request.execution)
    failed = [ChildFailure(c.error, c.cause, chunk_of(c.input)) for c in children]
    error, cause = explain_map_failure(request.error.error, request.error.cause, failed, failed_items, items)
    return {"Error": error, "Cause": cause}
