"""Model specs as stored in the bucket (``specs/<model>.yaml``), and the copy of a spec that a
run pins when it starts (``runs/<run_id>/spec/<sha256>.yaml``): every stage of the run reads
the pinned copy, so a ``spec put`` during a run changes nothing of it."""

from __future__ import annotations

import hashlib

from modelops.caches import process_cache
from modelops.domain.spec import ModelSpec, SpecError, parse_spec
from modelops.stores import layout, objects


class PinnedSpecError(RuntimeError):
    """A run's pinned spec is missing or is not the one its stages recorded."""


def stored(model: str) -> bytes:
    """The exact bytes of the model's stored spec (SpecError when there is none)."""
    key = layout.spec_key(model)
    if not objects.exists(key):
        raise SpecError(f"no spec for model {model!r} (expected s3://…/{key})")
    return objects.get_bytes(key)


def parsed(body: bytes, source: str) -> ModelSpec:
    """A spec's bytes as a ModelSpec; SpecError (naming ``source``) for bytes that are not
    UTF-8, not YAML or not a valid spec."""
    try:
        text = body.decode()
    except UnicodeDecodeError as error:
        raise SpecError(f"{source}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    return parse_spec(text, source=source)


def load_spec(model: str) -> ModelSpec:
    """The model's stored spec, as it is now."""
    return read(model)[0]


def store_spec(text: str, source: str) -> tuple[ModelSpec, str]:
    """Validate a spec's YAML and store it under its model's name; returns it and its URI."""
    spec = parse_spec(text, source=source)
    return spec, objects.put_bytes(layout.spec_key(spec.name), text.encode())


def list_models() -> list[str]:
    """Every model with a stored spec, by name."""
    return sorted(m for key in objects.list_keys(layout.SPECS_PREFIX) if (m := layout.spec_model(key)))


def read(model: str) -> tuple[ModelSpec, bytes]:
    """The model's stored spec and its exact bytes (what a run pins)."""
    body = stored(model)
    return parsed(body, layout.spec_key(model)), body


def pin(run_id: str, body: bytes) -> str:
    """Keep a spec's bytes under the run, by their sha256; returns the sha256, which the run
    carries to every stage."""
    digest = hashlib.sha256(body).hexdigest()
    key = layout.pinned_spec_key(run_id, digest)
    if not objects.exists(key):
        objects.put_bytes(key, body)
    return digest


def pinned_text(run_id: str, sha256: str) -> bytes:
    """The exact bytes a run pinned, checked against their sha256."""
    key = layout.pinned_spec_key(run_id, sha256)
    if not objects.exists(key):
        raise PinnedSpecError(f"run {run_id}: its pinned spec {key} is missing")
    body = objects.get_bytes(key)
    if hashlib.sha256(body).hexdigest() != sha256:
        raise PinnedSpecError(f"run {run_id}: {key} is not the spec the run pinned (sha256 differs)")
    return body


@process_cache(maxsize=16)
def pinned(run_id: str, sha256: str) -> ModelSpec:
    """The spec a run pinned (parsed once per container)."""
    return parsed(pinned_text(run_id, sha256), layout.pinned_spec_key(run_id, sha256))
