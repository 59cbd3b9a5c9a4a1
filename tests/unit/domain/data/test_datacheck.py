"""What data says about itself: the type a text column loads as (a stray 'n/a' in numbers is
refused, naming it), and every way a query result does not fit a spec, with the fix."""

import pytest

from modelops.domain.data.datacheck import ColumnError, ColumnProfile, Example, check_spec, column_type
from modelops.domain.data.features import MAX_CATEGORIES
from modelops.domain.spec import parse_spec

SPEC = parse_spec(
    """
name: rivers
source: {tables: [t], sql: "SELECT * FROM t WHERE day BETWEEN $start AND $end"}
timestamp: day
outcome: high
features:
  rain: {column: "rain [mm]", type: numeric}
  storms: {type: count}
  season: {type: categorical}
  frozen: {type: boolean}
estimator: {kind: logistic_regression}
"""
)


def text(name="c", rows=100, missing=0, **counts):
    return ColumnProfile(name=name, type="VARCHAR", rows=rows, missing=missing, **counts)


def number(name, rows=100, *, distinct=50, integers=100, negatives=0, kind="BIGINT"):
    return ColumnProfile(
        name, kind, rows, 0, distinct=distinct, integers=integers, numbers=rows, negatives=negatives
    )


@pytest.mark.parametrize(
    ("profile", "loaded_as"),
    [
        (text(integers=100, numbers=100), "BIGINT"),
        (text(integers=60, numbers=100), "DOUBLE"),
        (text(rows=100, missing=40, integers=60, numbers=60), "BIGINT"),  # missing values do not count
        (text(booleans=100), "BOOLEAN"),
        (text(dates=100), "DATE"),
        (text(dates=30, timestamps=70), "TIMESTAMP"),
        (text(rows=10, missing=10), "VARCHAR"),
        (text(numbers=20, non_numbers=8), "VARCHAR"),  # a text column that has some numbers
        (text(numbers=60, non_numbers=40), "VARCHAR"),  # many different words: text
        (text(integers=60, numbers=60, non_numbers=40, padded=40), "VARCHAR"),  # '007': codes
    ],
)
def test_a_text_column_loads_as_the_narrowest_type_that_fits_every_value(profile, loaded_as):
    assert column_type(profile) == loaded_as


def test_numbers_with_a_stray_marker_are_refused_naming_line_and_value():
    profile = text(
        name="rainfall[mm]", rows=1827, integers=0, numbers=1826, non_numbers=1,
        first_non_number=Example("line 12", "n/a"),
    )  # fmt: skip
    with pytest.raises(ColumnError) as refused:
        column_type(profile)
    assert str(refused.value) == (
        "column 'rainfall[mm]': 1,826 of 1,827 values are numbers, but line 12 holds 'n/a': pass "
        "--na-values 'n/a' if it marks a missing value, or --types 'rainfall[mm]=text' to load the "
        "column as text"
    )
    small = text(name="rain", rows=3, numbers=2, non_numbers=1, first_non_number=Example("line 4", "n/a"))
    with pytest.raises(ColumnError, match="2 of 3 values are numbers"):  # one bad value in a small file
        column_type(small)
    dates = text(name="d", rows=50, dates=49, non_dates=1, first_non_date=Example("line 9", "unknown"))
    with pytest.raises(ColumnError, match="49 of 50 values are dates, but line 9 holds 'unknown'"):
        column_type(dates)


def profiles(**changes):
    base = {
        "day": ColumnProfile("day", "DATE", 100, 0, distinct=100, dates=100),
        "rain [mm]": number("rain [mm]", kind="DOUBLE", integers=10),
        "storms": number("storms", distinct=5),
        "season": ColumnProfile("season", "VARCHAR", 100, 0, distinct=4, examples=["winter", "spring"]),
        "frozen": ColumnProfile("frozen", "BOOLEAN", 100, 0, distinct=2, booleans=100),
        "high": number("high", distinct=2),
    }
    base.update(changes)
    return {name: profile for name, profile in base.items() if profile is not None}


def test_a_fitting_result_has_no_findings():
    assert check_spec(SPEC, profiles()) == []
    zero_one = profiles(frozen=number("frozen", distinct=2))  # 0/1 is a boolean too
    assert check_spec(SPEC, zero_one) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"season": number("season", kind="DOUBLE", distinct=900, integers=0)},
            f"features.season: declared categorical, but the column has 900 distinct values (at most "
            f"{MAX_CATEGORIES}): declare it numeric",
        ),
        (
            {
                "storms": ColumnProfile(
                    "storms", "VARCHAR", 100, 0, distinct=3, examples=["none", "some", "many"]
                )
            },
            "features.storms: declared count, but the column holds text ('none', 'some', 'many'): declare it "
            "categorical",
        ),
        (
            {
                "storms": ColumnProfile(
                    "storms",
                    "VARCHAR",
                    100,
                    0,
                    numbers=99,
                    non_numbers=1,
                    first_non_number=Example("row 7 of the result", "n/a"),
                )
            },
            "features.storms: declared count: the column holds numbers, but row 7 of the result holds 'n/a' "
            "(load the data with --na-values 'n/a' if it marks a missing value)",
        ),
        (
            {"storms": number("storms", kind="DOUBLE", integers=80)},
            "features.storms: declared count, but the column holds fractions: declare it numeric",
        ),
        (
            {"storms": number("storms", negatives=3)},
            "features.storms: declared count, but the column holds negative values",
        ),
        (
            {"frozen": ColumnProfile("frozen", "VARCHAR", 100, 0, distinct=3, examples=["ice", "slush"])},
            "features.frozen: declared boolean, but the column holds 'ice', 'slush': declare it categorical",
        ),
        (
            {"rain [mm]": None, "rain_mm": number("rain_mm")},
            "features.rain: no column 'rain [mm]' in the query result; the column 'rain_mm' looks like it: "
            "read it with `column: 'rain_mm'`",
        ),
        (
            {"storms": None},
            "features.storms: no column 'storms' in the query result "
            "(columns: day, rain [mm], season, frozen, high)",
        ),
        (
            {"day": ColumnProfile("day", "BIGINT", 100, 0, distinct=5, examples=["1991"])},
            "timestamp: column 'day' is BIGINT, not a DATE or TIMESTAMP ('1991'): "
            "load the file with --date-column",
        ),
        ({"high": number("high", distinct=3)}, "outcome: column 'high' must hold 0/1 or true/false"),
        ({"high": number("high", distinct=1)}, "outcome: column 'high' holds a single class"),
        (
            {"high": None, "High": number("High", distinct=2)},
            "outcome: no column 'high' in the query result; did you mean 'High'?",
        ),
    ],
)
def test_each_mismatch_says_what_to_declare_instead(changes, expected):
    findings = check_spec(SPEC, profiles(**changes))
    assert next(str(f) for f in findings if f.level == "error").startswith(expected)


def test_a_measurement_declared_categorical_is_a_warning_and_no_rows_an_error():
    [warning] = check_spec(SPEC, profiles(season=number("season", kind="DOUBLE", distinct=40)))
    assert warning.level == "warning" and "declare it numeric unless they are codes" in warning.message
    empty = {name: ColumnProfile(name, p.type, 0, 0) for name, p in profiles().items()}
    assert [str(f) for f in check_spec(SPEC, empty)] == ["source.sql: the query returned no rows"]
