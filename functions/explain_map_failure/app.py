"""Lambda entry point of the scoring flow's Map failure path: one library call."""

from typing import Any

from aws_lambda_powertools import Logger

from modelops.pipeline import failures

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    return failures.explain(failures.MapFailure.model_validate(event))
