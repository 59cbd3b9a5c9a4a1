"""A failed scoring Map, said by the chunk that failed."""

import json

from modelops.domain.failures import ChildFailure, chunk_of, explain_map_failure, message_of

LAMBDA_CAUSE = json.dumps(
    {"errorType": "AccessDenied", "errorMessage": "no  write\non x", "stackTrace": ["..."]}
)
THRESHOLD = "States.ExceedToleratedFailureThreshold"


def test_the_first_failed_chunk_names_the_runs_error_and_message():
    failed = [
        ChildFailure("QueryError", "plain text cause", 7),
        ChildFailure("AccessDenied", LAMBDA_CAUSE, 2),
        ChildFailure("States.Timeout", None, None),
    ]
    error, cause = explain_map_failure(THRESHOLD, "3 of 9 items failed", failed, 3, 9)
    assert error == "AccessDenied"
    assert json.loads(cause) == {
        "errorType": "AccessDenied",
        "errorMessage": (
            f"chunk 2 failed with AccessDenied: no write on x (3 of 9 chunks failed; {THRESHOLD})"
        ),
        "mapError": THRESHOLD,
    }


def test_without_a_failed_child_the_maps_own_error_stands():
    assert explain_map_failure(THRESHOLD, "1 of 1 items failed", [], None, None) == (
        THRESHOLD,
        "1 of 1 items failed",
    )
    error, cause = explain_map_failure(
        THRESHOLD, None, [ChildFailure("States.Runtime", None, None)], None, None
    )
    assert error == "States.Runtime"
    assert (
        json.loads(cause)["errorMessage"]
        == f"a chunk failed with States.Runtime: no cause given (1 failed; {THRESHOLD})"
    )


def test_a_cause_and_a_childs_input_are_read_whatever_their_shape():
    assert message_of(LAMBDA_CAUSE) == "no write on x"
    assert message_of("not json") == "not json" and message_of(None) == "no cause given"
    assert message_of(json.dumps(["a list"])) == '["a list"]'
    assert chunk_of(json.dumps({"run": {}, "chunk": {"index": 4, "rows": 10}})) == 4
    assert chunk_of(json.dumps({"chunk": {"index": "4"}})) is None
    assert chunk_of("{broken") is None and chunk_of(None) is None and chunk_of("[]") is None
