"""Model specs as stored in the bucket (``specs/<model>.yaml``): what every stage and the
online API read to know a model."""

from __future__ import annotations

from modelops.domain.spec import ModelSpec, SpecError, parse_spec
from modelops.stores import layout, objects


def load_spec(model: str) -> ModelSpec:
    key = layout.spec_key(model)
    if not objects.exists(key):
        raise SpecError(f"no spec for model {model!r} (expected s3://…/{key})")
    return parse_spec(objects.get_bytes(key).decode(), source=key)


def store_spec(text: str, source: str) -> tuple[ModelSpec, str]:
    """Validate a spec's YAML and store it under its model's name; returns it and its URI."""
    spec = parse_spec(text, source=source)
    return spec, objects.put_bytes(layout.spec_key(spec.name), text.encode())


def list_models() -> list[str]:
    """Every model with a stored spec, by name."""
    return sorted(m for key in objects.list_keys(layout.SPECS_PREFIX) if (m := layout.spec_model(key)))
