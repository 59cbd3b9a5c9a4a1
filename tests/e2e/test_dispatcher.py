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


def test_each_spec_is_judged_alone_and_a_bad_one_is_alerted_once_per_content(sandbox):
    """A spec that is not UTF-8, not YAML, not valid, or stored under another model's name is
    skipped and alerted once per content; every other model starts, a 63-character model name
    included (its execution name shortened within Step Functions' 80 characters)."""
    import yaml

    from modelops.stores import layout, objects
    from tests.helpers import alert_inbox, drain

    monthly = {"scoring": CHURN_SCORING}
    longest = "m" * 63
    store_spec(yaml.safe_dump(churn_spec(schedule=monthly)), source="churn.yaml")
    store_spec(yaml.safe_dump(churn_spec(name=longest, schedule=monthly)), source="long.yaml")
    bad = {
        "binary": b"name: binary\n\xff\xfe\x00",
        "notyaml": b"name: [notyaml\n",
        "invalid": b"name: invalid\nestimater: {}\n",
        "elsewhere": yaml.safe_dump(churn_spec(name="other", schedule=monthly)).encode(),
    }
    for model, body in bad.items():
        objects.put_bytes(layout.spec_key(model), body)
    inbox = alert_inbox(sandbox)

    first = runner.dispatch(sandbox, "2025-10-01T04:00:00Z")
    assert sorted(s["model"] for s in first["started"]) == ["churn", longest]
    assert sorted(first["unreadable"]) == sorted(bad) == sorted(first["alerted"])
    assert "not UTF-8" in first["unreadable"]["binary"]
    assert "not valid YAML" in first["unreadable"]["notyaml"]
    assert "estimater: unknown field" in first["unreadable"]["invalid"]
    assert "the spec is model 'other'; store it as specs/other.yaml" in first["unreadable"]["elsewhere"]
    names = {name: e["arn"] for name, e in executions(sandbox).items()}
    assert "churn-scoring-20251001T0400Z" in names
    [long_name] = [name for name in names if name.startswith(longest)]
    assert len(long_name) <= 80

    def spec_alerts() -> list[str]:  # (the runs' own failure alerts come to the same topic)
        return [json.loads(a["Message"])["model"] for a in drain(inbox) if "unreadable" in a["Subject"]]

    assert sorted(spec_alerts()) == sorted(bad)

    # The next tick skips them again, silently; a changed (still bad) spec is alerted anew.
    objects.put_bytes(layout.spec_key("notyaml"), b"name: notyaml\nsource: [\n")
    second = runner.dispatch(sandbox, "2025-10-01T05:00:00Z")
    assert sorted(second["unreadable"]) == sorted(bad) and second["alerted"] == ["notyaml"]
    assert spec_alerts() == ["notyaml"]
    for arn in names.values():  # both runs fail fast in GetData (no lake here)
        assert runner.follow(arn, timeout=600).status == "FAILED"
