"""Data files where they are: an ``s3://bucket/key`` file or ``s3://bucket/prefix/`` folder of
parts (any bucket the caller may read), or a local file or folder, as one local file a load
reads. Parts of CSV are joined under one header line; parts of Parquet stay a folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from modelops.stores import aws

SUFFIXES = (".csv", ".txt", ".tsv", ".parquet")


class SourceError(ValueError):
    """A location that holds no file a load can read; the message names it."""


def split_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of an s3:// address."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not bucket:
        raise SourceError(f"{uri}: write s3://BUCKET/KEY or s3://BUCKET/PREFIX/")
    return bucket, key


def _keys(bucket: str, prefix: str) -> list[str]:
    pages = aws.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def _parts(keys: list[str], where: str) -> list[str]:
    """The data parts of a listing (Spark's _SUCCESS, .crc and folders left out), all of one kind."""
    parts = [
        key
        for key in keys
        if key.lower().endswith(SUFFIXES) and not key.rsplit("/", 1)[-1].startswith(("_", "."))
    ]
    if not parts:
        raise SourceError(f"{where}: no CSV or Parquet file there")
    kinds = {Path(key).suffix.lower() == ".parquet" for key in parts}
    if len(kinds) > 1:
        raise SourceError(f"{where}: holds both CSV and Parquet files; load one kind at a time")
    return parts


def join_csv(parts: list[Path], output: Path, skip_rows: int = 0) -> Path:
    """CSV parts as one file: the first part whole, each other part without its lines before
    the header and its header line, which must be the first part's."""
    with output.open("wb") as joined:
        header: bytes | None = None
        for part in parts:
            with part.open("rb") as handle:
                lines = [handle.readline() for _ in range(skip_rows + 1)]
                if header is None:
                    header = lines[-1]
                    joined.writelines(lines)
                elif lines[-1].rstrip(b"\r\n") != header.rstrip(b"\r\n"):
                    raise SourceError(
                        f"{part.name}: its header line is not the first part's (parts share one)"
                    )
                shutil.copyfileobj(handle, joined, 1 << 20)
    return output


def fetch(location: str, scratch: Path, skip_rows: int = 0) -> Path:
    """The file a load reads for ``location``: a local path as it is (a folder of CSV parts
    joined), or the S3 object(s) downloaded into ``scratch``."""
    if not location.startswith("s3://"):
        path = Path(location)
        if not path.is_dir():
            return path
        local = _parts([str(p) for p in sorted(path.iterdir()) if p.is_file()], location)
        return _gathered([Path(p) for p in local], scratch, skip_rows)
    bucket, key = split_uri(location)
    listed = _keys(bucket, key)
    keys = [key] if key in listed else _keys(bucket, key.rstrip("/") + "/") if key else listed
    parts = _parts(keys, location)
    s3 = aws.client("s3")
    downloaded = []
    for index, part in enumerate(parts):
        target = scratch / "parts" / f"{index:05d}{Path(part).suffix.lower()}"
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, part, str(target))
        downloaded.append(target)
    if len(downloaded) == 1:
        return downloaded[0].rename(scratch / Path(parts[0]).name)
    return _gathered(downloaded, scratch, skip_rows)


def _gathered(parts: list[Path], scratch: Path, skip_rows: int) -> Path:
    if parts[0].suffix.lower() == ".parquet":
        folder = parts[0].parent if all(p.parent == parts[0].parent for p in parts) else scratch
        return folder
    return join_csv(parts, scratch / "joined.csv", skip_rows)
