"""`modelops invoke --sigv4`: requests to a deployed stack's API (IAM auth) signed with the
caller's credentials by botocore's SigV4 signer, checked here as API Gateway would check them."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from modelops_dev.cli.main import main
from modelops_dev.client.signing import SigningError, region_of, signed_headers

KEYS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "a-session-token")


def signature_holds(method: str, url: str, headers: dict[str, str], body: bytes | None, region: str) -> bool:
    """Recompute the request's SigV4 signature from what arrived (as API Gateway does)."""
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": headers["Content-Type"]})
    request.headers["X-Amz-Date"] = headers["X-Amz-Date"]
    request.headers["X-Amz-Security-Token"] = headers["X-Amz-Security-Token"]
    request.context["timestamp"] = headers["X-Amz-Date"]
    signer = SigV4Auth(KEYS.get_frozen_credentials(), "execute-api", region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    return headers["Authorization"].endswith(f"Signature={expected}")


def test_a_request_is_signed_for_execute_api_in_the_urls_region():
    url = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/models/churn/score"
    assert region_of(url) == "eu-west-1" and region_of(url, "us-east-2") == "us-east-2"
    body = json.dumps({"entity_id": "7", "features": {}})
    headers = signed_headers("POST", url, body, "eu-west-1", KEYS)
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in headers["Authorization"]
    assert headers["X-Amz-Security-Token"] == "a-session-token"
    assert signature_holds("POST", url, headers, body.encode(), "eu-west-1")
    assert not signature_holds("POST", url, headers, b'{"entity_id": "8"}', "eu-west-1")  # tampered


def test_invoke_sigv4_sends_the_signed_request(monkeypatch, capsys):
    seen: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.update(path=self.path, headers=dict(self.headers.items()), body=body)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"score": 0.5}')

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEYS.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", KEYS.secret_key)
    monkeypatch.setenv("AWS_SESSION_TOKEN", KEYS.token)
    url = f"http://127.0.0.1:{server.server_port}"
    data = '{"entity_id": "7"}'
    try:
        code = main(
            ["invoke", "--url", url, "--sigv4", "--region", "eu-west-1", "--method", "POST",
             "--path", "/models/churn/score", "--data", data]
        )  # fmt: skip
    finally:
        server.shutdown()
    assert code == 0 and "200 POST" in capsys.readouterr().out
    headers = {k.title(): v for k, v in seen["headers"].items()}
    assert signature_holds("POST", url + seen["path"], headers, seen["body"], "eu-west-1")


def test_without_a_region_or_credentials_the_error_says_what_to_give(monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(SigningError, match="give --region"):
        region_of("https://example.com/api")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(SigningError, match="no AWS credentials to sign with"):
        signed_headers("GET", "https://x.execute-api.us-east-1.amazonaws.com/", None, "us-east-1")
