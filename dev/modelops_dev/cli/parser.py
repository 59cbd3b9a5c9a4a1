"""The ``modelops`` argument parser: one helper per group of commands."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, NoReturn

from modelops_dev.cli.data import cmd_data_load
from modelops_dev.cli.demo import cmd_demo
from modelops_dev.cli.deploy import cmd_teardown
from modelops_dev.cli.models import (
    cmd_models_compare,
    cmd_models_diff,
    cmd_models_export,
    cmd_models_list,
    cmd_models_promote,
    cmd_models_report,
    cmd_models_retire,
    cmd_models_rollback,
    cmd_models_show,
)
from modelops_dev.cli.runs import cmd_dispatch, cmd_score, cmd_train
from modelops_dev.cli.scores import (
    cmd_metadata_export,
    cmd_report,
    cmd_scores_export,
    cmd_scores_history,
    cmd_top,
)
from modelops_dev.cli.serve import cmd_invoke, cmd_sandbox, cmd_serve
from modelops_dev.cli.spec import cmd_spec_check, cmd_spec_put
from modelops_dev.sandbox import DEFAULT_PORT

DESCRIPTION = "The ``modelops`` command line."
DATE_HELP = "a date, YYYY-MM-DD; the run covers the period that holds it"
Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors on one line."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


class _Commands:
    """A group of subcommands; each command takes --json, --endpoint-url and --debug."""

    def __init__(self, group: Any, endpoint: str) -> None:
        self.group = group  # argparse's subparsers action
        self.endpoint = endpoint

    def add(self, name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = self.group.add_parser(
            name,
            help=help_text,
            description=help_text,
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
        sub.set_defaults(handler=handler)
        sub.add_argument("--json", action="store_true", help="machine-readable output")
        sub.add_argument("--endpoint-url", default=self.endpoint, help="sandbox endpoint")
        sub.add_argument("--debug", action="store_true", help="show the traceback of an error")
        return sub

    def add_with_model(self, name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        sub = self.add(name, handler, help_text)
        _model_argument(sub)
        return sub

    def nested(self, name: str, help_text: str) -> _Commands:
        """A command with subcommands of its own (`modelops NAME SUBCOMMAND`)."""
        parser = self.group.add_parser(name, help=help_text)
        group = parser.add_subparsers(dest=f"{name}_command", required=True, parser_class=_Parser)
        return _Commands(group, self.endpoint)


def _model_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="the model (spec name); default: the only model with a stored spec")


def _day(text: str) -> str:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    return _within_runs(day).isoformat()


def _moment(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time (YYYY-MM-DDTHH:MM[:SS]Z)") from None
    _within_runs(moment.date())
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _within_runs(day: date) -> date:
    """A day a run may cover (client/inputs.run_day's rule)."""
    from modelops_dev.client.inputs import RequestError, run_day

    try:
        return run_day(day, what="the date")
    except RequestError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _at_least_one(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="modelops", description=DESCRIPTION)
    group = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    commands = _Commands(group, os.environ.get("MODELOPS_ENDPOINT_URL", f"http://127.0.0.1:{DEFAULT_PORT}"))
    _add_demo_and_sandbox(commands)
    _add_spec(commands.nested("spec", "model specs: check one, or store it"))
    _add_data(commands.nested("data", "the data lake"))
    _add_runs(commands)
    _add_top(commands)
    scores = commands.nested("scores", "the score tables")
    history = scores.add_with_model("history", cmd_scores_history, "every score an entity has had")
    history.add_argument("entity", help="the entity id as it prints (e.g. 1757, 2015-01-05, a|b)")
    export = scores.add_with_model(
        "export", cmd_scores_export, "write the latest scores, a period's or the whole history to a file"
    )
    export.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    export.add_argument("--out", required=True, help="file to write")
    which = export.add_mutually_exclusive_group()
    which.add_argument("--as-of", type=_day, help="a scored period (its first day), every source")
    which.add_argument("--history", action="store_true", help="every score of every period and source")
    report = commands.add_with_model(
        "report", cmd_report, "write the drift report (one self-contained HTML file)"
    )
    report.add_argument("--out", help="default: out/<model>-drift.html")
    _add_online(commands)
    _add_metadata(commands.nested("metadata", "the decile metadata table"))
    _add_models(commands.nested("models", "the model registry"))
    _add_dispatch(commands)
    return parser


def _add_demo_and_sandbox(commands: _Commands) -> None:
    demo = commands.add("demo", cmd_demo, "run the whole demo in an embedded sandbox")
    demo.add_argument("--customers", type=int, default=10_000, help="synthetic customers")
    demo.add_argument("--months", type=int, default=12, help="months of data from 2025-01")
    demo.add_argument("--no-drift", action="store_true", help="turn the drift scenario off")
    serve = commands.add("sandbox", cmd_sandbox, "serve the sandbox on 127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)


def _add_spec(spec: _Commands) -> None:
    check = spec.add(
        "check",
        cmd_spec_check,
        "validate a spec file; with --data or --lake, also run its SQL and check every column it "
        "names against the result (exit 1 on an error)",
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
    put = spec.add("put", cmd_spec_put, "validate a spec file and store it where the pipelines read it")
    put.add_argument("file", help="the spec (YAML)")


def _add_data(data: _Commands) -> None:
    load = data.add(
        "load",
        cmd_data_load,
        "load a CSV/Parquet file into a lake table, checked whole before anything is written "
        "(without --file: the demo's customers)",
    )
    load.add_argument("--file", help="CSV (any delimiter, a header line) or Parquet file")
    load.add_argument("--table", help="lake table to load --file into (the name the spec's SQL uses)")
    _load_arguments(load)
    load.add_argument("--dry-run", action="store_true", help="check and summarize; write nothing")
    load.add_argument("--customers", type=int, default=10_000, help="demo data: customers")
    load.add_argument("--months", type=int, default=12, help="demo data: months from 2025-01")
    load.add_argument("--no-drift", action="store_true", help="demo data: no drift scenario")


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
        help="comma-separated markers of a missing value besides the common ones "
        "('', NA, N/A, n/a, null, NULL, NaN, nan, -), e.g. '?,-9900'",
    )
    parser.add_argument(
        "--no-default-na",
        dest="default_na",
        action="store_false",
        help="read the common markers (NA, null, -, ...) as values: only '' and --na-values are missing",
    )
    parser.add_argument(
        "--local-time",
        action="store_true",
        help="keep timestamps with a timezone offset at the local time written (default: converted to UTC)",
    )
    parser.add_argument(
        "--types",
        action="append",
        metavar="COLUMN=TYPE",
        help="force a column's type: integer, number, boolean, date, timestamp or text (repeatable)",
    )
    parser.add_argument("--skip-rows", type=int, default=0, help="lines before the header line")


def _add_runs(commands: _Commands) -> None:
    for name, handler, text in (
        ("train", cmd_train, "run the training state machine and follow it"),
        ("score", cmd_score, "run the scoring state machine and follow it"),
    ):
        run = commands.add_with_model(name, handler, text)
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


def _add_top(commands: _Commands) -> None:
    top = commands.add_with_model("top", cmd_top, "the latest run's top scores")
    top.add_argument("-n", type=_at_least_one, default=20, help="how many (at least 1)")


def _add_online(commands: _Commands) -> None:
    serve_api = commands.add("serve", cmd_serve, "serve the online API's handler over HTTP on 127.0.0.1")
    serve_api.add_argument("--port", type=int, default=8080)
    invoke = commands.add(
        "invoke", cmd_invoke, "send one request to `modelops serve` (paths are URL-encoded)"
    )
    invoke.add_argument("--url", default="http://127.0.0.1:8080", help="the online API")
    invoke.add_argument("--event", help="an API Gateway event file from events/ (method, path, body)")
    invoke.add_argument("--method", default="GET")
    invoke.add_argument("--path", default="/models/churn", help="request path, e.g. '/models/m/scores/a b'")
    invoke.add_argument("--data", help="request body (JSON)")
    invoke.add_argument("--entity", help="GET the scores of this entity (of --model)")
    invoke.add_argument("--model", help="with --entity: the model")
    invoke.add_argument(
        "--sigv4",
        action="store_true",
        help="sign with your AWS credentials (a deployed stack's API, IAM auth)",
    )
    invoke.add_argument("--region", help="with --sigv4: the API's region (default: from the URL)")
    teardown = commands.add(
        "teardown",
        cmd_teardown,
        "delete a deployed stack (AWS, not the sandbox): empty its versioned data bucket, then delete it",
    )
    teardown.add_argument("--stack", required=True, help="the stack's name")
    teardown.add_argument("--region", help="the stack's region (default: your configured one)")
    teardown.add_argument("--yes", action="store_true", help="really delete it")


def _add_metadata(metadata: _Commands) -> None:
    export = metadata.add_with_model(
        "export", cmd_metadata_export, "write (model, stage, metric, decile, value, timestamp) rows"
    )
    export.add_argument("--format", choices=["csv", "parquet"], default="csv")
    export.add_argument("--out", required=True, help="file to write")


def _add_models(models: _Commands) -> None:
    models.add_with_model("list", cmd_models_list, "list a model's versions")
    show = models.add_with_model(
        "show", cmd_models_show, "a version (default: the champion) and the audit trail"
    )
    show.add_argument("version", nargs="?", help="the version (default: the champion)")
    show.add_argument("--version", dest="version_option", metavar="VERSION", help=argparse.SUPPRESS)
    diff = models.add_with_model("diff", cmd_models_diff, "a unified diff of two versions' recipes (specs)")
    diff.add_argument("old", metavar="A")
    diff.add_argument("new", metavar="B")
    report = models.add_with_model(
        "report",
        cmd_models_report,
        "a version's model report and card (default: the champion), one self-contained HTML file",
    )
    report.add_argument("version", nargs="?", help="the version (default: the champion)")
    report.add_argument("--out", help="the HTML file (default: out/<model>-<version>-report.html)")
    export = models.add_with_model(
        "export", cmd_models_export, "a version (default: the champion) as an MLflow model directory"
    )
    export.add_argument("version", nargs="?", help="the version (default: the champion)")
    export.add_argument("--format", choices=["mlflow"], default="mlflow", help="mlflow: a pyfunc model")
    export.add_argument("--out", required=True, help="a new (or empty) directory")
    compare = models.add_with_model(
        "compare", cmd_models_compare, "two versions' metrics on the same rows (B's out-of-time test sample)"
    )
    compare.add_argument("a", metavar="A")
    compare.add_argument("b", metavar="B")
    promote = models.add("promote", cmd_models_promote, "make a version the champion (audited)")
    promote.add_argument("version")
    rollback = models.add("rollback", cmd_models_rollback, "return to the previous champion (audited)")
    retire = models.add("retire", cmd_models_retire, "a version that must never serve again (audited)")
    retire.add_argument("version")
    for operation in (promote, rollback, retire):
        _model_argument(operation)
        operation.add_argument("--reason", required=True, help="why: it goes into the audit trail")


def _add_dispatch(commands: _Commands) -> None:
    dispatch = commands.add(
        "dispatch",
        cmd_dispatch,
        "run the dispatcher as its hourly schedule would at --at: start every due training and scoring run",
    )
    dispatch.add_argument("--at", type=_moment, required=True, help="the tick, YYYY-MM-DDTHH:MM[:SS]Z (UTC)")
    dispatch.add_argument("--interval-minutes", type=int, default=60, help="the dispatcher's interval")
