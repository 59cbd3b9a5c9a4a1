import numpy as np
import pytest

from modelops.domain.features import FeatureError, FeatureMatrix, FeatureSchema, infer_schema, transform
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
