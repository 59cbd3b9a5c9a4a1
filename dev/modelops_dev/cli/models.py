"""`modelops models list|show|diff|promote|rollback|retire`: the model registry, each change
audited with its reason and caller."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
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
