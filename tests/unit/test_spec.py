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
    assert spec.feature_names[:3] == ["tenure_months", "age", "region"]
    assert spec.estimator.search.space == {"learning_rate": [0.05, 0.1], "max_leaf_nodes": [15, 31]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("entity"), "test.yaml: entity: Field required"),
        (lambda d: d.update(owner="me"), "test.yaml: owner: unknown field"),
        (
            lambda d: d["features"]["age"].update(type="float"),
            "test.yaml: features.age.type: Input should be",
        ),
        (
            lambda d: d["features"].update(churned_next_month={"type": "boolean"}),
            "features: 'churned_next_month' is the outcome, not a feature",
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
    columns = [c for c in (spec.entity, spec.timestamp, spec.outcome, *spec.feature_names) if c != "plan"]
    with pytest.raises(SpecError, match="column 'plan' named in the spec is not in the query result"):
        spec.require_columns(columns, with_outcome=True)
    spec.require_columns([c for c in [*columns, "plan"] if c != spec.outcome], with_outcome=False)


def test_the_cli_check_names_the_field(tmp_path: Path, capsys):
    from modelops_local.cli import main

    document = churn()
    document["features"]["age"]["type"] = "number"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(document))
    assert main(["spec", "check", str(bad)]) == 2
    assert "features.age.type" in capsys.readouterr().err
    assert main(["spec", "check", str(CHURN_SPEC)]) == 0
