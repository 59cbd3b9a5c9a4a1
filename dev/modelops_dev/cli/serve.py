"""`modelops sandbox` (the sandbox as a server), `modelops serve` (the online API over HTTP)
and `modelops invoke` (one request to it)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from modelops_dev.cli.common import CliError, connect, print_json


def cmd_sandbox(args: argparse.Namespace) -> int:
    from modelops_dev.sandbox import served

    with served(port=args.port) as sandbox:
        endpoint = f"http://127.0.0.1:{args.port}"
        print(f"sandbox serving on {endpoint} (Ctrl-C stops it)")
        for name, value in sorted(sandbox.environment.items()):
            print(f"  {name}={value}")
        print(f"  try: aws --endpoint-url {endpoint} s3 ls s3://{sandbox.environment['MODELOPS_BUCKET']}/")
        sys.stdout.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("stopped")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from modelops_dev.client import gateway

    sandbox = connect(args.endpoint_url)

    def ready(url: str) -> None:
        print(f"online API on {url} (sandbox {args.endpoint_url}); Ctrl-C stops it", flush=True)
        print(f"  try: modelops invoke --url {url} --event events/online_score.json", flush=True)

    try:
        gateway.serve(sandbox, args.port, ready)
    except KeyboardInterrupt:
        print("stopped")
    return 0


def request_path(path: str) -> str:
    """A request path with every character a URL cannot carry percent-encoded (an entity id
    'a b' becomes 'a%20b'); what is already encoded stays as it is."""
    return quote(path, safe="/%?=&:@!$'()*+,;-._~")


def cmd_invoke(args: argparse.Namespace) -> int:
    method, path, body = _request_of(args)
    status, text = _send(args.url, method, path, body, sign=_signer(args))
    if args.json:
        print_json({"status": status, "body": json.loads(text) if text else None})
    else:
        print(f"{status} {method} {path}")
        print(json.dumps(json.loads(text), indent=2) if text else "")
    return 0 if status < 400 else 1


def _request_of(args: argparse.Namespace) -> tuple[str, str, str | None]:
    """(method, path, body) from --event, --entity or --method/--path/--data."""
    if args.event:
        event_file = Path(args.event)
        if not event_file.is_file():
            raise CliError(f"{args.event}: no such file")
        request = json.loads(event_file.read_text())
        return request["httpMethod"], request["path"], request.get("body")
    if args.entity is not None:
        if not args.model:
            raise CliError("--entity needs --model (the online API serves every model)")
        entity = quote(args.entity, safe="")
        return "GET", f"/models/{quote(args.model, safe='')}/scores/{entity}", None
    return args.method, args.path, args.data


Signer = Callable[[str, str, str | None], dict[str, str]]


def _signer(args: argparse.Namespace) -> Signer | None:
    """With --sigv4: a function giving a request's signed headers (a deployed stack's API uses
    IAM auth), with the caller's credentials, for the URL's region (or --region)."""
    if not getattr(args, "sigv4", False):
        return None
    from modelops_dev.client.signing import SigningError, region_of, signed_headers

    try:
        region = region_of(args.url, args.region)
    except SigningError as error:
        raise CliError(str(error)) from None

    def sign(method: str, url: str, body: str | None) -> dict[str, str]:
        try:
            return signed_headers(method, url, body, region)
        except SigningError as error:
            raise CliError(str(error)) from None

    return sign


def _send(url: str, method: str, path: str, body: str | None, sign: Signer | None = None) -> tuple[int, str]:
    """The status and body of one request to the online API (signed when ``sign`` is given)."""
    import urllib.error
    import urllib.request

    target = url.rstrip("/") + request_path(path)
    headers = {"Content-Type": "application/json"}
    if sign is not None:
        headers = sign(method, target, body)
    http = urllib.request.Request(  # noqa: S310 - a URL given by the user
        target,
        method=method,
        data=None if body is None else body.encode(),
        headers=headers,
    )
    try:
        with urllib.request.urlopen(http, timeout=30) as response:  # noqa: S310  # nosec B310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except urllib.error.URLError as error:
        raise CliError(
            f"cannot reach the online API at {url} ({error.reason}); start it with `modelops serve`"
        ) from None
