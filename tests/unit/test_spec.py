from pathlib import Path

import pytest
import yaml

from modelops.domain.spec import ModelSpec, SpecError, parse_spec
from tests.helpers import CHURN_SPEC


def churn() -> dict:
    return yaml.safe_load(CHURN_SPEC.read_text())


def parse(document: dict) -> ModelSpec:
    return parse_spec(yaml.safe_dump(document), source="test.yaml")


def test_the_demo_spec_is_valid():
    spec = parse_spec(CHURN_SPEC.read_text())
    assert spec.name == "churn"
    assert spec.entity == "customer_id" and spec.outcome == "churned_next_month"
    assert spec.entity_columns == ["customer_id"] and spec.period == "month"
    assert spec.feature_names[:3] == ["tenure_months", "age", "region"]
    assert spec.estimator.search.space == {"learning_rate": [0.05, 0.1], "max_leaf_nodes": [15, 31]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("timestamp"), "test.yaml: timestamp: required, and missing"),
        (lambda d: d.update(owner="me"), "test.yaml: owner: unknown field (known: name, description, source"),
        (
            lambda d: d.update(estimater=d.pop("estimator")),  # the typo also makes 'estimator' missing
            "test.yaml: estimater: unknown field; did you mean 'estimator'?",
        ),
        (
            lambda d: d["campaign"].update(topn=5),
            "test.yaml: campaign.topn: unknown field; did you mean 'top_n'?",
        ),
        (
            lambda d: d["features"]["age"].update(colum="Age"),
            "test.yaml: features.age.colum: unknown field; did you mean 'column'?",
        ),
        (
            lambda d: d["features"].update({"dew point": {"type": "numeric"}}),
            "test.yaml: features: 'dew point' is not an identifier (letters, digits, _): name the feature "
            'dew_point and read the column with `dew_point: {column: "dew point", type: numeric}`',
        ),
        (
            lambda d: d["features"].update({"TURC [mm d-1]": {"type": "count"}}),
            'name the feature turc_mm_d_1 and read the column with `turc_mm_d_1: {column: "TURC [mm d-1]", '
            "type: count}`",
        ),
        (lambda d: d.update(period="year"), "test.yaml: period: Input should be 'day', 'week', 'month' or"),
        (
            lambda d: d.update(schedule={"training": "cron(0 3 2 * * *)"}),
            "test.yaml: schedule.training: 'cron(0 3 2 * * *)': exactly one of day-of-month and day-of-week",
        ),
        (
            lambda d: d.update(entity="snapshot_month"),
            "test.yaml: timestamp: 'snapshot_month' is already the entity",
        ),
        (
            lambda d: d.update(entity=["customer_id", "customer_id"]),
            "test.yaml: entity: an entity column is listed twice",
        ),
        (
            lambda d: d["features"]["age"].update(type="float"),
            "test.yaml: features.age.type: Input should be",
        ),
        (
            lambda d: d["features"].update(churned_next_month={"type": "boolean"}),
            "features.churned_next_month: column 'churned_next_month' is the outcome, not a feature",
        ),
        (
            lambda d: d["estimator"]["search"]["space"].update(learning_rat=[0.1]),
            "estimator: search.space: unknown hyperparameter 'learning_rat' for hist_gradient_boosting",
        ),
        (lambda d: d["estimator"].update(kind="xgboost"), "test.yaml: estimator.kind: Input should be"),
        (
            lambda d: d["source"].update(sql="SELECT * FROM customers"),
            "source.sql: the query must filter on the window parameter $start",
        ),
        (lambda d: d["split"].update(validation_fraction=1.5), "test.yaml: split.validation_fraction"),
        (lambda d: d.update(features={}), "test.yaml: features: Dictionary should have at least 1 item"),
        (lambda d: d.update(name="Churn Model"), "test.yaml: name: must be lowercase"),
    ],
)
def test_a_mistake_fails_fast_naming_the_field(change, message):
    document = churn()
    change(document)
    with pytest.raises(SpecError) as raised:
        parse(document)
    assert message in str(raised.value)


def test_not_yaml_or_not_a_mapping_is_a_spec_error():
    with pytest.raises(SpecError, match="not valid YAML"):
        parse_spec("name: [unclosed", source="x.yaml")
    with pytest.raises(SpecError, match="a spec is a YAML mapping, got list"):
        parse_spec("- a\n- b\n", source="x.yaml")


def test_a_column_the_data_lacks_is_named():
    spec = parse_spec(CHURN_SPEC.read_text())
    columns = [c for c in spec.needed_columns(with_outcome=True) if c != "plan"]
    with pytest.raises(SpecError, match="column 'plan' named in the spec is not in the query result"):
        spec.require_columns(columns, with_outcome=True)
    spec.require_columns([c for c in [*columns, "plan"] if c != spec.outcome], with_outcome=False)


def test_entity_is_optional_or_composite_and_features_may_read_other_columns():
    document = churn()
    document.pop("entity")
    document["features"]["age"]["column"] = "age in years"
    spec = parse(document)
    assert spec.entity_columns == [] and spec.period == "month" and spec.campaign.enabled is True
    assert spec.column_of("age") == "age in years" and spec.column_of("plan") == "plan"
    # (parse() dumps the document with its keys sorted: age comes first)
    assert spec.needed_columns(with_outcome=False)[:3] == ["snapshot_month", "age in years", "contract"]
    document["entity"] = ["customer_id", "region code"]
    document["campaign"] = {"enabled": False}
    document["schedule"] = {"scoring": "cron(0 4 1 * ? *)"}
    spec = parse(document)
    assert spec.entity_columns == ["customer_id", "region code"] and spec.campaign.enabled is False
    assert spec.schedule.expressions() == {"scoring": "cron(0 4 1 * ? *)"}
    document["features"]["region"]["column"] = "age in years"
    with pytest.raises(SpecError, match=r"features\.region: column 'age in years' is the feature age"):
        parse(document)


def test_a_missing_column_suggests_the_closest_one():
    spec = parse_spec(CHURN_SPEC.read_text())
    columns = [c if c != "plan" else "Plan" for c in spec.needed_columns(with_outcome=True)]
    with pytest.raises(
        SpecError, match=r"column 'plan' named in the spec is not in the query result; did you mean 'Plan'\?"
    ):
        spec.require_columns(columns, with_outcome=True)


def test_the_cli_check_names_the_field(tmp_path: Path, capsys):
    from modelops_local.cli import main

    document = churn()
    document["features"]["age"]["type"] = "number"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(document))
    assert main(["spec", "check", str(bad)]) == 2
    assert "features.age.type" in capsys.readouterr().err
    assert main(["spec", "check", str(CHURN_SPEC)]) == 0
