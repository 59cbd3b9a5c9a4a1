"""`modelops serve`: the online API's Lambda handler over HTTP on 127.0.0.1, as API Gateway
would call it. Routes come from the function's Api events in template.yaml; as in API
Gateway, a specific method wins over ANY.

How a REST API (API Gateway v1, Lambda proxy integration) hands the request's path to the
function, and so how this gateway hands it: routes are matched on the path as the client
sent it (a `%2F` inside a segment stays inside that segment), and `path`,
`requestContext.path` and `pathParameters` are all passed still percent-encoded, exactly as
sent (`/user/test%2Balias@gmail.com` arrives as that, `pathParameters.proxy` too), while
`queryStringParameters` are decoded (`%2B` to `+`, `+` to a space). HTTP APIs (v2) differ:
they decode the path. This is API Gateway's recorded behaviour (LocalStack's parity tests
against AWS, `test_lambda_aws_proxy_integration`, "invocation-payload-with-path-encoded-email"
and "-with-params-encoding"). So the function decodes a path parameter exactly once
(functions/online_score/app.py), and an entity id reads back whatever it holds: the literal
id `a%2Fb` is sent as `a%252Fb` and is never the entity `a/b` (sent as `a%2Fb`)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from modelops_dev.sandbox import PortInUse, Sandbox

FUNCTION = "OnlineScoreFunction"


def routes(sandbox: Sandbox) -> list[tuple[str, str, re.Pattern[str]]]:
    """(method, resource, pattern) of every Api event of the online function, ANY last."""
    found = []
    for spec in sandbox.template["Resources"][FUNCTION]["Properties"]["Events"].values():
        if spec["Type"] == "Api":
            resource = spec["Properties"]["Path"]
            pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", resource) + "$")
            found.append((spec["Properties"]["Method"].upper(), resource, pattern))
    return sorted(found, key=lambda route: route[0] == "ANY")


def api_event(
    method: str,
    url: str,
    body: str | None,
    headers: dict[str, str],
    table: list[tuple[str, str, re.Pattern[str]]],
) -> dict[str, Any] | None:
    """The API Gateway REST proxy event of a request, or None when no route matches."""
    parts = urlsplit(url)
    for route_method, resource, pattern in table:
        match = pattern.match(parts.path)
        if match and route_method in (method, "ANY"):
            query = dict(parse_qsl(parts.query)) or None  # decoded, as API Gateway decodes them
            parameters = match.groupdict()  # percent-encoded as sent, as API Gateway passes them
            return {
                "resource": resource,
                "path": parts.path,
                "httpMethod": method,
                "headers": headers,
                "multiValueHeaders": {k: [v] for k, v in headers.items()},
                "queryStringParameters": query,
                "multiValueQueryStringParameters": None
                if query is None
                else {k: [v] for k, v in query.items()},
                "pathParameters": parameters or None,
                "stageVariables": None,
                "requestContext": {
                    "resourcePath": resource,
                    "httpMethod": method,
                    "path": f"/v1{parts.path}",
                    "stage": "v1",
                    "requestId": str(uuid.uuid4()),
                    "identity": {"sourceIp": "127.0.0.1"},
                },
                "body": body,
                "isBase64Encoded": False,
            }
    return None


def server(
    sandbox: Sandbox, port: int, on_response: Callable[[int], None] | None = None
) -> ThreadingHTTPServer:
    """The gateway bound to 127.0.0.1:``port`` (0: any free port), not yet serving;
    ``on_response`` gets each status sent. PortInUse when the port is taken."""
    sandbox.handler(FUNCTION)  # import it now, not on the first request
    table = routes(sandbox)

    class Gateway(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace") if length else None
            event = api_event(self.command, self.path, body, dict(self.headers.items()), table)
            headers: dict[str, str] = {"Content-Type": "application/json"}
            if event is None:
                status = 404
                payload = json.dumps(
                    {"error": "invalid request", "field": "path", "reason": f"no such route: {self.path}"}
                )
            else:
                response = sandbox.call(FUNCTION, event)
                status, payload = response["statusCode"], response.get("body") or ""
                for name, values in (response.get("multiValueHeaders") or {}).items():
                    headers[name] = ", ".join(values)
                headers.update(response.get("headers") or {})
            encoded = payload.encode()
            if on_response:
                on_response(status)
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(encoded)

        def __getattr__(self, name: str) -> Any:
            """Every method (do_GET, do_DELETE, do_QUERY, ...) goes to the routes, as ANY does."""
            if name.startswith("do_"):
                return self._handle
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    try:
        return ThreadingHTTPServer(("127.0.0.1", port), Gateway)
    except OSError:
        raise PortInUse(port) from None


def serve(
    sandbox: Sandbox,
    port: int,
    ready: Callable[[str], None] | None = None,
    on_response: Callable[[int], None] | None = None,
) -> None:
    """Serve until interrupted; ``ready`` gets the URL, ``on_response`` each status sent."""
    bound = server(sandbox, port, on_response)
    if ready:
        ready(f"http://127.0.0.1:{bound.server_address[1]}")
    try:
        bound.serve_forever()
    finally:
        bound.server_close()
