"""Lambda entry point of the dispatcher (started by its Scheduler schedule): one library call."""

from typing import Any

from aws_lambda_powertools import Logger

from modelops import settings
from modelops.pipeline import dispatch

settings.check()  # cold start: a missing environment variable fails here, by name
logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = dispatch.dispatch(dispatch.DispatchRequest.model_validate(event))
    if result.unreadable:
        logger.error("specs skipped", extra={"unreadable": result.unreadable})
    return result.to_json()
