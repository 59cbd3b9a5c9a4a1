"""Fixtures: one embedded sandbox (moto + the real template.yaml) for the whole session, and
states of it built once and restored per test (the states and their builders are in
tests/states.py).

A state (the demo lake, a trained model, a scored month) is built the first time a test asks
for it, by running the real stages or state machines, and kept as a snapshot of every object
and item. Each test that asks for it gets a sandbox holding exactly that state, so tests may
change anything and never see each other's changes, and no test retrains a model that
another one already trained. A test that only read the state leaves it in place for the
next one (the sandbox tracks every call that is not a read).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Under pytest-xdist each worker already has its share of the cores: OpenMP threads
# (scikit-learn's gradient boosting) spinning for another worker's core made training three
# times slower. Set before numpy and scikit-learn load their thread pools.
if _workers := os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // int(_workers))))

import pytest

from modelops_dev.sandbox import PROJECT_ROOT, QUIET, Sandbox, embedded
from tests.forked_cli import forked_cli
from tests.helpers import Cli, cli_environment, free_port
from tests.states import (
    Prepared,
    States,
    build_lake,
    build_october,
    build_scored,
    build_spec,
    build_trained,
)


@pytest.fixture(scope="session")
def aws() -> Iterator[Sandbox]:
    """The session's sandbox. Every AWS call of a function, state machine or schedule is
    checked against its role in the template (a denied call fails the test that made it with
    AccessDenied); at the end no call may have been denied. MODELOPS_IAM_REPORT=<file> also
    writes every check and the grants never used (`make least-privilege` prints them)."""
    with embedded(environment=QUIET, enforce_roles=True) as sandbox:
        yield sandbox
        assert sandbox.iam is not None
        if report := os.environ.get("MODELOPS_IAM_REPORT"):
            Path(report).parent.mkdir(parents=True, exist_ok=True)
            Path(report).write_text(json.dumps(sandbox.iam.report(), indent=1))
        denied = sandbox.iam.denied()
        assert not denied, "calls the template's roles deny:\n" + "\n".join(map(str, denied[:20]))


@pytest.fixture(scope="session")
def states(aws: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> States:
    """The session's states; under pytest-xdist the shared ones are kept where every worker of
    this run sees them (the workers' temporary folders share a parent made for the run)."""
    shared = None
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run = os.environ.get("PYTEST_XDIST_TESTRUNUID", "run")  # never an earlier run's states
        shared = tmp_path_factory.getbasetemp().parent / f"states-{run}"
        shared.mkdir(exist_ok=True)
    return States(aws, shared)


@pytest.fixture
def sandbox(states: States) -> Sandbox:
    """An empty sandbox holding only the churn spec."""
    states.restore("spec", build_spec)
    return states.sandbox


@pytest.fixture
def lake(states: States) -> Sandbox:
    """The churn spec and the demo lake (1,000 customers x 12 months, drift from 2025-10)."""
    states.restore("lake", build_lake)
    return states.sandbox


@pytest.fixture
def trained(states: States) -> Prepared:
    """The lake with churn 1.0.0 trained as of 2025-08-01 (the champion), and that execution."""
    return Prepared(states.sandbox, states.restore("trained", build_trained))


@pytest.fixture
def scored(states: States) -> Prepared:
    """The trained sandbox with 2025-09 scored and published, and that scoring execution."""
    return Prepared(states.sandbox, states.restore("scored", build_scored))


@pytest.fixture
def october(states: States) -> tuple[Sandbox, dict[str, Any]]:
    """The scored sandbox with October scored too: the drift month, one alert sent."""
    return states.sandbox, states.restore("october", build_october)


@pytest.fixture(scope="session")
def served_sandbox() -> Iterator[str]:
    """`modelops sandbox` in its own process for the whole session; yields its endpoint
    (tests/integration/test_served_sandbox.py: the CLI in other processes against it)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "modelops_dev.cli", "sandbox", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=cli_environment(),
    )
    try:
        first = process.stdout.readline() if process.stdout else ""
        assert "sandbox serving on" in first, first + (process.stdout.read() if process.stdout else "")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="session")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """``cli(endpoint, *args)``: `modelops ARGS --endpoint-url ENDPOINT` in a process of its own,
    in the project's folder, with the environment less the embedded sandbox's AWS settings; each
    forked from one process that imported the CLI once (tests/forked_cli.py) rather than a new
    Python importing it all again (about 1.5 s a command). Returns a CompletedProcess."""
    with forked_cli(cli_environment(), tmp_path_factory.mktemp("cli")) as run:

        def modelops(endpoint: str, *args: str) -> subprocess.CompletedProcess[str]:
            return run([*args, "--endpoint-url", endpoint], PROJECT_ROOT)

        yield modelops


@pytest.fixture
def lambda_context() -> Any:
    import time

    from modelops_dev.sandbox import LambdaContext

    return LambdaContext(
        "fn", "arn:aws:lambda:us-east-1:1:function:fn", 128, "request-1", time.monotonic() + 60
    )


@pytest.fixture
def function_environment(monkeypatch) -> dict[str, str]:
    """The environment template.yaml's Globals give every function, with stand-in values (for a
    handler made outside the sandbox: it checks its settings when it is made)."""
    from modelops.settings import Settings

    environment = {
        field.alias: "900" if field.annotation is int else f"test-{name}"
        for name, field in Settings.model_fields.items()
        if field.alias
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return environment
