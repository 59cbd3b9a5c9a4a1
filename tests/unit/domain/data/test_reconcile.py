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
