"""Sandbox states that tests start from, each built once per session by running the real
stages or state machines and kept as a snapshot (``States``), and the builders of the shared
ones: the churn spec, the demo lake, a trained model, a scored month, October's drift. The
fixtures of tests/conftest.py restore them; a test module may build its own on top."""

from __future__ import annotations

import copy
import fcntl
import pickle  # nosec B403  # snapshots this test run wrote itself, read back by its workers
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelops_dev.client import runner
from modelops_dev.demo import synthetic
from modelops_dev.sandbox import Sandbox, Snapshot
from tests.helpers import CHURN_SPEC, alert_inbox, drain, event_inbox, score, train

# 12 months from 2025-01, drift from 2025-10
LAKE = synthetic.DemoConfig(customers=synthetic.SAMPLE_CUSTOMERS)


@dataclass(frozen=True)
class Prepared:
    """A restored sandbox and the execution that built its state."""

    sandbox: Sandbox
    execution: runner.ExecutionResult


@dataclass
class State:
    snapshot: Snapshot
    value: Any  # what the builder returned (execution results, drained messages, ...)


class States:
    """Named sandbox states, each built once per session; under pytest-xdist the shared ones
    are built once per run: the first worker to need one builds it, the others wait for it and
    read its snapshot (``shared``: a folder every worker of the run sees)."""

    def __init__(self, sandbox: Sandbox, shared: Path | None = None) -> None:
        self.sandbox = sandbox
        self.shared = shared
        self._built: dict[str, State] = {}

    def restore(self, name: str, build: Callable[[States], Any]) -> Any:
        """Restore the sandbox to the named state (building it first if needed); returns the
        builder's value. ``build`` starts from an empty sandbox and may restore another state."""
        if name not in self._built:
            if build in SHARED and self.shared is not None:
                self._built[name] = self._shared(name, build)
            else:
                self._built[name] = self._build(build)
        state = self._built[name]
        self.sandbox.restore(state.snapshot)
        return copy.deepcopy(state.value)  # a test that changes it changes only its own copy

    def _build(self, build: Callable[[States], Any]) -> State:
        self.sandbox.reset()
        value = build(self)
        return State(self.sandbox.snapshot(), value)

    def _shared(self, name: str, build: Callable[[States], Any] | None) -> State:
        """Read the state another worker built, or build and keep it for the others (a lock a
        state: a builder that restores another state takes that one's lock inside its own).
        Without ``build``, the state must have been built."""
        assert self.shared is not None
        kept = self.shared / f"{name}.pickle"
        with (self.shared / f"{name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if kept.exists() or build is None:
                state: State = pickle.loads(kept.read_bytes())  # nosec B301  # written by this run
                return state
            state = self._build(build)
            if not state.snapshot.tables and not state.snapshot.imports:  # moto's objects stay here
                kept.with_suffix(".part").write_bytes(pickle.dumps(state))
                kept.with_suffix(".part").rename(kept)
            return state

    def value(self, name: str) -> Any:
        """What the builder of an already built state returned (the sandbox is left as it is;
        a shared state another worker built is read from its snapshot)."""
        if name not in self._built and self.shared is not None:
            self._built[name] = self._shared(name, None)
        return copy.deepcopy(self._built[name].value)


Builder = Callable[[States], Any]
SHARED: set[Builder] = set()  # builders of states of the sandbox alone, that any worker may build


def shared(build: Builder) -> Builder:
    """A builder that changes nothing but the sandbox: its state may be built by another worker."""
    SHARED.add(build)
    return build


@shared
def build_spec(states: States) -> None:
    runner.put_spec(CHURN_SPEC)


@shared
def build_lake(states: States) -> None:
    states.restore("spec", build_spec)
    synthetic.load_demo_data(LAKE)


@shared
def build_trained(states: States) -> runner.ExecutionResult:
    states.restore("lake", build_lake)
    return train(states.sandbox)


@shared
def build_scored(states: States) -> runner.ExecutionResult:
    states.restore("trained", build_trained)
    return score(states.sandbox)


@shared
def build_october(states: States) -> dict[str, Any]:
    """September scored (quiet), then October (the drift starts), with inboxes listening."""
    september = states.restore("scored", build_scored)
    alerts, events = alert_inbox(states.sandbox), event_inbox()
    october = score(states.sandbox, "2025-10-01")
    return {
        "training": states.value("trained").output["results"],
        "september": september.output["results"],
        "october": october.output["results"],
        "alerts": [m for m in drain(alerts) if m["Subject"].startswith("modelops drift")],
        "events": drain(events),
    }
