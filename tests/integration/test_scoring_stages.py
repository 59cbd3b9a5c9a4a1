"""The scoring stages' handlers through the Lambda API on moto, fed the sample events in events/."""

import itertools
from datetime import date

import boto3
import pytest

from modelops.stores import history, latest, metadata, objects
from modelops_dev.sandbox import Sandbox
from tests.helpers import (
    SCORING_AS_OF,
    as_next_event,
    asl_functions,
    drain,
    event,
    invoke,
    invoke_raw,
    latest_items,
    put_churn_spec,
    without_start,
)
from tests.states import States, build_scored

CHAIN = [
    ("scoring_get_data", "GetDataFunction"),
    ("verify_model", "VerifyModelFunction"),
    ("scoring_validate_data", "ValidateDataFunction"),
    ("collect_outcomes", "CollectOutcomesFunction"),
    ("validate_outcomes", "ValidateOutcomesFunction"),
    ("validate_scores", "ValidateScoresFunction"),
    ("deploy_scores", "DeployScoresFunction"),
    ("campaign", "CampaignFunction"),
    ("retire_publications", "RetirePublicationsFunction"),
]
MAP = [
    ("transform_chunk", "TransformChunkFunction"),
    ("score_data", "ScoreDataFunction"),
    ("publish_chunk", "PublishChunkFunction"),
]


def run_chunks(sandbox, document: dict) -> list[dict]:
    """The scoring Map, chunk after chunk: each chunk through its three stages."""
    done = []
    for chunk in objects.get_json(document["results"]["get_data"]["manifest_key"]):
        item = {"run": document["run"], "artifacts": document["artifacts"], "chunk": chunk}
        for _, function in MAP:
            item = invoke(sandbox, function, item)
        done.append(item)
    return done


def score_month(sandbox, as_of: str) -> dict:
    """One scoring run through the Lambda API."""
    body = event("scoring_get_data")
    body["request"]["as_of"] = as_of
    document = invoke(sandbox, "VerifyModelFunction", invoke(sandbox, "GetDataFunction", body))
    run_chunks(sandbox, document)
    for function in (
        "ValidateDataFunction",
        "ValidateScoresFunction",
        "DeployScoresFunction",
        "CampaignFunction",
    ):
        document = invoke(sandbox, function, document)
    return document


def test_the_chain_is_the_scoring_state_machine_stage_by_stage():
    [(_, get_data), (_, verify), *after_map] = CHAIN
    assert [get_data, verify, *(f for _, f in MAP), *(f for _, f in after_map)] == asl_functions("scoring")


def test_the_sample_scoring_events_chain(trained):
    sandbox = trained.sandbox
    outputs = {}
    for name, function in CHAIN:
        if name == "scoring_validate_data":  # the Map's one chunk, from its sample events
            item = event("transform_chunk")
            for step, step_function in MAP:
                assert {**item, "results": {}} == {**event(step), "results": {}}, f"events/{step}.json"
                item = invoke(sandbox, step_function, event(step))
            published = {k: v for k, v in item["results"]["publish_chunk"].items() if k != "seconds"}
            assert published == {
                "history_rows": 1000,
                "latest_rows": 1000,
                "online_feature_rows": 1000,
                "shadow_rows": 0,
            }
        outputs[name] = invoke(sandbox, function, event(name))
    for (name, _), (following, _) in itertools.pairwise(CHAIN):
        expected = without_start(event(following))
        assert as_next_event(outputs[name]) == expected, f"{name} differs from events/{following}.json"
    results = {name: output["results"] for name, output in outputs.items()}
    assert results["scoring_get_data"]["get_data"]["rows"] == 1000
    assert outputs["scoring_get_data"]["run"]["model_version"] == "1.0.0"  # the champion, resolved once
    assert results["verify_model"]["verify_model"]["model_version"] == "1.0.0"
    # The outcomes of August (a month's lag) are due, but nothing of August was scored: said so.
    collected = results["collect_outcomes"]["collect_outcomes"]
    assert (collected["outcome_period"], collected["groups"], collected["online_rows"]) == (
        "2025-08-01",
        [],
        0,
    )
    assert (
        collected["note"]
        == "no scores of 2025-08-01 in the history to measure (the first scored period is later)"
    )
    realized = results["validate_outcomes"]["validate_outcomes"]
    assert (realized["realized"], realized["note"]) == ({}, collected["note"])
    assert results["validate_scores"]["validate_scores"]["rows"] == 1000
    deployed = results["deploy_scores"]["deploy_scores"]
    assert deployed == {
        "history": objects.uri("scores/model=churn/as_of=2025-09-01/source=batch/"),
        "publication": "scoring-churn-2025-09-01@1.0.0",
        "rows": 1000,
        "latest": True,
        "reason": "first publication",
        "retired": [],  # published item by item (1,000 rows): no table of its own to retire
        "retire_later": False,
    }
    assert "table" not in deployed
    sent = results["campaign"]["campaign"]
    assert sent["sent"] == sent["selected"] > 0 and sent["in_cooldown"] == sent["already_sent"] == 0
    again = invoke(sandbox, "CampaignFunction", event("campaign"))["results"]["campaign"]
    assert again == {**sent, "sent": 0, "already_sent": sent["selected"]}


def test_a_missing_chunk_of_scores_is_a_named_error_and_nothing_is_published(trained):
    document = invoke(trained.sandbox, "GetDataFunction", event("scoring_get_data"))
    document = invoke(trained.sandbox, "TransformDataFunction", document)
    error, failed = invoke_raw(trained.sandbox, "ValidateScoresFunction", document)
    assert (
        failed
        and error["errorType"] == "ScoreCountError"
        and "chunk 0 has no scores" in error["errorMessage"]
    )
    assert latest.pointer("churn") is None


def build_october_by_stages(states: States) -> dict:
    """The scored sandbox (September) with October scored too, through the stages; what the
    latest scores were before October, and both months' results."""
    september = states.restore("scored", build_scored)
    before = {"pointer": latest.pointer("churn"), "top": latest.top("churn", 1)[0].entity_id}
    october = score_month(states.sandbox, "2025-10-01")
    return {"september": september.output["results"], "october": october["results"], "before": before}


@pytest.fixture
def october_by_stages(states: States) -> tuple[Sandbox, dict]:
    """The sandbox holding what build_october_by_stages made (two tests read October's run)."""
    return states.sandbox, states.restore("october-by-stages", build_october_by_stages)


def test_customers_in_cooldown_are_not_contacted_again(october_by_stages):
    sandbox, runs = october_by_stages
    september = runs["september"]["campaign"]
    assert september["in_cooldown"] == 0 and september["sent"] > 0
    october_sent = runs["october"]["campaign"]
    assert october_sent["in_cooldown"] > 0
    assert october_sent["sent"] + october_sent["in_cooldown"] == october_sent["selected"]
    # With no cooldown, November contacts everyone selected, even if contacted before.
    put_churn_spec(campaign={"cooldown_days": 0})
    november = score_month(sandbox, "2025-11-01")["results"]["campaign"]
    assert november["in_cooldown"] == 0 and november["sent"] == november["selected"]


def test_a_new_run_replaces_the_latest_scores_atomically(october_by_stages):
    sandbox, runs = october_by_stages
    first, entity = runs["before"]["pointer"], runs["before"]["top"]  # before October's run
    assert first.as_of == SCORING_AS_OF
    second = latest.pointer("churn")
    assert second.as_of == "2025-10-01" and second.rows == 1000
    assert latest.get("churn", entity).as_of == "2025-10-01"  # readers see only the new run
    assert len(latest_items(sandbox, second.publication)) == 1000
    # The previous run's rows stay until DynamoDB's TTL removes them: no delete loop.
    old = latest_items(sandbox, first.publication)
    assert len(old) == 1000 and all(int(i["expires_at"]) > 0 for i in old)
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=sandbox.ref("ScoresTable"))
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    assert len(history.read("churn")) == 2000  # ... and the history keeps both runs


def test_a_campaign_switched_off_in_the_spec_sends_nothing_and_says_so(scored):
    put_churn_spec(campaign={"enabled": False})
    queue = scored.sandbox.ref("CampaignQueue")
    drain(queue)
    result = invoke(scored.sandbox, "CampaignFunction", event("campaign"))["results"]["campaign"]
    assert result == {
        "selected": 0,
        "in_cooldown": 0,
        "already_sent": 0,
        "sent": 0,
        "skipped": "campaign.enabled is false in the spec",
    }
    assert drain(queue) == []
    # Switched on again: the top 300 less those this run's hand-off already sent go out.
    put_churn_spec(campaign={"enabled": True, "top_n": 300, "min_score": None, "cooldown_days": 0})
    result = invoke(scored.sandbox, "CampaignFunction", event("campaign"))["results"]["campaign"]
    assert result["selected"] == 300 and result["sent"] > 0
    assert result["sent"] + result["already_sent"] == 300
    assert len(drain(queue)) == result["sent"]


def test_drift_segments_are_profiled_tested_and_bounded_through_the_stages(scored):
    """drift.segments through the handlers: every metric also per region (the two largest
    regions and "other"), in the same metadata table and validation, and too small says so."""
    put_churn_spec(drift={"segments": ["region"], "max_segments": 2, "min_rows": 350})
    document = score_month(scored.sandbox, "2025-10-01")
    october = date(2025, 10, 1)
    data = {r["metric"] for r in metadata.read_rows("churn", "validate_data") if r["timestamp"] == october}
    usage = sorted(m for m in data if m.startswith("data_usage_gb["))
    assert len(usage) == 3 and "data_usage_gb[region=other]" in usage
    assert not any(m.startswith("region[") for m in data)  # a segment is not sliced by itself
    rows = metadata.read_rows("churn", "validate_scores")
    scores = {r["metric"] for r in rows if r["timestamp"] == october}
    assert {m.replace("data_usage_gb", "score") for m in usage} <= scores
    # ~250 customers a region: the two named regions are under min_rows, "other" (~500) is not.
    notes = document["results"]["validate_data"]["notes"]
    named = [m.split("=")[1].rstrip("]") for m in usage if not m.endswith("=other]")]
    assert all(any(f"region={n}" in note and "too few to judge" in note for note in notes) for n in named)
    assert not any("region=other" in note for note in notes)


def test_the_sample_map_failure_event_names_the_maps_own_error_when_no_chunk_failed(scored):
    """events/explain_map_failure.json through the function: the execution it names ran no Map
    (here: a request get_data refuses), so the Map's own error and cause stand
    (tests/e2e/test_faults.py has a failed chunk named)."""
    from modelops_dev.client import runner

    request = event("explain_map_failure")
    machine, name = request["execution"].replace(":execution:", ":stateMachine:").rsplit(":", 1)
    assert machine == scored.sandbox.ref("ScoringStateMachine")
    started = runner.start(machine, {"model": "churn", "as_of": "not a date"}, name=name)
    assert runner.follow(started).status == "FAILED"
    assert invoke(scored.sandbox, "ExplainMapFailureFunction", request) == request["error"]
