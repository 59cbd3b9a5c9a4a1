"""The drift tests against known answers (scipy as the reference, hand-computed bands and
calibrations), the seasonal reference and their edge cases. (The seeded statistical check of
false alarms and power uses the tools' simulation: tests/dev/tools/test_drift_quality.py.)"""

from datetime import date

import numpy as np
import pytest
from scipy import stats

from modelops.domain.monitoring import evaluation, reference, statistics
from modelops.domain.monitoring.profiles import bounded_sample, categorical_profile, numeric_profile
from modelops.domain.monitoring.reference import Observation
from modelops.domain.spec import Drift

SETTINGS = Drift()


def months(count: int, start: int = 2020) -> list[date]:
    return [date(start + i // 12, i % 12 + 1, 1) for i in range(count)]


def evaluate(
    periods: list[Observation],
    settings: Drift = SETTINGS,
    metric: str = "x",
    reference_end: date | None = None,
) -> list[evaluation.Finding]:
    return evaluation.decide(
        evaluation.evaluate_metric(metric, periods[-1], periods[:-1], settings, reference_end), settings
    )


# ------------------------------------------------------------------ the tests, against references


def test_trend_matches_linregress():
    values = np.array([1.0, 1.2, 0.9, 1.5, 1.7, 1.6, 2.1, 2.0])
    slope, p_value = statistics.trend_test(values)
    reference = stats.linregress(np.arange(8), values)
    assert slope == pytest.approx(reference.slope) and p_value == pytest.approx(reference.pvalue)
    assert statistics.trend_test(np.full(8, 3.0)) == (0.0, 1.0)  # a constant series has no trend
    slopes, p_values = statistics.slope_p_values(np.vstack([values, np.full(8, 3.0)]))
    assert slopes.tolist() == pytest.approx([reference.slope, 0.0])
    assert p_values.tolist() == pytest.approx([reference.pvalue, 1.0])
    assert statistics.slope_p_values(np.array([[1.0, 2, 3, 4, 5]]))[1].tolist() == [0.0]  # a perfect line


def test_ks_statistic_matches_ks_2samp_and_its_p_value_is_stephens_formula():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=800), rng.normal(0.2, 1, size=600)
    statistic, p_value = statistics.ks_test(a, b)
    assert statistic == pytest.approx(stats.ks_2samp(a, b).statistic)
    root = np.sqrt(800 * 600 / 1400)
    assert p_value == pytest.approx(stats.kstwobign.sf((root + 0.12 + 0.11 / root) * statistic))
    assert p_value == pytest.approx(stats.ks_2samp(a, b).pvalue, rel=0.2)  # close to the exact one


def test_chi2_matches_chi2_contingency_and_handles_a_single_category():
    reference, current = np.array([500.0, 300, 200]), np.array([450.0, 380, 170])
    statistic, p_value = statistics.chi2_test(reference, current)
    expected = stats.chi2_contingency(np.vstack([reference, current]), correction=False)
    assert (statistic, p_value) == pytest.approx((expected.statistic, expected.pvalue))
    assert statistics.chi2_test(np.array([100.0, 0]), np.array([90.0, 0])) == (0.0, 1.0)
    statistic, p_value = statistics.chi2_test(
        np.array([100.0, 0, 5]), np.array([90.0, 0, 0])
    )  # empty column dropped
    expected = stats.chi2_contingency(np.array([[100.0, 5], [90, 0]]), correction=False)
    assert (statistic, p_value) == pytest.approx((expected.statistic, expected.pvalue))
    # Small counts: expected cells under 1, a category seen once, a row of a single count.
    for reference, current in (([10.0, 1, 5], [8.0, 0, 6]), ([5.0, 5], [1.0, 0])):
        statistic, p_value = statistics.chi2_test(np.array(reference), np.array(current))
        expected = stats.chi2_contingency(np.array([reference, current]), correction=False)
        assert (statistic, p_value) == pytest.approx((expected.statistic, expected.pvalue))


def test_benjamini_hochberg_matches_scipy():
    p = [0.01, 0.04, 0.03, 0.20, 0.001, 0.5]
    assert statistics.benjamini_hochberg(p) == pytest.approx(stats.false_discovery_control(p).tolist())


# ------------------------------------------------------------------ calibrated thresholds, by hand


def test_band_is_mean_plus_minus_t_sd_with_the_small_sample_correction():
    # Reference 1, 5, 2, 4, 3: mean 3, SD sqrt(10/4); residuals alternate (no carry-over).
    # Prediction SD = SD·sqrt(1 + 1/5) = sqrt(3); t(4 df, 97.5 %) = 2.7764.
    expected, half, statistic, p_value = statistics.band_test(
        np.array([[1.0], [5], [2], [4], [3]]), np.array([9.0])
    )
    assert expected[0] == 3.0
    assert half[0] == pytest.approx(2.7764451 * np.sqrt(3))
    assert statistic[0] == pytest.approx(6 / np.sqrt(3))
    assert p_value[0] == pytest.approx(2 * stats.t.sf(6 / np.sqrt(3), 4))  # 0.0257
    # Two values, 1 and 3: SD sqrt(2), prediction SD sqrt(2 · 1.5), t with one degree of freedom.
    _, half, _, p_value = statistics.band_test(np.array([[1.0], [3.0]]), np.array([9.0]))
    assert half[0] == pytest.approx(stats.t.ppf(0.975, 1) * np.sqrt(3))
    assert p_value[0] == pytest.approx(2 * stats.t.sf(7 / np.sqrt(3), 1))
    # No spread: no band, and only a different value is news.
    expected, half, statistic, p_value = statistics.band_test(np.full((6, 1), 2.0), np.array([2.0]))
    assert (expected[0], half[0], statistic[0], p_value[0]) == (2.0, 0.0, 0.0, 1.0)
    assert statistics.band_test(np.full((6, 1), 2.0), np.array([2.5]))[3][0] == 0.0


def test_a_value_the_reference_has_seen_is_inside_the_band():
    # Discrete quantiles (a count's d9 that is 0 most months and sometimes 1) are not normal:
    # a 1 that the reference has shown is no drift, however small the SD makes its p-value.
    reference = np.array([[0.0]] * 30 + [[1.0]] * 2)
    np.random.default_rng(0).shuffle(reference)
    assert statistics.band_test(reference, np.array([1.0]))[3][0] == 1.0
    assert statistics.band_test(reference, np.array([2.0]))[3][0] < 1e-6


def test_the_seasonal_band_compares_with_the_same_season_by_hand():
    # Two seasons, three cycles: season 0 = 9, 11, 10 (mean 10), season 1 = 21, 19, 20 (mean 20).
    # Pooled within-season SD = sqrt(4 / (6 - 2)) = 1; prediction SD = sqrt(1 + 1/3).
    values = np.array([[9.0], [21], [11], [19], [10], [20]])
    seasons = np.array([0, 1, 0, 1, 0, 1])
    expected, half, statistic, p_value = statistics.band_test(values, np.array([14.0]), seasons, 0, spacing=2)
    assert expected[0] == 10.0
    assert half[0] == pytest.approx(2.7764451 * np.sqrt(4 / 3))
    assert statistic[0] == pytest.approx(4 / np.sqrt(4 / 3))
    assert p_value[0] == pytest.approx(2 * stats.t.sf(4 / np.sqrt(4 / 3), 4))
    assert statistics.band_test(values, np.array([14.0]), seasons, 1, spacing=2)[0][0] == 20.0
    # Pooled, 14 is unremarkable (mean 15, SD 5.5): the calendar is what makes it odd.
    assert statistics.band_test(values, np.array([14.0]))[3][0] == 1.0


def test_periods_that_carry_over_widen_the_band():
    # The same values in a slow wander and in a shuffled order: the wander (lag-1 correlation
    # near 1) hides its own spread from a short reference, so its band is wider.
    for scale in (1.0, 0.01):  # the correlation is a ratio: the unit of the values does not matter
        wander = np.linspace(0.0, scale, 24)[:, None]
        shuffled = wander[np.random.default_rng(3).permutation(24)]
        assert (
            statistics.band_test(wander, np.array([scale / 2]))[1][0]
            > 1.5 * statistics.band_test(shuffled, np.array([scale / 2]))[1][0]
        )


def test_calibration_divides_by_the_references_own_inflation_by_hand():
    z2 = 2 * stats.norm.sf(2.0)  # p-value whose |z| is 2
    z6 = 2 * stats.norm.sf(6.0)
    # Four reference statistics at |z| = 2: phi² = 4, so z = 6 becomes t = 3 with 4 df.
    assert statistics.calibrated_p(z6, np.full(4, z2)) == pytest.approx(2 * stats.t.sf(3.0, 4))
    # A reference that behaves (mean z² <= 1) leaves the test's own p-value; so do too few statistics.
    assert statistics.calibrated_p(z6, np.full(4, 2 * stats.norm.sf(0.5))) == z6
    assert statistics.calibrated_p(z6, np.full(2, z2)) == z6
    z_mild = 2 * stats.norm.sf(np.sqrt(1.5))  # phi² = 1.5: still calibrated
    assert statistics.calibrated_p(z6, np.full(4, z_mild)) == pytest.approx(
        2 * stats.t.sf(6 / np.sqrt(1.5), 4)
    )
    assert statistics.z_of(np.array([z2, 1.0])).tolist() == pytest.approx([2.0, 0.0])
    assert statistics.z_of(np.array([1e-200]))[0] == pytest.approx(30.2, abs=0.1)  # no underflow


def test_ks_is_calibrated_on_autocorrelated_rows():
    # Daily-like rows: each period's values share a random level (rows are not independent),
    # so the raw KS p-value of an ordinary period is tiny; the calibrated one is not.
    rng = np.random.default_rng(5)
    periods = [
        Observation(day, numeric_profile(v), v)
        for day, v in ((day, rng.normal(rng.normal(0, 0.5), 1, 30)) for day in months(25))
    ]
    findings = evaluation.evaluate_metric("x", periods[-1], periods[:-1], SETTINGS)
    [ks] = [f for f in findings if f.test == "ks"]
    raw = statistics.ks_test(np.concatenate([p.sample for p in periods[:-1]]), periods[-1].sample)[1]
    assert ks.p_value is not None and ks.p_value > raw
    assert ks.p_value > 0.01


# ------------------------------------------------------------------ the calendar


def test_periods_per_year_and_seasons_from_timestamps():
    assert reference.periods_per_year(months(24)) == 12
    assert (
        reference.periods_per_year([date(2024, 1, 1), date(2024, 4, 1), date(2024, 7, 1), date(2024, 10, 1)])
        == 4
    )
    assert reference.periods_per_year([date(2024, 1, 1 + 7 * k) for k in range(4)]) == 52
    assert reference.periods_per_year([date(2024, 1, 1)]) is None
    assert [reference.season(d, 12) for d in months(12, 2023)] == list(range(12))
    assert [reference.season(d, 12) for d in months(12, 2024)] == list(range(12))  # a leap year too
    assert [reference.season(date(2024, m, 1), 4) for m in (1, 4, 7, 10)] == [0, 1, 2, 3]


def test_the_reference_ends_with_the_model_and_needs_two_cycles_for_the_calendar():
    history = [Observation(day, {"mean": 1.0}) for day in months(30)]
    ref = reference.reference(history, SETTINGS, reference_end=date(2021, 12, 1))
    assert len(ref.periods) == 24 and len(ref.recent) == 6 and ref.cycle == 12
    short = reference.reference(history, SETTINGS, reference_end=date(2021, 6, 1))
    assert len(short.periods) == 18 and short.cycle is None  # 18 months: not two cycles
    assert reference.reference(history, Drift(seasonality="none")).cycle is None
    assert reference.reference(history, Drift(reference_periods=12)).periods == history[-12:]
    assert reference.reference(history, Drift(seasonality=4), reference_end=date(2020, 12, 1)).cycle == 4


def seasonal_history(rng, count: int, amplitude: float, n: int = 2000) -> list[Observation]:
    out = []
    for day in months(count):
        values = rng.normal(amplitude * np.cos(2 * np.pi * (day.month - 1) / 12), 1.0, n)
        out.append(Observation(day, numeric_profile(values), bounded_sample(values, 500)))
    return out


def test_auto_seasonality_uses_the_calendar_only_where_it_explains_the_series():
    rng = np.random.default_rng(11)
    seasonal = seasonal_history(rng, 37, amplitude=1.0)
    flat = seasonal_history(rng, 37, amplitude=0.0)
    kinds = {(f.test, f.value): f.reference for f in evaluate(seasonal)}
    assert kinds[("band", "mean")] == kinds[("band", "d5")] == kinds[("ks", "distribution")] == "seasonal"
    assert kinds[("band", "missing")] == "pooled"  # never missing: the calendar explains nothing
    assert {f.reference for f in evaluate(flat) if f.test in ("band", "ks")} == {"pooled"}

    # Seasons are no drift: over a seasonal year (each month against the same months before)
    # at most the chance flag of a 5 % false discovery rate. Pooled, the seasons widen the
    # band and inflate the KS calibration: quiet too, but blind (next test).
    def flagged_months(settings: Drift) -> int:
        return sum(any(f.flagged for f in evaluate(seasonal[: end + 1], settings)) for end in range(25, 37))

    assert flagged_months(SETTINGS) <= 1
    assert flagged_months(Drift(seasonality="none")) <= 1


def test_a_change_in_the_season_is_flagged_against_the_same_season():
    rng = np.random.default_rng(12)
    history = seasonal_history(rng, 37, amplitude=1.0)
    values = rng.normal(np.cos(0.0) + 0.5, 1.0, 2000)  # a January half an SD above Januaries
    changed = [*history[:-1], Observation(history[-1].timestamp, numeric_profile(values), values[:500])]
    flagged = {(f.test, f.reference) for f in evaluate(changed) if f.flagged}
    assert ("band", "seasonal") in flagged and ("ks", "seasonal") in flagged
    assert not any(f.flagged for f in evaluate(changed, Drift(seasonality="none")))  # hidden by the seasons


def test_a_category_that_cycles_by_construction_is_not_tested_and_exclude_skips_a_metric():
    names = [f"m{k:02d}" for k in range(1, 13)]
    periods = [
        Observation(day, categorical_profile(np.full(100, float(day.month - 1)), names)) for day in months(14)
    ]
    assert reference.cycles_by_construction(periods)
    assert evaluate(periods) == []
    rng = np.random.default_rng(2)
    shifted = seasonal_history(rng, 12, amplitude=0.0)
    shifted[-1] = Observation(shifted[-1].timestamp, numeric_profile(np.full(100, 9.0)), np.full(100, 9.0))
    assert any(f.flagged for f in evaluate(shifted))
    assert evaluate(shifted, Drift(exclude=["x"])) == []


# ------------------------------------------------------------------ the trend, after the model


def test_a_change_older_than_the_model_is_not_re_flagged_and_a_new_slope_is():
    rng = np.random.default_rng(4)
    level = [0.0] * 12 + [3.0] * 12 + [3.0] * 6  # a step inside the reference, flat after the model
    periods = [
        Observation(day, numeric_profile(v), v[:500])
        for day, v in ((day, rng.normal(mu, 1.0, 3000)) for day, mu in zip(months(30), level, strict=True))
    ]
    end = periods[23].timestamp
    for last in range(25, 30):
        assert not any(f.flagged for f in evaluate(periods[: last + 1], reference_end=end))
    climbing = [
        Observation(p.timestamp, numeric_profile(v), v[:500])
        for p, v in zip(periods[24:], (rng.normal(3.0 + 0.25 * k, 1.0, 3000) for k in range(6)), strict=True)
    ]
    findings = evaluate([*periods[:24], *climbing], reference_end=end)
    assert any(f.test == "trend" and f.flagged for f in findings)


def test_the_first_period_of_a_change_is_the_start_of_its_unbroken_run_of_flags():
    earlier = [
        Observation(date(2025, 7, 1), {}, flags=("band:x:d5",)),
        Observation(date(2025, 8, 1), {}, flags=("ks:y:distribution",)),
        Observation(date(2025, 9, 1), {}, flags=("band:x:d3",)),
        Observation(date(2025, 10, 1), {}, flags=("ks:x:distribution", "band:y:d1")),
    ]
    assert evaluation.first_flagged("x", date(2025, 11, 1), earlier) == date(2025, 9, 1)
    assert evaluation.first_flagged("y", date(2025, 11, 1), earlier) == date(2025, 10, 1)
    assert evaluation.first_flagged("z", date(2025, 11, 1), earlier) == date(2025, 11, 1)


# ------------------------------------------------------------------ edge cases


def stationary(rng, periods: int, n: int = 5000, shift: float = 0.0) -> list[Observation]:
    out = []
    for i, day in enumerate(months(periods)):
        values = rng.normal(shift if i == periods - 1 else 0.0, 1.0, n)
        out.append(Observation(day, numeric_profile(values), bounded_sample(values, 1000)))
    return out


def test_too_short_a_history_tests_nothing_but_ks():
    periods = stationary(np.random.default_rng(0), 4, shift=2.0)
    findings = evaluate(periods)
    assert {f.test for f in findings} == {"ks"}
    assert all(f.flagged for f in findings)  # a 2-sd shift is caught by KS alone


def test_a_constant_column_never_alerts_until_it_changes():
    flat = [Observation(day, numeric_profile(np.full(100, 7.0)), np.full(100, 7.0)) for day in months(10)]
    assert not any(f.flagged for f in evaluate(flat))
    changed = [
        *flat[:-1],
        Observation(flat[-1].timestamp, numeric_profile(np.full(100, 9.0)), np.full(100, 9.0)),
    ]
    assert {f.test for f in evaluate(changed) if f.flagged} >= {"band", "ks"}


def test_an_all_missing_column_only_tracks_its_missing_share():
    missing = [
        Observation(day, numeric_profile(np.full(50, np.nan)), bounded_sample(np.full(50, np.nan), 10))
        for day in months(10)
    ]
    findings = evaluate(missing)
    assert {f.value for f in findings} == {"missing"} and not any(f.flagged for f in findings)


def test_a_single_category_and_a_new_category_mix():
    one = [Observation(day, categorical_profile(np.zeros(1000), ["only"])) for day in months(10)]
    assert not any(f.flagged for f in evaluate(one))
    rng = np.random.default_rng(3)
    mixes = [
        categorical_profile(rng.choice(3, 2000, p=[0.5, 0.3, 0.2]).astype(float), ["a", "b", "c"])
        for _ in range(9)
    ]
    mixes.append(categorical_profile(rng.choice(3, 2000, p=[0.35, 0.45, 0.2]).astype(float), ["a", "b", "c"]))
    findings = evaluate([Observation(day, values) for day, values in zip(months(10), mixes, strict=True)])
    assert any(f.test == "chi2" and f.flagged for f in findings)


def test_a_small_effect_is_not_flagged_even_if_significant():
    # A 0.02 sd shift at n=5000: below min_effect (5 % of the 90 % spread) and D >= 0.05.
    periods = stationary(np.random.default_rng(5), 12, shift=0.02)
    assert not any(f.flagged for f in evaluate(periods))


def test_persistence_needs_k_of_the_last_n_runs():
    settings = Drift(persistence={"k": 2, "n": 3})
    finding = evaluation.Finding("x", "d5", "band", 1.0, 0.0, 1.0, flagged=True)
    assert not evaluation.persistent(finding, [(), ()], settings)
    assert evaluation.persistent(finding, [(), ("band:x:d5",)], settings)
    assert not evaluation.persistent(finding, [(), (), ("band:x:d5",)], settings)  # too long ago


# ------------------------------------------------------------------ the parts, one at a time


def test_what_counts_as_a_share_and_what_one_unit_of_effect_is():
    assert reference.is_share("outcome", "mean") and reference.is_share("outcome_by_score_decile", "d3")
    assert reference.is_share("income", "missing") and reference.is_share("plan", "share:gold")
    assert not reference.is_share("income", "mean") and not reference.is_share("outcomes", "d5")
    assert not reference.is_share("income", "shares") and not reference.is_share("score_decile", "d1")
    deciles = [
        Observation(day, {"d1": 1.0, "d10": 1.0 + width})
        for day, width in zip(months(3), (4, 6, 10), strict=True)
    ]
    assert reference.spread_of(deciles) == 6.0  # the median of d10 - d1
    assert reference.spread_of([Observation(d, {"d1": 1.0, "mean": 3.0}) for d in months(2)]) == 0.0  # no d10
    assert reference.spread_of([Observation(d, {"d10": 1.0, "mean": 3.0}) for d in months(2)]) == 0.0  # no d1
    column = np.array([-4.0, 2.0, 3.0])
    assert reference.effect_unit("income", "mean", column, 6.0) == 6.0
    assert reference.effect_unit("income", "mean", column, 0.5) == 0.5  # a spread under one is still the unit
    assert reference.effect_unit("income", "mean", np.array([0.25, -0.5, 0.75]), 0.0) == 0.5
    assert reference.effect_unit("income", "mean", column, 0.0) == 3.0  # the median |value| without a spread
    assert reference.effect_unit("income", "mean", np.zeros(3), 0.0) == 1.0
    assert reference.effect_unit("income", "mean", np.empty(0), 0.0) == 1.0
    assert reference.effect_unit("income", "missing", column, 6.0) == 1.0  # shares are absolute


def test_daily_periods_have_a_season_per_day_of_the_year():
    days = [date(2023, 1, 1) + (date(2023, 1, 2) - date(2023, 1, 1)) * k for k in range(365)]
    assert reference.periods_per_year(days) == 365
    assert [reference.season(day, 365) for day in days] == list(range(365))
    assert reference.periods_per_year([date(2020, 1, 1), date(2022, 1, 1), date(2024, 1, 1)]) == 1
    assert reference.periods_per_year([date(2024, 1, 1), date(2024, 7, 1)]) == 2  # two are enough
    assert reference.reference([Observation(d, {}) for d in months(4)], Drift(seasonality=2)).cycle == 2


def test_observations_are_frozen_and_findings_start_undecided():
    observation = Observation(date(2025, 1, 1), {"mean": 1.0})
    with pytest.raises(AttributeError):
        observation.values = {}  # type: ignore[misc]
    assert observation.sample is None and observation.flags == () and observation.bands == {}
    ref = reference.reference([observation], SETTINGS)
    with pytest.raises(AttributeError):
        ref.cycle = 12  # type: ignore[misc]
    finding = evaluation.Finding("income", "d5", "band", 1.0, 0.01, 0.3)
    assert finding.key == "band:income:d5"
    assert (finding.adjusted_p, finding.flagged, finding.series, finding.reference) == (
        None,
        False,
        [],
        "pooled",
    )
    assert (finding.expected, finding.low, finding.high) == (None, None, None)


def test_seasonal_columns_agree_with_a_one_way_analysis_of_variance():
    rng = np.random.default_rng(8)
    seasons = np.tile(np.arange(12), 3)
    amplitude = np.linspace(0.0, 1.2, 4000)  # from no season to a clear one: p-values of every size
    values = rng.normal(size=(36, 4000)) + amplitude * np.cos(2 * np.pi * seasons / 12)[:, None]
    p_values = stats.f_oneway(*(values[seasons == s] for s in range(12)), axis=0).pvalue
    assert ((p_values > 0.01) & (p_values < 0.011)).any()  # the bar is tested near its edge
    assert statistics.seasonal_columns(values, seasons, forced=False).tolist() == (p_values < 0.01).tolist()
    assert statistics.seasonal_columns(values, seasons, forced=True).all()
    one_season = np.zeros(36, dtype=int)
    assert not statistics.seasonal_columns(values, one_season, forced=True).any()
    assert not statistics.seasonal_columns(values[:12], seasons[:12], forced=True).any()  # one value a season
    assert statistics.seasonal_columns(values[:13], seasons[:13], forced=True).all()
    constant = np.ones((36, 1))
    assert not statistics.seasonal_columns(constant, seasons, forced=False).any()
    assert (
        statistics.seasonal_columns(values * 1e-3, seasons, forced=False).tolist()
        == (p_values < 0.01).tolist()
    )
    perfect = np.cos(2 * np.pi * seasons / 12)[:, None]  # nothing but the season
    assert statistics.seasonal_columns(perfect, seasons, forced=False).all()
    assert statistics.seasonal_columns(
        values[:6], seasons[:6] % 2, forced=True
    ).all()  # two seasons are enough


def test_each_reference_period_is_tested_against_the_others_of_its_group():
    rng = np.random.default_rng(9)
    samples = [rng.normal(0.3 * (k % 2), 1.0, 40 + k) for k in range(6)] + [
        np.array([0.2]),
        rng.normal(size=9),
    ]
    groups = np.array([0, 1, 0, 1, 0, 1, 0, 2])  # the last period is alone in its group: no test
    expected = []
    for k, sample in enumerate(samples[:7]):
        others = np.concatenate([s for j, s in enumerate(samples) if j != k and groups[j] == groups[k]])
        expected.append(statistics.ks_test(others, sample)[1])
    assert statistics.ks_reference_p(samples, groups).tolist() == pytest.approx(expected)
    counts = np.array([[50.0, 30, 20], [10, 60, 30], [45, 35, 20], [15, 55, 30], [40, 40, 20], [0, 0, 0]])
    chi2 = []
    for k in range(5):
        others = sum(counts[j] for j in range(6) if j != k and groups[j] == groups[k])
        chi2.append(statistics.chi2_test(others, counts[k])[1])
    chi2.append(1.0)  # an empty period has nothing to compare
    assert statistics.chi2_reference_p(counts, groups[:6]).tolist() == pytest.approx(chi2)
    lonely = statistics.chi2_reference_p(counts[:2], np.array([0, 1]))  # no other period in its group
    assert lonely.size == 0
    pair = np.array(
        [[1.0, 0, 0], [5, 5, 0]]
    )  # each period's "others" is the other one; one holds a single count
    assert statistics.chi2_reference_p(pair, np.zeros(2, dtype=int)).tolist() == pytest.approx(
        [statistics.chi2_test(pair[1], pair[0])[1], statistics.chi2_test(pair[0], pair[1])[1]]
    )


def test_effective_count_and_the_calibration_bar():
    assert statistics.effective_count(10.0, np.array([0.0, 0.5, 0.95])).tolist() == pytest.approx(
        [10.0, 10 / 3, 1.5]
    )
    assert statistics.effective_count(1.0, np.array([0.0, 0.9])).tolist() == [1.0, 1.0]
    z2, z6 = 2 * stats.norm.sf(2.0), 2 * stats.norm.sf(6.0)
    assert statistics.calibrated_p(z6, np.full(3, z2)) == pytest.approx(
        2 * stats.t.sf(3.0, 3)
    )  # 3 are enough
    assert statistics.z_of(np.array([0.0]))[0] == pytest.approx(37.0, abs=0.1)  # p = 0 still has a finite z
    assert statistics.benjamini_hochberg([]) == []
    assert statistics.chi2_test(np.array([0.0, 0.0]), np.array([5.0, 7.0])) == (
        0.0,
        1.0,
    )  # an empty reference


def test_decide_flags_what_is_significant_and_at_least_as_large_as_the_tests_bar():
    settings = Drift(level=0.05, min_effect=0.2, min_share_change=0.1, ks_min_effect=0.3)

    def flagged(
        test: str, value: str, effect: float, p_value: float | None = 1e-9, metric: str = "x"
    ) -> bool:
        [finding] = evaluation.decide(
            [evaluation.Finding(metric, value, test, 1.0, p_value, effect)], settings
        )
        return finding.flagged

    assert flagged("band", "d5", 0.2) and not flagged("band", "d5", 0.199)  # min_effect
    assert flagged("trend", "mean", 0.2) and not flagged("trend", "mean", 0.19)
    assert flagged("ks", "distribution", 0.3) and not flagged("ks", "distribution", 0.29)  # ks_min_effect
    assert flagged("chi2", "categories", 0.1) and not flagged("chi2", "categories", 0.09)  # min_share_change
    assert flagged("band", "missing", 0.1) and not flagged("band", "missing", 0.09)
    assert flagged("band", "d5", 0.1, metric="outcome") and not flagged("band", "d5", 0.09, metric="outcome")
    assert not flagged("band", "d5", 5.0, p_value=None)  # no p-value is no evidence
    assert not flagged("band", "d5", 5.0, p_value=0.05) and flagged("band", "d5", 5.0, p_value=0.0499)
    # Benjamini-Hochberg across the run: the same p-value passes alone and fails among many.
    many = [evaluation.Finding("x", f"d{k}", "band", 1.0, 0.03 if k == 0 else 0.9, 1.0) for k in range(5)]
    assert not evaluation.decide(many, settings)[0].flagged
    assert evaluation.decide(many[:1], settings)[0].adjusted_p == 0.03


def test_a_malformed_flag_does_not_count_as_this_metrics():
    earlier = [
        Observation(date(2025, 9, 1), {}, flags=("x",)),
        Observation(date(2025, 10, 1), {}, flags=("band:x:d5",)),
    ]
    assert evaluation.first_flagged("x", date(2025, 11, 1), earlier) == date(2025, 10, 1)


# ------------------------------------------------------------------ one metric, test by test


def drifting(rng: np.random.Generator, periods: int = 14, last: float = 0.0) -> list[Observation]:
    """A numeric metric with a category share, stationary until ``last`` shifts the newest."""
    out = []
    for i, day in enumerate(months(periods)):
        values = rng.normal(last if i == periods - 1 else 0.0, 1.0, 3000)
        share = 0.5 + (0.2 if last and i == periods - 1 else 0.0)
        profile = {**numeric_profile(values), "share:a": share, "share:b": 1 - share}
        out.append(Observation(day, profile, bounded_sample(values, 500)))
    return out


def test_each_test_can_be_switched_off_and_count_is_never_tested():
    periods = drifting(np.random.default_rng(21), last=1.0)
    end = periods[8].timestamp  # nine reference periods, four after the model, then the newest

    def tests(settings: Drift = SETTINGS) -> set[str]:
        return {f.test for f in evaluate(periods, settings, reference_end=end)}

    assert tests() == {"band", "trend", "ks", "chi2"}
    for test in ("band", "trend", "ks", "chi2"):
        assert tests(Drift(**{test: False})) == {"band", "trend", "ks", "chi2"} - {test}
    assert tests(Drift(band=False, trend=False)) == {"ks", "chi2"}
    assert not any(f.value == "count" for f in evaluate(periods, reference_end=end))


def test_the_band_finding_carries_its_expectation_band_and_last_twelve_values():
    periods = drifting(np.random.default_rng(22), periods=20, last=1.0)
    [mean] = [f for f in evaluate(periods) if f.test == "band" and f.value == "mean"]
    reference = np.array([p.values["mean"] for p in periods[:-1]])
    assert mean.statistic == periods[-1].values["mean"]
    assert mean.expected == pytest.approx(reference.mean())
    assert mean.low is not None and mean.high is not None and mean.expected is not None
    assert mean.high - mean.expected == pytest.approx(mean.expected - mean.low)
    assert mean.low < mean.expected < mean.high < mean.statistic
    assert mean.series == [p.values["mean"] for p in periods[-12:]]
    spread = float(np.median([p.values["d10"] - p.values["d1"] for p in periods[:-1]]))
    assert mean.effect == pytest.approx(abs(mean.statistic - mean.expected) / spread)
    assert mean.flagged


def test_the_band_needs_band_min_history_reference_periods_and_values_three():
    rng = np.random.default_rng(23)
    nine = drifting(rng, periods=9, last=1.0)
    assert any(f.test == "band" for f in evaluate(nine, Drift(band_min_history=8)))
    assert not any(f.test == "band" for f in evaluate(nine, Drift(band_min_history=9)))
    three = drifting(rng, periods=4)
    assert any(f.test == "band" for f in evaluate(three, Drift(band_min_history=3)))
    assert not any(f.test in ("band", "trend") for f in evaluate(three[1:], Drift(band_min_history=3)))


def test_a_value_missing_from_a_reference_period_is_not_tested():
    periods = drifting(np.random.default_rng(24))
    periods[3] = Observation(periods[3].timestamp, {k: v for k, v in periods[3].values.items() if k != "d5"})
    values = {f.value for f in evaluate(periods) if f.test == "band"}
    assert "d5" not in values and "d4" in values


def test_the_trend_reads_the_window_after_the_model_against_the_references_slopes():
    rng = np.random.default_rng(25)
    before = [Observation(day, {"mean": float(rng.normal()), "d1": -1.0, "d10": 1.0}) for day in months(12)]
    after = [
        Observation(day, {"mean": 0.5 * k + float(rng.normal(0, 0.1)), "d1": -1.0, "d10": 1.0})
        for k, day in enumerate(months(8, 2021))
    ]
    periods = [*before, *after]
    settings = Drift(trend_periods=5, band=False)
    [trend] = [
        f for f in evaluate(periods, settings, reference_end=before[-1].timestamp) if f.value == "mean"
    ]
    window = [p.values["mean"] for p in after[-5:]]
    fit = stats.linregress(np.arange(5), window)
    assert trend.series == window and trend.reference == "pooled"
    assert trend.statistic == pytest.approx(fit.slope)
    assert trend.effect == pytest.approx(abs(fit.slope) * 4 / 2.0)  # over the window, per 90 % spread
    assert trend.flagged
    # Fewer than four periods after the model, or fewer reference periods than the window or
    # min_history: no trend.
    assert not any(
        f.test == "trend" for f in evaluate(periods[:15], settings, reference_end=before[-1].timestamp)
    )
    assert any(
        f.test == "trend" for f in evaluate(periods[:16], settings, reference_end=before[-1].timestamp)
    )
    assert not any(
        f.test == "trend"
        for f in evaluate(periods, Drift(band=False, min_history=13), reference_end=before[-1].timestamp)
    )
    assert any(
        f.test == "trend"
        for f in evaluate(periods, Drift(band=False, min_history=12), reference_end=before[-1].timestamp)
    )


def test_distribution_findings_measure_their_effect():
    rng = np.random.default_rng(26)
    periods = drifting(rng, last=1.0)
    findings = {f.test: f for f in evaluate(periods)}
    ks, chi2 = findings["ks"], findings["chi2"]
    pooled = np.concatenate([p.sample for p in periods[:-1] if p.sample is not None])
    assert periods[-1].sample is not None
    assert (ks.value, ks.statistic) == (
        "distribution",
        pytest.approx(statistics.ks_test(pooled, periods[-1].sample)[0]),
    )
    assert ks.effect == ks.statistic and ks.flagged
    assert chi2.value == "categories"
    assert chi2.effect == pytest.approx(0.2)  # share:a went from 0.5 to 0.7
    assert chi2.statistic == pytest.approx(
        statistics.chi2_test(np.array([0.5, 0.5]) * 3000 * 13, np.array([0.7, 0.3]) * 3000)[0]
    )


def test_a_category_is_the_calendar_only_when_one_dominates_every_period():
    def period(day: date, top: str, share: float) -> Observation:
        return Observation(day, {f"share:{top}": share, "share:other": 1 - share, "count": 100.0})

    days = months(3)
    assert reference.cycles_by_construction([period(d, f"m{k}", 0.995) for k, d in enumerate(days)])
    assert not reference.cycles_by_construction([period(d, f"m{k}", 0.985) for k, d in enumerate(days)])
    assert reference.cycles_by_construction([period(d, f"m{k}", 0.99) for k, d in enumerate(days)])
    assert reference.cycles_by_construction(
        [period(d, f"h{k % 2}", 1.0) for k, d in enumerate(days)]
    )  # two halves
    assert not reference.cycles_by_construction([period(d, "m1", 1.0) for d in days])  # always the same one
    assert not reference.cycles_by_construction([Observation(d, {"mean": 1.0}) for d in days])
    assert evaluation.evaluate_metric("x", period(days[0], "a", 0.5), [], SETTINGS) == []  # no reference


def test_the_trend_after_the_model_is_read_net_of_the_seasons():
    # Two years of a strong season, then the first half of a third year that follows it: the
    # season's fall from January to June is no trend; the same months climbing on top are.
    rng = np.random.default_rng(27)

    def period(day: date, extra: float = 0.0) -> Observation:
        level = 3 * np.cos(2 * np.pi * (day.month - 1) / 12) + extra + float(rng.normal(0, 0.05))
        return Observation(day, {"mean": level, "d1": level - 1, "d10": level + 1})

    reference = [period(day) for day in months(24)]
    settings = Drift(band=False)
    end = reference[-1].timestamp
    quiet = [*reference, *(period(day) for day in months(6, 2022))]
    [trend] = [f for f in evaluate(quiet, settings, reference_end=end) if f.value == "mean"]
    assert trend.reference == "seasonal" and not trend.flagged
    assert max(abs(v) for v in trend.series) < 0.3  # the season taken out: about the mean, 0
    climbing = [*reference, *(period(day, 0.4 * k) for k, day in enumerate(months(6, 2022)))]
    [trend] = [f for f in evaluate(climbing, settings, reference_end=end) if f.value == "mean"]
    assert trend.flagged and trend.statistic == pytest.approx(0.4, abs=0.05)
    assert [
        f.reference for f in evaluate(quiet, Drift(trend=False), reference_end=end) if f.value == "mean"
    ] == ["seasonal"]  # each month of the year appears twice in the reference: enough for a seasonal band


def test_a_season_missing_from_the_reference_is_compared_with_every_period():
    # Two years without March: the newest March has no March to be compared with.
    days = [*(day for day in months(26) if day.month != 3), date(2022, 3, 1)]
    rng = np.random.default_rng(28)
    periods = [
        Observation(day, {"mean": float(rng.normal(day.month, 0.1)), "d1": 0.0, "d10": 1.0}) for day in days
    ]
    assert periods[-1].timestamp == date(2022, 3, 1)
    assert reference.reference(periods[:-1], SETTINGS).cycle == 12
    assert {f.reference for f in evaluate(periods) if f.test == "band"} == {"pooled"}


def test_a_new_category_counts_as_none_before():
    history = [Observation(day, {"share:a": 0.6, "share:b": 0.4, "count": 1000.0}) for day in months(9)]
    current = Observation(
        date(2020, 10, 1), {"share:a": 0.5, "share:b": 0.4, "share:c": 0.1, "count": 1000.0}
    )
    [chi2] = [f for f in evaluate([*history, current]) if f.test == "chi2"]
    expected = statistics.chi2_test(np.array([600.0, 400, 0]) * 9, np.array([500.0, 400, 100]))[0]
    assert chi2.statistic == pytest.approx(expected) and chi2.effect == pytest.approx(0.1)
    assert chi2.flagged


def ar1(rng: np.random.Generator, count: int, correlation: float) -> np.ndarray:
    """A unit-variance series whose neighbours correlate by ``correlation`` (periods that carry over)."""
    noise = rng.normal(size=count)
    series = np.empty(count)
    series[0] = noise[0]
    for i in range(1, count):
        series[i] = correlation * series[i - 1] + np.sqrt(1 - correlation**2) * noise[i]
    return series


def test_each_value_s_band_is_its_seasonal_or_pooled_reference_at_its_own_spacing():
    # One metric, two values over three years of months whose periods carry over (lag-1
    # correlation 0.7): "seasonal" follows the calendar, "flat" does not, and both end in a mild
    # change. The calendar's reference compares a January with the earlier Januaries, a cycle
    # (12 periods) apart, so the carry-over between them is 0.7^12, next to nothing; the pooled
    # reference compares neighbours, one period apart.
    rng = np.random.default_rng(1)
    days = months(37)
    seasonal = 3 * np.cos(2 * np.pi * np.arange(37) / 12) + ar1(rng, 37, 0.7)
    flat = 10 + ar1(rng, 37, 0.7)
    seasonal[-1] += 2.0
    flat[-1] = flat[:-1].max() + 1.0
    periods = [
        Observation(day, {"seasonal": float(a), "flat": float(b)})
        for day, a, b in zip(days, seasonal, flat, strict=True)
    ]
    bands = {f.value: f for f in evaluate(periods) if f.test == "band"}
    assert (bands["seasonal"].reference, bands["flat"].reference) == ("seasonal", "pooled")
    labels = np.array([reference.season(day, 12) for day in days[:-1]])
    january = reference.season(days[-1], 12)

    def band_p(values: np.ndarray, *how) -> float:
        return float(statistics.band_test(values[:-1, None], values[-1:], *how)[3][0])

    assert bands["seasonal"].p_value == band_p(seasonal, labels, january, 12)
    assert bands["flat"].p_value == band_p(flat, None, None, 1)
    # The spacing matters: a season's values read as neighbours would hide the change.
    assert bands["seasonal"].p_value < 0.01 < 0.05 < band_p(seasonal, labels, january, 1)
    assert band_p(flat, None, None, 2) < bands["flat"].p_value
    assert bands["seasonal"].flagged and bands["flat"].flagged


def test_a_constant_window_has_no_slope_whatever_its_value():
    # Values like 0.1 or 3.7 do not add up exactly in floating point: the slope must come from
    # the deviations from the mean (exactly 0 here), or rounding alone makes a "trend".
    for value in (0.1, 3.7, 12.345):
        for n in (5, 6, 7):
            slope, p_value = statistics.slope_p_values(np.full((1, n), value))
            assert (slope[0], p_value[0]) == (0.0, 1.0), (value, n)


def test_z_of_is_exact_down_to_a_p_value_of_1e_300():
    assert statistics.z_of(np.array([1e-300]))[0] == pytest.approx(stats.norm.isf(0.5e-300), rel=1e-12)
    assert statistics.z_of(np.array([0.0]))[0] == statistics.z_of(np.array([1e-300]))[0]  # the floor


def test_a_reference_inflation_of_exactly_one_leaves_the_p_value_as_it_is():
    at_one = np.full(4, 2 * stats.norm.sf(1.0))  # four reference |z| of exactly 1: phi = 1
    assert float(np.mean(statistics.z_of(at_one) ** 2)) == 1.0
    assert statistics.calibrated_p(0.03, at_one) == 0.03


def test_a_period_that_shares_no_value_with_its_reference_gets_no_band_or_trend():
    # Only the untested count in common (a metric whose values were all renamed): nothing to
    # put a band or a trend on, and nothing to fail on either.
    periods = drifting(np.random.default_rng(24))
    periods[-1] = Observation(periods[-1].timestamp, {"count": periods[-1].values["count"], "renamed": 1.0})
    assert [f for f in evaluate(periods) if f.test in ("band", "trend")] == []
