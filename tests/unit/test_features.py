from datetime import date

import numpy as np
import pytest

from modelops.domain.features import (
    MAX_CATEGORIES,
    FeatureError,
    FeatureMatrix,
    FeatureSchema,
    as_dates,
    entity_ids,
    infer_schema,
    transform,
    value_text,
)
from modelops.domain.spec import parse_spec
from tests.helpers import CHURN_SPEC

SPEC = parse_spec(CHURN_SPEC.read_text())


def columns(**overrides):
    base = {
        "customer_id": np.array(["1", "2", "3", "4"]),
        "snapshot_month": np.array(["2025-01-01"] * 2 + ["2025-02-01"] * 2, dtype="datetime64[us]"),
        "tenure_months": np.array([1, 2, 3, 4]),
        "age": np.ma.masked_array([30.0, 40.0, 50.0, 0.0], mask=[0, 0, 0, 1]),
        "region": np.array(["north", "south", None, "south"], dtype=object),
        "plan": np.array(["basic", "premium", "basic", "standard"], dtype=object),
        "contract": np.array(["monthly", "annual", "monthly", "monthly"], dtype=object),
        "monthly_charges": np.array([30.5, 90.0, 31.0, 55.0]),
        "data_usage_gb": np.array([1.0, np.nan, 3.0, 4.0]),
        "support_calls": np.array([0, 1, 2, 0]),
        "late_payments": np.array([0, 0, 1, 0]),
        "churned_next_month": np.array([0, 1, 0, 0]),
    }
    base.update(overrides)
    return base


def test_training_learns_categories_ranges_and_missing_shares():
    schema = infer_schema(columns(), SPEC)
    by_name = {f.name: f for f in schema.features}
    assert by_name["region"].categories == ["north", "south"]
    assert by_name["region"].missing_share == pytest.approx(0.25)
    assert (by_name["monthly_charges"].minimum, by_name["monthly_charges"].maximum) == (30.5, 90.0)
    assert by_name["age"].missing_share == pytest.approx(0.25)
    assert schema.categorical_mask == [False, False, True, True, True, False, False, False, False]


def test_transform_encodes_categories_as_training_codes_and_missing_as_nan():
    schema = infer_schema(columns(), SPEC)
    later = columns(region=np.array(["east", "south", "north", None], dtype=object))
    matrix = transform(later, SPEC, schema, with_outcome=False)
    region = matrix.X[:, schema.names.index("region")]
    assert np.isnan(region[0]) and np.isnan(region[3])  # unseen and missing
    assert region[1:3].tolist() == [1.0, 0.0]
    assert np.isnan(matrix.X[3, schema.names.index("age")])
    assert matrix.y is None
    assert matrix.timestamp.dtype == np.dtype("datetime64[D]")


def test_outcome_must_be_binary_and_numbers_finite():
    schema = infer_schema(columns(), SPEC)
    with pytest.raises(FeatureError, match="outcome 'churned_next_month': values must be 0/1"):
        transform(columns(churned_next_month=np.array([0, 2, 0, 1])), SPEC, schema, with_outcome=True)
    with pytest.raises(FeatureError, match="feature 'monthly_charges': infinite values"):
        transform(columns(monthly_charges=np.array([1.0, np.inf, 2, 3])), SPEC, schema, with_outcome=True)


def test_schema_and_matrix_round_trip():
    schema = infer_schema(columns(), SPEC)
    assert FeatureSchema.from_dict(schema.to_dict()) == schema
    matrix = transform(columns(), SPEC, schema, with_outcome=True)
    back = FeatureMatrix.from_bytes(matrix.to_bytes())
    np.testing.assert_array_equal(back.X, matrix.X)
    np.testing.assert_array_equal(back.y, matrix.y)
    np.testing.assert_array_equal(back.entity, matrix.entity)
    assert back.feature_names == matrix.feature_names


# ---------------------------------------------------------------- entities and periods
DAILY = parse_spec(
    """
name: daily
source: {tables: [t], sql: "SELECT * FROM t WHERE day BETWEEN $start AND $end"}
timestamp: day
period: month
outcome: wet
features:
  dew_point: {column: "dew point", type: numeric}
  kind: {type: categorical}
estimator: {kind: logistic_regression}
"""
)


def daily_columns(**overrides):
    base = {
        "day": np.array(["1991-03-04", "1991-03-31", "1991-04-01"], dtype="datetime64[D]"),
        "dew point": np.array([1.5, 2.5, 3.5]),
        "kind": np.array(["a", "b", "a"], dtype=object),
        "wet": np.array([0, 1, 1]),
    }
    base.update(overrides)
    return base


def test_without_an_entity_the_day_is_the_key_and_the_month_the_period():
    schema = infer_schema(daily_columns(), DAILY)
    matrix = transform(daily_columns(), DAILY, schema, with_outcome=True)
    assert matrix.entity.tolist() == ["1991-03-04", "1991-03-31", "1991-04-01"]  # as loaded
    assert matrix.timestamp.tolist() == [date(1991, 3, 1), date(1991, 3, 1), date(1991, 4, 1)]
    assert matrix.X[:, 0].tolist() == [1.5, 2.5, 3.5]  # read from the column 'dew point'


@pytest.mark.parametrize(
    ("values", "text"),
    [
        (np.array(["1991-03-04"], dtype="datetime64[D]"), ["1991-03-04"]),  # a DATE, never 00:00:00
        (np.array(["1991-03-04T10:30:05"], dtype="datetime64[us]"), ["1991-03-04 10:30:05"]),
        (np.array([1757, 12], dtype=np.int32), ["1757", "12"]),
        (np.array([1757.0, 2.5]), ["1757", "2.5"]),
        (np.array(["a b", "c/d"], dtype=object), ["a b", "c/d"]),
        (np.array([True, False]), ["true", "false"]),
        (np.ma.masked_array([1, 2], mask=[0, 1]), ["1", None]),
    ],
)
def test_values_print_as_they_were_loaded(values, text):
    assert value_text(values) == text


def test_a_composite_key_joins_its_parts_and_a_missing_part_is_refused():
    spec = DAILY.model_copy(update={"entity": ["store", "sku"]})
    columns = {
        "store": np.array([12, 7]),
        "sku": np.array(["A-1", "B 2"], dtype=object),
        "day": daily_columns()["day"][:2],
    }
    assert entity_ids(columns, spec).tolist() == ["12|A-1", "7|B 2"]
    columns["sku"] = np.array(["A-1", None], dtype=object)
    with pytest.raises(FeatureError, match="entity column 'sku': row 2 has no value"):
        entity_ids(columns, spec)


def test_a_timestamp_that_is_no_date_is_named_with_its_row():
    with pytest.raises(FeatureError, match="timestamp 'day': row 2 holds 'soon', not a date"):
        as_dates(np.array(["1991-03-04", "soon"], dtype=object), "day")
    with pytest.raises(FeatureError, match="timestamp 'day': row 1 has no value"):
        as_dates(np.array([None, "1991-03-04"], dtype=object), "day")
    assert as_dates(np.array(["1991-03-04 10:00:00"], dtype=object), "day").tolist() == [date(1991, 3, 4)]


def test_a_numeric_feature_with_text_names_the_row_and_what_to_declare():
    with pytest.raises(FeatureError) as raised:
        infer_schema(daily_columns(**{"dew point": np.array(["1.5", "n/a", "3"], dtype=object)}), DAILY)
    assert str(raised.value) == (
        "feature 'dew_point': declared numeric, but row 2 holds 'n/a', not a number; declare it "
        "categorical if it is a category (or load the data with --na-values 'n/a' if that marks a "
        "missing value)"
    )


def test_too_many_categories_are_refused_before_training_naming_the_feature():
    many = np.array([f"c{i}" for i in range(MAX_CATEGORIES + 1)], dtype=object)
    columns = {
        "day": np.full(many.size, "2020-01-01", dtype="datetime64[D]"),
        "dew point": np.zeros(many.size),
        "kind": many,
        "wet": np.zeros(many.size),
    }
    with pytest.raises(
        FeatureError, match=f"feature 'kind': declared categorical, but it has {MAX_CATEGORIES + 1}"
    ):
        infer_schema(columns, DAILY)
