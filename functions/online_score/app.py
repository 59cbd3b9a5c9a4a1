"""Online scoring API (API Gateway REST): routes -> one call into modelops.online each.

Every client mistake is a 4xx with ``{"error": ..., "field": ..., "reason": ...}``; only a
real server fault is a 5xx.
"""

import json
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from modelops.online import service as online

logger = Logger()
app = APIGatewayRestResolver(enable_validation=True)


def _error(status: int, field: str, reason: str) -> Response[dict[str, Any]]:
    return Response(
        status_code=status,
        content_type="application/json",
        body={
            "error": "invalid request" if status < 500 else "server error",
            "field": field,
            "reason": reason,
        },
    )


@app.exception_handler(online.RequestError)  # type: ignore[untyped-decorator]
def client_error(error: online.RequestError) -> Response[dict[str, Any]]:
    return _error(error.status, error.field, error.reason)


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
def invalid_request(error: RequestValidationError) -> Response[dict[str, Any]]:
    first = error.errors()[0]
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    field = ".".join(part for part in location if not part.startswith("function-after")) or "body"
    if first.get("type") == "json_invalid":
        return _error(400, "body", "malformed JSON")
    return _error(422, field, str(first.get("msg", "invalid")))


@app.post("/models/<model>/score")
def score(
    model: str,
    request: Annotated[online.ScoreRequest | online.BatchScoreRequest, Body()],
    version: Annotated[str | None, Query(max_length=32)] = None,
) -> dict[str, Any]:
    return online.score(model, request, version)


@app.get("/models/<model>/scores/<entity_id>")
def entity_scores(model: str, entity_id: str) -> dict[str, Any]:
    return online.entity_scores(model, entity_id)


@app.get("/models/<model>")
def describe(model: str) -> dict[str, Any]:
    return online.describe(model)


@app.get("/openapi.json")
def openapi() -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=app.get_openapi_json_schema())


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if len(event.get("body") or "") > online.MAX_BODY_BYTES:  # refuse before parsing it
        body = {
            "error": "invalid request",
            "field": "body",
            "reason": f"larger than {online.MAX_BODY_BYTES} bytes",
        }
        return {"statusCode": 413, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
    return app.resolve(event, context)
