"""What stops a scoring run before it publishes anything wrong, and what keeps "latest"
moving forward in time: invalid values, repeated entities, empty windows, older periods."""

from datetime import date

import numpy as np
import pytest

from modelops.stores import history, lake, latest, objects, online_features
from modelops_dev.demo import synthetic
from tests.helpers import alert_inbox, drain, event, invoke, invoke_raw, put_churn_spec, run, score
from tests.states import LAKE

pytestmark = pytest.mark.e2e
SEPTEMBER = date(2025, 9, 1)


def september() -> dict[str, np.ndarray]:
    month, columns = synthetic.generate(LAKE)[8]
    assert month == SEPTEMBER
    return dict(columns)


def test_unseen_categories_past_the_threshold_fail_the_run_and_publish_nothing(trained):
    columns = september()
    region = columns["region"].astype(object)
    region[: len(region) // 20] = "atlantis"  # 5% of the rows: a region training never saw
    lake.write_partition("customers", SEPTEMBER, {**columns, "region": region})
    inbox = alert_inbox(trained.sandbox)
    result = run(trained.sandbox, "ScoringStateMachine", "2025-09-01")
    assert result.status == "FAILED" and result.error == "InvalidDataError"
    assert "region 5.00%" in result.cause and "on_invalid" in result.cause
    assert [m["MessageAttributes"]["error"]["Value"] for m in drain(inbox)] == ["InvalidDataError"]
    assert latest.pointer("churn") is None and objects.list_keys("scores/") == []
    assert drain(trained.sandbox.ref("CampaignQueue")) == []

    # The same data with the feature's policy set to 'missing' is scored, and the share reported.
    features = churn_features()
    features["region"]["on_invalid"] = "missing"
    put_churn_spec(features=features)
    scored = score(trained.sandbox)
    assert scored.output["results"]["validate_data"]["invalid"] == {"region": 0.05}
    assert latest.pointer("churn").as_of == "2025-09-01"


def churn_features() -> dict:
    from modelops.domain.spec import parse_spec
    from tests.helpers import CHURN_SPEC

    return {
        name: f.model_dump(mode="json") for name, f in parse_spec(CHURN_SPEC.read_text()).features.items()
    }


def test_an_entity_twice_in_a_period_stops_the_run_at_get_data(trained):
    columns = september()
    doubled = {name: np.concatenate([values, values[:1]]) for name, values in columns.items()}
    lake.write_partition("customers", SEPTEMBER, doubled)
    error, failed = invoke_raw(trained.sandbox, "GetDataFunction", event("scoring_get_data"))
    assert failed and error["errorType"] == "DuplicateEntityError"
    assert f"customer_id '{columns['customer_id'][0]}' appears 2 times" in error["errorMessage"]
    # A clock glitch need not make the period unscorable: the stored spec's policy (operational,
    # so the champion's recipe needs no retraining) keeps one row and the run counts the other.
    put_churn_spec(duplicates="first")
    document = invoke(trained.sandbox, "GetDataFunction", event("scoring_get_data"))
    extracted = document["results"]["get_data"]
    assert (extracted["rows"], extracted["matched"]) == (1000, 1001)
    assert (extracted["duplicates"]["rows"], extracted["duplicates"]["entities"]) == (1, 1)


def test_an_empty_window_fails_early_by_name(trained):
    spec_sql = "SELECT * FROM customers WHERE snapshot_month BETWEEN $start AND $end AND tenure_months < 0"
    put_churn_spec(source={"tables": ["customers"], "sql": spec_sql})  # the next training's recipe
    error, failed = invoke_raw(trained.sandbox, "GetDataFunction", event("get_data"))
    assert failed and error["errorType"] == "NoDataError"
    assert "returns no rows between 2025-01-01 and 2025-08-01" in error["errorMessage"]


def test_an_older_period_goes_to_the_history_only_unless_forced(scored):
    newest = latest.pointer("churn")
    entity = latest.top("churn", 1)[0].entity_id
    features_before = online_features.read("churn", [entity])
    older = score(scored.sandbox, "2025-08-01").output["results"]
    assert older["deploy_scores"]["latest"] is False
    assert older["deploy_scores"]["reason"] == "2025-08-01 is older than the latest 2025-09-01: history only"
    assert older["campaign"]["sent"] == 0 and "older than the latest" in older["campaign"]["skipped"]
    assert latest.pointer("churn") == newest and online_features.read("churn", [entity]) == features_before
    assert {str(r["as_of"])[:10] for r in history.read("churn")} == {"2025-08-01", "2025-09-01"}

    forced = score(scored.sandbox, "2025-08-01", force=True, run_id="rescore-2025-08-01").output["results"]
    assert forced["deploy_scores"]["latest"] is True and forced["deploy_scores"]["reason"].startswith(
        "forced"
    )
    assert latest.pointer("churn").as_of == "2025-08-01"


def test_the_athena_engine_extracts_what_duckdb_extracts(trained):
    """The same query through both engines (Athena emulated on DuckDB over the lake's Glue
    tables): the same rows, whatever the parts."""
    from modelops.domain.periods import Window
    from modelops.stores import tabular
    from modelops.stores.query import Counted, Query
    from modelops.stores.query.athena import AthenaEngine
    from modelops.stores.query.duckdb_engine import DuckDBEngine

    sql = event_sql()
    window = Window(start=date(2025, 7, 1), end=SEPTEMBER)
    query = Query(
        sql,
        ["customers"],
        window,
        "month",
        "snapshot_month",
        part_rows=750,
        lookback=1,  # the SQL sees June: its rows are computed, counted, and not kept
        counted=Counted("customers", None),
    )
    by_duckdb = DuckDBEngine().extract(query, "runs/compare/duckdb/")
    by_athena = AthenaEngine().extract(query, "runs/compare/athena/")
    assert by_athena.rows == by_duckdb.rows == by_athena.matched == 3000
    assert by_athena.columns == by_duckdb.columns
    months = {date(2025, m, 1): 1000 for m in (7, 8, 9)}
    assert by_athena.periods == by_duckdb.periods == months
    assert (by_athena.before, by_athena.after) == (by_duckdb.before, by_duckdb.after) == (1000, 0)
    assert by_athena.source == by_duckdb.source == months
    assert by_athena.source_column == by_duckdb.source_column == "snapshot_month"

    def rows(parts) -> list[tuple]:
        import tempfile
        from pathlib import Path

        found = []
        with tempfile.TemporaryDirectory() as scratch:
            for part in parts:
                columns = tabular.read_columns(objects.download_file(part.key, Path(scratch) / "p.parquet"))
                found += list(zip(*(np.asarray(v).astype(str) for v in columns.values()), strict=True))
        return sorted(found)

    assert rows(by_athena.parts) == rows(by_duckdb.parts)
    assert [p.rows for p in by_duckdb.parts] == [750, 750, 750, 750]


def event_sql() -> str:
    from modelops.domain.spec import parse_spec
    from tests.helpers import CHURN_SPEC

    return parse_spec(CHURN_SPEC.read_text()).source.sql


def test_a_spec_on_athena_scores_through_the_state_machine(trained):
    put_churn_spec(source={"engine": "athena"})
    results = score(trained.sandbox).output["results"]
    assert results["get_data"]["rows"] == results["deploy_scores"]["rows"] == 1000
    assert latest.pointer("churn").rows == 1000


def test_training_keeps_a_bounded_sample_stratified_by_period_and_outcome(lake):
    put_churn_spec(split={"max_training_rows": 2000})
    document = invoke(lake, "GetDataFunction", event("get_data"))
    extracted = document["results"]["get_data"]
    assert (extracted["matched"], extracted["rows"]) == (8_000, pytest.approx(2000, abs=16))
    document = invoke(lake, "TransformDataFunction", document)
    from modelops.domain.contract import StageDoc
    from modelops.pipeline.training import load_features

    matrix, _ = load_features(StageDoc.model_validate(document))
    months, per_month = np.unique(matrix.timestamp, return_counts=True)
    assert len(months) == 8 and per_month.min() >= 240 and per_month.max() <= 250  # a quarter of 1,000
    churners = [int(columns["churned_next_month"].sum()) for _, columns in synthetic.generate(LAKE)[:8]]
    kept = [int(matrix.y[matrix.timestamp == month].sum()) for month in months]
    assert kept == [count // 4 for count in churners]  # each (month, outcome) stratum keeps its quarter
