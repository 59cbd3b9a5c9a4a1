"""Scoring stage handlers through the Lambda API on moto, fed the sample events in events/."""

import copy
import json

import boto3
import pytest

from modelops import scores, store
from modelops.spec import parse_spec
from modelops_local import runner
from tests.conftest import CHURN_SPEC, event, given_spec, invoke


@pytest.fixture
def trained(lake):
    result = runner.follow(runner.start(lake.ref("TrainingStateMachine"), event("training_request")))
    assert result.status == "SUCCEEDED", result.cause
    return lake


def score_month(sandbox, as_of: str) -> dict:
    body = copy.deepcopy(event("scoring_get_data"))
    body["request"]["as_of"] = as_of
    document = invoke(sandbox, "GetDataFunction", body)
    for function in ("TransformDataFunction", "ValidateDataFunction"):
        document = invoke(sandbox, function, document)
    for chunk in store.get_json(document["results"]["transform_data"]["manifest_key"]):
        invoke(
            sandbox,
            "ScoreDataFunction",
            {"run": document["run"], "artifacts": document["artifacts"], "chunk": chunk},
        )
    for function in ("ValidateScoresFunction", "DeployScoresFunction", "CampaignFunction"):
        document = invoke(sandbox, function, document)
    return document


def test_the_sample_scoring_events_chain(trained):
    document = invoke(trained, "GetDataFunction", event("scoring_get_data"))
    assert document["run"]["model_version"] == "1.0.0"  # the champion, resolved once
    assert {**document, "results": {}} == {**event("scoring_transform_data"), "results": {}}
    document = invoke(trained, "TransformDataFunction", document)
    assert document["results"]["transform_data"]["chunks"] == 1
    invoke(trained, "ValidateDataFunction", document)
    assert invoke(trained, "ScoreDataFunction", event("score_data")) == {"chunk": 0, "rows": 2000}
    validated = invoke(trained, "ValidateScoresFunction", event("validate_scores"))
    assert validated["results"]["validate_scores"]["rows"] == 2000
    deployed = invoke(trained, "DeployScoresFunction", event("deploy_scores"))["results"]["deploy_scores"]
    assert deployed["rows"] == 2000 and deployed["publication"] == "scoring-churn-2025-09-01@1.0.0"
    sent = invoke(trained, "CampaignFunction", event("campaign"))["results"]["campaign"]
    assert sent["sent"] == sent["selected"] > 0
    again = invoke(trained, "CampaignFunction", event("campaign_standalone"))
    assert again == {"model": "churn", "campaign": {**sent, "sent": 0, "already_sent": sent["selected"]}}


def test_a_missing_chunk_of_scores_is_a_named_error_and_nothing_is_published(trained):
    document = invoke(trained, "GetDataFunction", event("scoring_get_data"))
    document = invoke(trained, "TransformDataFunction", document)
    response = boto3.client("lambda").invoke(
        FunctionName=trained.ref("ValidateScoresFunction"), Payload=json.dumps(document)
    )
    error = response["Payload"].read().decode()
    assert '"errorType": "ScoreCountError"' in error and "chunk 0 has no scores" in error
    assert scores.pointer("churn") is None


def test_customers_in_cooldown_are_not_contacted_again(trained, tmp_path):
    september = score_month(trained, "2025-09-01")["results"]["campaign"]
    october = score_month(trained, "2025-10-01")["results"]["campaign"]
    assert september["in_cooldown"] == 0
    assert october["in_cooldown"] > 0
    assert october["sent"] + october["in_cooldown"] == october["selected"]
    # With no cooldown, November contacts everyone selected, even if contacted before.
    spec = parse_spec(CHURN_SPEC.read_text())
    runner.put_spec(
        given_spec(tmp_path / "churn.yaml", campaign={**spec.campaign.model_dump(), "cooldown_days": 0})
    )
    november = score_month(trained, "2025-11-01")["results"]["campaign"]
    assert november["in_cooldown"] == 0 and november["sent"] == november["selected"]


def test_a_new_run_replaces_the_latest_scores_atomically(trained):
    score_month(trained, "2025-09-01")
    first = scores.pointer("churn")
    score_month(trained, "2025-10-01")
    second = scores.pointer("churn")
    assert (first.as_of, second.as_of) == ("2025-09-01", "2025-10-01")
    table = boto3.resource("dynamodb").Table(trained.ref("ScoresTable"))
    old = table.query(
        KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": f"churn#{first.publication}"}
    )
    assert old["Items"] == []  # the previous run's rows are gone once the pointer moved
    assert len(scores.read_history("churn")) == 4000  # ... but the history keeps both runs
