"""Bring your own data, as a new user would, through the CLI: a real daily data set as it ships
(spotpy's hymod_input.csv: a dd.mm.yyyy 'Date', no id column, column names with spaces, brackets
and hyphens) is loaded, checked, trained, scored and served with no reshaping by hand, and its
drift metadata is monthly.

The commands run in this process against the worker's embedded sandbox (tests.helpers.cli_here),
from a state built once by the first six commands; tests/integration/test_served_sandbox.py
runs the CLI in other processes against a served sandbox, and `modelops serve` in a process of
its own."""

import csv
import functools
import json
import subprocess
import threading
from collections.abc import Callable

import pytest

from modelops_dev.client import runner
from tests.helpers import CHURN_SPEC, HYMOD_DATA, HYMOD_LOAD, HYMOD_SPEC, cli_here
from tests.states import States

pytestmark = pytest.mark.e2e


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def build_hymod(states: States) -> dict[str, str]:
    """From an empty sandbox: load, check, store, train as of 2014-12 (24 months), score January
    2015, each through the CLI; what each printed."""
    sandbox = states.sandbox
    load = ("data", "load", "--file", str(HYMOD_DATA), "--table", "hymod", *HYMOD_LOAD)
    return {
        "dry_run": ok(cli_here(sandbox, *load, "--dry-run")),
        "load": ok(cli_here(sandbox, *load)),
        "check": ok(cli_here(sandbox, "spec", "check", str(HYMOD_SPEC), "--lake")),
        "put": ok(cli_here(sandbox, "spec", "put", str(HYMOD_SPEC))),
        "train": ok(cli_here(sandbox, "train", "--model", "hymod", "--as-of", "2014-12-01")),
        "score": ok(cli_here(sandbox, "score", "--model", "hymod", "--as-of", "2015-01-15")),
    }


@pytest.fixture
def hymod(states: States) -> dict[str, str]:
    """The sandbox holding only what build_hymod made; what its commands printed."""
    built: dict[str, str] = states.restore("hymod-cli", build_hymod)
    return built


@pytest.fixture
def modelops(states: States, hymod: dict[str, str]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``modelops(*argv)``: a command in this process against the restored hymod sandbox."""
    return functools.partial(cli_here, states.sandbox)


def test_the_file_loads_as_it_ships_into_monthly_partitions(hymod):
    assert (
        "would load into table 'hymod': 60 month partitions (2012-01-01 … 2016-12-01); nothing written"
        in hymod["dry_run"]
    )
    assert "'TURC [mm d-1]'" in hymod["load"] and "'Discharge[ls-1]'  DOUBLE     366 missing" in hymod["load"]
    assert "'Date'             DATE       the date column" in hymod["load"]
    assert "loaded into table 'hymod': 60 month partitions" in hymod["load"]
    assert "checked against 731 rows of the query over the lake, 2015-01-01 … 2016-12-31" in hymod["check"]
    assert "ok: every column the spec names is there" in hymod["check"]


def test_it_trains_and_scores_with_the_day_as_the_entity(hymod, modelops):
    assert "SUCCEEDED: hymod version 1.0.0 — champion" in hymod["train"]
    test_line = next(line for line in hymod["train"].splitlines() if line.split()[:1] == ["test"])
    rows, auc = int(test_line.split()[1]), float(test_line.split()[2])
    assert rows == 92 and auc > 0.8  # October to December 2014, out of time
    assert "SUCCEEDED: 31 scores published" in hymod["score"]
    assert "campaign off (campaign.enabled is false in the spec)" in hymod["score"]
    # Lookback: the SQL saw December's 31 days, so rain_7d is whole from January 1st on.
    assert "the SQL computed 31 rows of earlier periods for lag and rolling features" in hymod["score"]
    # No outcome lag: the day's discharge is in the same extract, so the run measures its own month.
    realized = next(line.strip() for line in hymod["score"].splitlines() if "realized:" in line)
    assert realized.startswith("realized: scores of 2015-01-01 against their outcomes: batch 1.0.0 AUC ")
    assert realized.endswith("(31 rows)")
    top = json.loads(ok(modelops("top", "--model", "hymod", "-n", "31", "--json")))
    days = sorted(t["entity_id"] for t in top)
    assert days == [f"2015-01-{d:02d}" for d in range(1, 32)]  # dates as loaded, never 00:00:00
    history = ok(modelops("scores", "history", "2015-01-05", "--model", "hymod"))
    assert "scoring-hymod-2015-01-01" in history and history.count("\n") == 2


def test_drift_metadata_is_monthly(hymod, modelops, tmp_path):
    out = tmp_path / "m.csv"
    ok(modelops("metadata", "export", "--model", "hymod", "--out", str(out)))
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    data = {r["timestamp"] for r in rows if r["stage"] == "validate_data"}
    months = {f"{year}-{month:02d}-01" for year in (2013, 2014) for month in range(1, 13)}
    assert data == months | {"2015-01-01"}  # training's 24 months, then the scored one
    assert {r["metric"] for r in rows if r["stage"] == "validate_data"} >= {
        "rainfall",
        "rain_7d",
        "month",
        "outcome",
    }
    assert {r["timestamp"] for r in rows if r["stage"] == "validate_scores"} == {"2015-01-01"}


def test_it_is_served_online_for_known_and_new_days(hymod, modelops, states):
    from modelops_dev.client import gateway

    api = gateway.server(states.sandbox, 0)  # what `modelops serve` runs, on a free port
    threading.Thread(target=api.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{api.server_address[1]}"
    try:
        invoke = ("invoke", "--url", url)
        scores = json.loads(ok(modelops(*invoke, "--model", "hymod", "--entity", "2015-01-05", "--json")))
        assert scores["status"] == 200 and scores["body"]["entity_id"] == "2015-01-05"

        def post(body: dict) -> dict:
            args = (*invoke, "--method", "POST", "--path", "/models/hymod/score", "--json")
            return json.loads(modelops(*args, "--data", json.dumps(body)).stdout)

        known = post({"entity_id": "2015-01-05", "features": {"rainfall": 3.0}})
        assert known["status"] == 200 and 0 < known["body"]["score"] < 1
        new = {"rainfall": 12.0, "evapotranspiration": 0.4, "rain_7d": 40.0, "month": "January"}
        fresh = post({"entity_id": "2017-01-03", "features": new})  # no batch features for that day
        assert fresh["status"] == 200 and fresh["body"]["entity_id"] == "2017-01-03"
        partial = post({"entity_id": "2017-01-04", "features": {"rainfall": 1.0}})
        assert partial["status"] == 404 and "send every feature" in partial["body"]["reason"]
    finally:
        api.shutdown()
        api.server_close()


# ---------------------------------------------------------------- errors, one line each
def one_line(done: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_a_pipeline_failure_prints_its_error_and_message_not_the_lambda_json(hymod, modelops):
    done = modelops("train", "--model", "hymod", "--as-of", "2012-06-01")
    assert done.returncode == 1
    failed = done.stdout.strip().splitlines()[-1]
    assert failed == (
        "FAILED: PartialWindowError: the window 2010-07-01 … 2012-06-01 has no rows for 18 of its 24 months "
        "(2010-07-01, 2010-08-01, 2010-09-01 …); choose another as-of date, or allow a partial window "
        "(window.allow_partial in the spec, or --allow-partial-window)"
    )
    assert "stackTrace" not in done.stdout and "errorType" not in done.stdout
    missing = modelops("score", "--model", "hymod", "--as-of", "2030-01-01")
    assert missing.stdout.strip().splitlines()[-1] == (
        "FAILED: NoDataError: table 'hymod' has no partitions between 2030-01-01 and 2030-01-31"
    )


def test_the_model_is_required_once_two_specs_exist(hymod, modelops):
    ok(modelops("spec", "put", str(CHURN_SPEC)))
    assert one_line(modelops("top")) == (
        "error: several models have specs (churn, hymod): choose one with --model"
    )
    assert one_line(modelops("scores", "history", "1990-06-15", "--model", "hymod")) == (
        "error: no scores for entity '1990-06-15' of model 'hymod'"
    )


def test_the_dispatcher_starts_a_due_run_once(hymod, modelops):
    # hymod scores monthly on the 1st at 04:30 UTC: the 05:00 tick starts it, with that time.
    quiet = json.loads(ok(modelops("dispatch", "--at", "2015-02-01T04:00:00Z", "--json")))
    assert quiet["started"] == []
    first = json.loads(ok(modelops("dispatch", "--at", "2015-02-01T05:00:00Z", "--json")))
    assert [(s["model"], s["pipeline"], s["fired_at"], s["new"]) for s in first["started"]] == [
        ("hymod", "scoring", "2015-02-01T04:30:00Z", True)
    ]
    again = ok(modelops("dispatch", "--at", "2015-02-01T05:00:00Z"))
    assert "hymod scoring (fired 2015-02-01T04:30:00Z): already started" in again
    # Let the run end: one left going would write into the sandbox the next test restores.
    runner.follow(first["started"][0]["execution"], timeout=600)
