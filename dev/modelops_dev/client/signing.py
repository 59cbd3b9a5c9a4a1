"""Signing a request to a deployed stack's online API, which uses IAM auth: SigV4 with the
caller's credentials (as boto3 finds them), by botocore's own signer."""

from __future__ import annotations

import re
from typing import Any

API_HOST = re.compile(r"^https://[^./]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:[:/]|$)")


class SigningError(ValueError):
    """A request that cannot be signed (no region, no credentials)."""


def region_of(url: str, region: str | None = None) -> str:
    """The region to sign for: the one given, the API's URL's (…execute-api.<region>.amazonaws.com),
    or the caller's configured one."""
    if region:
        return region
    if match := API_HOST.match(url):
        return match.group(1)
    import boto3

    configured = boto3.session.Session().region_name
    if not configured:
        raise SigningError(f"cannot tell the region of {url}: give --region")
    return str(configured)


def signed_headers(
    method: str, url: str, body: str | None, region: str, credentials: Any = None
) -> dict[str, str]:
    """The headers of the request signed with SigV4 for API Gateway (service execute-api):
    Authorization, X-Amz-Date, and X-Amz-Security-Token for temporary credentials."""
    import boto3
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    credentials = credentials or boto3.session.Session().get_credentials()
    if credentials is None:
        raise SigningError("no AWS credentials to sign with (aws configure, AWS_PROFILE or the environment)")
    request = AWSRequest(
        method=method,
        url=url,
        data=None if body is None else body.encode(),
        headers={"Content-Type": "application/json"},
    )
    SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
    return dict(request.headers.items())
