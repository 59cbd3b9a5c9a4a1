"""S3 objects of the project bucket: bytes, JSON and files by key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from modelops.settings import settings
from modelops.stores import aws


def uri(key: str) -> str:
    return f"s3://{settings().bucket}/{key}"


def key_of(s3_uri: str) -> str:
    prefix = f"s3://{settings().bucket}/"
    if not s3_uri.startswith(prefix):
        raise ValueError(f"{s3_uri!r} is not in the project bucket {settings().bucket!r}")
    return s3_uri[len(prefix) :]


def put_bytes(key: str, body: bytes) -> str:
    aws.client("s3").put_object(Bucket=settings().bucket, Key=key, Body=body)
    return uri(key)


def get_bytes(key: str) -> bytes:
    response = aws.client("s3").get_object(Bucket=settings().bucket, Key=key)
    body: bytes = response["Body"].read()
    return body


def put_json(key: str, document: Any) -> str:
    return put_bytes(key, json.dumps(document, indent=2, sort_keys=True).encode())


def put_json_once(key: str, document: Any) -> Any:
    """Write ``document`` unless the key exists (one conditional PUT); returns what is stored."""
    try:
        aws.client("s3").put_object(
            Bucket=settings().bucket,
            Key=key,
            Body=json.dumps(document, indent=2, sort_keys=True).encode(),
            IfNoneMatch="*",
        )
    except aws.AwsError as error:
        if aws.error_code(error) not in ("PreconditionFailed", "ConditionalRequestConflict"):
            raise
        return get_json(key)
    return document


def get_json(key: str) -> Any:
    return json.loads(get_bytes(key))


def exists(key: str) -> bool:
    try:
        aws.client("s3").head_object(Bucket=settings().bucket, Key=key)
    except aws.AwsError as error:
        if aws.error_code(error) in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def copy(source_key: str, target_key: str) -> str:
    """A server-side copy within the bucket (no bytes pass through here)."""
    bucket = settings().bucket
    aws.client("s3").copy_object(
        Bucket=bucket, Key=target_key, CopySource={"Bucket": bucket, "Key": source_key}
    )
    return uri(target_key)


def delete(key: str) -> None:
    aws.client("s3").delete_object(Bucket=settings().bucket, Key=key)


def upload_file(path: Path, key: str) -> str:
    aws.client("s3").upload_file(str(path), settings().bucket, key)
    return uri(key)


def download_file(key: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    aws.client("s3").download_file(settings().bucket, key, str(path))
    return path


def list_keys(prefix: str) -> list[str]:
    return sorted(list_etags(prefix))


def list_etags(prefix: str) -> dict[str, str]:
    """Every key under ``prefix`` with its ETag (which changes when the object is rewritten)."""
    paginator = aws.client("s3").get_paginator("list_objects_v2")
    found: dict[str, str] = {}
    for page in paginator.paginate(Bucket=settings().bucket, Prefix=prefix):
        found.update((item["Key"], item["ETag"]) for item in page.get("Contents", []))
    return found
