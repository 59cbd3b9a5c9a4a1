"""`modelops train`, `modelops score` (a state machine run, followed state by state) and
`modelops dispatch` (the dispatcher, as its schedule would run it)."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from modelops_dev.cli.common import connect, model_of, print_json, progress
from modelops_dev.cli.progress import map_line_for
from modelops_dev.client.summary import run_lines


def cmd_train(args: argparse.Namespace) -> int:
    return _run_pipeline(args, "TrainingStateMachine", "training")


def cmd_score(args: argparse.Namespace) -> int:
    return _run_pipeline(args, "ScoringStateMachine", "scoring")


def _run_pipeline(args: argparse.Namespace, state_machine: str, verb: str) -> int:
    from modelops.stores import objects
    from modelops_dev.client import runner

    sandbox = connect(args.endpoint_url)
    model = model_of(args)
    request: dict[str, Any] = {"model": model, "as_of": args.as_of}
    if getattr(args, "version", None):
        request["model_version"] = args.version
    if args.allow_partial_window:
        request["allow_partial"] = True
    if getattr(args, "force", False):
        request["force"] = True
    arn = runner.start(sandbox.ref(state_machine), request)
    if not args.json:
        print(f"{verb} {model} as of {args.as_of}: {arn}")
    # The states' lines also go to a log or a pipe; the Map's redrawn line only to a terminal.
    result = runner.follow(arn, on_state=progress(not args.json), on_map=map_line_for(json=args.json))
    summary: dict[str, Any] = {"execution": arn, "status": result.status}
    if result.status != "SUCCEEDED" or not result.output:
        summary.update(error=result.error, message=result.failure)
        if args.json:
            print_json(summary)
        else:
            print(f"{result.status}: {result.error}: {result.failure}")
        return 1
    results = result.output["results"]
    summary["results"] = results
    if "deploy_model" in results:
        training = objects.get_json(objects.key_of(result.output["artifacts"]["training"]))
        summary["metrics"] = training["metrics"]
        tracked = _tracked(model, results["deploy_model"]["version"])
        if tracked:
            summary["mlflow_run"] = tracked
    if args.json:
        print_json(summary)
    elif "deploy_model" in results:
        _print_training(model, result.status, results, summary["metrics"])
        if "mlflow_run" in summary:
            print(f"  logged to MLflow as run {summary['mlflow_run']} ({os.environ['MLFLOW_TRACKING_URI']})")
    else:
        _print_scoring(result.status, results)
    return 0


def _tracked(model: str, version: str) -> str | None:
    """The MLflow run the version was logged as, when MLFLOW_TRACKING_URI is set (best effort)."""
    if not os.environ.get("MLFLOW_TRACKING_URI", "").strip():
        return None
    from modelops_dev.client.mlflow_tracking import track_training

    return track_training(model, version)


def _print_training(model: str, status: str, results: dict[str, Any], metrics: dict[str, Any]) -> None:
    deployed = results["deploy_model"]
    state = "champion" if deployed["champion"] else "not promoted"
    print(f"{status}: {model} version {deployed['version']} — {state}: {deployed['reason']}")
    print(f"  hyperparameters {json.dumps(results['train_model']['params'], sort_keys=True)}")
    for line in _metrics_table(metrics):
        print(line)
    for line in run_lines(results):
        print(f"  {line}")


def _print_scoring(status: str, results: dict[str, Any]) -> None:
    published, campaign = results["deploy_scores"], results["campaign"]
    handed = (
        f"campaign off ({campaign['skipped']})"
        if campaign.get("skipped")
        else f"campaign sent {campaign['sent']} of {campaign['selected']} selected"
    )
    print(f"{status}: {published['rows']:,} scores published ({published['publication']}); {handed}")
    for line in run_lines(results):
        print(f"  {line}")


def _metrics_table(metrics: dict[str, dict[str, float]]) -> list[str]:
    lines = [f"  {'sample':<11} {'rows':>7} {'ROC AUC':>8} {'log loss':>9} {'Brier':>7} {'outcome rate':>12}"]
    for sample in ("validation", "test"):
        m = metrics.get(sample)
        if m:
            lines.append(
                f"  {sample:<11} {int(m['rows']):>7,} {m['roc_auc']:>8.4f} {m['log_loss']:>9.4f} "
                f"{m['brier']:>7.4f} {m['outcome_rate']:>12.2%}"
            )
    return lines


def cmd_dispatch(args: argparse.Namespace) -> int:
    from modelops_dev.client import runner

    sandbox = connect(args.endpoint_url)
    result = runner.dispatch(sandbox, args.at, args.interval_minutes)
    if args.json:
        print_json(result)
        return 0
    print(f"dispatch at {result['tick']}: {len(result['started'])} runs due")
    for started in result["started"]:
        state = "started" if started["new"] else "already started"
        print(f"  {started['model']} {started['pipeline']} (fired {started['fired_at']}): {state}")
        print(f"    {started['execution']}")
    for model, reason in result["unreadable"].items():
        print(f"  {model}: spec skipped: {reason}")
    return 0
