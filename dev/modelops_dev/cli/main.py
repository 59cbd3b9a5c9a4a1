"""The ``modelops`` command line.

``modelops demo`` runs everything in an embedded sandbox. ``modelops sandbox`` serves one on
127.0.0.1; the other commands talk to it (``--endpoint-url``, default
``$MODELOPS_ENDPOINT_URL`` or http://127.0.0.1:4566). Every error is one line naming the
problem (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

from modelops_dev.sandbox import DEFAULT_PORT, PROJECT_ROOT, Sandbox, client_environment

DEFAULT_SPEC = PROJECT_ROOT / "models" / "churn.yaml"
DATE_HELP = "a date, YYYY-MM-DD; the run covers the period that holds it"
FAR_PAST, FAR_FUTURE = date(1, 1, 1), date(9999, 12, 31)


class CliError(Exception):
    """A mistake the user can fix; printed as one line, no traceback."""


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


def _model(args: argparse.Namespace) -> str:
    """--model, or the only model with a stored spec."""
    if args.model:
        return str(args.model)
    from modelops.stores.specs import list_models

    models = list_models()
    if len(models) == 1:
        return models[0]
    if not models:
        raise CliError("no model has a stored spec yet: store one with `modelops spec put FILE`")
    raise CliError(f"several models have specs ({', '.join(models)}): choose one with --model")


def _read_spec(path: str) -> Any:
    from modelops.domain.spec import parse_spec

    file = Path(path)
    if not file.is_file():
        raise CliError(f"{path}: no such file")
    return parse_spec(file.read_text(), source=path)


def _load_options(args: argparse.Namespace) -> Any:
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


# ---------------------------------------------------------------------- commands
def cmd_demo(args: argparse.Namespace) -> int:
    from modelops_dev.demo import walkthrough

    return walkthrough.run(
        walkthrough.DemoOptions(customers=args.customers, months=args.months, drift=not args.no_drift),
        as_json=args.json,
    )


def cmd_sandbox(args: argparse.Namespace) -> int:
    from modelops_dev.sandbox import served

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


def cmd_spec_put(args: argparse.Namespace) -> int:
    from modelops.stores.specs import store_spec

    spec = _read_spec(args.file)
    _connect(args.endpoint_url)
    _, uri = store_spec(Path(args.file).read_text(), source=args.file)
    if args.json:
        _print_json({"model": spec.name, "stored": uri})
    else:
        print(f"stored spec {spec.name!r} at {uri}")
    return 0


def _check_window(spec: Any, args: argparse.Namespace) -> Any:
    """The training window a --lake check reads: up to --as-of, or to the newest partition."""
    from modelops.domain.contract import RunRequest, plan_run
    from modelops.domain.periods import Window
    from modelops.stores import layout, objects

    as_of = args.as_of
    if as_of is None:
        periods = [
            period
            for table in spec.source.tables
            for key in objects.list_keys(layout.table_prefix(table))
            if (period := layout.partition_period(key)) is not None
        ]
        if not periods:
            raise CliError(
                f"the lake has no data for {', '.join(spec.source.tables)}: load it with `modelops data load`"
            )
        as_of = max(periods).isoformat()
    request = RunRequest(model=spec.name, as_of=date.fromisoformat(as_of))
    run = plan_run(request, "training", spec.window.training_periods, 0, spec.period)
    window: Window = run.window.days(spec.period)
    return window


def cmd_spec_check(args: argparse.Namespace) -> int:
    import tempfile

    from modelops.domain.datacheck import check_spec
    from modelops.domain.periods import Window
    from modelops.stores import lake, query

    spec = _read_spec(args.file)
    report: dict[str, Any] = {"model": spec.name, "valid": True, "findings": []}
    if not args.json:
        print(
            f"{args.file}: spec {spec.name!r} is valid ({len(spec.features)} features, period {spec.period})"
        )
    if not args.data and not args.lake:
        if args.json:
            _print_json(report)
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        if args.data:
            files = {}
            for item in args.data:
                table, separator, path = item.partition("=")
                if not separator:
                    if len(spec.source.tables) != 1:
                        raise CliError(
                            f"the spec reads {', '.join(spec.source.tables)}: give --data TABLE=FILE for each"
                        )
                    table, path = spec.source.tables[0], item
                parquet = Path(scratch) / f"{table}.parquet"
                files[table] = lake.convert_file(Path(path), _load_options(args), parquet)
            absent = [table for table in spec.source.tables if table not in files]
            if absent:
                raise CliError(f"no --data for table {absent[0]!r} (give --data {absent[0]}=FILE)")
            window = Window(start=FAR_PAST, end=FAR_FUTURE)
            profiles = query.profile_result(spec.source.sql, window, files=files)
            where = " and ".join(item.partition("=")[2] or item for item in args.data)
        else:
            _connect(args.endpoint_url)
            window = _check_window(spec, args)
            profiles = query.profile_result(spec.source.sql, window, lake_tables=spec.source.tables)
            where = f"the lake, {window.start} … {window.end}"
    rows = next(iter(profiles.values())).rows if profiles else 0
    findings = check_spec(spec, profiles)
    errors = [f for f in findings if f.level == "error"]
    report.update(
        rows=rows,
        checked=where,
        findings=[{"level": f.level, "field": f.field, "message": f.message} for f in findings],
    )
    if args.json:
        _print_json(report)
    else:
        print(f"checked against {rows:,} rows of the query over {where}")
        for finding in findings:
            print(f"{finding.level}: {args.file}: {finding}")
        if not findings:
            print("ok: every column the spec names is there, with the type it declares")
    return 1 if errors else 0


def cmd_data_load(args: argparse.Namespace) -> int:
    from modelops.stores import lake
    from modelops_dev.client import runner
    from modelops_dev.demo import synthetic

    if args.file is None:
        if args.table or args.date_column:
            raise CliError(
                "--table and --date-column go with --file (without --file the demo data is loaded)"
            )
        _connect(args.endpoint_url)
        runner.put_spec(DEFAULT_SPEC)
        config = synthetic.DemoConfig(
            customers=args.customers, months=args.months, drift_month=None if args.no_drift else 9
        )
        counts = synthetic.load_demo_data(config)
        if args.json:
            _print_json({"partitions": counts})
        else:
            for period, rows in counts.items():
                print(f"  {period}: {rows:,} rows")
            print(f"loaded {sum(counts.values()):,} rows in {len(counts)} partitions")
        return 0
    if not args.table:
        raise CliError("--file needs --table (the lake table the spec's SQL reads)")
    options = _load_options(args)
    if not args.dry_run:
        _connect(args.endpoint_url)
    summary = lake.inspect_file(args.table, Path(args.file), options, write=not args.dry_run)
    if args.json:
        _print_json(
            {
                "table": summary.table,
                "rows": summary.rows,
                "date_column": summary.date_column,
                "period": summary.period,
                "columns": [c.__dict__ for c in summary.columns],
                "partitions": {d.isoformat(): n for d, n in summary.partitions.items()},
                "written": summary.written,
            }
        )
        return 0
    periods = list(summary.partitions)
    print(f"{args.file}: {summary.rows:,} rows, {len(summary.columns)} columns")
    width = max(len(repr(column.name)) for column in summary.columns)
    for column in summary.columns:
        notes = [f"{column.missing:,} missing"] if column.missing else []
        notes += ["the date column"] if column.name == summary.date_column else []
        print(f"  {column.name!r:<{width}}  {column.type:<9}  {', '.join(notes)}".rstrip())
    span = f"{periods[0]} … {periods[-1]}" if periods else "none"
    verb = "would load" if args.dry_run else "loaded"
    print(
        f"{verb} into table {summary.table!r}: {len(periods)} {summary.period} partitions ({span})"
        + ("; nothing written (--dry-run)" if args.dry_run else "")
    )
    return 0


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


def _run_pipeline(args: argparse.Namespace, state_machine: str, verb: str) -> int:
    from modelops.stores import objects
    from modelops_dev.client import runner

    sandbox = _connect(args.endpoint_url)
    model = _model(args)
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
    result = runner.follow(arn, on_state=_progress(not args.json))
    summary: dict[str, Any] = {"execution": arn, "status": result.status}
    if result.status != "SUCCEEDED" or not result.output:
        summary.update(error=result.error, message=result.failure)
        if args.json:
            _print_json(summary)
        else:
            print(f"{result.status}: {result.error}: {result.failure}")
        return 1
    results = result.output["results"]
    summary["results"] = results
    if "deploy_model" in results:
        training = objects.get_json(objects.key_of(result.output["artifacts"]["training"]))
        summary["metrics"] = training["metrics"]
    if args.json:
        _print_json(summary)
    elif "deploy_model" in results:
        deployed = results["deploy_model"]
        state = "champion" if deployed["champion"] else "not promoted"
        print(f"{result.status}: {model} version {deployed['version']} — {state}: {deployed['reason']}")
        print(f"  hyperparameters {json.dumps(results['train_model']['params'], sort_keys=True)}")
        for line in _metrics_table(summary["metrics"]):
            print(line)
    else:
        published, campaign = results["deploy_scores"], results["campaign"]
        handed = (
            f"campaign off ({campaign['skipped']})"
            if campaign.get("skipped")
            else f"campaign sent {campaign['sent']} of {campaign['selected']} selected"
        )
        print(
            f"{result.status}: {published['rows']:,} scores published ({published['publication']}); {handed}"
        )
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    return _run_pipeline(args, "TrainingStateMachine", "training")


def cmd_score(args: argparse.Namespace) -> int:
    return _run_pipeline(args, "ScoringStateMachine", "scoring")


def cmd_top(args: argparse.Namespace) -> int:
    from modelops.stores import latest

    _connect(args.endpoint_url)
    model = _model(args)
    top = latest.top(model, args.n)
    if args.json:
        _print_json([score.__dict__ for score in top])
        return 0
    if not top:
        raise CliError(f"model {model!r} has no published scores (run `modelops score` first)")
    width = max(12, *(len(score.entity_id) for score in top))
    print(f"{'rank':>4}  {'entity':<{width}} {'score':>8}  {'version':<8} {'as of':<10}")
    for rank, score in enumerate(top, 1):
        print(
            f"{rank:>4}  {score.entity_id:<{width}} {score.score:>8.4f}  "
            f"{score.model_version:<8} {score.as_of:<10}"
        )
    return 0


def cmd_scores_history(args: argparse.Namespace) -> int:
    from modelops.stores import history

    _connect(args.endpoint_url)
    model = _model(args)
    rows = history.read(model, args.entity)
    if args.json:
        _print_json(rows)
        return 0 if rows else 1
    if not rows:
        raise CliError(f"no scores for entity {args.entity!r} of model {model!r}")
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
    model = _model(args)
    rows = sorted(
        (row for stage in VALIDATION_STAGES for row in metadata.read_rows(model, stage)),
        key=lambda r: (r["stage"], r["metric"], r["timestamp"], r["decile"]),
    )
    out = Path(args.out)
    fields = ("model", "stage", "metric", "decile", "value", "timestamp")
    if args.format == "csv":
        with out.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(fields))
            writer.writeheader()
            writer.writerows(rows)
    else:
        import duckdb

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
        print(f"wrote {len(rows):,} metadata rows of {model!r} to {out} ({args.format})")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from modelops.pipeline.monitoring import report_html

    _connect(args.endpoint_url)
    model = _model(args)
    out = Path(args.out or f"out/{model}-drift.html")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report_html(model))
    if args.json:
        _print_json({"report": str(out)})
    else:
        print(f"wrote the drift report of {model!r} to {out}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from modelops_dev.client import gateway

    sandbox = _connect(args.endpoint_url)

    def ready(url: str) -> None:
        print(f"online API on {url} (sandbox {args.endpoint_url}); Ctrl-C stops it", flush=True)
        print(f"  try: modelops invoke --url {url} --event events/online_score.json", flush=True)

    try:
        gateway.serve(sandbox, args.port, ready)
    except KeyboardInterrupt:
        print("stopped")
    return 0


def request_path(path: str) -> str:
    """A request path with every character a URL cannot carry percent-encoded (an entity id
    'a b' becomes 'a%20b'); what is already encoded stays as it is."""
    return quote(path, safe="/%?=&:@!$'()*+,;-._~")


def cmd_invoke(args: argparse.Namespace) -> int:
    import urllib.error
    import urllib.request

    if args.event:
        event_file = Path(args.event)
        if not event_file.is_file():
            raise CliError(f"{args.event}: no such file")
        request = json.loads(event_file.read_text())
        method, path, body = request["httpMethod"], request["path"], request.get("body")
    elif args.entity is not None:
        if not args.model:
            raise CliError("--entity needs --model (the online API serves every model)")
        entity = quote(args.entity, safe="")
        method, path, body = "GET", f"/models/{quote(args.model, safe='')}/scores/{entity}", None
    else:
        method, path, body = args.method, args.path, args.data
    http = urllib.request.Request(  # noqa: S310 - a local URL given by the user
        args.url.rstrip("/") + request_path(path),
        method=method,
        data=None if body is None else body.encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(http, timeout=30) as response:  # noqa: S310  # nosec B310
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    except urllib.error.URLError as error:
        raise CliError(
            f"cannot reach the online API at {args.url} ({error.reason}); start it with `modelops serve`"
        ) from None
    if args.json:
        _print_json({"status": status, "body": json.loads(text) if text else None})
    else:
        print(f"{status} {method} {path}")
        print(json.dumps(json.loads(text), indent=2) if text else "")
    return 0 if status < 400 else 1


def cmd_models_list(args: argparse.Namespace) -> int:
    from modelops.stores import registry

    _connect(args.endpoint_url)
    model = _model(args)
    champion = registry.champion(model)
    rows = [
        {**version.__dict__, "champion": version.version == champion} for version in registry.versions(model)
    ]
    if args.json:
        _print_json(rows)
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


def _caller() -> str:
    """Who runs a registry operation, for its audit row: the AWS identity and the local user."""
    import getpass

    from modelops.stores import aws

    return f"{aws.caller()} ({getpass.getuser()})"


def cmd_models_show(args: argparse.Namespace) -> int:
    from modelops_dev.client import lifecycle

    _connect(args.endpoint_url)
    model = _model(args)
    shown = lifecycle.show(model, args.version)
    if args.json:
        _print_json(shown)
        return 0
    version = shown["version"]
    mark = " (champion)" if version["version"] == shown["champion"] else ""
    print(f"model {model} {version['version']}{mark}: {version['status']}, run {version['run_id']}")
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


def _registry_change(args: argparse.Namespace, change: Callable[[str], dict[str, Any]]) -> int:
    _connect(args.endpoint_url)
    model = _model(args)
    done = change(model)
    if args.json:
        _print_json(done)
    elif "champion" in done:
        print(
            f"{model}: champion {done.get('from')} -> {done['champion']}"
            if done["changed"]
            else f"{model}: {done['champion']} already is the champion"
        )
    else:
        print(f"{model} {done['version']}: {done['status']}")
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


def cmd_dispatch(args: argparse.Namespace) -> int:
    from modelops_dev.client import runner

    sandbox = _connect(args.endpoint_url)
    result = runner.dispatch(sandbox, args.at, args.interval_minutes)
    if args.json:
        _print_json(result)
        return 0
    print(f"dispatch at {result['tick']}: {len(result['started'])} runs due")
    for started in result["started"]:
        state = "started" if started["new"] else "already started"
        print(f"  {started['model']} {started['pipeline']} (fired {started['fired_at']}): {state}")
        print(f"    {started['execution']}")
    for model, reason in result["unreadable"].items():
        print(f"  {model}: spec skipped: {reason}")
    return 0


# ---------------------------------------------------------------------- parser
class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors on one line."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def _day(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _moment(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time (YYYY-MM-DDTHH:MM[:SS]Z)") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _load_arguments(parser: argparse.ArgumentParser) -> None:
    """How to read a data file (shared by `data load` and `spec check --data`)."""
    parser.add_argument(
        "--date-column",
        "--period-column",
        dest="date_column",
        help="the column that dates each row (DATE, TIMESTAMP or text in --date-format); "
        "default: the only column of YYYY-MM-DD dates",
    )
    parser.add_argument(
        "--date-format", help="strftime format of --date-column when not YYYY-MM-DD, e.g. %%d.%%m.%%Y"
    )
    parser.add_argument(
        "--period",
        choices=["day", "week", "month", "quarter"],
        default="month",
        help="one lake partition per period (weeks start on Monday)",
    )
    parser.add_argument(
        "--na-values",
        action="append",
        metavar="VALUES",
        help="comma-separated markers of a missing value besides '', nan and NaN, e.g. 'n/a,-9900'",
    )
    parser.add_argument(
        "--types",
        action="append",
        metavar="COLUMN=TYPE",
        help="force a column's type: integer, number, boolean, date, timestamp or text (repeatable)",
    )
    parser.add_argument("--skip-rows", type=int, default=0, help="lines before the header line")


def build_parser() -> argparse.ArgumentParser:
    formatter = argparse.ArgumentDefaultsHelpFormatter
    parser = _Parser(prog="modelops", description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    endpoint = os.environ.get("MODELOPS_ENDPOINT_URL", f"http://127.0.0.1:{DEFAULT_PORT}")

    def command(
        name: str, handler: Callable[[argparse.Namespace], int], help_text: str, parent: Any = commands
    ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = parent.add_parser(
            name, help=help_text, description=help_text, formatter_class=formatter
        )
        sub.set_defaults(handler=handler)
        sub.add_argument("--json", action="store_true", help="machine-readable output")
        sub.add_argument("--endpoint-url", default=endpoint, help="sandbox endpoint")
        sub.add_argument("--debug", action="store_true", help="show the traceback of an error")
        return sub

    def with_model(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument("--model", help="the model (spec name); default: the only model with a stored spec")
        return sub

    demo = command("demo", cmd_demo, "run the whole demo in an embedded sandbox")
    demo.add_argument("--customers", type=int, default=10_000, help="synthetic customers")
    demo.add_argument("--months", type=int, default=12, help="months of data from 2025-01")
    demo.add_argument("--no-drift", action="store_true", help="turn the drift scenario off")

    serve = command("sandbox", cmd_sandbox, "serve the sandbox on 127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)

    spec_parser = commands.add_parser("spec", help="model specs: check one, or store it")
    spec_commands = spec_parser.add_subparsers(dest="spec_command", required=True, parser_class=_Parser)
    check = command(
        "check",
        cmd_spec_check,
        "validate a spec file; with --data or --lake, also run its SQL and check every column it "
        "names against the result (exit 1 on an error)",
        spec_commands,
    )
    check.add_argument("file", help="the spec (YAML)")
    check.add_argument(
        "--data",
        action="append",
        metavar="[TABLE=]FILE",
        help="run the SQL over this CSV/Parquet file as the spec's table (read as `data load` would)",
    )
    check.add_argument("--lake", action="store_true", help="run the SQL over the sandbox's lake")
    check.add_argument(
        "--as-of",
        type=_day,
        help=f"with --lake: the training window up to {DATE_HELP}; default: the newest partition",
    )
    _load_arguments(check)
    put = command(
        "put", cmd_spec_put, "validate a spec file and store it where the pipelines read it", spec_commands
    )
    put.add_argument("file", help="the spec (YAML)")

    data_parser = commands.add_parser("data", help="the data lake")
    data_commands = data_parser.add_subparsers(dest="data_command", required=True, parser_class=_Parser)
    load = command(
        "load",
        cmd_data_load,
        "load a CSV/Parquet file into a lake table, checked whole before anything is written "
        "(without --file: the demo's customers)",
        data_commands,
    )
    load.add_argument("--file", help="CSV (any delimiter, a header line) or Parquet file")
    load.add_argument("--table", help="lake table to load --file into (the name the spec's SQL uses)")
    _load_arguments(load)
    load.add_argument("--dry-run", action="store_true", help="check and summarize; write nothing")
    load.add_argument("--customers", type=int, default=10_000, help="demo data: customers")
    load.add_argument("--months", type=int, default=12, help="demo data: months from 2025-01")
    load.add_argument("--no-drift", action="store_true", help="demo data: no drift scenario")

    for name, handler, text in (
        ("train", cmd_train, "run the training state machine and follow it"),
        ("score", cmd_score, "run the scoring state machine and follow it"),
    ):
        run = with_model(command(name, handler, text))
        run.add_argument("--as-of", type=_day, required=True, help=DATE_HELP)
        run.add_argument(
            "--allow-partial-window",
            action="store_true",
            help="run even if periods of the window have no rows",
        )
        if name == "score":
            run.add_argument("--version", help="score with this model version instead of the champion")
            run.add_argument(
                "--force",
                action="store_true",
                help="publish as the latest scores even if a later period's scores are published",
            )

    top = with_model(command("top", cmd_top, "the latest run's top scores"))
    top.add_argument("-n", type=int, default=20, help="how many")

    scores_parser = commands.add_parser("scores", help="the score tables")
    scores_commands = scores_parser.add_subparsers(dest="scores_command", required=True, parser_class=_Parser)
    history = with_model(
        command("history", cmd_scores_history, "every score an entity has had", scores_commands)
    )
    history.add_argument("entity", help="the entity id as it prints (e.g. 1757, 2015-01-05, a|b)")

    report = with_model(
        command("report", cmd_report, "write the drift report (one self-contained HTML file)")
    )
    report.add_argument("--out", help="default: out/<model>-drift.html")

    serve_api = command("serve", cmd_serve, "serve the online API's handler over HTTP on 127.0.0.1")
    serve_api.add_argument("--port", type=int, default=8080)

    invoke = command("invoke", cmd_invoke, "send one request to `modelops serve` (paths are URL-encoded)")
    invoke.add_argument("--url", default="http://127.0.0.1:8080", help="the online API")
    invoke.add_argument("--event", help="an API Gateway event file from events/ (method, path, body)")
    invoke.add_argument("--method", default="GET")
    invoke.add_argument("--path", default="/models/churn", help="request path, e.g. '/models/m/scores/a b'")
    invoke.add_argument("--data", help="request body (JSON)")
    invoke.add_argument("--entity", help="GET the scores of this entity (of --model)")
    invoke.add_argument("--model", help="with --entity: the model")

    metadata_parser = commands.add_parser("metadata", help="the decile metadata table")
    metadata_commands = metadata_parser.add_subparsers(
        dest="metadata_command", required=True, parser_class=_Parser
    )
    export = with_model(
        command(
            "export",
            cmd_metadata_export,
            "write (model, stage, metric, decile, value, timestamp) rows",
            metadata_commands,
        )
    )
    export.add_argument("--format", choices=["csv", "parquet"], default="csv")
    export.add_argument("--out", required=True, help="file to write")

    models_parser = commands.add_parser("models", help="the model registry")
    models_commands = models_parser.add_subparsers(dest="models_command", required=True, parser_class=_Parser)
    with_model(command("list", cmd_models_list, "list a model's versions", models_commands))
    show = with_model(
        command(
            "show", cmd_models_show, "a version (default: the champion) and the audit trail", models_commands
        )
    )
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
        with_model(operation)
        operation.add_argument("--reason", required=True, help="why: it goes into the audit trail")

    dispatch = command(
        "dispatch",
        cmd_dispatch,
        "run the dispatcher as its hourly schedule would at --at: start every due training and scoring run",
    )
    dispatch.add_argument("--at", type=_moment, required=True, help="the tick, YYYY-MM-DDTHH:MM[:SS]Z (UTC)")
    dispatch.add_argument("--interval-minutes", type=int, default=60, help="the dispatcher's interval")
    return parser


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    from botocore.exceptions import ClientError, EndpointConnectionError

    from modelops.domain.datacheck import ColumnError
    from modelops.domain.spec import SpecError
    from modelops.stores.lake import LoadError
    from modelops.stores.query import NoDataError, QueryError
    from modelops.stores.registry import NotAllowed, RegistryConflict, UnknownVersion
    from modelops_dev.client.lifecycle import NothingToRollBack
    from modelops_dev.sandbox import PortInUse

    # Errors whose message says what to fix: printed as they are.
    one_line_errors = (
        CliError, SpecError, LoadError, ColumnError, QueryError, NoDataError, PortInUse,
        RegistryConflict, NotAllowed, NothingToRollBack, UnknownVersion,
    )  # fmt: skip
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as done:  # --help, or a usage error argparse already printed on one line
        return int(done.code or 0)
    try:
        code: int = args.handler(args)
    except Exception as error:  # noqa: BLE001 - every error becomes one line (or a traceback with --debug)
        if args.debug:
            traceback.print_exc()
        if isinstance(error, EndpointConnectionError):
            message = f"cannot reach the sandbox at {args.endpoint_url}; start it with `modelops sandbox`"
        elif isinstance(error, one_line_errors):
            message = _one_line(error)
        elif isinstance(error, ClientError):
            message = f"AWS {error.operation_name}: {_one_line(error)}"
        else:
            message = f"{type(error).__name__}: {_one_line(error)}"
        print(f"error: {message}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
