"""Shared fixtures: the embedded sandbox (moto + the real template.yaml) and sample events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelops_local import demo_data, runner
from modelops_local.sandbox import PROJECT_ROOT, QUIET, Sandbox, embedded

EVENTS = PROJECT_ROOT / "events"
CHURN_SPEC = PROJECT_ROOT / "models" / "churn.yaml"


def event(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return document


def invoke(sandbox: Sandbox, logical_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Invoke a function through the Lambda API, as Step Functions does."""
    import boto3

    response = boto3.client("lambda", region_name="us-east-1").invoke(
        FunctionName=sandbox.ref(logical_id), Payload=json.dumps(payload).encode()
    )
    body: dict[str, Any] = json.loads(response["Payload"].read())
    if "FunctionError" in response:
        raise AssertionError(f"{logical_id} failed: {body['errorType']}: {body['errorMessage']}")
    return body


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with embedded(environment=QUIET) as created:
        runner.put_spec(CHURN_SPEC)
        yield created


@pytest.fixture
def lake(sandbox: Sandbox) -> Sandbox:
    """The sandbox with a small demo data set (2,000 customers x 12 months)."""
    runner.load_demo_data(demo_data.DemoConfig(customers=2_000))
    return sandbox


def given_spec(path: Path, **changes: Any) -> Path:
    """A copy of the churn spec with top-level fields replaced."""
    import yaml

    document = yaml.safe_load(CHURN_SPEC.read_text())
    document.update(changes)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path
