"""`modelops models list|show|diff|report|export|compare|promote|rollback|retire`: the model registry,
each change audited with its reason and caller."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modelops_dev.cli.common import CliError, connect, model_of, print_json


def cmd_models_list(args: argparse.Namespace) -> int:
    from modelops.stores import registry

    connect(args.endpoint_url)
    model = model_of(args)
    champion = registry.champion(model)
    rows = [
        {**version.__dict__, "champion": version.version == champion} for version in registry.versions(model)
    ]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        raise CliError(f"model {model!r} has no versions (train it with `modelops train`)")
    print(f"{'version':<10} {'status':<10} {'test AUC':>8}  {'created':<25} {'run':<41} sha256")
    for row in rows:
        mark = " *" if row["champion"] else ""
        print(
            f"{row['version'] + mark:<10} {row['status']:<10} {row['test_auc']:>8.4f}  "
            f"{row['created_at']:<25} {row['run_id']:<41} {row['sha256'][:12]}…"
        )
    print("* champion")
    return 0


def cmd_models_show(args: argparse.Namespace) -> int:
    from modelops_dev.client import lifecycle

    connect(args.endpoint_url)
    model = model_of(args)
    shown = lifecycle.show(model, args.version or args.version_option)
    if args.json:
        print_json(shown)
        return 0
    version = shown["version"]
    mark = " (champion)" if version["version"] == shown["champion"] else ""
    print(f"model {model} {version['version']}{mark}: {version['status']}, run {version['run_id']}")
    print(f"  trained through {version['trained_through']}, test AUC {version['test_auc']:.4f}")
    print(f"  sha256 {version['sha256']}  metadata {version['metadata_sha256'][:12]}…")
    recipe = version["recipe_sha256"] or "not kept (registered before versions kept their spec)"
    print(f"  recipe sha256 {recipe}")
    print(f"  hyperparameters {json.dumps(shown['params'], sort_keys=True)}")
    print("audit trail")
    for entry in shown["audit"]:
        moved = f"{entry.get('from')} -> {entry.get('to')}" if "to" in entry else entry["version"]
        print(
            f"  {entry['at'][:19]}  {entry['kind']:<10} {moved:<18} "
            f"{entry.get('caller', '')}: {entry.get('reason', '')}"
        )
    return 0


def cmd_models_diff(args: argparse.Namespace) -> int:
    from modelops_dev.client import lifecycle

    connect(args.endpoint_url)
    model = model_of(args)
    diff = lifecycle.recipe_diff(model, args.old, args.new)
    if args.json:
        print_json({"model": model, "old": args.old, "new": args.new, "diff": diff})
    else:
        print(diff or f"{model} {args.old} and {args.new} were trained with the same recipe")
    return 0


def cmd_models_report(args: argparse.Namespace) -> int:
    """A version's model report and card, one self-contained HTML file; --json also prints the
    version's metrics.json."""
    from modelops_dev.client import model_report

    connect(args.endpoint_url)
    model = model_of(args)
    data = model_report.gather(model, args.version)
    out = model_report.write(data, Path(args.out or f"out/{model}-{data.version}-report.html"))
    if args.json:
        print_json({"model": model, "version": data.version, "report": str(out), "metrics": data.figures})
    else:
        print(f"wrote the model report of {model} {data.version} to {out}")
    return 0


def cmd_models_export(args: argparse.Namespace) -> int:
    """A version (default: the champion) as an MLflow model directory that mlflow.pyfunc loads."""
    from modelops_dev.client import mlflow_export

    out = Path(args.out)
    mlflow_export.mlflow_module()  # both mistakes are told before the sandbox is asked
    mlflow_export.refuse_existing(out)
    connect(args.endpoint_url)
    model = model_of(args)
    exported = mlflow_export.export(model, args.version, out)
    if args.json:
        print_json(exported.__dict__)
    else:
        print(
            f"wrote {model} {exported.version} as an MLflow model to {out} "
            f"(inputs: {', '.join(exported.inputs)}); load it with mlflow.pyfunc.load_model"
        )
    return 0


def cmd_models_compare(args: argparse.Namespace) -> int:
    """Two versions scored on the same rows (B's out-of-time test sample), side by side."""
    from modelops_dev.client import local

    connect(args.endpoint_url)
    model = model_of(args)
    if args.a == args.b:
        raise CliError(f"compare two different versions (both are {args.a})")
    first, second = (local.load(model, version, servable=False) for version in (args.a, args.b))
    table = local.compare(first, second, local.out_of_time_rows(second))
    found = {
        str(metric): {str(column): _finite(value) for column, value in values.items()}
        for metric, values in table.to_dict(orient="index").items()
    }
    if args.json:
        print_json({"model": model, "a": args.a, "b": args.b, "rows": f"{args.b}'s out-of-time test sample",
                    "metrics": found})  # fmt: skip
        return 0
    print(f"{model} {args.a} and {args.b} on {args.b}'s out-of-time test rows")
    print(f"{'metric':<16} {args.a:>10} {args.b:>10} {'difference':>11}")
    for metric, values in found.items():
        cells = [_cell(values[args.a], 10), _cell(values[args.b], 10), _cell(values["difference"], 11, "+")]
        print(f"{metric:<16} {' '.join(cells)}".rstrip())
    print(
        f"difference: {args.b} minus {args.a}; roc_auc_p_worse: DeLong's p-value that {args.b} is not worse"
    )
    return 0


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if number == number else None  # NaN: no value (a p-value has no version column)


def _cell(value: float | None, width: int, sign: str = "") -> str:
    if value is None:
        return " " * width
    return (
        f"{value:>{sign}{width},.0f}"
        if value.is_integer() and abs(value) >= 10
        else f"{value:>{sign}{width}.4f}"
    )


def cmd_models_promote(args: argparse.Namespace) -> int:
    from modelops_dev.client import lifecycle

    return _registry_change(
        args, lambda model: lifecycle.promote(model, args.version, reason=args.reason, caller=_caller())
    )


def cmd_models_rollback(args: argparse.Namespace) -> int:
    from modelops_dev.client import lifecycle

    return _registry_change(
        args, lambda model: lifecycle.rollback(model, reason=args.reason, caller=_caller())
    )


def cmd_models_retire(args: argparse.Namespace) -> int:
    from modelops_dev.client import lifecycle

    return _registry_change(
        args, lambda model: lifecycle.retire(model, args.version, reason=args.reason, caller=_caller())
    )


def _registry_change(args: argparse.Namespace, change: Callable[[str], dict[str, Any]]) -> int:
    connect(args.endpoint_url)
    model = model_of(args)
    done = change(model)
    if args.json:
        print_json(done)
    elif "champion" in done:
        print(
            f"{model}: champion {done.get('from')} -> {done['champion']}"
            if done["changed"]
            else f"{model}: {done['champion']} already is the champion"
        )
    else:
        print(f"{model} {done['version']}: {done['status']}")
    return 0


def _caller() -> str:
    """Who runs a registry operation, for its audit row: the AWS identity and the local user."""
    import getpass

    from modelops.stores import aws

    return f"{aws.caller()} ({getpass.getuser()})"
