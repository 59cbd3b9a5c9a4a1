"""Least privilege, verified: the sandbox checks every AWS call of a function, state machine or
schedule against the role template.yaml gives it (modelops_dev/sandbox/iam/). A denied call fails
like AWS fails it, so a permission missing from the template fails the test that needs it."""

import copy

import boto3

from modelops_dev.client import runner
from modelops_dev.sandbox import Sandbox
from modelops_dev.sandbox.iam import Request
from tests.helpers import CHURN_SPEC, event, invoke_raw
from tests.states import Prepared

STAGES = {
    "GetDataFunction",
    "TransformDataFunction",
    "ValidateDataFunction",
    "TrainModelFunction",
    "ValidateModelFunction",
    "DeployModelFunction",
    "VerifyModelFunction",
    "TransformChunkFunction",
    "ScoreDataFunction",
    "PublishChunkFunction",
    "ValidateScoresFunction",
    "DeployScoresFunction",
    "CampaignFunction",
}


def without(sandbox: Sandbox, principal: str, sid: str) -> list[dict]:
    """The principal's statements less the one with this Sid."""
    assert sandbox.iam is not None
    statements = sandbox.iam.roles.statements[principal]
    assert any(s.get("Sid") == sid for s in statements), f"{principal} has no statement {sid}"
    return [s for s in statements if s.get("Sid") != sid]


def test_both_pipelines_run_within_their_roles(scored: Prepared):
    """Every call of a training and a scoring run (built in this session, here or before) was
    checked and allowed: each stage, both state machines, the Map's children and ItemReader."""
    iam = scored.sandbox.iam
    assert iam is not None and iam.denied() == []
    assert STAGES | {"TrainingStateMachine", "ScoringStateMachine"} <= iam.principals()
    by_machine = {(c.principal, c.request.action, c.request.resource) for c in iam.calls}
    scoring = scored.sandbox.ref("ScoringStateMachine")
    assert ("ScoringStateMachine", "states:StartExecution", scoring) in by_machine  # Map children
    manifests = [
        c for c in iam.calls if c.principal == "ScoringStateMachine" and c.request.action == "s3:GetObject"
    ]
    assert manifests and all(c.request.resource.endswith("/raw/manifest.json") for c in manifests)
    for stage in STAGES:
        function = scored.sandbox.resolver.attributes[(stage, "Arn")]
        training_only = (
            "TransformDataFunction",
            "TrainModelFunction",
            "ValidateModelFunction",
            "DeployModelFunction",
        )
        machine = "TrainingStateMachine" if stage in training_only else "ScoringStateMachine"
        assert (machine, "lambda:InvokeFunction", function) in by_machine, stage


def test_only_deploy_model_writes_the_model_store_and_nothing_writes_specs(aws: Sandbox):
    assert aws.iam is not None
    bucket = aws.resolver.attributes[("DataBucket", "Arn")]
    writers = {
        prefix: {
            principal
            for principal in aws.iam.roles.statements
            if aws.iam.roles.decide(principal, Request("s3:PutObject", f"{bucket}/{prefix}x")) == "allow"
        }
        for prefix in ("models/churn/1.0.0/", "specs/", "data/customers/", "scores/", "runs/r/", "reports/")
    }
    assert writers["models/churn/1.0.0/"] == {"DeployModelFunction"}
    assert writers["specs/"] == set() and writers["data/customers/"] == set()
    # deploy_scores publishes batch and shadow scores; collect_outcomes adds the online ones.
    assert writers["scores/"] == {"DeployScoresFunction", "CollectOutcomesFunction"}
    assert writers["runs/r/"] == {
        "GetDataFunction",
        "TransformDataFunction",
        "TrainModelFunction",
        "TransformChunkFunction",
        "ScoreDataFunction",
        "PublishChunkFunction",
        "CollectOutcomesFunction",
    }
    assert writers["reports/"] == {"ValidateModelFunction", "ValidateScoresFunction"}
    deleters = {
        principal
        for principal in aws.iam.roles.statements
        if aws.iam.roles.decide(principal, Request("s3:DeleteObject", f"{bucket}/models/churn/1.0.0/x"))
        == "allow"
    }
    assert deleters == set()


def test_a_permission_missing_from_a_role_fails_the_call_with_access_denied(trained: Prepared, monkeypatch):
    """verify_model without its read of models/ fails as it would on AWS (AccessDenied)."""
    sandbox = trained.sandbox
    assert sandbox.iam is not None
    monkeypatch.setitem(
        sandbox.iam.roles.statements, "VerifyModelFunction", without(sandbox, "VerifyModelFunction", "S3Read")
    )
    with sandbox.iam.isolated() as calls:
        error, failed = invoke_raw(sandbox, "VerifyModelFunction", event("verify_model"))
    assert failed and error["errorType"] == "ClientError" and "AccessDenied" in error["errorMessage"]
    [denied] = [c for c in calls if not c.allowed]
    assert denied.principal == "VerifyModelFunction" and denied.request.action == "s3:GetObject"
    assert "/models/churn/1.0.0/" in denied.request.resource


def test_a_missing_key_is_a_404_only_with_list_bucket(sandbox: Sandbox, monkeypatch):
    """S3 answers a read of a missing key with 403 to a caller that may not list the bucket:
    without s3:ListBucket, an unknown model's spec would fail with AccessDenied, not SpecError."""
    assert sandbox.iam is not None
    request = copy.deepcopy(event("get_data"))
    request["request"]["model"] = "nope"
    with sandbox.iam.isolated() as calls:
        error, _ = invoke_raw(sandbox, "GetDataFunction", request)
        assert error["errorType"] == "SpecError"
        monkeypatch.setitem(
            sandbox.iam.roles.statements, "GetDataFunction", without(sandbox, "GetDataFunction", "S3List")
        )
        error, _ = invoke_raw(sandbox, "GetDataFunction", request)
    assert error["errorType"] == "ClientError" and "AccessDenied" in error["errorMessage"]
    assert [c.request.action for c in calls if not c.allowed] == ["s3:ListBucket"]


def test_the_fired_schedule_dispatches_both_pipelines_within_each_role(sandbox: Sandbox, tmp_path):
    """The hourly schedule's role may invoke the dispatcher only; the dispatcher may read the
    specs and start both state machines; each run that follows (failing on an empty lake)
    alerts within its state machine's role."""
    assert sandbox.iam is not None
    scheduled = tmp_path / "churn.yaml"
    scheduled.write_text(
        CHURN_SPEC.read_text() + "schedule:\n  training: cron(0 3 2 * ? *)\n  scoring: cron(0 3 2 * ? *)\n"
    )
    runner.put_spec(scheduled)
    before = len(sandbox.iam.calls)
    fired = sandbox.fire_schedule(runner.DISPATCH_SCHEDULE, "2025-09-02T03:00:00Z")
    started = {run["pipeline"]: run["execution"] for run in fired["payload"]["started"]}
    assert set(started) == {"training", "scoring"}
    for pipeline, machine in (("training", "TrainingStateMachine"), ("scoring", "ScoringStateMachine")):
        result = runner.follow(started[pipeline], timeout=300)
        described = boto3.client("stepfunctions").describe_execution(executionArn=started[pipeline])
        assert described["stateMachineArn"] == sandbox.ref(machine)
        assert '"scheduled_time": "2025-09-02T03:00:00+00:00"' in described["input"]
        assert result.status == "FAILED" and result.error  # nothing to train on or score: alerted
    calls = [(c.principal, c.request.action, c.allowed) for c in sandbox.iam.calls[before:]]
    assert {call for call in calls if call[0] == runner.DISPATCH_SCHEDULE} == {
        (runner.DISPATCH_SCHEDULE, "lambda:InvokeFunction", True)
    }
    dispatcher = {(action, allowed) for who, action, allowed in calls if who == "DispatcherFunction"}
    assert ("states:StartExecution", True) in dispatcher and all(allowed for _, allowed in dispatcher)
    for machine in ("TrainingStateMachine", "ScoringStateMachine"):
        assert (machine, "sns:Publish", True) in calls
