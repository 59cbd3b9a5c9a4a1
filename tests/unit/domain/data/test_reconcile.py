"""The reconciliation of an extract against its source, period by period (pure)."""

from datetime import date

import pytest

from modelops.domain.data.reconcile import reconcile

SEP, OCT, NOV = date(2013, 9, 1), date(2013, 10, 1), date(2013, 11, 1)


def check(source, extracted, periods=(SEP,), tolerance=0.001, filtered=False):
    return reconcile("flights", source, extracted, list(periods), tolerance=tolerance, filtered=filtered)


def test_a_complete_extract_says_nothing():
    done = check({SEP: 27_529, OCT: 28_889}, {SEP: 27_529, OCT: 28_889}, (SEP, OCT))
    assert done.warnings == [] and done.error is None
    assert (done.source_rows, done.extracted_rows) == (56_418, 56_418)


def test_the_flights_case_names_the_period_both_counts_and_the_edge():
    done = check({SEP: 27_529}, {SEP: 26_589})
    [warning] = done.warnings
    assert warning.startswith(
        "2013-09-01: the query returned 26,589 of the 27,529 rows table 'flights' holds"
    )
    assert "940 missing, 3.4%" in warning and "$end" in warning
    assert done.error is not None and "short by 940" in done.error and "3.41% > tolerance 0.10%" in done.error


def test_a_shortfall_within_the_tolerance_warns_but_does_not_fail():
    done = check({SEP: 100_000}, {SEP: 99_950})
    assert len(done.warnings) == 1 and done.error is None
    assert check({SEP: 100_000}, {SEP: 99_899}).error is not None  # 0.101 % > 0.1 %


def test_every_period_short_points_at_a_filter_and_a_declared_filter_is_not_loss():
    source, extracted = {SEP: 100, OCT: 120}, {SEP: 80, OCT: 96}
    done = check(source, extracted, (SEP, OCT))
    assert len(done.warnings) == 2 and "every period lost rows" in done.warnings[0]
    declared = check(source, extracted, (SEP, OCT), filtered=True)
    assert declared.warnings == [] and declared.error is None
    assert [c.missing for c in declared.counts] == [20, 24]  # still counted


def test_rows_that_move_between_periods_and_extra_rows_are_named():
    done = check({SEP: 100, OCT: 100, NOV: 100}, {SEP: 100, OCT: 95, NOV: 105}, (SEP, OCT, NOV))
    assert "moved into a neighbouring period" in done.warnings[0]
    assert "more rows than the table holds" in done.warnings[1]
    # extra rows are never a declared filter's doing
    assert check({SEP: 100}, {SEP: 130}, filtered=True).error is not None


def test_a_period_the_source_lacks_entirely():
    done = check({}, {SEP: 5})
    assert done.counts[0].share == -1.0 and done.error is not None
    assert check({}, {}).warnings == []


@pytest.mark.parametrize("tolerance", [0.0, 0.5])
def test_the_tolerance_is_the_spec_s(tolerance):
    done = check({SEP: 10}, {SEP: 9}, tolerance=tolerance)
    assert (done.error is None) == (tolerance == 0.5)


AUG, DEC = date(2013, 8, 1), date(2013, 12, 1)


def causes(source, extracted, periods, **options):
    """The likely cause each warning names, by period."""
    done = check(source, extracted, periods, **options)
    return {w.split(":", 1)[0]: w.split("likely cause: ", 1)[1] for w in done.warnings}


MOVED = (
    "rows moved into a neighbouring period: the SQL's timestamp is not the table's date "
    "(a time zone, or a date computed another way)"
)
EXTRA = "the SQL returns more rows than the table holds: a join that repeats rows?"
EVERY = (
    "every period lost rows: a filter beyond the window or an inner join (if on purpose, "
    "declare source.rows.filtered: true)"
)
EDGE = (
    "rows at the window's edge: compare the time column with $start and $end (bound as "
    "timestamps) or $end_exclusive, not with dates of your own"
)
SOME = "a filter or join that drops some rows of this period"


def test_each_likely_cause_in_full():
    assert causes({SEP: 100, OCT: 100}, {SEP: 105, OCT: 95}, (SEP, OCT)) == {
        "2013-09-01": EXTRA,
        "2013-10-01": MOVED,  # the rows went back a period
    }
    assert causes({SEP: 100, OCT: 100}, {SEP: 90, OCT: 90}, (SEP, OCT)) == {
        "2013-09-01": EVERY,
        "2013-10-01": EVERY,
    }
    three = (SEP, OCT, NOV)
    full = {SEP: 100, OCT: 100, NOV: 100}
    assert causes(full, {SEP: 90, OCT: 100, NOV: 100}, three) == {"2013-09-01": EDGE}
    assert causes(full, {SEP: 100, OCT: 100, NOV: 90}, three) == {"2013-11-01": EDGE}
    assert causes(full, {SEP: 100, OCT: 90, NOV: 100}, three) == {"2013-10-01": SOME}
    # A single row across midnight is a move too.
    assert causes(full, {SEP: 100, OCT: 99, NOV: 101}, three)["2013-10-01"] == MOVED


def test_only_the_periods_next_to_a_short_one_count_as_where_its_rows_went():
    five = (AUG, SEP, OCT, NOV, DEC)
    source = dict.fromkeys(five, 100)
    # OCT is short and the extra rows are two periods away, in either direction: not a move.
    assert causes(source, {**source, OCT: 90, AUG: 110}, five)["2013-10-01"] == SOME
    assert causes(source, {**source, OCT: 90, DEC: 110}, five)["2013-10-01"] == SOME
    # The first period's only neighbour is the next one.
    assert causes(source, {**source, AUG: 90, SEP: 110}, five)["2013-08-01"] == MOVED
    assert causes(source, {**source, AUG: 90, OCT: 110}, five)["2013-08-01"] == EDGE


def test_the_warning_names_the_column_and_what_is_off():
    done = reconcile(
        "flights", {SEP: 100, OCT: 100}, {SEP: 99, OCT: 101}, [SEP, OCT],
        tolerance=0.5, filtered=False, column="time_hour",
    )  # fmt: skip
    assert done.warnings[0] == (
        "2013-09-01: the query returned 99 of the 100 rows table 'flights' holds (1 missing, 1.0%); "
        "likely cause: rows moved into a neighbouring period: the SQL's time_hour is not the table's date "
        "(a time zone, or a date computed another way)"
    )
    assert "(1 extra, 1.0%)" in done.warnings[1]
    assert check({SEP: 10}, {SEP: 9}, filtered=True).warnings == []  # one row short, declared


def test_the_error_names_the_worst_period_and_at_most_three_warnings():
    periods = (AUG, SEP, OCT, NOV)
    source = dict.fromkeys(periods, 100)
    done = check(source, {AUG: 99, SEP: 90, OCT: 90, NOV: 98}, periods, tolerance=0.05)
    assert done.error == (
        "the extract of 2013-09-01 is short by 10 of table 'flights''s 100 rows (10.00% > tolerance 5.00%); "
        "4 periods off in all: " + "; ".join(done.warnings[:3]) + " …"
    )  # SEP and OCT are equally short: the first is named
    three = check(source, {AUG: 99, SEP: 90, OCT: 100, NOV: 98}, periods, tolerance=0.05)
    assert three.error is not None and three.error.endswith(
        "3 periods off in all: " + "; ".join(three.warnings)
    )
    one = check({SEP: 10}, {SEP: 9}, tolerance=0.0)
    assert one.error is not None and one.error.startswith("the extract of 2013-09-01 is short by 1 of")
    assert "; 1 period off in all: 2013-09-01: " in one.error
    over = check({SEP: 100}, {SEP: 120})
    assert over.error is not None and over.error.startswith("the extract of 2013-09-01 is over by 20 of")


def test_a_shortfall_of_exactly_the_tolerance_passes():
    assert check({SEP: 100}, {SEP: 90}, tolerance=0.1).error is None
    assert check({SEP: 100}, {SEP: 89}, tolerance=0.1).error is not None


def test_counts_and_results_are_values():
    from modelops.domain.data.reconcile import PeriodCount, Reconciliation

    empty = PeriodCount(SEP, 0, 0)
    assert (empty.missing, empty.share) == (0, 0.0)  # a period neither side has: nothing missing
    result = Reconciliation("flights", [empty])
    assert (result.warnings, result.error) == ([], None)
    with pytest.raises(AttributeError):
        empty.source = 5  # type: ignore[misc]
    with pytest.raises(AttributeError):
        result.error = "x"  # type: ignore[misc]
