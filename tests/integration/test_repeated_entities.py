"""An entity repeated within a period (a weekly spec over hourly rows: 168 rows per sensor and
week), as both query engines, training and scoring see it: one rule, one message, and the
spec's policy (fail, or keep the first or last row of each entity and period, counted in the
run's results)."""

from datetime import date, datetime, timedelta

import numpy as np
import pytest
import yaml

from modelops.domain.periods import Window
from modelops.stores import lake, objects, tabular
from modelops.stores.query import DuplicateEntityError, Query
from modelops.stores.query.athena import AthenaEngine
from modelops.stores.query.duckdb_engine import DuckDBEngine
from modelops.stores.specs import store_spec
from tests.helpers import cli_here, invoke_raw

pytestmark = pytest.mark.e2e

WEEKS = (date(2025, 9, 1), date(2025, 9, 8))  # Mondays
SENSORS = 6
SQL = "SELECT * FROM readings WHERE reading_time BETWEEN $start AND $end"
MESSAGE = (
    "sensor 's0' appears 168 times in the period starting 2025-09-01 (2004 repeated rows in 12 "
    "entity-periods); each entity is scored once per period"
)
SENSORS_SPEC = {
    "name": "sensors",
    "source": {"tables": ["readings"], "sql": SQL},
    "entity": "sensor",
    "timestamp": "reading_time",
    "period": "week",
    "outcome": "failed",
    "features": {"temperature": {"type": "numeric"}},
    "estimator": {"kind": "logistic_regression"},
    "window": {"training_periods": 2, "outcome_lag_periods": 0},
    "campaign": {"enabled": False},
}


def hourly_week(monday: date) -> dict[str, np.ndarray]:
    hours = [datetime(monday.year, monday.month, monday.day) + timedelta(hours=h) for h in range(168)]
    rng = np.random.default_rng(monday.toordinal())
    return {
        "sensor": np.array([f"s{s}" for s in range(SENSORS) for _ in hours]),
        "reading_time": np.array([h for _ in range(SENSORS) for h in hours], dtype="datetime64[us]"),
        "temperature": rng.normal(20, 3, SENSORS * 168),
        "failed": rng.integers(0, 2, SENSORS * 168),
    }


@pytest.fixture
def readings(sandbox):
    for monday in WEEKS:
        lake.write_partition("readings", monday, hourly_week(monday), by="week", dated_by="reading_time")
    return sandbox


def query(policy: str) -> Query:
    return Query(
        SQL,
        ["readings"],
        Window(start=WEEKS[0], end=WEEKS[1]),
        "week",
        "reading_time",
        part_rows=10_000,
        unique=("sensor",),
        duplicates=policy,  # type: ignore[arg-type]
    )


def kept_rows(parts) -> list[tuple[str, str]]:
    import tempfile
    from pathlib import Path

    found = []
    with tempfile.TemporaryDirectory() as scratch:
        for part in parts:
            columns = tabular.read_columns(objects.download_file(part.key, Path(scratch) / "p.parquet"))
            found += [
                (str(s), str(t)) for s, t in zip(columns["sensor"], columns["reading_time"], strict=True)
            ]
    return sorted(found)


def test_both_engines_refuse_a_repeat_within_a_period_with_one_message(readings):
    for engine in (DuckDBEngine(), AthenaEngine()):
        with pytest.raises(DuplicateEntityError) as refused:
            engine.extract(query("fail"), f"runs/repeats/{type(engine).__name__}/")
        assert str(refused.value).startswith(MESSAGE), type(engine).__name__


@pytest.mark.parametrize(("policy", "hour"), [("first", "00:00:00"), ("last", "23:00:00")])
def test_both_engines_keep_the_first_or_last_row_of_each_entity_and_period(readings, policy, hour):
    by_duckdb = DuckDBEngine().extract(query(policy), "runs/repeats/duckdb/")
    by_athena = AthenaEngine().extract(query(policy), "runs/repeats/athena/")
    assert by_duckdb.repeats == by_athena.repeats and by_duckdb.repeats.rows == 2004
    assert by_duckdb.rows == by_athena.rows == 12 and by_duckdb.matched == 2016  # what the SQL returned
    assert kept_rows(by_duckdb.parts) == kept_rows(by_athena.parts)
    days = {"first": ("2025-09-01", "2025-09-08"), "last": ("2025-09-07", "2025-09-14")}[policy]
    expected = sorted((f"s{s}", f"{day}T{hour}.000000") for s in range(SENSORS) for day in days)
    assert kept_rows(by_duckdb.parts) == expected


def test_training_checks_the_key_as_scoring_does_and_counts_what_its_policy_drops(readings):
    request = {"pipeline": "training", "request": {"model": "sensors", "as_of": "2025-09-08"}}
    store_spec(yaml.safe_dump(SENSORS_SPEC), source="sensors.yaml")
    error, failed = invoke_raw(readings, "GetDataFunction", request)
    assert failed and error["errorType"] == "DuplicateEntityError", error
    assert error["errorMessage"].startswith(MESSAGE)

    store_spec(yaml.safe_dump({**SENSORS_SPEC, "duplicates": "last"}), source="sensors.yaml")
    document, failed = invoke_raw(readings, "GetDataFunction", request)
    assert not failed, document
    extracted = document["results"]["get_data"]
    assert (extracted["rows"], extracted["matched"]) == (12, 2016)
    assert extracted["duplicates"] == {
        "policy": "last",
        "rows": 2004,
        "entities": 12,
        "example": "sensor 's0' appears 168 times in the period starting 2025-09-01",
    }
    assert extracted["reconciliation"]["warnings"] == []  # the SQL returned every row of its source


def test_spec_check_reads_the_weekly_window_and_checks_the_key_as_a_run_does(sandbox, tmp_path):
    """Through the CLI (in this process, against the worker's sandbox): `spec check --lake` reads
    the spec's last two weeks (not two months) and refuses the repeated key with the run's own
    message; training refuses it too; the `last` policy passes the check with the rows a run
    would drop counted."""
    weeks = (*WEEKS, date(2025, 9, 15))
    parts = [hourly_week(monday) for monday in weeks]
    data = tmp_path / "readings.parquet"
    tabular.write_columns(data, {name: np.concatenate([p[name] for p in parts]) for name in parts[0]})
    load = ("data", "load", "--file", str(data), "--table", "readings", "--date-column", "reading_time")
    assert cli_here(sandbox, *load, "--period", "week").returncode == 0
    spec = tmp_path / "sensors.yaml"
    spec.write_text(yaml.safe_dump(SENSORS_SPEC))

    checked = cli_here(sandbox, "spec", "check", str(spec), "--lake")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "checked against 2,016 rows of the query over the lake, 2025-09-08 … 2025-09-21" in checked.stdout
    assert f"error: {spec}: duplicates: sensor 's0' appears 168 times in the period starting 2025-09-08" in (
        checked.stdout
    )
    assert cli_here(sandbox, "spec", "put", str(spec)).returncode == 0
    trained = cli_here(sandbox, "train", "--model", "sensors", "--as-of", "2025-09-15")
    assert trained.returncode == 1 and "FAILED: DuplicateEntityError: sensor 's0' appears 168 times" in (
        trained.stdout
    )

    spec.write_text(yaml.safe_dump({**SENSORS_SPEC, "duplicates": "last"}))
    kept = cli_here(sandbox, "spec", "check", str(spec), "--lake")
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "a run keeps the last row of each entity and period and drops 2,004 rows" in kept.stdout
