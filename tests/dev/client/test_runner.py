"""How a failed execution is told to a person: the failed stage's error message on one line,
not the Lambda error document with its stack trace."""

import json

import pytest

from modelops_dev.client.runner import ExecutionResult


@pytest.mark.parametrize(
    ("cause", "told"),
    [
        (
            json.dumps(
                {
                    "errorType": "SpecError",
                    "errorMessage": "no spec for model 'x' (expected s3://…/specs/x.yaml)",
                    "stackTrace": ["Traceback (most recent call last):\n", '  File "app.py", line 3\n'],
                }
            ),
            "no spec for model 'x' (expected s3://…/specs/x.yaml)",
        ),
        (
            "States.Timeout after 900 s\nwhile running GetData",
            "States.Timeout after 900 s while running GetData",
        ),
        ('{"not": "a lambda error"}', '{"not": "a lambda error"}'),
        (None, None),
    ],
)
def test_a_failure_is_one_line_of_the_stages_message(cause, told):
    result = ExecutionResult(arn="arn", status="FAILED", output=None, error="SpecError", cause=cause)
    assert result.failure == told
