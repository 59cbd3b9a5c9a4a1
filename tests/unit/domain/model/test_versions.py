"""Model versions: semantic version numbers, and where a rollback goes."""

import pytest

from modelops.domain.model.versions import next_version, parse_version, rollback_target


@pytest.mark.parametrize(
    ("version", "parsed"), [("1.0.0", (1, 0, 0)), ("2.13.4", (2, 13, 4)), ("0.0.10", (0, 0, 10))]
)
def test_a_semantic_version_parses_to_three_numbers(version, parsed):
    assert parse_version(version) == parsed


@pytest.mark.parametrize("version", ["1.2", "1.2.3.4", "1.x.0", "v1.2.0", "1.-2.0", "", "1..0"])
def test_anything_else_is_named_in_the_error(version):
    with pytest.raises(ValueError) as raised:
        parse_version(version)
    assert str(raised.value) == f"{version!r} is not a semantic version (major.minor.patch)"


def test_the_first_model_is_1_0_0():
    assert next_version([], "schema-a") == "1.0.0"


def test_a_retrain_on_the_same_schema_is_a_minor_version_with_patch_zero():
    assert next_version([("1.0.0", "a")], "a") == "1.1.0"
    assert next_version([("3.4.7", "a")], "a") == "3.5.0"


def test_a_new_feature_schema_is_a_major_version():
    assert next_version([("1.0.0", "a")], "b") == "2.0.0"
    assert next_version([("3.4.7", "a")], "b") == "4.0.0"


def test_the_newest_version_is_found_by_number_not_by_text():
    registered = [("1.9.0", "a"), ("1.10.0", "b"), ("1.2.0", "a")]
    # As text "1.9.0" sorts last; by number 1.10.0 is the newest, and its schema is "b".
    assert next_version(registered, "b") == "1.11.0"
    assert next_version(registered, "a") == "2.0.0"


def test_a_rollback_goes_back_along_the_line_of_champions_never_forth():
    promoted = [("promotion", "1.0.0"), ("promotion", "1.3.0")]
    assert rollback_target([("promotion", "1.0.0")]) is None  # the first champion
    assert rollback_target(promoted) == "1.0.0"
    assert rollback_target([*promoted, ("rollback", "1.0.0")]) is None  # not back to 1.3.0
    three = [*promoted, ("promote", "1.4.0")]
    assert rollback_target(three) == "1.3.0"
    assert rollback_target([*three, ("rollback", "1.3.0")]) == "1.0.0"
    # an operator's promotion of an older version is undone like any other
    assert rollback_target([*promoted, ("promote", "1.0.0")]) == "1.3.0"
    # a trail that began after the first champion: a rollback names where it went
    assert rollback_target([("rollback", "0.9.0"), ("promotion", "1.0.0")]) == "0.9.0"
