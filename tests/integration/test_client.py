"""The notebook client: what modelops stores, as pandas DataFrames, read the way a notebook
would (the sandbox's names, or a deployed stack's CloudFormation outputs)."""

import json
from datetime import date

import boto3
import pandas as pd
import pytest

from modelops_dev.client.notebook import (
    DECILE_COLUMNS,
    DRIFT_COLUMNS,
    HISTORY_COLUMNS,
    STACK_OUTPUTS,
    TOP_COLUMNS,
    VERSION_COLUMNS,
    Client,
    RequestError,
    environment_from_outputs,
)
from modelops_dev.sandbox import Sandbox

pytestmark = pytest.mark.e2e


@pytest.fixture
def ops(october: tuple[Sandbox, dict]) -> Client:
    """A client on the sandbox where churn is trained, September and October (drift) scored."""
    sandbox, _ = october
    return Client.embedded(sandbox)


def test_a_notebook_reads_scores_metadata_drift_and_versions_as_dataframes(ops):
    assert ops.models()["model"].tolist() == ["churn"]
    versions = ops.versions()  # the only model: no name needed
    assert list(versions.columns) == VERSION_COLUMNS and len(versions) == 1
    assert versions.loc[0, "version"] == "1.0.0" and bool(versions.loc[0, "champion"])

    top = ops.top("churn", 10)
    assert list(top.columns) == TOP_COLUMNS and top["rank"].tolist() == list(range(1, 11))
    assert top["score"].is_monotonic_decreasing and (top["as_of"] == pd.Timestamp("2025-10-01")).all()
    assert set(top["run_id"]) == {"scoring-churn-2025-10-01"}

    best = top.loc[0, "entity_id"]
    mine = ops.score_history("churn", best)
    assert list(mine.columns) == HISTORY_COLUMNS
    assert [d.date() for d in mine["as_of"]] == [date(2025, 9, 1), date(2025, 10, 1)]
    assert mine["score"].iloc[-1] == pytest.approx(top.loc[0, "score"])
    assert len(ops.score_history("churn")) == 2_000  # 1,000 customers x 2 months

    deciles = ops.deciles("churn", stage="validate_data")
    assert list(deciles.columns) == DECILE_COLUMNS and set(deciles["stage"]) == {"validate_data"}
    months = sorted({t.date() for t in deciles["timestamp"]})
    assert months == [date(2025, m, 1) for m in range(1, 11)]  # training's 8 months, then each scored one
    usage = deciles[(deciles["metric"] == "data_usage_gb") & (deciles["timestamp"] == "2025-10-01")]
    assert {f"d{k}" for k in range(1, 11)} <= set(usage["decile"])

    drift = ops.drift("churn")
    assert list(drift.columns) == DRIFT_COLUMNS and len(drift) > 0
    assert set(drift["timestamp"]) == {pd.Timestamp("2025-10-01")} and set(drift["severity"]) == {"high"}
    assert {"data_usage_gb", "score"} <= set(drift["metric"])


def test_a_deployed_stack_is_found_by_its_outputs(october):
    sandbox, _ = october
    template = sandbox.template
    outputs = {name: sandbox.resolver.resolve(o["Value"]) for name, o in template["Outputs"].items()}
    assert set(STACK_OUTPUTS) <= set(outputs), "template.yaml must output every name the client needs"
    stack_template = {
        "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {name: {"Value": value} for name, value in outputs.items()},
    }
    boto3.client("cloudformation").create_stack(
        StackName="modelops-deployed", TemplateBody=json.dumps(stack_template)
    )
    deployed = Client.stack("modelops-deployed")
    assert deployed.environment == {k: v for k, v in sandbox.environment.items() if k in deployed.environment}
    assert deployed.state_machines == {
        "training": sandbox.ref("TrainingStateMachine"),
        "scoring": sandbox.ref("ScoringStateMachine"),
    }
    assert deployed.versions("churn")["version"].tolist() == ["1.0.0"]


def test_mistakes_are_named(ops):
    with pytest.raises(RequestError, match="no stage 'validate' "):
        ops.deciles("churn", stage="validate")
    with pytest.raises(RequestError, match="the stack has no output 'ContactsTableName'"):
        environment_from_outputs({k: "x" for k in STACK_OUTPUTS if k != "ContactsTableName"})
    with pytest.raises(RequestError, match="load takes a pandas DataFrame, got dict"):
        ops.load({"a": [1]}, "t")  # type: ignore[arg-type]
    with pytest.raises(RequestError, match=r"^no model 'nobody' has a stored spec \(models: churn\)$"):
        ops.top("nobody")


def test_bad_input_is_one_line_before_anything_is_written_or_started(ops, tmp_path, monkeypatch):
    import tempfile

    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(deep))  # where the client's scratch folder goes
    frame = pd.DataFrame({"day": pd.to_datetime(["2025-01-01"]), "v": [1]})
    with pytest.raises(RequestError, match=r"^table name '../../x' is not an identifier"):
        ops.load(frame, "../../x")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # nothing written, anywhere
    with pytest.raises(RequestError, match="period 'year' is not one of day, week, month, quarter"):
        ops.load(frame, "t", period="year")  # type: ignore[arg-type]
    with pytest.raises(RequestError, match="the frame for table 't' has no rows"):
        ops.load(frame.iloc[:0], "t")
    for n in (0, -1):
        with pytest.raises(RequestError, match=f"n must be a whole number of at least 1, got {n}"):
            ops.top("churn", n)

    scoring = ops.state_machines["scoring"]
    before = boto3.client("stepfunctions").list_executions(stateMachineArn=scoring)["executions"]
    with pytest.raises(RequestError, match=r"^None is not a model name"):
        ops.score(None, "2025-10-01")  # type: ignore[arg-type]
    with pytest.raises(RequestError, match=r"^no model 'chrun' has a stored spec; did you mean 'churn'\?$"):
        ops.score("chrun", "2025-10-01")
    with pytest.raises(RequestError, match=r"^as_of 9999-12-31 is outside 1000-01-01 … 9000-12-31"):
        ops.score("churn", "9999-12-31")
    assert boto3.client("stepfunctions").list_executions(stateMachineArn=scoring)["executions"] == before


def test_timezone_aware_dates_stay_in_their_own_days_month(ops):
    berlin = pd.DataFrame(
        {
            "day": pd.date_range("2025-02-01", periods=3, freq="D", tz="Europe/Berlin"),
            "at": pd.to_datetime(["2025-02-01 00:30"] * 3).tz_localize("Europe/Berlin"),
            "v": [1, 2, 3],
        }
    )
    for column in ("day", "at"):  # midnights (dates), and times just after midnight
        summary = ops.load(berlin, "berlin", date_column=column, dry_run=True)
        partitions = dict(zip(summary.partitions["period"].dt.date, summary.partitions["rows"], strict=True))
        assert partitions == {date(2025, 2, 1): 3}, column  # February, not January 31st
