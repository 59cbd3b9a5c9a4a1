from datetime import date, datetime

import pytest
from pydantic import ValidationError

from modelops.domain.contract import (
    VALIDATION_STAGES,
    AlertOutcome,
    Artifacts,
    Chunk,
    ChunkItem,
    ContractError,
    Evidence,
    GetDataResult,
    Results,
    Run,
    RunRequest,
    StageDoc,
    ValidationResult,
    plan_run,
)
from modelops.domain.periods import Window, add_months, month_start


def test_add_months_crosses_years():
    assert add_months(date(2025, 11, 1), 3) == date(2026, 2, 1)
    assert add_months(date(2025, 1, 1), -1) == date(2024, 12, 1)


def test_a_request_with_as_of_trains_on_the_periods_up_to_it():
    run = plan_run(RunRequest(model="churn", as_of=date(2025, 8, 17)), "training", 8, 1)
    assert run.as_of == date(2025, 8, 1)
    assert (run.window.start, run.window.end) == (date(2025, 1, 1), date(2025, 8, 1))
    assert run.run_id == "training-churn-2025-08-01"


def test_a_scheduled_run_derives_the_window_from_the_scheduled_time():
    scheduled = datetime.fromisoformat("2025-10-02T03:00:00+00:00")
    training = plan_run(RunRequest(model="churn", scheduled_time=scheduled), "training", 8, 1)
    # October's run: September is the last complete month, its outcome is known one month later.
    assert training.as_of == date(2025, 8, 1)
    assert training.window.start == date(2025, 1, 1)
    scoring = plan_run(RunRequest(model="churn", scheduled_time=scheduled), "scoring", 8, 1)
    assert scoring.as_of == date(2025, 9, 1)
    assert scoring.window.start == scoring.window.end == date(2025, 9, 1)


@pytest.mark.parametrize(
    "body",
    [
        {"model": "churn"},
        {"model": "churn", "as_of": "2025-01-01", "scheduled_time": "2025-01-01T00:00:00Z"},
        {"model": "churn", "as_of": "2025-01-01", "run_id": "bad id/with slash"},
        {"as_of": "2025-01-01"},
    ],
)
def test_bad_requests_are_rejected(body):
    with pytest.raises(ValidationError):
        RunRequest.model_validate(body)


def test_the_extract_is_cut_into_chunks_of_at_most_chunk_rows():
    from modelops.pipeline.common import chunks_of

    chunks = chunks_of([("a", 250), ("b", 0), ("c", 100)], 100)
    assert [(c.index, c.key, c.offset, c.rows) for c in chunks] == [
        (0, "a", 0, 100),
        (1, "a", 100, 100),
        (2, "a", 200, 50),
        (3, "c", 0, 100),
    ]


def test_the_window_binds_only_the_window_parameters_as_timestamps():
    from modelops.domain.periods import Window
    from modelops.stores.query import bind_window

    window = Window(start=date(2025, 1, 1), end=date(2025, 8, 31))
    sql = "SELECT $start_note FROM t WHERE d BETWEEN $start AND $end OR d < $end_exclusive"
    assert bind_window(sql, window) == (
        "SELECT $start_note FROM t WHERE d BETWEEN TIMESTAMP '2025-01-01 00:00:00' AND "
        "TIMESTAMP '2025-08-31 23:59:59.999999' OR d < TIMESTAMP '2025-09-01 00:00:00'"
    )
    assert "TIMESTAMP '2025-08-31 23:59:59.999'" in bind_window(sql, window, fraction=3)


@pytest.mark.parametrize("column_type", ["DATE", "TIMESTAMP", "TIMESTAMPTZ"])
@pytest.mark.parametrize(
    "where",
    [
        "ts BETWEEN $start AND $end",
        "ts >= $start AND ts <= $end",
        "ts >= $start AND ts < $end_exclusive",
        "CAST(ts AS DATE) BETWEEN $start AND $end",
    ],
)
def test_the_natural_filters_keep_every_row_of_the_window_s_days(column_type, where):
    """A row at every hour of September and of the days either side: each filter, written the
    way people write it, keeps exactly September's 30 x 24 rows, whatever the column's type
    (the flights data lost its last day with dates bound into a TIMESTAMP filter)."""
    from modelops.domain.periods import Window
    from modelops.stores import tabular
    from modelops.stores.query import bind_window

    window = Window(start=date(2013, 9, 1), end=date(2013, 9, 30))
    with tabular.connect() as connection:
        connection.execute(
            f"CREATE TABLE t AS SELECT CAST(ts AS {column_type}) AS ts FROM range("
            "TIMESTAMP '2013-08-31 00:00:00', TIMESTAMP '2013-10-02 00:00:00', INTERVAL 1 HOUR) r(ts)"
        )
        kept = connection.execute(f"SELECT count(*) FROM t WHERE {bind_window(where, window)}").fetchone()[0]
    assert kept == 30 * 24  # a DATE column holds each day 24 times


def test_month_arithmetic():
    assert month_start(date(2025, 2, 28)) == date(2025, 2, 1)
    assert add_months(date(2025, 5, 20), 0) == date(2025, 5, 1)
    assert add_months(date(2025, 12, 1), 1) == date(2026, 1, 1)
    assert add_months(date(2025, 3, 1), -14) == date(2024, 1, 1)
    assert add_months(date(2025, 3, 1), 12) == date(2026, 3, 1)


def test_a_window_is_ordered_and_may_be_one_period():
    assert Window(start=date(2025, 3, 1), end=date(2025, 3, 1)).start == date(2025, 3, 1)
    with pytest.raises(ValidationError) as raised:
        Window(start=date(2025, 4, 1), end=date(2025, 3, 1))
    assert (
        raised.value.errors()[0]["msg"] == "Value error, window start 2025-04-01 is after its end 2025-03-01"
    )
    with pytest.raises(ValidationError, match="frozen"):
        Window(start=date(2025, 3, 1), end=date(2025, 3, 1)).end = date(2025, 4, 1)  # type: ignore[misc]


def test_a_scheduled_training_run_without_outcome_lag_trains_up_to_the_last_month():
    scheduled = datetime.fromisoformat("2026-01-05T03:00:00+00:00")
    run = plan_run(RunRequest(model="churn", scheduled_time=scheduled), "training", 1, 0)
    assert run.as_of == run.window.start == date(2025, 12, 1)


def test_a_request_may_name_the_run_and_the_model_version():
    request = RunRequest(model="churn", as_of=date(2025, 9, 3), run_id="rerun.2_a-b", model_version="1.2.0")
    run = plan_run(request, "scoring", 8, 1)
    assert (run.run_id, run.model_version, run.version()) == ("rerun.2_a-b", "1.2.0", "1.2.0")
    assert run.window == Window(start=date(2025, 9, 1), end=date(2025, 9, 1))
    assert RunRequest(model="m", as_of=date(2025, 1, 1), run_id="x" * 80).run_id == "x" * 80
    with pytest.raises(ValidationError):
        RunRequest(model="m", as_of=date(2025, 1, 1), run_id="x" * 81)
    with pytest.raises(ValidationError):
        RunRequest(model="m", as_of=date(2025, 1, 1), run_id="")


def test_a_scoring_run_without_a_resolved_version_says_so():
    run = plan_run(RunRequest(model="churn", as_of=date(2025, 9, 1)), "scoring", 8, 1)
    with pytest.raises(ContractError) as raised:
        run.version()
    assert (
        str(raised.value)
        == "run scoring-churn-2025-09-01: a scoring run needs the model version get_data resolves"
    )


def test_a_missing_artifact_is_named():
    artifacts = Artifacts(raw="s3://b/raw.parquet")
    assert artifacts.require("raw") == "s3://b/raw.parquet"
    with pytest.raises(ContractError) as raised:
        artifacts.require("model")
    assert str(raised.value) == "the stage needs the 'model' artifact, which no earlier stage wrote"


def evidence(metric: str) -> Evidence:
    return Evidence(stage="validate_data", metric=metric, value="d5", test="ks", statistic=0.3, effect=0.1)


def test_findings_are_gathered_from_the_named_validation_stages():
    results = Results(
        validate_data=ValidationResult(rows=10, profiles=3, drift=[evidence("age"), evidence("plan")]),
        validate_scores=ValidationResult(rows=10, profiles=3, drift=[evidence("score")]),
        get_data=GetDataResult(rows=10, matched=10, columns=4, chunks=1, manifest_key="k"),
    )
    assert [f.metric for f in results.findings(*VALIDATION_STAGES)] == ["age", "plan", "score"]
    assert [f.metric for f in results.findings("validate_scores")] == ["score"]
    assert results.findings("validate_model", "get_data") == []


def test_a_stage_document_leaves_out_what_is_not_there():
    run = plan_run(RunRequest(model="churn", as_of=date(2025, 8, 1)), "training", 2, 1)
    document = StageDoc(run=run).to_json()
    assert document == {
        "run": {
            "run_id": "training-churn-2025-08-01",
            "model": "churn",
            "pipeline": "training",
            "as_of": "2025-08-01",
            "window": {"start": "2025-07-01", "end": "2025-08-01"},
            "force": False,
        },
        "artifacts": {},
        "results": {},
    }
    assert StageDoc.model_validate(document).run == run
    item = ChunkItem(run=run, artifacts=Artifacts(), chunk=Chunk(index=2, key="k", rows=0))
    assert item.to_json() == {
        "run": document["run"],
        "artifacts": {},
        "chunk": {"index": 2, "key": "k", "offset": 0, "rows": 0},
        "results": {},
    }


def test_a_chunk_has_a_non_negative_index_and_row_count():
    assert Chunk(index=0, key="k", rows=0).rows == 0
    for field in ("index", "rows"):
        with pytest.raises(ValidationError, match="greater than or equal to 0"):
            Chunk(**{"index": 0, "key": "k", "rows": 0, field: -1})


def test_a_stage_fed_another_document_fails_by_name():
    with pytest.raises(ValidationError, match="chunks"):
        StageDoc.model_validate({"run": {}, "chunks": []})


def test_a_request_needs_exactly_one_of_as_of_and_scheduled_time():
    with pytest.raises(ValidationError) as raised:
        RunRequest(model="churn")
    assert raised.value.errors()[0]["msg"] == "Value error, give exactly one of as_of or scheduled_time"
    # A request built without validation is still refused by name, not by an assert.
    with pytest.raises(ContractError) as refused:
        plan_run(RunRequest.model_construct(model="churn"), "scoring", 1, 1)
    assert str(refused.value) == "a run request needs as_of or scheduled_time"


def test_a_run_is_fixed_and_knows_its_fields():
    run = plan_run(RunRequest(model="churn", as_of=date(2025, 8, 1)), "training", 2, 1)
    with pytest.raises(ValidationError, match="frozen"):
        run.model = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="owner"):
        Run.model_validate({**run.model_dump(), "owner": "me"})


def test_results_default_to_nothing_found_and_nothing_sent():
    evidence = Evidence(stage="s", metric="m", value="d1", test="ks", statistic=0.5, effect=0.2)
    assert (evidence.p_value, evidence.adjusted_p, evidence.series) == (None, None, [])
    validation = ValidationResult(rows=1, profiles=2)
    assert (validation.drift, validation.alert, validation.report) == ([], None, None)
    outcome = AlertOutcome(sent=False, severity="medium", metrics=[], findings=0)
    assert outcome.reason is None
