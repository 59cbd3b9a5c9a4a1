import io
import math
from datetime import date

import numpy as np
import pytest

from modelops.domain import periods
from modelops.domain.data.features import (
    MAX_CATEGORIES,
    FeatureError,
    FeatureInfo,
    FeatureMatrix,
    FeatureSchema,
    as_dates,
    encode_column,
    encode_value,
    entity_ids,
    infer_schema,
    is_missing,
    period_starts,
    transform,
    value_text,
    varies_share,
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


# ---------------------------------------------------------------- booleans

FLAG = FeatureInfo("flag", "boolean")


@pytest.mark.parametrize("text", ["true", "1", "yes", "y", "t", "TRUE", " Yes ", "T"])
def test_true_in_any_spelling_is_one(text):
    assert encode_column(np.array([text], dtype=object), FLAG).tolist() == [1.0]
    assert encode_value(text, FLAG) == 1.0


@pytest.mark.parametrize("text", ["false", "0", "no", "n", "f", "FALSE", " No ", "F"])
def test_false_in_any_spelling_is_zero(text):
    assert encode_column(np.array([text], dtype=object), FLAG).tolist() == [0.0]
    assert encode_value(text, FLAG) == 0.0


def test_booleans_from_bools_numbers_and_missing_values():
    assert encode_column(np.array([True, False, True]), FLAG).tolist() == [1.0, 0.0, 1.0]
    mixed = encode_column(np.array([True, None, 0, 1, "no"], dtype=object), FLAG)
    np.testing.assert_array_equal(mixed, [1.0, np.nan, 0.0, 1.0, 0.0])
    masked = encode_column(np.ma.masked_array(["yes", "no", "yes"], mask=[0, 1, 0]), FLAG)
    np.testing.assert_array_equal(masked, [1.0, np.nan, 1.0])
    assert encode_value(True, FLAG) == 1.0 and encode_value(False, FLAG) == 0.0
    assert math.isnan(encode_value(None, FLAG))


@pytest.mark.parametrize("text", ["maybe", "2", "yess", ""])
def test_anything_else_is_not_a_boolean_and_the_error_names_the_feature(text):
    with pytest.raises(FeatureError) as raised:
        encode_column(np.array(["yes", text], dtype=object), FLAG)
    assert str(raised.value) == f"feature 'flag': {text!r} is not a boolean"
    with pytest.raises(FeatureError, match=f"feature 'flag': {text!r} is not a boolean"):
        encode_value(text, FLAG)


def test_a_boolean_feature_is_learnt_and_transformed_as_zero_one():
    spec = parse_spec(
        CHURN_SPEC.read_text().replace("features:\n", "features:\n  autopay: {type: boolean}\n")
    )
    training = columns(autopay=np.array(["yes", "no", None, "yes"], dtype=object))
    schema = infer_schema(training, spec)
    autopay = schema.features[schema.names.index("autopay")]
    assert (autopay.type, autopay.minimum, autopay.maximum) == ("boolean", 0.0, 1.0)
    assert autopay.missing_share == pytest.approx(0.25)
    assert schema.categorical_mask[schema.names.index("autopay")] is False
    matrix = transform(training, spec, schema, with_outcome=False)
    np.testing.assert_array_equal(matrix.X[:, schema.names.index("autopay")], [1.0, 0.0, np.nan, 1.0])


# ---------------------------------------------------------------- the online one-value encoder

REGION = FeatureInfo("region", "categorical", ["east", "north", "south"])
AGE = FeatureInfo("age", "numeric")


def test_a_category_is_its_index_in_the_training_categories():
    assert [encode_value(v, REGION) for v in ("east", "north", "south")] == [0.0, 1.0, 2.0]
    assert REGION.codes == {"east": 0.0, "north": 1.0, "south": 2.0}


def test_an_unseen_or_missing_category_is_nan():
    assert math.isnan(encode_value("west", REGION))
    assert math.isnan(encode_value("East", REGION))  # categories are case-sensitive
    assert math.isnan(encode_value(None, REGION))


def test_a_category_sent_as_a_number_matches_its_text():
    codes = FeatureInfo("code", "categorical", ["10", "7"])
    assert encode_value(7, codes) == 1.0
    assert encode_column(np.array([10, 7, 3]), codes)[:2].tolist() == [0.0, 1.0]


def test_numbers_and_counts_pass_as_floats():
    assert encode_value(42, AGE) == 42.0 and isinstance(encode_value(42, AGE), float)
    assert encode_value("41.5", AGE) == 41.5
    assert encode_value(3, FeatureInfo("calls", "count")) == 3.0
    assert math.isnan(encode_value(None, AGE))
    assert math.isnan(encode_value(float("nan"), AGE))


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), "inf"])
def test_an_infinite_number_is_refused_naming_the_feature(value):
    with pytest.raises(FeatureError) as raised:
        encode_value(value, AGE)
    assert str(raised.value) == "feature 'age': infinite values"


def test_the_online_encoder_agrees_with_the_batch_encoder():
    values = np.array(["north", None, "west", "south"], dtype=object)
    batch = encode_column(values, REGION)
    one_by_one = [encode_value(v, REGION) for v in values]
    np.testing.assert_array_equal(batch, one_by_one)


# ---------------------------------------------------------------- columns


def test_a_numeric_column_with_gaps_becomes_floats_with_nan():
    with_none = encode_column(np.array([1, None, 2.5], dtype=object), AGE)
    np.testing.assert_array_equal(with_none, [1.0, np.nan, 2.5])
    masked = encode_column(np.ma.masked_array([1, 2, 3], mask=[0, 1, 0]), AGE)
    np.testing.assert_array_equal(masked, [1.0, np.nan, 3.0])
    assert encode_column(np.array([1, 2], dtype=np.int32), AGE).dtype == np.float64


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (np.array(["1", "abc"], dtype=object), "feature 'age': declared numeric, but row 2 holds 'abc', not"),
        (np.array([None, {}], dtype=object), "feature 'age': declared numeric, but row 2 holds '{}', not"),
        (np.array([1.0, -np.inf]), "feature 'age': infinite values"),
    ],
)
def test_a_column_that_is_not_finite_numbers_is_refused(values, message):
    with pytest.raises(FeatureError) as raised:
        encode_column(values, AGE)
    assert str(raised.value).startswith(message)


def test_a_masked_category_is_missing():
    masked = np.ma.masked_array(np.array(["east", "south", "north"], dtype=object), mask=[0, 1, 0])
    np.testing.assert_array_equal(encode_column(masked, REGION), [0.0, np.nan, 1.0])


# ---------------------------------------------------------------- learning the schema


def test_categories_are_sorted_and_an_all_missing_column_has_none():
    training = columns(
        plan=np.array(["premium", "basic", "premium", "standard"], dtype=object),
        region=np.array([None, None, None, None], dtype=object),
    )
    by_name = {f.name: f for f in infer_schema(training, SPEC).features}
    assert by_name["plan"].categories == ["basic", "premium", "standard"]
    assert by_name["plan"].missing_share == 0.0
    assert by_name["region"].categories == [] and by_name["region"].missing_share == 1.0


def test_a_numeric_column_without_values_has_no_range():
    training = columns(age=np.ma.masked_array([1.0, 2.0, 3.0, 4.0], mask=[1, 1, 1, 1]))
    age = next(f for f in infer_schema(training, SPEC).features if f.name == "age")
    assert (age.minimum, age.maximum, age.missing_share) == (None, None, 1.0)


def test_an_empty_training_set_has_no_ranges_and_nothing_missing():
    empty = {name: values[:0] for name, values in columns().items()}
    by_name = {f.name: f for f in infer_schema(empty, SPEC).features}
    assert (by_name["age"].minimum, by_name["age"].maximum, by_name["age"].missing_share) == (None, None, 0.0)
    assert (by_name["region"].categories, by_name["region"].missing_share) == ([], 0.0)


def test_ranges_count_negative_values_and_ignore_missing_ones():
    training = columns(monthly_charges=np.array([-5.0, np.nan, 12.5, 3.0]))
    charges = next(f for f in infer_schema(training, SPEC).features if f.name == "monthly_charges")
    assert (charges.minimum, charges.maximum, charges.missing_share) == (-5.0, 12.5, 0.25)


# ---------------------------------------------------------------- transform


def test_the_outcome_may_be_bool_or_missing_but_nothing_else():
    schema = infer_schema(columns(), SPEC)
    as_bool = transform(
        columns(churned_next_month=np.array([True, False, False, True])), SPEC, schema, with_outcome=True
    )
    assert as_bool.y.tolist() == [1.0, 0.0, 0.0, 1.0]
    unknown = columns(churned_next_month=np.ma.masked_array([1, 0, 1, 0], mask=[0, 0, 1, 1]))
    y = transform(unknown, SPEC, schema, with_outcome=True).y
    # A plain float array with NaN where the outcome is unknown, not a masked one.
    assert not isinstance(y, np.ma.MaskedArray) and y.dtype == np.float64
    assert y[:2].tolist() == [1.0, 0.0] and np.isnan(y[2:]).all()
    with pytest.raises(FeatureError) as raised:
        transform(columns(churned_next_month=np.array([0, 1, 0.5, -1])), SPEC, schema, with_outcome=True)
    assert str(raised.value) == "outcome 'churned_next_month': values must be 0/1, got 0.5"


def test_entities_become_text_and_timestamps_days():
    schema = infer_schema(columns(), SPEC)
    later = columns(
        customer_id=np.array([101, 102, 103, 104]),
        snapshot_month=np.ma.masked_array(
            np.array(["2025-03-01T10:00"] * 4, dtype="datetime64[m]"), mask=[0] * 4
        ),
    )
    matrix = transform(later, SPEC, schema, with_outcome=False)
    assert matrix.entity.tolist() == ["101", "102", "103", "104"]
    assert matrix.timestamp.tolist() == [np.datetime64("2025-03-01", "D").item()] * 4
    assert matrix.feature_names == schema.names
    assert matrix.X.shape == (4, 9)
    np.testing.assert_array_equal(matrix.X[:, schema.names.index("tenure_months")], [1.0, 2.0, 3.0, 4.0])


# ---------------------------------------------------------------- matrices in chunks


def matrix_of(rows: int, *, with_y: bool = True) -> FeatureMatrix:
    return FeatureMatrix(
        entity=np.array([f"e{i}" for i in range(rows)], dtype=str),
        timestamp=np.full(rows, np.datetime64("2025-01-01", "D")),
        X=np.arange(rows * 2, dtype=np.float64).reshape(rows, 2),
        y=(np.arange(rows) % 2).astype(np.float64) if with_y else None,
        feature_names=["a", "b"],
    )


def test_chunks_are_consecutive_slices_of_at_most_the_given_rows():
    chunks = matrix_of(5).chunks(2)
    assert [c.rows for c in chunks] == [2, 2, 1]
    assert [c.entity.tolist() for c in chunks] == [["e0", "e1"], ["e2", "e3"], ["e4"]]
    assert chunks[2].X.tolist() == [[8.0, 9.0]] and chunks[2].y.tolist() == [0.0]
    assert all(c.feature_names == ["a", "b"] for c in chunks)
    assert [c.rows for c in matrix_of(4).chunks(2)] == [2, 2]
    assert [c.rows for c in matrix_of(4).chunks(4)] == [4]
    assert [c.rows for c in matrix_of(4).chunks(10)] == [4]
    assert [c.rows for c in matrix_of(3).chunks(1)] == [1, 1, 1]


def test_an_empty_matrix_is_one_empty_chunk():
    for size in (1, 3):
        chunks = matrix_of(0).chunks(size)
        assert len(chunks) == 1 and chunks[0].rows == 0 and chunks[0].X.shape == (0, 2)
    assert [c.rows for c in matrix_of(1).chunks(1)] == [1]


def test_concat_undoes_chunks():
    original = matrix_of(7)
    whole = FeatureMatrix.concat(original.chunks(3))
    for name in ("entity", "timestamp", "X", "y"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(original, name))
    assert whole.feature_names == ["a", "b"]
    unlabelled = FeatureMatrix.concat(matrix_of(4, with_y=False).chunks(3))
    assert unlabelled.rows == 4 and unlabelled.y is None
    single = FeatureMatrix.concat([original])
    assert single.rows == 7 and single.feature_names == ["a", "b"]


def test_concat_of_labelled_and_unlabelled_parts_has_no_outcome():
    parts = [matrix_of(2), matrix_of(2, with_y=False)]
    assert FeatureMatrix.concat(parts).y is None
    assert FeatureMatrix.concat(parts[::-1]).y is None


def test_a_matrix_without_outcome_round_trips_without_one():
    back = FeatureMatrix.from_bytes(matrix_of(3, with_y=False).to_bytes())
    assert back.y is None and back.feature_names == ["a", "b"] and back.rows == 3
    np.testing.assert_array_equal(back.timestamp, matrix_of(3).timestamp)


def test_a_tampered_matrix_with_python_objects_is_refused_not_unpickled():
    buffer = io.BytesIO()
    np.savez(buffer, entity=np.array([object()], dtype=object), timestamp=np.zeros(1), X=np.zeros((1, 1)))
    with pytest.raises(ValueError, match="allow_pickle=False"):
        FeatureMatrix.from_bytes(buffer.getvalue())


def test_the_schema_cannot_be_changed_once_learnt():
    schema = infer_schema(columns(), SPEC)
    with pytest.raises(AttributeError):
        schema.features[0].categories = ["other"]  # type: ignore[misc]
    with pytest.raises(AttributeError):
        schema.features = []  # type: ignore[misc]


def test_a_feature_described_by_name_and_type_only_has_no_categories_range_or_missing_values():
    # What the online check reads: missing_share 0 means the model never saw the feature missing.
    assert FeatureInfo("x", "numeric") == FeatureInfo("x", "numeric", [], None, None, 0.0)
    numeric = next(
        f for f in infer_schema(columns(), SPEC).to_dict()["features"] if f["name"] == "tenure_months"
    )
    assert numeric == {
        "name": "tenure_months",
        "type": "count",
        "categories": [],
        "minimum": 1.0,
        "maximum": 4.0,
        "missing_share": 0.0,
        "varies_share": 1.0,
    }


def test_training_records_in_how_many_periods_a_feature_varies():
    # January: regions north and south; February: south only (the other row is missing)
    by_name = {f.name: f for f in infer_schema(columns(), SPEC).features}
    assert (by_name["region"].varies_share, by_name["tenure_months"].varies_share) == (0.5, 1.0)
    assert by_name["late_payments"].varies_share == 0.5  # 0, 0 | 1, 0
    same = columns(monthly_charges=np.array([5.0, 5.0, 7.0, 7.0]))  # constant within each month
    charges = next(f for f in infer_schema(same, SPEC).features if f.name == "monthly_charges")
    assert charges.varies_share == 0.0
    assert varies_share(np.array([]), np.array([], dtype="datetime64[D]")) is None
    assert varies_share(np.array([np.nan, 1.0]), np.array(["2025-01-01"] * 2, dtype="datetime64[D]")) == 0.0


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


@pytest.mark.parametrize(
    ("values", "missing"),
    [
        (np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0]), [False, True, False]),
        (np.array(["a", None, float("nan"), 0.0, ""], dtype=object), [False, True, True, False, False]),
        (np.array([1.0, np.nan, np.inf]), [False, True, False]),
        (np.array([0, -1, 7]), [False, False, False]),  # an integer column has no missing values
        (np.array(["", "x"]), [False, False]),  # nor a text one: an empty string is a value
    ],
)
def test_missing_values_are_found_in_every_kind_of_column(values, missing):
    found = is_missing(values)
    assert found.dtype == bool and found.tolist() == missing
    if isinstance(values, np.ma.MaskedArray):
        found[:] = True
        assert np.ma.getmaskarray(values).tolist() == missing  # a copy: the column keeps its mask


@pytest.mark.parametrize("period", ["day", "week", "month", "quarter"])
def test_period_starts_agree_with_the_scalar_period_start(period):
    days = np.arange("2023-12-20", "2025-03-10", dtype="datetime64[D]")  # years, leap day, weekdays
    expected = [periods.period_start(day, period) for day in days.tolist()]
    assert period_starts(days, period).tolist() == expected
    stamps = days.astype("datetime64[s]") + np.timedelta64(23 * 3600 + 59, "s")  # late in the day
    assert period_starts(stamps, period).tolist() == expected


def test_a_timestamp_column_becomes_days_and_a_missing_one_is_named():
    stamps = np.array(["2024-02-29T23:59:59", "2024-03-01T00:00:00"], dtype="datetime64[s]")
    assert as_dates(stamps, "at").tolist() == [date(2024, 2, 29), date(2024, 3, 1)]
    with pytest.raises(FeatureError, match="timestamp 'at': row 2 has no value"):
        as_dates(np.array(["2024-02-29", "NaT"], dtype="datetime64[D]"), "at")
    with pytest.raises(FeatureError, match="timestamp 'at': row 3 has no value"):
        as_dates(np.ma.masked_array(["2024-01-01", "2024-01-02", "2024-01-03"], mask=[0, 0, 1]), "at")
    assert as_dates(np.array([" 2024-01-05 "], dtype=object), "at").tolist() == [date(2024, 1, 5)]


def test_missing_numbers_and_categories_are_encoded_as_nan_from_every_kind_of_column():
    number = FeatureInfo("n", "numeric")
    masked = np.ma.masked_array([1, 2, 3], mask=[0, 1, 0])
    for column in (masked, np.array([1, None, 3], dtype=object), np.array([1.0, np.nan, 3.0])):
        encoded = encode_column(column, number)
        assert encoded.dtype == np.float64 and encoded[[0, 2]].tolist() == [1.0, 3.0] and np.isnan(encoded[1])
    category = FeatureInfo("c", "categorical", ["a", "b"])
    masked_text = np.ma.masked_array(np.array(["b", "a", "a"], dtype=object), mask=[0, 1, 0])
    for column in (masked_text, np.array(["b", None, "a"], dtype=object)):
        encoded = encode_column(column, category)
        assert encoded[[0, 2]].tolist() == [1.0, 0.0] and np.isnan(encoded[1])
    assert encode_column(np.array([2, 1]), FeatureInfo("c", "categorical", ["1", "2"])).tolist() == [1.0, 0.0]


def test_a_date_outcome_is_refused_as_not_zero_one_not_with_a_traceback():
    # A DATE column comes out of the lake as datetime64[D]: NumPy casts it to day counts, which
    # the 0/1 check names (read element by element it would raise a raw TypeError instead).
    schema = infer_schema(columns(), SPEC)
    dates = np.array(["2025-01-01"] * 4, dtype="datetime64[D]")
    with pytest.raises(FeatureError) as raised:
        transform(columns(churned_next_month=dates), SPEC, schema, with_outcome=True)
    assert str(raised.value) == "outcome 'churned_next_month': values must be 0/1, got 20089.0"
