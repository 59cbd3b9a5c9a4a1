"""What the commands share: the one-line error, connecting to a served sandbox, choosing
the model, reading a spec or a load's options, and printing."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modelops_dev.sandbox import PROJECT_ROOT, Sandbox, client_environment

DEFAULT_SPEC = PROJECT_ROOT / "models" / "churn.yaml"


class CliError(Exception):
    """A mistake the user can fix; printed as one line, no traceback."""


def print_json(document: Any) -> None:
    print(json.dumps(document, indent=2, sort_keys=True, default=str))


def progress(enabled: bool) -> Callable[[str, str, float], None] | None:
    if not enabled:
        return None

    def report(state: str, phase: str, seconds: float) -> None:
        if phase == "started":
            print(f"  … {state}", flush=True)
        else:
            print(f"  ✓ {state} ({seconds:.1f}s)", flush=True)

    return report


def connect(endpoint: str) -> Sandbox:
    """Point this process at a served sandbox; returns its (deterministic) resource names."""
    sandbox = Sandbox()
    os.environ.update(client_environment(endpoint))
    os.environ.update(sandbox.environment)
    return sandbox


def model_of(args: argparse.Namespace) -> str:
    """--model (a model with a stored spec; a mistyped name is refused with the closest one),
    or the only model with a stored spec."""
    from modelops.stores.specs import list_models
    from modelops_dev.client.inputs import known_model, model_name

    if args.model is not None:
        model_name(args.model)  # a name no spec can have is refused before asking the sandbox
    models = list_models()
    if args.model is not None:
        return known_model(args.model, models)
    if len(models) == 1:
        return models[0]
    if not models:
        raise CliError("no model has a stored spec yet: store one with `modelops spec put FILE`")
    raise CliError(f"several models have specs ({', '.join(models)}): choose one with --model")


def read_spec(path: str) -> Any:
    from modelops.domain.spec import parse_spec

    file = Path(path)
    if not file.is_file():
        raise CliError(f"{path}: no such file")
    return parse_spec(file.read_text(), source=path)


def load_options(args: argparse.Namespace) -> Any:
    from modelops.stores.lake import LoadOptions

    types = {}
    for item in args.types or []:
        column, separator, type_name = item.rpartition("=")
        if not separator or not column:
            raise CliError(f"--types {item!r}: write COLUMN=TYPE, e.g. --types 'postal code=text'")
        types[column] = type_name
    na_values = tuple(v for item in args.na_values or [] for v in item.split(","))
    return LoadOptions(
        date_column=args.date_column,
        date_format=args.date_format,
        period=args.period,
        na_values=na_values,
        types=types,
        skip_rows=args.skip_rows,
    )
