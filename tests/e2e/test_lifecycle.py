"""A model lifecycle a worse model cannot slip through, that can be undone in one command:
fair promotion, rejection with reasons, rollback, the shadow challenger and realized
performance, retraining on drift."""

import json

import boto3
import pytest

from modelops.stores import history, latest, metadata, registry
from modelops_dev.client import lifecycle, runner
from modelops_dev.sandbox import Sandbox
from tests.helpers import alert_inbox, drain, event, put_churn_spec, score, train
from tests.states import States, build_lake

pytestmark = pytest.mark.e2e
WEAK = {
    "kind": "hist_gradient_boosting",
    "params": {"max_iter": 30},
    "search": {"space": {"learning_rate": [0.05]}},
}
CRIPPLED = {
    "kind": "hist_gradient_boosting",
    "params": {"max_iter": 3},
    "search": {"space": {"learning_rate": [0.1]}},
}
# A floor that selects a few percent of the customers, so the selection guard has a share to
# compare (the churn spec's 0.3 selects very few of 1,000 here).
CAMPAIGN = {"min_score": 0.1}


def build_contenders(states: States) -> dict:
    """A weak champion (1.0.0), then three candidates: a crippled one (1.1.0), one trained five
    months earlier on three months (1.2.0), and a better one (1.3.0)."""
    states.restore("lake", build_lake)
    sandbox = states.sandbox
    inbox = alert_inbox(sandbox)
    results = {}
    put_churn_spec(estimator=WEAK, campaign=CAMPAIGN)
    results["weak"] = train(sandbox).output["results"]["deploy_model"]
    put_churn_spec(estimator=CRIPPLED, campaign=CAMPAIGN)
    results["crippled"] = train(sandbox).output["results"]["deploy_model"]
    # Looser gates: three months of the lake test near 0.65 and under-predict the later month's
    # churn; the rule under test is the window's.
    older = {"min_test_auc": 0.6, "calibration_tolerance": 0.8}
    put_churn_spec(window={"training_periods": 3}, campaign=CAMPAIGN, promotion=older)
    results["older"] = train(sandbox, "2025-03-01").output["results"]["deploy_model"]
    put_churn_spec(campaign=CAMPAIGN)
    results["better"] = train(sandbox).output["results"]["deploy_model"]
    results["alerts"] = drain(inbox)
    return results


@pytest.fixture
def contenders(states: States) -> tuple[Sandbox, dict]:
    return states.sandbox, states.restore("contenders", build_contenders)


def test_a_crippled_and_an_older_candidate_are_rejected_with_their_reasons_and_alerts(contenders):
    _, results = contenders
    assert results["weak"]["version"] == "1.0.0" and results["weak"]["champion"] is True
    crippled, older = results["crippled"], results["older"]
    assert (crippled["version"], crippled["status"], crippled["champion"]) == ("1.1.0", "rejected", False)
    # Its scores squeezed towards the base rate: the campaign's floor would reach too few.
    assert (
        "the campaign rule (score >= 0.1) would select" in crippled["reason"]
        or "worse than the champion" in crippled["reason"]
    )
    assert (older["version"], older["status"], older["champion"]) == ("1.2.0", "rejected", False)
    assert older["reason"] == "trained on data up to 2025-03-01, older than the champion's 2025-08-01"
    # (the crippled model's squeezed test scores may also raise a drift alert on the scores)
    gate = [m for m in results["alerts"] if not m["Subject"].startswith("modelops drift:")]
    subjects = [m["Subject"] for m in gate]
    assert subjects == ["modelops: churn 1.1.0 not promoted", "modelops: churn 1.2.0 not promoted"]
    rejected = json.loads(gate[1]["Message"])
    assert rejected["reason"] == older["reason"]
    # The alias never moved for them: its audit trail holds only promotions.
    kinds = [(entry["kind"], entry["version"]) for entry in registry.audit("churn")]
    assert kinds == [
        ("promotion", "1.0.0"),
        ("rejected", "1.1.0"),
        ("rejected", "1.2.0"),
        ("promotion", "1.3.0"),
    ]


def test_a_better_candidate_is_promoted_on_the_same_rows(contenders):
    _, results = contenders
    better = results["better"]
    assert (better["version"], better["champion"], registry.champion("churn")) == ("1.3.0", True, "1.3.0")
    compared = better["evidence"]["champion"]
    assert compared["version"] == "1.0.0" and compared["method"] == "DeLong"
    assert compared["difference"] > 0 and compared["candidate"] > compared["reference"]
    [promotion] = [e for e in registry.audit("churn") if e["version"] == "1.3.0"]
    assert (promotion["from"], promotion["to"]) == ("1.0.0", "1.3.0") and promotion["caller"].startswith(
        "training run"
    )


def test_a_rollback_restores_the_previous_champion_for_online_and_batch(states: States, monkeypatch):
    from modelops.online import service

    # The contenders with 1.3.0 (the champion) having scored September and October (online
    # features to join), the shadow challenger alongside: build_shadowed.
    built = states.restore("shadowed", build_shadowed)
    sandbox = states.sandbox
    assert built["october"]["deploy_scores"]["publication"] == "scoring-churn-2025-10-01@1.3.0"
    assert {s.model_version for s in latest.top("churn", 5)} == {"1.3.0"}
    assert _online_version(sandbox) == "1.3.0"
    done = lifecycle.rollback("churn", reason="1.3.0 misbehaves in production", caller="test operator")
    assert done == {"model": "churn", "champion": "1.0.0", "from": "1.3.0", "changed": True}
    last = registry.audit("churn")[-1]
    assert (last["kind"], last["from"], last["to"], last["reason"], last["caller"]) == (
        "rollback",
        "1.3.0",
        "1.0.0",
        "1.3.0 misbehaves in production",
        "test operator",
    )
    monkeypatch.setattr(service, "REFRESH_SECONDS", 0.0)
    assert _online_version(sandbox) == "1.0.0"  # the next online request
    put_churn_spec(campaign=CAMPAIGN)  # the contenders' spec, without the shadow
    assert score(sandbox, "2025-11-01").output["run"]["model_version"] == "1.0.0"  # the next scoring run
    with pytest.raises(lifecycle.NothingToRollBack):
        lifecycle.rollback("churn", reason="again", caller="test operator")  # 1.0.0 was the first
    with pytest.raises(ValueError, match="a reason is required"):
        lifecycle.promote("churn", "1.3.0", reason=" ", caller="test operator")


def test_a_retired_version_can_neither_serve_nor_be_the_champion(contenders):
    with pytest.raises(registry.NotAllowed, match="is the champion"):
        lifecycle.retire("churn", "1.3.0", reason="no", caller="test operator")
    lifecycle.retire("churn", "1.2.0", reason="trained on stale data", caller="test operator")
    with pytest.raises(registry.RetiredVersion, match=r"1\.2\.0 is retired"):
        lifecycle.promote("churn", "1.2.0", reason="try", caller="test operator")
    assert registry.challenger("churn").version == "1.1.0"  # the newest not retired, not champion


def test_a_scoring_run_pinned_to_a_retired_version_fails_by_name_and_sends_nothing(trained):
    from tests.helpers import recompressed_copy, run

    sandbox = trained.sandbox
    other = recompressed_copy("churn", "1.0.0", "another-run").version  # 1.1.0
    lifecycle.retire("churn", other, reason="misbehaves", caller="test operator")
    result = run(sandbox, "ScoringStateMachine", "2025-09-01", model_version=other)
    assert (result.status, result.error) == ("FAILED", "RetiredVersion"), result.cause
    assert "model 'churn' version 1.1.0 is retired: it never serves again" in result.cause
    assert latest.pointer("churn") is None  # nothing published
    assert drain(sandbox.ref("CampaignQueue")) == []  # and nobody contacted


def _online_version(sandbox: Sandbox) -> str:
    response = sandbox.call("OnlineScoreFunction", event("online_score"))
    body = json.loads(response["body"])
    assert response["statusCode"] == 200, body
    return str(body["model_version"])


def build_shadowed(states: States) -> dict:
    """The contenders' champion (1.3.0) scoring September and October with the shadow
    challenger (1.2.0, the newest non-champion) alongside."""
    states.restore("contenders", build_contenders)
    put_churn_spec(shadow=True)
    september = score(states.sandbox, "2025-09-01").output["results"]
    messages = drain(states.sandbox.ref("CampaignQueue"))
    october = score(states.sandbox, "2025-10-01").output["results"]
    return {"september": september, "october": october, "messages": messages}


def test_shadow_scores_reach_the_history_only_and_realized_performance_follows(states: States):
    built = states.restore("shadowed", build_shadowed)
    sources = {(r["source"], r["model_version"]) for r in history.read("churn", as_of=None)}
    assert {("batch", "1.3.0"), ("shadow", "1.2.0")} <= sources
    shadow_rows = history.read("churn", source="shadow")
    assert len(shadow_rows) == 2000 and {r["model_version"] for r in shadow_rows} == {"1.2.0"}
    assert {s.model_version for s in latest.top("churn", 200)} == {"1.3.0"}  # never published as latest
    assert {m["model_version"] for m in built["messages"]} == {"1.3.0"}  # nor sent to the campaign
    realized = built["october"]["validate_outcomes"]
    assert realized["outcome_period"] == "2025-09-01"
    assert set(realized["realized"]) == {"batch", "shadow"}
    assert (
        realized["realized"]["shadow"]["version"] == "1.2.0"
        and 0.5 < realized["realized"]["batch"]["roc_auc"] < 1
    )
    rows = metadata.read_rows("churn", "validate_outcomes")
    metrics = {r["metric"] for r in rows}
    assert {"batch:roc_auc", "shadow:roc_auc", "batch@1.3.0:response_rate", "shadow@1.2.0:brier"} <= metrics
    # Before October's outcomes exist, its performance is estimated from its scores (1.3.0's calibration).
    estimated = realized["estimated"]
    assert (estimated["period"], estimated["version"]) == ("2025-10-01", "1.3.0")
    assert 0.5 < estimated["roc_auc"] < 1 and 0 < estimated["outcome_rate"] < 0.2
    assert {"batch:estimated_roc_auc", "batch@1.3.0:estimated_precision", "batch:precision"} <= metrics
    assert built["september"]["validate_outcomes"]["realized"] == {}  # August was never scored


def test_a_drift_alert_with_retrain_on_drift_starts_a_training_run(scored):
    sandbox = scored.sandbox
    put_churn_spec(retrain_on_drift=True, retrain_min_severity="medium")
    sfn = boto3.client("stepfunctions")
    before = sfn.list_executions(stateMachineArn=sandbox.ref("TrainingStateMachine"))["executions"]
    october = score(sandbox, "2025-10-01").output["results"]["validate_scores"]
    assert october["alert"]["sent"] and october["alert"]["retrain"] is True
    after = sfn.list_executions(stateMachineArn=sandbox.ref("TrainingStateMachine"))["executions"]
    [started] = [e for e in after if e["executionArn"] not in {b["executionArn"] for b in before}]
    request = json.loads(sfn.describe_execution(executionArn=started["executionArn"])["input"])
    assert request == {"model": "churn", "as_of": "2025-09-01"}  # the last period with outcomes
    # Let it finish: a run left going would write into the sandbox the next test restores.
    retrained = runner.follow(started["executionArn"], timeout=600)
    assert retrained.status == "SUCCEEDED", retrained.cause  # trained; the gate decided


def test_the_templates_retraining_rule_matches_the_alert_the_code_sends(aws: Sandbox):
    from moto.events.models import EventPattern

    from modelops.stores.notifications import drift_event

    rule = aws.template["Resources"]["TrainingStateMachine"]["Properties"]["Events"]["RetrainOnDrift"]
    # moto's TestEventPattern answers nothing; its EventBridge matches rules with this class.
    pattern = EventPattern.load(json.dumps(rule["Properties"]["Pattern"]))

    def matches(detail: dict) -> bool:
        entry = drift_event(detail)
        event_json = {
            "id": "1",
            "account": "123456789012",
            "source": entry["Source"],
            "detail-type": entry["DetailType"],
            "time": "2025-10-02T00:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": json.loads(entry["Detail"]),
        }
        return bool(pattern.matches_event(event_json))

    assert matches({"model": "churn", "severity": "high", "retrain": True, "retrain_as_of": "2025-09-01"})
    assert not matches({"model": "churn", "severity": "high"})  # an alert without retrain: no training
