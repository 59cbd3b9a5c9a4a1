"""Many models per stack: each spec carries its own schedules; the dispatcher (one hourly
Scheduler schedule from template.yaml) starts every due run. moto keeps schedules but never
fires them, so the tests send the dispatcher what its schedule would, at chosen times."""

import json

import boto3
import pytest

from modelops.stores import latest
from modelops.stores.specs import store_spec
from modelops_dev.client import runner
from modelops_dev.sandbox import Sandbox
from tests.helpers import HYMOD_SPEC, churn_spec
from tests.states import States, build_trained

pytestmark = pytest.mark.e2e
CHURN_SCORING = "cron(0 4 1 * ? *)"  # monthly, on the 1st at 04:00 UTC
# hymod trains quarterly, on the 2nd at 03:00 UTC (models/hymod.yaml: cron(0 3 2 1,4,7,10 ? *))


def build_two_models(states: States) -> None:
    """The trained churn model scheduled monthly, and hymod's spec (quarterly; no data here, so
    its run fails fast, in GetData, after showing which window its firing time made)."""
    import yaml

    states.restore("trained", build_trained)
    store_spec(yaml.safe_dump(churn_spec(schedule={"scoring": CHURN_SCORING})), source="churn.yaml")
    store_spec(HYMOD_SPEC.read_text(), source=str(HYMOD_SPEC))


@pytest.fixture
def two_models(states: States) -> Sandbox:
    states.restore("two-models", build_two_models)
    return states.sandbox


def executions(sandbox: Sandbox) -> dict[str, dict]:
    """Every execution of both state machines, by name, with its input."""
    sfn, found = boto3.client("stepfunctions"), {}
    for machine in ("TrainingStateMachine", "ScoringStateMachine"):
        for execution in sfn.list_executions(stateMachineArn=sandbox.ref(machine))["executions"]:
            found[execution["name"]] = {
                "machine": machine,
                "arn": execution["executionArn"],
                "input": json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"]),
            }
    return found


def test_two_models_on_their_own_schedules_are_both_started_by_the_dispatcher(two_models):
    from modelops.stores import layout, objects

    quiet = runner.dispatch(two_models, "2025-10-01T03:00:00Z")
    assert quiet["started"] == [] and quiet["unreadable"] == {}

    # A spec that does not parse (put there by hand) is reported and does not stop the others.
    objects.put_bytes(layout.spec_key("broken"), b"name: broken\nestimater: {}\n")
    monthly = runner.dispatch(two_models, "2025-10-01T04:00:00Z")
    [churn] = monthly["started"]
    assert (churn["model"], churn["pipeline"], churn["new"]) == ("churn", "scoring", True)
    assert "estimater: unknown field; did you mean 'estimator'?" in monthly["unreadable"]["broken"]
    quarterly = runner.dispatch(two_models, "2025-10-02T03:00:00Z")
    [hymod] = quarterly["started"]
    assert (hymod["model"], hymod["pipeline"], hymod["fired_at"]) == (
        "hymod",
        "training",
        "2025-10-02T03:00:00Z",
    )

    started = executions(two_models)
    assert started["churn-scoring-20251001T0400Z"]["input"] == {
        "model": "churn",
        "scheduled_time": "2025-10-01T04:00:00+00:00",
    }
    assert started["hymod-training-20251002T0300Z"]["machine"] == "TrainingStateMachine"
    results = {name: runner.follow(e["arn"], timeout=600) for name, e in started.items()}
    # The firing time made the runs: churn scored September (the last complete month); hymod
    # asked for the 24 months up to 2025-09 (its outcome has no lag), which its lake lacks.
    churn_run = results["churn-scoring-20251001T0400Z"]
    assert churn_run.status == "SUCCEEDED" and churn_run.output["run"]["as_of"] == "2025-09-01"
    assert latest.pointer("churn").run_id == "scoring-churn-2025-09-01"
    hymod_run = results["hymod-training-20251002T0300Z"]
    assert (hymod_run.status, hymod_run.error) == ("FAILED", "NoDataError")
    assert hymod_run.failure == "table 'hymod' has no partitions between 2023-10-01 and 2025-09-30"

    again = runner.dispatch(two_models, "2025-10-01T04:00:00Z")  # the Scheduler retries a tick
    assert [s["new"] for s in again["started"]] == [False]
    assert len(executions(two_models)) == 2
