"""The ``modelops`` command line.

``modelops demo`` runs everything in an embedded sandbox. ``modelops sandbox`` serves one on
127.0.0.1; the other commands talk to it (``--endpoint-url``, default
``$MODELOPS_ENDPOINT_URL`` or http://127.0.0.1:4566).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from modelops_local.sandbox import DEFAULT_PORT, PROJECT_ROOT, Sandbox, client_environment

DEFAULT_SPEC = PROJECT_ROOT / "models" / "churn.yaml"


def _print_json(document: Any) -> None:
    print(json.dumps(document, indent=2, sort_keys=True, default=str))


def _progress(enabled: bool) -> Callable[[str, str, float], None] | None:
    if not enabled:
        return None

    def report(state: str, phase: str, seconds: float) -> None:
        if phase == "started":
            print(f"  … {state}", flush=True)
        else:
            print(f"  ✓ {state} ({seconds:.1f}s)", flush=True)

    return report


def _connect(endpoint: str) -> Sandbox:
    """Point this process at a served sandbox; returns its (deterministic) resource names."""
    sandbox = Sandbox()
    os.environ.update(client_environment(endpoint))
    os.environ.update(sandbox.environment)
    return sandbox


# ---------------------------------------------------------------------- commands
def cmd_demo(args: argparse.Namespace) -> int:
    from modelops_local import demo

    return demo.run(
        demo.DemoOptions(customers=args.customers, months=args.months, drift=not args.no_drift),
        as_json=args.json,
    )


def cmd_sandbox(args: argparse.Namespace) -> int:
    from modelops_local.sandbox import served

    with served(port=args.port) as sandbox:
        endpoint = f"http://127.0.0.1:{args.port}"
        print(f"sandbox serving on {endpoint} (Ctrl-C stops it)")
        for name, value in sorted(sandbox.environment.items()):
            print(f"  {name}={value}")
        print(f"  try: aws --endpoint-url {endpoint} s3 ls s3://{sandbox.environment['MODELOPS_BUCKET']}/")
        sys.stdout.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("stopped")
    return 0


def cmd_spec(args: argparse.Namespace) -> int:
    from modelops.domain.spec import parse_spec

    spec = parse_spec(Path(args.file).read_text(), source=args.file)
    if args.action == "put":
        from modelops_local import runner

        _connect(args.endpoint_url)
        print(f"stored spec {spec.name!r} at {runner.put_spec(Path(args.file))}")
    else:
        print(f"{args.file}: spec {spec.name!r} is valid ({len(spec.features)} features)")
    return 0


def cmd_data_load(args: argparse.Namespace) -> int:
    from modelops.stores import lake
    from modelops_local import demo_data, runner

    _connect(args.endpoint_url)
    if args.file:
        if not args.table or not args.period_column:
            raise SystemExit("--file needs --table and --period-column")
        counts = {
            d.isoformat(): n
            for d, n in lake.load_file(args.table, Path(args.file), args.period_column).items()
        }
    else:
        runner.put_spec(DEFAULT_SPEC)
        config = demo_data.DemoConfig(
            customers=args.customers, months=args.months, drift_month=None if args.no_drift else 9
        )
        counts = runner.load_demo_data(config)
    if args.json:
        _print_json({"partitions": counts})
    else:
        for period, rows in counts.items():
            print(f"  {period}: {rows:,} rows")
        print(f"loaded {sum(counts.values()):,} rows in {len(counts)} partitions")
    return 0


def _run_pipeline(args: argparse.Namespace, state_machine: str, verb: str) -> int:
    from modelops_local import runner

    sandbox = _connect(args.endpoint_url)
    request = {"model": args.model, "as_of": args.as_of}
    if getattr(args, "version", None):
        request["model_version"] = args.version
    arn = runner.start(sandbox.ref(state_machine), request)
    if not args.json:
        print(f"{verb} {args.model} as of {args.as_of}: {arn}")
    result = runner.follow(arn, on_state=_progress(not args.json))
    summary = {"execution": arn, "status": result.status, "error": result.error, "cause": result.cause}
    if result.output:
        summary["results"] = result.output["results"]
    if args.json:
        _print_json(summary)
    elif result.status == "SUCCEEDED" and result.output:
        results = result.output["results"]
        if "deploy_model" in results:
            deployed = results["deploy_model"]
            print(f"{result.status}: version {deployed['version']} ({deployed['reason']})")
        else:
            published, campaign = results["deploy_scores"], results["campaign"]
            print(
                f"{result.status}: {published['rows']:,} scores published ({published['publication']}); "
                f"campaign sent {campaign['sent']} of {campaign['selected']} selected"
            )
    else:
        print(f"{result.status}: {result.error}: {result.cause}")
    return 0 if result.status == "SUCCEEDED" else 1


def cmd_train(args: argparse.Namespace) -> int:
    return _run_pipeline(args, "TrainingStateMachine", "training")


def cmd_score(args: argparse.Namespace) -> int:
    return _run_pipeline(args, "ScoringStateMachine", "scoring")


def cmd_top(args: argparse.Namespace) -> int:
    from modelops.stores import latest

    _connect(args.endpoint_url)
    top = latest.top(args.model, args.n)
    if args.json:
        _print_json([score.__dict__ for score in top])
        return 0
    if not top:
        print(f"model {args.model!r} has no published scores")
        return 0
    print(f"{'rank':>4}  {'entity':<12} {'score':>8}  {'version':<8} {'as of':<10}")
    for rank, score in enumerate(top, 1):
        print(
            f"{rank:>4}  {score.entity_id:<12} {score.score:>8.4f}  "
            f"{score.model_version:<8} {score.as_of:<10}"
        )
    return 0


def cmd_scores_history(args: argparse.Namespace) -> int:
    from modelops.stores import history

    _connect(args.endpoint_url)
    rows = history.read(args.model, args.entity)
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print(f"no scores for {args.entity!r} of model {args.model!r}")
        return 0
    print(f"{'as of':<10}  {'score':>8}  {'version':<8} {'source':<7} run")
    for row in rows:
        print(
            f"{row['as_of']:%Y-%m-%d}  {row['score']:>8.4f}  {row['model_version']:<8} "
            f"{row['source']:<7} {row['run_id']}"
        )
    return 0


def cmd_metadata_export(args: argparse.Namespace) -> int:
    import csv

    from modelops.domain.contract import VALIDATION_STAGES
    from modelops.stores import metadata

    _connect(args.endpoint_url)
    rows = sorted(
        (row for stage in VALIDATION_STAGES for row in metadata.read_rows(args.model, stage)),
        key=lambda r: (r["stage"], r["metric"], r["timestamp"], r["decile"]),
    )
    out = Path(args.out)
    if args.format == "csv":
        with out.open("w", newline="") as handle:
            writer = csv.DictWriter(
                handle, fieldnames=["model", "stage", "metric", "decile", "value", "timestamp"]
            )
            writer.writeheader()
            writer.writerows(rows)
    else:
        import duckdb

        fields = ("model", "stage", "metric", "decile", "value", "timestamp")
        connection = duckdb.connect()
        connection.execute(
            "CREATE TABLE metadata (model VARCHAR, stage VARCHAR, metric VARCHAR, decile VARCHAR, "
            "value DOUBLE, timestamp DATE)"
        )
        connection.executemany(
            "INSERT INTO metadata VALUES (?, ?, ?, ?, ?, ?)", [[row[f] for f in fields] for row in rows]
        )
        connection.execute(f"COPY metadata TO '{out}' (FORMAT parquet)")
    summary = {"rows": len(rows), "file": str(out), "format": args.format}
    if args.json:
        _print_json(summary)
    else:
        print(f"wrote {len(rows):,} metadata rows to {out} ({args.format})")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from modelops.pipeline.monitoring import report_html

    _connect(args.endpoint_url)
    out = Path(args.out or f"out/{args.model}-drift.html")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report_html(args.model))
    if args.json:
        _print_json({"report": str(out)})
    else:
        print(f"wrote the drift report of {args.model!r} to {out}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from modelops_local import api

    sandbox = _connect(args.endpoint_url)

    def ready(url: str) -> None:
        print(f"online API on {url} (sandbox {args.endpoint_url}); Ctrl-C stops it", flush=True)
        print(f"  try: modelops invoke --url {url} --event events/online_score.json", flush=True)

    try:
        api.serve(sandbox, args.port, ready)
    except KeyboardInterrupt:
        print("stopped")
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    import urllib.error
    import urllib.request

    if args.event:
        request = json.loads(Path(args.event).read_text())
        method, path, body = request["httpMethod"], request["path"], request.get("body")
    else:
        method, path, body = args.method, args.path, args.data
    http = urllib.request.Request(  # noqa: S310 - a local URL given by the user
        args.url.rstrip("/") + path,
        method=method,
        data=None if body is None else body.encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(http, timeout=30) as response:  # noqa: S310  # nosec B310
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    if args.json:
        _print_json({"status": status, "body": json.loads(text) if text else None})
    else:
        print(f"{status} {method} {path}")
        print(json.dumps(json.loads(text), indent=2) if text else "")
    return 0 if status < 400 else 1


def cmd_models_list(args: argparse.Namespace) -> int:
    from modelops.stores import registry

    _connect(args.endpoint_url)
    champion = registry.champion(args.model)
    rows = [
        {**version.__dict__, "champion": version.version == champion}
        for version in registry.versions(args.model)
    ]
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print(f"model {args.model!r} has no versions")
        return 0
    print(f"{'version':<10} {'status':<10} {'test AUC':>8}  {'created':<25} {'run':<41} sha256")
    for row in rows:
        mark = " *" if row["champion"] else ""
        print(
            f"{row['version'] + mark:<10} {row['status']:<10} {row['test_auc']:>8.4f}  "
            f"{row['created_at']:<25} {row['run_id']:<41} {row['sha256'][:12]}…"
        )
    print("* champion")
    return 0


def _caller() -> str:
    """Who runs a registry operation, for its audit row: the AWS identity and the local user."""
    import getpass

    from modelops.stores import aws

    return f"{aws.caller()} ({getpass.getuser()})"


def cmd_models_show(args: argparse.Namespace) -> int:
    from modelops import lifecycle

    _connect(args.endpoint_url)
    shown = lifecycle.show(args.model, args.version)
    if args.json:
        _print_json(shown)
        return 0
    version = shown["version"]
    mark = " (champion)" if version["version"] == shown["champion"] else ""
    print(f"model {args.model} {version['version']}{mark}: {version['status']}, run {version['run_id']}")
    print(f"  trained through {version['trained_through']}, test AUC {version['test_auc']:.4f}")
    print(f"  sha256 {version['sha256']}  metadata {version['metadata_sha256'][:12]}…")
    print(f"  hyperparameters {json.dumps(shown['params'], sort_keys=True)}")
    print("audit trail")
    for entry in shown["audit"]:
        moved = f"{entry.get('from')} -> {entry.get('to')}" if "to" in entry else entry["version"]
        print(
            f"  {entry['at'][:19]}  {entry['kind']:<10} {moved:<18} "
            f"{entry.get('caller', '')}: {entry.get('reason', '')}"
        )
    return 0


def _registry_change(args: argparse.Namespace, change: Callable[[], dict[str, Any]]) -> int:
    _connect(args.endpoint_url)
    done = change()
    if args.json:
        _print_json(done)
    elif "champion" in done:
        print(
            f"{args.model}: champion {done.get('from')} -> {done['champion']}"
            if done["changed"]
            else f"{args.model}: {done['champion']} already is the champion"
        )
    else:
        print(f"{args.model} {done['version']}: {done['status']}")
    return 0


def cmd_models_promote(args: argparse.Namespace) -> int:
    from modelops import lifecycle

    return _registry_change(
        args, lambda: lifecycle.promote(args.model, args.version, reason=args.reason, caller=_caller())
    )


def cmd_models_rollback(args: argparse.Namespace) -> int:
    from modelops import lifecycle

    return _registry_change(
        args, lambda: lifecycle.rollback(args.model, reason=args.reason, caller=_caller())
    )


def cmd_models_retire(args: argparse.Namespace) -> int:
    from modelops import lifecycle

    return _registry_change(
        args, lambda: lifecycle.retire(args.model, args.version, reason=args.reason, caller=_caller())
    )


# ---------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modelops", description=__doc__.splitlines()[0] if __doc__ else None
    )
    commands = parser.add_subparsers(dest="command", required=True)
    endpoint = os.environ.get("MODELOPS_ENDPOINT_URL", f"http://127.0.0.1:{DEFAULT_PORT}")

    def command(
        name: str, handler: Callable[[argparse.Namespace], int], help_text: str, parent: Any = commands
    ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = parent.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        sub.add_argument("--json", action="store_true", help="machine-readable output")
        sub.add_argument("--endpoint-url", default=endpoint, help="sandbox endpoint (default: %(default)s)")
        return sub

    demo = command("demo", cmd_demo, "run the whole demo in an embedded sandbox")
    demo.add_argument("--customers", type=int, default=10_000)
    demo.add_argument("--months", type=int, default=12)
    demo.add_argument("--no-drift", action="store_true", help="turn the drift scenario off")

    serve = command("sandbox", cmd_sandbox, "serve the sandbox on 127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)

    spec = command("spec", cmd_spec, "check a model spec, or store it in the sandbox")
    spec.add_argument("action", choices=["check", "put"])
    spec.add_argument("file")

    data_parser = commands.add_parser("data", help="the data lake")
    data_commands = data_parser.add_subparsers(dest="data_command", required=True)
    load = command("load", cmd_data_load, "load demo data (default) or a CSV/Parquet file", data_commands)
    load.add_argument("--file", help="CSV or Parquet file to load instead of the demo data")
    load.add_argument("--table", help="lake table for --file")
    load.add_argument("--period-column", help="column of --file that partitions it by period")
    load.add_argument("--customers", type=int, default=10_000)
    load.add_argument("--months", type=int, default=12)
    load.add_argument("--no-drift", action="store_true")

    train = command("train", cmd_train, "run the training state machine and follow it")
    train.add_argument("--model", default="churn")
    train.add_argument(
        "--as-of", default="2025-08-01", type=lambda text: date.fromisoformat(text).isoformat()
    )

    score = command("score", cmd_score, "run the scoring state machine and follow it")
    score.add_argument("--model", default="churn")
    score.add_argument(
        "--as-of", default="2025-09-01", type=lambda text: date.fromisoformat(text).isoformat()
    )
    score.add_argument("--version", help="score with this model version instead of the champion")

    top = command("top", cmd_top, "the latest run's top scores")
    top.add_argument("--model", default="churn")
    top.add_argument("-n", type=int, default=20)

    scores_parser = commands.add_parser("scores", help="the score tables")
    scores_commands = scores_parser.add_subparsers(dest="scores_command", required=True)
    history = command("history", cmd_scores_history, "every score an entity has had", scores_commands)
    history.add_argument("entity")
    history.add_argument("--model", default="churn")

    report = command("report", cmd_report, "write the drift report (one self-contained HTML file)")
    report.add_argument("--model", default="churn")
    report.add_argument("--out", help="default: out/<model>-drift.html")

    serve_api = command("serve", cmd_serve, "serve the online API's handler over HTTP on 127.0.0.1")
    serve_api.add_argument("--port", type=int, default=8080)

    invoke = command("invoke", cmd_invoke, "send one request to `modelops serve`")
    invoke.add_argument("--url", default="http://127.0.0.1:8080")
    invoke.add_argument("--event", help="an API Gateway event file from events/ (method, path, body)")
    invoke.add_argument("--method", default="GET")
    invoke.add_argument("--path", default="/models/churn")
    invoke.add_argument("--data", help="request body (JSON)")

    metadata_parser = commands.add_parser("metadata", help="the decile metadata table")
    metadata_commands = metadata_parser.add_subparsers(dest="metadata_command", required=True)
    export = command(
        "export",
        cmd_metadata_export,
        "write (model, stage, metric, decile, value, timestamp) rows",
        metadata_commands,
    )
    export.add_argument("--model", default="churn")
    export.add_argument("--format", choices=["csv", "parquet"], default="csv")
    export.add_argument("--out", required=True)

    models_parser = commands.add_parser("models", help="the model registry")
    models_commands = models_parser.add_subparsers(dest="models_command", required=True)
    listing = command("list", cmd_models_list, "list a model's versions", models_commands)
    listing.add_argument("--model", default="churn")
    show = command(
        "show", cmd_models_show, "a version (default: the champion) and the audit trail", models_commands
    )
    show.add_argument("--model", default="churn")
    show.add_argument("--version")
    promote = command("promote", cmd_models_promote, "make a version the champion (audited)", models_commands)
    promote.add_argument("version")
    rollback = command(
        "rollback", cmd_models_rollback, "return to the previous champion (audited)", models_commands
    )
    retire = command(
        "retire", cmd_models_retire, "a version that must never serve again (audited)", models_commands
    )
    retire.add_argument("version")
    for operation in (promote, rollback, retire):
        operation.add_argument("--model", default="churn")
        operation.add_argument("--reason", required=True, help="why: it goes into the audit trail")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from botocore.exceptions import EndpointConnectionError

    from modelops.domain.spec import SpecError
    from modelops.lifecycle import NothingToRollBack
    from modelops.stores.registry import NotAllowed, RegistryConflict, UnknownVersion
    from modelops_local.sandbox import PortInUse

    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except (SpecError, PortInUse, RegistryConflict, NotAllowed, NothingToRollBack, UnknownVersion) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except EndpointConnectionError as error:
        print(
            f"error: cannot reach the sandbox at {args.endpoint_url} ({error}); start it with "
            "`modelops sandbox`",
            file=sys.stderr,
        )
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
