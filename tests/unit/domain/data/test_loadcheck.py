"""A load's problems and their fixes, without a file."""

from modelops.domain.data.loadcheck import (
    Fix,
    Flags,
    Problem,
    date_format_advice,
    fix_flags,
    header_problems,
    render,
    report,
)


def test_duplicate_and_case_colliding_names_are_named():
    assert [p.message for p in header_problems(["a", "b", "a", "B", "c"])] == [
        "column 'a' appears twice (columns 1 and 3): rename one",
        "columns 'b' and 'B' differ only in case (columns 2 and 4; Athena and Glue do not tell them apart): "
        "rename one",
    ]
    assert header_problems(["__row", "x", "X_"]) == []


def test_date_format_advice_names_one_or_the_ambiguity_or_none():
    assert date_format_advice(["%Y"]) == "--date-format %Y reads every value"
    assert date_format_advice(["%d/%m/%Y", "%m/%d/%Y"]) == (
        "--date-format %d/%m/%Y reads every value (so does %m/%d/%Y: check which one the file means)"
    )
    assert date_format_advice([]).startswith("give its format with --date-format")


def test_fixes_merge_into_one_set_of_flags():
    given = Flags(na_values=("?",), types={"a": "text"}, skip_rows=1)
    problems = [
        Problem("p1", Fix(na_values=("?", "x"))),
        Problem("p2", Fix(date_column="Date", date_format="%d.%m.%Y")),
        Problem("p3"),
        Problem("p4", Fix(na_values=("y",), types=(("b", "integer"),))),
    ]
    fixed = fix_flags(given, problems)
    assert render(fixed) == [
        "--date-column", "Date", "--date-format", "%d.%m.%Y", "--na-values", "?,x,y",
        "--types", "a=text", "--types", "b=integer", "--skip-rows", "1",
    ]  # fmt: skip
    assert report("f.csv", problems, fixed, ["modelops", "data", "load"]).splitlines() == [
        "f.csv: 4 problems",
        "  p1",
        "  p2",
        "  p3",
        "  p4",
        "fix the 3 that flags can fix: modelops data load --date-column Date "
        "--date-format %d.%m.%Y --na-values '?,x,y' --types a=text --types b=integer --skip-rows 1",
    ]
    assert report("f.csv", problems[:1], fixed, []) == "p1"
