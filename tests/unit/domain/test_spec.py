from pathlib import Path

import pytest
import yaml

from modelops.domain.spec import ModelSpec, SpecError, parse_spec
from tests.helpers import CHURN_SPEC


def churn() -> dict:
    return yaml.safe_load(CHURN_SPEC.read_text())


def parse(document: dict) -> ModelSpec:
    return parse_spec(yaml.safe_dump(document, sort_keys=False), source="test.yaml")


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
    with pytest.raises(SpecError) as raised:
        parse_spec("name: [unclosed", source="x.yaml")
    assert str(raised.value).startswith("x.yaml: not valid YAML: ")
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
    assert spec.needed_columns(with_outcome=False)[:3] == ["snapshot_month", "tenure_months", "age in years"]
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
    from modelops_dev.cli import main

    document = churn()
    document["features"]["age"]["type"] = "number"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(document))
    assert main(["spec", "check", str(bad)]) == 2
    assert "features.age.type" in capsys.readouterr().err
    assert main(["spec", "check", str(CHURN_SPEC)]) == 0


# ---------------------------------------------------------------- defaults and bounds


def minimal() -> dict:
    """A spec with only the fields that have no default."""
    return {
        "name": "m",
        "source": {"tables": ["t"], "sql": "SELECT * FROM t WHERE d BETWEEN $start AND $end"},
        "entity": "id",
        "timestamp": "ts",
        "outcome": "y",
        "features": {"x": {"type": "numeric"}},
        "estimator": {"kind": "logistic_regression"},
    }


def with_value(path: str, value, document: dict | None = None) -> dict:
    """``document`` (the minimal spec by default) with ``value`` at the dotted ``path``."""
    document = minimal() if document is None else document
    *parents, leaf = path.split(".")
    node = document
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return document


def error_of(document: dict) -> str:
    with pytest.raises(SpecError) as raised:
        parse(document)
    return str(raised.value)


def test_a_minimal_spec_gets_the_documented_defaults():
    spec = parse(minimal())
    assert spec.description == "" and spec.features["x"].description == ""
    assert spec.estimator.model_dump() == {
        "kind": "logistic_regression",
        "params": {},
        "search": {"method": "grid", "n_iter": 8, "space": {}},
    }
    assert spec.split.model_dump() == {
        "test": "out_of_time",
        "test_periods": 1,
        "test_fraction": 0.2,
        "validation_fraction": 0.2,
        "seed": 42,
        "max_training_rows": 2_000_000,
    }
    assert spec.promotion.model_dump() == {
        "metric": "roc_auc",
        "min_test_auc": 0.5,
        "tolerance": None,
        "level": 0.05,
        "calibration_tolerance": 0.5,
        "selection_factor": 2.0,
    }
    assert spec.promotion.allowed_loss == 0.01
    assert spec.window.model_dump() == {
        "training_periods": 12,
        "outcome_lag_periods": 1,
        "lookback_periods": 0,
        "allow_partial": False,
    }
    rows = {"table": None, "column": None, "filtered": False, "tolerance": 0.001}
    assert spec.source.rows.model_dump() == rows
    assert spec.skew.model_dump() == {"max_missing_increase": 0.2, "max_outside_share": 0.05}
    assert spec.scoring.model_dump() == {
        "chunk_rows": 100_000,
        "max_invalid_share": 0.01,
        "keep_latest_days": 120,
        "top_candidates": 1000,
        "import_from_rows": 100_000,
    }
    assert (spec.source.engine, spec.features["x"].on_invalid) == ("duckdb", "fail")
    assert (spec.shadow, spec.retrain_on_drift, spec.retrain_min_severity) == (False, False, "high")
    assert spec.campaign.model_dump() == {
        "enabled": True,
        "top_n": 100,
        "min_score": None,
        "cooldown_days": 30,
        "channel": "email",
    }
    assert spec.drift.model_dump() == {
        "trend": True,
        "band": True,
        "ks": True,
        "chi2": True,
        "level": 0.05,
        "seasonality": "auto",
        "reference_periods": None,
        "min_history": 6,
        "band_min_history": 8,
        "trend_periods": 6,
        "min_effect": 0.05,
        "min_share_change": 0.02,
        "ks_min_effect": 0.05,
        "sample_size": 1000,
        "exclude": [],
        "persistence": {"k": 1, "n": 1},
        "block_promotion": False,
        "segments": [],
        "max_segments": 10,
        "min_rows": 20,
        "min_auc_drop": 0.02,
    }
    assert spec.online.model_dump() == {
        "enabled": True,
        "realtime_features": [],
        "max_records": 100,
        "range_margin": 0.5,
    }


GE, GT, LE, LT = "greater than or equal to", "greater than", "less than or equal to", "less than"

# (field, the values on each side of every bound that are accepted, [(rejected value, message)])
BOUNDS = [
    ("estimator.search.n_iter", [1], [(0, f"{GE} 1")]),
    ("split.test_periods", [1], [(0, f"{GE} 1")]),
    ("split.test_fraction", [0.001, 0.999], [(0, f"{GT} 0"), (1, f"{LT} 1")]),
    ("split.validation_fraction", [0.001, 0.999], [(0, f"{GT} 0"), (1, f"{LT} 1")]),
    ("promotion.min_test_auc", [0, 1], [(-0.001, f"{GE} 0"), (1.001, f"{LE} 1")]),
    ("promotion.tolerance", [0], [(-0.001, f"{GE} 0")]),
    ("promotion.level", [0.001, 0.499], [(0, f"{GT} 0"), (0.5, f"{LT} 0.5")]),
    ("promotion.calibration_tolerance", [0.001], [(0, f"{GT} 0")]),
    ("promotion.selection_factor", [1], [(0.999, f"{GE} 1")]),
    ("split.max_training_rows", [100], [(99, f"{GE} 100")]),
    ("scoring.max_invalid_share", [0, 1], [(-0.001, f"{GE} 0"), (1.001, f"{LE} 1")]),
    ("scoring.keep_latest_days", [1], [(0, f"{GE} 1")]),
    ("scoring.top_candidates", [1], [(0, f"{GE} 1")]),
    ("window.training_periods", [1], [(0, f"{GE} 1")]),
    ("window.outcome_lag_periods", [0], [(-1, f"{GE} 0")]),
    ("scoring.chunk_rows", [1], [(0, f"{GE} 1")]),
    ("campaign.top_n", [1], [(0, f"{GE} 1")]),
    ("campaign.min_score", [0, 1], [(-0.001, f"{GE} 0"), (1.001, f"{LE} 1")]),
    ("campaign.cooldown_days", [0], [(-1, f"{GE} 0")]),
    ("drift.min_history", [3], [(2, f"{GE} 3")]),
    ("drift.band_min_history", [3], [(2, f"{GE} 3")]),
    ("drift.min_effect", [0], [(-0.001, f"{GE} 0")]),
    ("drift.min_share_change", [0], [(-0.001, f"{GE} 0")]),
    ("drift.ks_min_effect", [0, 1], [(-0.001, f"{GE} 0"), (1.001, f"{LE} 1")]),
    ("drift.sample_size", [50, 5000], [(49, f"{GE} 50"), (5001, f"{LE} 5000")]),
    ("drift.reference_periods", [2], [(1, f"{GE} 2")]),
    ("drift.trend_periods", [4], [(3, f"{GE} 4")]),
    ("drift.persistence.n", [1], [(0, f"{GE} 1")]),
    ("drift.max_segments", [1, 50], [(0, f"{GE} 1"), (51, f"{LE} 50")]),
    ("drift.min_rows", [2], [(1, f"{GE} 2")]),
    ("drift.min_auc_drop", [0, 1], [(-0.001, f"{GE} 0"), (1.001, f"{LE} 1")]),
    ("online.max_records", [1, 1000], [(0, f"{GE} 1"), (1001, f"{LE} 1000")]),
    ("online.range_margin", [0], [(-0.001, f"{GE} 0")]),
]


@pytest.mark.parametrize(("path", "accepted", "rejected"), BOUNDS, ids=[b[0] for b in BOUNDS])
def test_every_bound_accepts_its_limit_and_rejects_what_lies_beyond(path, accepted, rejected):
    for value in accepted:
        spec = parse(with_value(path, value))
        node = spec
        for key in path.split("."):
            node = getattr(node, key)
        assert node == value
    for value, message in rejected:
        assert error_of(with_value(path, value)) == f"test.yaml: {path}: Input should be {message}"


def test_persistence_k_is_at_least_one_and_at_most_n():
    assert parse(with_value("drift.persistence", {"k": 3, "n": 3})).drift.persistence.k == 3
    assert error_of(with_value("drift.persistence", {"k": 0, "n": 3})) == (
        f"test.yaml: drift.persistence.k: Input should be {GE} 1"
    )
    assert error_of(with_value("drift.persistence", {"k": 3, "n": 2})) == (
        "test.yaml: drift.persistence: k (3) cannot exceed n (2)"
    )


@pytest.mark.parametrize("level", [0.10, 0.05, 0.01])
def test_the_drift_level_is_one_of_three_conventional_levels(level):
    assert parse(with_value("drift.level", level)).drift.level == level


@pytest.mark.parametrize("level", [0.02, 0.5, 0])
def test_another_drift_level_is_refused(level):
    assert error_of(with_value("drift.level", level)) == "test.yaml: drift.level: must be 0.10, 0.05 or 0.01"


def test_a_campaign_needs_a_limit_or_a_threshold_or_both():
    assert parse(with_value("campaign", {"top_n": None, "min_score": 0.4})).campaign.top_n is None
    assert parse(with_value("campaign", {"min_score": 0.4})).campaign.top_n == 100
    assert parse(with_value("campaign", {"channel": "sms"})).campaign.channel == "sms"
    assert error_of(with_value("campaign", {"top_n": None})) == (
        "test.yaml: campaign: needs top_n, min_score or both"
    )
    assert "test.yaml: campaign.channel: Input should be 'email' or 'sms'" in error_of(
        with_value("campaign.channel", "post")
    )


# ---------------------------------------------------------------- choices and names


@pytest.mark.parametrize("kind", ["numeric", "count", "categorical", "boolean"])
def test_each_feature_type_is_accepted(kind):
    assert parse(with_value("features.x", {"type": kind})).features["x"].type.value == kind


def test_split_and_search_choices():
    assert parse(with_value("split.test", "random")).split.test == "random"
    assert parse(with_value("estimator.search.method", "random")).estimator.search.method == "random"
    assert "split.test: Input should be 'out_of_time' or 'random'" in error_of(
        with_value("split.test", "kfold")
    )
    assert "estimator.search.method: Input should be 'grid' or 'random'" in error_of(
        with_value("estimator.search.method", "bayes")
    )


HGB_PARAMS = [
    "learning_rate",
    "max_iter",
    "max_leaf_nodes",
    "max_depth",
    "min_samples_leaf",
    "l2_regularization",
    "max_bins",
]


def test_every_documented_hyperparameter_is_accepted_as_a_param_and_in_the_search_space():
    hgb = {"kind": "hist_gradient_boosting", "params": dict.fromkeys(HGB_PARAMS, 1)}
    hgb["search"] = {"space": {name: [1, 2] for name in HGB_PARAMS}}
    assert sorted(parse(with_value("estimator", hgb)).estimator.search.space) == sorted(HGB_PARAMS)
    logistic = {"kind": "logistic_regression", "params": {"C": 1.0, "max_iter": 200}}
    logistic["search"] = {"space": {"C": [0.1, 1.0], "max_iter": [100]}}
    assert parse(with_value("estimator", logistic)).estimator.params == {"C": 1.0, "max_iter": 200}


def test_an_unknown_hyperparameter_is_named_with_the_allowed_ones():
    document = with_value("estimator.params", {"zeta": 1, "alpha": 2, "C": 1.0})
    assert error_of(document) == (
        "test.yaml: estimator: params: unknown hyperparameter 'alpha' for logistic_regression "
        "(allowed: C, max_iter)"
    )
    # A logistic regression has no learning rate, even in the search space.
    assert error_of(with_value("estimator.search.space", {"learning_rate": [0.1]})) == (
        "test.yaml: estimator: search.space: unknown hyperparameter 'learning_rate' for "
        "logistic_regression (allowed: C, max_iter)"
    )
    assert error_of(with_value("estimator.search.space", {"C": [1.0], "max_iter": []})) == (
        "test.yaml: estimator: search.space.max_iter: needs at least one value"
    )


@pytest.mark.parametrize("name", ["m", "churn-v2_x", "a" + "b" * 62])
def test_a_model_name_is_lowercase_and_at_most_63_characters(name):
    assert parse(with_value("name", name)).name == name


@pytest.mark.parametrize("name", ["a" + "b" * 63, "2churn", "Churn", "-churn", "", "churn\n", "churn.v2"])
def test_another_model_name_is_refused(name):
    assert error_of(with_value("name", name)) == (
        "test.yaml: name: must be lowercase letters, digits, '-' or '_', starting with a letter"
    )


@pytest.mark.parametrize("table", ["1t", "a b", "a.b.c", "a.", "", "t;", "t\n", "a.b\n"])
def test_a_table_name_must_be_an_identifier(table):
    assert error_of(with_value("source.tables", ["t", table])) == (
        f"test.yaml: source.tables: table name {table!r} is neither an identifier nor database.table"
    )


def test_a_catalog_table_is_database_dot_table_and_its_name_is_not_read_twice():
    assert parse(with_value("source.tables", ["partner.orders", "t"])).source.tables == [
        "partner.orders",
        "t",
    ]
    assert error_of(with_value("source.tables", ["partner.orders", "orders"])) == (
        "test.yaml: source.tables: two tables are read as 'orders': the SQL could not tell them apart"
    )


def test_a_source_has_tables_and_both_window_parameters():
    assert parse(with_value("source.tables", ["_t1", "T_2"])).source.tables == ["_t1", "T_2"]
    assert error_of(with_value("source.tables", [])) == (
        "test.yaml: source.tables: List should have at least 1 item after validation, not 0"
    )
    assert error_of(with_value("source.sql", "SELECT * FROM t WHERE d >= $start")) == (
        "test.yaml: source.sql: the query must filter on the window parameter $end"
    )
    assert error_of(with_value("source.sql", "SELECT * FROM t")) == (
        "test.yaml: source.sql: the query must filter on the window parameter $start"
    )


@pytest.mark.parametrize("path", ["entity", "timestamp", "outcome"])
def test_key_columns_may_have_any_name_sql_can_quote(path):
    document = minimal()
    document[path] = "odd name [1]"
    assert getattr(parse(document), path) == "odd name [1]"


@pytest.mark.parametrize("role", ["entity", "timestamp", "outcome"])
def test_a_key_column_or_the_outcome_cannot_be_a_feature(role):
    document = minimal()
    document["features"][document[role]] = {"type": "numeric"}
    assert (
        error_of(document)
        == f"test.yaml: features.{document[role]}: column {document[role]!r} is the {role}, not a feature"
    )


@pytest.mark.parametrize(
    ("first", "second"), [("entity", "timestamp"), ("entity", "outcome"), ("timestamp", "outcome")]
)
def test_entity_timestamp_and_outcome_are_three_columns(first, second):
    document = minimal()
    document[second] = document[first]
    assert error_of(document) == f"test.yaml: {second}: {document[first]!r} is already the {first}"


def test_realtime_features_must_be_features():
    document = with_value("features", {"x": {"type": "numeric"}, "z": {"type": "count"}})
    assert parse(with_value("online.realtime_features", ["z"], document)).online.realtime_features == ["z"]
    assert error_of(with_value("online.realtime_features", ["x", "w"])) == (
        "test.yaml: online.realtime_features: 'w' is not a feature"
    )


def test_segments_are_categorical_features_of_the_spec_each_once():
    document = with_value(
        "features",
        {"x": {"type": "numeric"}, "region": {"type": "categorical"}, "plan": {"type": "categorical"}},
    )
    assert parse(with_value("drift.segments", ["region", "plan"], document)).drift.segments == [
        "region",
        "plan",
    ]
    assert error_of(with_value("drift.segments", ["regoin"], document)) == (
        "test.yaml: drift.segments: 'regoin' is not a feature; did you mean 'region'?"
    )
    assert error_of(with_value("drift.segments", ["x"], document)) == (
        "test.yaml: drift.segments: 'x' is numeric; segments are categorical features"
    )
    assert error_of(with_value("drift.segments", ["plan", "plan"], document)) == (
        "test.yaml: drift.segments: a feature is listed twice"
    )


def test_unknown_fields_are_refused_at_any_depth():
    folds = error_of(with_value("split.folds", 5))
    assert folds.startswith("test.yaml: split.folds: unknown field (known: test,")
    unit = error_of(with_value("features.x.unit", "EUR"))
    assert unit.startswith("test.yaml: features.x.unit: unknown field")


def test_a_parsed_spec_cannot_be_changed():
    spec = parse(minimal())
    with pytest.raises(ValueError, match="frozen"):
        spec.name = "other"  # type: ignore[misc]
    with pytest.raises(ValueError, match="frozen"):
        spec.drift.level = 0.01  # type: ignore[misc]


def test_an_empty_document_is_named_with_the_default_source():
    with pytest.raises(SpecError) as raised:
        parse_spec("")
    assert str(raised.value) == "spec: a spec is a YAML mapping, got NoneType"


def test_entity_columns_and_feature_order_come_from_the_spec():
    spec = parse(with_value("features", {"b": {"type": "numeric"}, "a": {"type": "boolean"}}))
    assert spec.entity_columns == ["id"]
    assert spec.feature_names == ["b", "a"]


def test_require_columns_names_the_missing_column_and_the_columns_there_are():
    spec = parse(minimal())
    spec.require_columns(["id", "ts", "x"], with_outcome=False)
    spec.require_columns(["x", "y", "ts", "id", "extra"], with_outcome=True)
    with pytest.raises(SpecError) as raised:
        spec.require_columns(["id", "ts", "x"], with_outcome=True)
    assert str(raised.value) == (
        "model 'm': column 'y' named in the spec is not in the query result (columns: id, ts, x)"
    )
    with pytest.raises(SpecError, match="column 'ts' named in the spec"):
        spec.require_columns(["id", "x", "y"], with_outcome=True)


# ---------------------------------------------------------------- recipes and operations
def test_a_version_is_scored_with_its_recipe_under_the_stored_spec_s_operations():
    recipe = parse_spec(CHURN_SPEC.read_text())
    document = yaml.safe_load(CHURN_SPEC.read_text())
    document["source"]["sql"] = document["source"]["sql"].replace("monthly_charges", "2 * monthly_charges")
    document["features"]["age"]["on_invalid"] = "missing"  # what scoring does with refused values
    document["campaign"]["top_n"] = 7
    document["scoring"]["chunk_rows"] = 100
    document["skew"] = {"max_missing_increase": 0.5}
    document["window"]["lookback_periods"] = 3
    current = parse_spec(yaml.safe_dump(document))
    scored = recipe.operated_by(current)
    assert scored.source == recipe.source and scored.window == recipe.window  # the recipe
    assert scored.features["region"] == recipe.features["region"]
    assert scored.features["age"].on_invalid == "missing"  # operational, as the stored spec says
    assert (scored.campaign.top_n, scored.scoring.chunk_rows) == (7, 100)
    assert scored.skew.max_missing_increase == 0.5
    assert recipe.operated_by(recipe) == recipe


def test_reconciliation_names_a_table_of_the_source():
    document = yaml.safe_load(CHURN_SPEC.read_text())
    document["source"]["rows"] = {"table": "orders"}
    with pytest.raises(SpecError, match=r"rows\.table .orders. is not one of the tables"):
        parse_spec(yaml.safe_dump(document))
    document["source"]["rows"] = {"table": "customers", "filtered": True, "tolerance": 0.01}
    assert parse_spec(yaml.safe_dump(document)).source.reconciled_table == "customers"


@pytest.mark.parametrize("seasonality", ["auto", "none", 2, 12, 52, 366])
def test_drift_seasonality_is_auto_none_or_periods_per_year_from_two_to_366(seasonality):
    # Given explicitly, so the field's check runs (pydantic does not check defaults).
    assert parse(with_value("drift.seasonality", seasonality)).drift.seasonality == seasonality


@pytest.mark.parametrize("seasonality", [1, 367, 0, -12])
def test_another_number_of_periods_per_year_is_a_spec_error_naming_the_field(seasonality):
    assert error_of(with_value("drift.seasonality", seasonality)) == (
        "test.yaml: drift.seasonality: periods per year must be between 2 and 366 (or 'auto' / 'none')"
    )


def test_a_column_name_becomes_a_lowercase_identifier():
    from modelops.domain.spec import alias_for

    assert alias_for("TURC [mm d-1]") == "turc_mm_d_1"
    assert alias_for("Xmas sales_") == "xmas_sales"  # no leading or trailing underscore
    assert alias_for("2nd reading") == "f_2nd_reading"  # an identifier cannot start with a digit
    assert alias_for("7") == "f_7"
    assert alias_for("%") == "feature"  # nothing left of the name


def test_key_columns_need_a_name_and_the_outcome_is_required():
    assert parse(with_value("timestamp", "d")).timestamp == "d"  # one letter is a name
    assert (
        error_of(with_value("timestamp", ""))
        == "test.yaml: timestamp: String should have at least 1 character"
    )
    document = minimal()
    document.pop("outcome")
    assert error_of(document) == "test.yaml: outcome: required, and missing"
    assert error_of(with_value("entity", "")) == "test.yaml: entity: an entity column name cannot be empty"


@pytest.mark.parametrize("severity", ["low", "medium", "high"])
def test_retraining_may_start_at_any_severity(severity):
    assert parse(with_value("retrain_min_severity", severity)).retrain_min_severity == severity


def test_operations_that_do_not_fit_the_recipe_say_so_in_one_line():
    recipe = parse_spec(CHURN_SPEC.read_text())
    document = yaml.safe_load(CHURN_SPEC.read_text())
    document["features"]["score_of_the_day"] = {"type": "numeric"}
    document["online"]["realtime_features"] = ["score_of_the_day"]
    with pytest.raises(SpecError) as refused:
        recipe.operated_by(parse_spec(yaml.safe_dump(document)))
    assert str(refused.value) == (
        "model 'churn': the stored spec's operational settings do not fit the version's recipe: "
        "online.realtime_features: 'score_of_the_day' is not a feature"
    )


def test_the_model_card_is_free_text_an_optional_section_and_operational():
    empty = {"intended_use": "", "owner": "", "limitations": "", "notes": ""}
    assert parse(minimal()).card.model_dump() == empty
    recipe = parse_spec(CHURN_SPEC.read_text())
    assert recipe.card.owner.startswith("Retention analytics") and recipe.card.intended_use
    document = churn()
    document["card"] = {"owner": "Data science", "notes": "Retrained quarterly."}
    current = parse(document)
    assert recipe.operated_by(current).card == current.card  # a new owner needs no retraining
    document["card"] = {"ownr": "me"}
    with pytest.raises(SpecError, match=r"^test\.yaml: card\.ownr: unknown field; did you mean 'owner'\?$"):
        parse(document)
    document["card"] = {"owner": ["a", "b"]}
    with pytest.raises(SpecError, match=r"^test\.yaml: card\.owner: Input should be a valid string$"):
        parse(document)
