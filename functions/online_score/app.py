"""Online scoring API (API Gateway REST): routes -> one call into modelops.online each.

Every client mistake is a 4xx with ``{"error": ..., "field": ..., "reason": ...}``; a model
that cannot serve (a file failing its integrity check) is a 503 in the same shape; only an
unforeseen fault is another 5xx. The OpenAPI document (/openapi.json) lists each status.
"""

import json
from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from modelops import settings
from modelops.domain.spec import MODEL_NAME_PATTERN
from modelops.online import service as online

settings.check()  # cold start: a missing environment variable fails here, by name
logger = Logger()
app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=online.parse_json)

ModelName = Annotated[str, Path(pattern=MODEL_NAME_PATTERN, examples=["churn"])]
# Percent-encoded as the client sent it (API Gateway REST passes `path` encoded); the service
# checks the decoded id's length.
EntityId = Annotated[str, Path(min_length=1, examples=["185"])]


def _error(
    status: int, field: str, reason: str, headers: dict[str, str] | None = None
) -> Response[dict[str, Any]]:
    body = {"error": "invalid request" if status < 500 else "server error", "field": field, "reason": reason}
    return Response(status_code=status, content_type="application/json", body=body, headers=headers)


def _documented(ok: Any, *statuses: int) -> dict[int, OpenAPIResponse]:
    """The route's responses for the OpenAPI document: 200 with its model, each error status
    with the error body."""
    reasons = {
        400: "malformed JSON, or JSON nested too deeply",
        404: "unknown model, version, entity or route",
        405: "method not allowed on this path (the Allow header lists the allowed ones)",
        410: "the version asked for is retired: it never serves again",
        413: "too many records, or a body over 256 KB",
        415: "the body is not application/json",
        422: "a field is missing, unknown, of the wrong type, out of range or not finite",
        503: "the model's files fail their integrity check: it cannot serve (operators are alerted)",
    }
    responses: dict[int, OpenAPIResponse] = {
        200: {"description": "OK", "content": {"application/json": {"model": ok}}}
    }
    for status in (*statuses, 404, 405, 422):
        responses[status] = {
            "description": reasons[status],
            "content": {"application/json": {"model": online.ErrorBody}},
        }
    return responses


@app.exception_handler(online.RequestError)  # type: ignore[untyped-decorator]
def client_error(error: online.RequestError) -> Response[dict[str, Any]]:
    return _error(error.status, error.field, error.reason)


@app.exception_handler(online.Unavailable)  # type: ignore[untyped-decorator]
def unavailable(error: online.Unavailable) -> Response[dict[str, Any]]:
    """A model that cannot serve (a tampered file): logged with the cause, alerted (once) by the
    service, a 503 in the error shape."""
    logger.error("model unavailable", extra={"path": app.current_event.path, "cause": str(error.__cause__)})
    return _error(503, error.field, error.reason)


@app.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]
def unsupported_content_type(error: RequestUnsupportedContentType) -> Response[dict[str, Any]]:
    return _error(415, "Content-Type", "must be application/json")


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
def invalid_request(error: RequestValidationError) -> Response[dict[str, Any]]:
    errors = error.errors()
    first = errors[0]
    location = tuple(first.get("loc", ()))
    if first.get("type") == "json_invalid":
        return _error(400, "body", "malformed JSON")
    if location[:1] in (("path",), ("query",)):
        return _error(422, ".".join(str(part) for part in location[1:]), str(first.get("msg", "invalid")))
    body_errors = [
        {**e, "loc": tuple(e.get("loc", ()))[1:]} for e in errors if e.get("loc", ())[:1] == ("body",)
    ]
    refused = online.validation_error(body_errors, app.current_event.json_body)
    return _error(refused.status, refused.field, refused.reason)


@app.exception_handler(NotFoundError)  # type: ignore[untyped-decorator]
def no_route(error: NotFoundError) -> Response[dict[str, Any]]:
    """No route for this method and path: 405 (with Allow) when the path has other methods."""
    path, method = app.current_event.path, app.current_event.http_method.upper()
    allowed = sorted(
        route.method
        for route in (*app._static_routes, *app._dynamic_routes)  # Powertools' route table
        if route.include_in_schema and route.rule.match(path)
    )
    if allowed:
        return _error(
            405,
            "method",
            f"{method} is not allowed here (allowed: {', '.join(allowed)})",
            {"Allow": ", ".join(allowed)},
        )
    return _error(404, "path", f"no such route: {path}")


@app.post(
    "/models/<model>/score",
    responses=_documented(online.ScoreResponse | online.BatchScoreResponse, 400, 410, 413, 415, 503),
)
def score(
    model: ModelName,
    request: Annotated[online.ScoreRequest | online.BatchScoreRequest, Body()],
    version: Annotated[str | None, Query(max_length=32)] = None,
) -> dict[str, Any]:
    return online.score(model, request, version)


@app.get("/models/<model>/scores/<entity_id>", responses=_documented(online.EntityScores))
def entity_scores(model: ModelName, entity_id: EntityId) -> dict[str, Any]:
    return online.entity_scores(model, unquote(entity_id))


@app.get("/models/<model>", responses=_documented(online.ModelDescription, 503))
def describe(model: ModelName) -> dict[str, Any]:
    return online.describe(model)


@app.get("/openapi.json", responses=_documented(dict[str, Any]))
def openapi() -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=app.get_openapi_json_schema())


def _refusal(event: dict[str, Any]) -> online.RequestError | None:
    """What is refused before routing: a body over the size limit (before parsing it) and a
    body that is not JSON."""
    body = event.get("body") or ""
    if len(body) > online.MAX_BODY_BYTES:
        return online.RequestError(413, "body", f"larger than {online.MAX_BODY_BYTES} bytes")
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if body and content_type not in ("", "application/json"):
        return online.RequestError(415, "Content-Type", "must be application/json")
    return None


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refused = _refusal(event)
    if refused is not None:
        body = {"error": "invalid request", "field": refused.field, "reason": refused.reason}
        return {
            "statusCode": refused.status,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(body),
        }
    return app.resolve(event, context)
