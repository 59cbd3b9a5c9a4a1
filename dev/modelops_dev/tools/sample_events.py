"""`make events`: regenerate the stage sample events in events/ from a real run.

Each stage's event is what the stage before it returns, with the results trimmed to those a later
stage cannot run without (``KEPT``); the others are optional inputs, and they hold figures that
vary from run to run. The integration tests (tests/integration/test_stages.py and
test_scoring_stages.py) feed these events to the handlers in the state machines' order and check
that each stage's output still matches the next event, so the files cannot drift from the code.
The API Gateway events (online_*.json) and the schedules' (dispatcher.json,
training_schedule.json) are written by hand. explain_map_failure's is what the scoring Map's
Catch hands it: the run's execution and the Map's own error (`map_failure`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from modelops.stores import objects
from modelops_dev.client import runner
from modelops_dev.demo import synthetic
from modelops_dev.sandbox import PROJECT_ROOT, QUIET, Sandbox, embedded

TRAINING = ["get_data", "transform_data", "validate_data", "train_model", "validate_model", "deploy_model"]
SCORING = [
    "get_data",
    "verify_model",
    "validate_data",
    "collect_outcomes",
    "validate_outcomes",
    "validate_scores",
    "deploy_scores",
]
CHUNK = ["transform_chunk", "score_data", "publish_chunk"]
FUNCTIONS = {
    "get_data": "GetDataFunction",
    "transform_data": "TransformDataFunction",
    "validate_data": "ValidateDataFunction",
    "train_model": "TrainModelFunction",
    "validate_model": "ValidateModelFunction",
    "deploy_model": "DeployModelFunction",
    "verify_model": "VerifyModelFunction",
    "transform_chunk": "TransformChunkFunction",
    "score_data": "ScoreDataFunction",
    "publish_chunk": "PublishChunkFunction",
    "collect_outcomes": "CollectOutcomesFunction",
    "validate_outcomes": "ValidateOutcomesFunction",
    "validate_scores": "ValidateScoresFunction",
    "deploy_scores": "DeployScoresFunction",
    "campaign": "CampaignFunction",
    "retire_publications": "RetirePublicationsFunction",
    "explain_map_failure": "ExplainMapFailureFunction",
}


# get_data's manifest (the chunks), transform_data's summary and the outcomes collect_outcomes
# joined (validate_outcomes reads them).
KEPT = ("get_data", "transform_data", "collect_outcomes")


def as_event(output: dict[str, Any]) -> dict[str, Any]:
    """A stage's output as the next stage's sample event."""
    kept = {k: v for k, v in output.get("results", {}).items() if k in KEPT}
    return {**output, "results": kept}


def chain(
    sandbox: Sandbox, flow: str, stages: list[str], request: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Run a flow's stages one after the other; returns each stage's input event by file name."""
    prefix = "" if flow == "training" else "scoring_"
    events: dict[str, dict[str, Any]] = {f"{prefix}get_data": {"pipeline": flow, "request": request}}
    document = sandbox.call(FUNCTIONS["get_data"], events[f"{prefix}get_data"])
    for stage in stages[1:]:
        name = stage if stage not in ("transform_data", "validate_data") else f"{prefix}{stage}"
        if flow == "scoring" and stage == "validate_data":  # the Map before it, chunk by chunk
            for chunk in objects.get_json(document["results"]["get_data"]["manifest_key"]):
                item: dict[str, Any] = {
                    "run": document["run"],
                    "artifacts": document["artifacts"],
                    "chunk": chunk,
                }
                for step in CHUNK:
                    events.setdefault(step, item)
                    item = sandbox.call(FUNCTIONS[step], item)
        events[name] = as_event(document)
        document = sandbox.call(FUNCTIONS[stage], events[name])
    if flow == "scoring":
        events["campaign"] = as_event(document)
        document = sandbox.call(FUNCTIONS["campaign"], events["campaign"])
        events["retire_publications"] = as_event(document)
    return events


def map_failure(sandbox: Sandbox, scoring: dict[str, Any]) -> dict[str, Any]:
    """explain_map_failure's event: the scoring execution (by its name as the runner starts it)
    and the Map's own error as the Catch puts it in ``$.error``."""
    machine = sandbox.ref("ScoringStateMachine")
    name = f"scoring-{scoring['model']}-{scoring['as_of']}"
    execution = machine.replace(":stateMachine:", ":execution:") + f":{name}"
    error = {"Error": "States.ExceedToleratedFailureThreshold", "Cause": "1 of 4 items failed"}
    return {"execution": execution, "error": error}


def generate(directory: Path) -> list[Path]:
    written = []
    with embedded(environment=QUIET) as sandbox:
        runner.put_spec(PROJECT_ROOT / "models" / "churn.yaml")
        synthetic.load_demo_data(synthetic.DemoConfig(customers=synthetic.SAMPLE_CUSTOMERS))
        training = {"model": "churn", "as_of": "2025-08-01"}
        scoring = {"model": "churn", "as_of": "2025-09-01"}
        events = {
            "training_request": training,
            "scoring_request": scoring,
            **chain(sandbox, "training", TRAINING, training),
            **chain(sandbox, "scoring", SCORING, scoring),
            "explain_map_failure": map_failure(sandbox, scoring),
        }
        for name, document in sorted(events.items()):
            path = directory / f"{name}.json"
            path.write_text(json.dumps(document, indent=2) + "\n")
            written.append(path)
    return written


if __name__ == "__main__":
    for path in generate(PROJECT_ROOT / "events"):
        print(f"wrote {path.relative_to(PROJECT_ROOT)}")
