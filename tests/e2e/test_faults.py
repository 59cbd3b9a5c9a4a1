"""Faults inside a stage: transient ones are retried by the state machine with backoff, and
permanent ones fail the run at once, by name."""

import json
from unittest import mock

import pytest
from botocore.retries.standard import ExponentialBackoff

from modelops.stores import latest
from tests.helpers import alert_inbox, drain, run, s3_writes_fail, task_failures

pytestmark = pytest.mark.e2e


def test_a_throttled_write_is_retried_and_the_run_succeeds(trained):
    # boto3 retries a throttled call 5 times itself; a sixth refusal leaves the stage as a
    # TransientError, which the state machine retries: the second invocation gets through.
    # boto3's waits between attempts (up to 1 + 2 + 4 + 8 s, at random) are not what is
    # checked here: its attempts follow one another at once.
    no_wait = mock.patch.object(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    with no_wait, s3_writes_fail("reports/", "SlowDown", times=6) as refused:
        result = run(trained.sandbox, "ScoringStateMachine", "2025-09-01")
    assert result.status == "SUCCEEDED", result.cause
    assert refused == ["reports/churn/drift.html"] * 6
    assert task_failures(result) == ["TransientError"]
    assert latest.pointer("churn").as_of == "2025-09-01"


def test_a_permanent_error_fails_the_run_without_retries(trained):
    with s3_writes_fail("reports/", "AccessDenied", times=10) as refused:
        result = run(trained.sandbox, "ScoringStateMachine", "2025-09-01")
    # boto3 names the exception after the AWS error code; the run fails by that name.
    assert result.status == "FAILED" and result.error == "AccessDenied", result.cause
    assert "injected fault on reports/churn/drift.html" in result.cause
    assert len(refused) == 1 and task_failures(result) == ["AccessDenied"]  # one attempt, no retry
    assert latest.pointer("churn") is None  # validate_scores failed: nothing published


def test_a_chunk_failing_inside_the_map_fails_the_run_by_the_chunks_error_and_publishes_nothing(trained):
    # The chunk's last write of its transform stage is refused: the Map's child fails, and
    # the Map with it (it tolerates no failed item), as on AWS. The Map's own error only counts
    # failed children; the failure path reads the failed child execution (ListMapRuns,
    # DescribeMapRun, ListExecutions, DescribeExecution) and the run fails by its error.
    receipt = "runs/scoring-churn-2025-09-01/chunks/00000/transform.json"
    inbox = alert_inbox(trained.sandbox)
    with s3_writes_fail(receipt, "AccessDenied", 10) as refused:
        result = run(trained.sandbox, "ScoringStateMachine", "2025-09-01")
    assert refused == [receipt]
    assert result.status == "FAILED", result.cause
    assert result.error == "AccessDenied", (result.error, result.cause)
    assert result.failure == (
        "chunk 0 failed with AccessDenied: An error occurred (AccessDenied) when calling the PutObject "
        f"operation: injected fault on {receipt} "
        "(1 of 1 chunks failed; States.ExceedToleratedFailureThreshold)"
    )
    [alert] = drain(inbox)
    assert alert["MessageAttributes"]["error"]["Value"] == "AccessDenied"
    assert json.loads(json.loads(alert["Message"])["error"]["Cause"])["errorMessage"] == result.failure
    assert latest.pointer("churn") is None
