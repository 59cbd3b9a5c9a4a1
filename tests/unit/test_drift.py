"""The drift tests against known answers (scipy as the reference, hand-computed bands and
calibrations), the seasonal reference, their edge cases, and a seeded statistical check of
false alarms and power."""

from datetime import date

import numpy as np
import pytest
from scipy import stats

from modelops.domain import drift
from modelops.domain.drift import Observation
from modelops.domain.profiles import bounded_sample, categorical_profile, numeric_profile
from modelops.domain.spec import Drift
from modelops_local.drift_quality import stationary_run

SETTINGS = Drift()


def months(count: int, start: int = 2020) -> list[date]:
    return [date(start + i // 12, i % 12 + 1, 1) for i in range(count)]


def evaluate(
    periods: list[Observation],
    settings: Drift = SETTINGS,
    metric: str = "x",
    reference_end: date | None = None,
) -> list[drift.Finding]:
    return drift.decide(
        drift.evaluate_metric(metric, periods[-1], periods[:-1], settings, reference_end), settings
    )


# ------------------------------------------------------------------ the tests, against references


def test_trend_matches_linregress():
    values = np.array([1.0, 1.2, 0.9, 1.5, 1.7, 1.6, 2.1, 2.0])
    slope, p_value = drift.trend_test(values)
    reference = stats.linregress(np.arange(8), values)
    assert slope == pytest.approx(reference.slope) and p_value == pytest.approx(reference.pvalue)
    assert drift.trend_test(np.full(8, 3.0)) == (0.0, 1.0)  # a constant series has no trend
    slopes, p_values = drift.slope_p_values(np.vstack([values, np.full(8, 3.0)]))
    assert slopes.tolist() == pytest.approx([reference.slope, 0.0])
    assert p_values.tolist() == pytest.approx([reference.pvalue, 1.0])


def test_ks_statistic_matches_ks_2samp_and_its_p_value_is_stephens_formula():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=800), rng.normal(0.2, 1, size=600)
    statistic, p_value = drift.ks_test(a, b)
    assert statistic == pytest.approx(stats.ks_2samp(a, b).statistic)
    root = np.sqrt(800 * 600 / 1400)
    assert p_value == pytest.approx(stats.kstwobign.sf((root + 0.12 + 0.11 / root) * statistic))
    assert p_value == pytest.approx(stats.ks_2samp(a, b).pvalue, rel=0.2)  # close to the exact one


def test_chi2_matches_chi2_contingency_and_handles_a_single_category():
    reference, current = np.array([500.0, 300, 200]), np.array([450.0, 380, 170])
    statistic, p_value = drift.chi2_test(reference, current)
    expected = stats.chi2_contingency(np.vstack([reference, current]), correction=False)
    assert (statistic, p_value) == pytest.approx((expected.statistic, expected.pvalue))
    assert drift.chi2_test(np.array([100.0, 0]), np.array([90.0, 0])) == (0.0, 1.0)
    statistic, p_value = drift.chi2_test(
        np.array([100.0, 0, 5]), np.array([90.0, 0, 0])
    )  # empty column dropped
    expected = stats.chi2_contingency(np.array([[100.0, 5], [90, 0]]), correction=False)
    assert (statistic, p_value) == pytest.approx((expected.statistic, expected.pvalue))


def test_benjamini_hochberg_matches_scipy():
    p = [0.01, 0.04, 0.03, 0.20, 0.001, 0.5]
    assert drift.benjamini_hochberg(p) == pytest.approx(stats.false_discovery_control(p).tolist())


# ------------------------------------------------------------------ calibrated thresholds, by hand


def test_band_is_mean_plus_minus_t_sd_with_the_small_sample_correction():
    # Reference 1, 5, 2, 4, 3: mean 3, SD sqrt(10/4); residuals alternate (no carry-over).
    # Prediction SD = SD·sqrt(1 + 1/5) = sqrt(3); t(4 df, 97.5 %) = 2.7764.
    expected, half, statistic, p_value = drift.band_test(
        np.array([[1.0], [5], [2], [4], [3]]), np.array([9.0])
    )
    assert expected[0] == 3.0
    assert half[0] == pytest.approx(2.7764451 * np.sqrt(3))
    assert statistic[0] == pytest.approx(6 / np.sqrt(3))
    assert p_value[0] == pytest.approx(2 * stats.t.sf(6 / np.sqrt(3), 4))  # 0.0257


def test_a_value_the_reference_has_seen_is_inside_the_band():
    # Discrete quantiles (a count's d9 that is 0 most months and sometimes 1) are not normal:
    # a 1 that the reference has shown is no drift, however small the SD makes its p-value.
    reference = np.array([[0.0]] * 30 + [[1.0]] * 2)
    np.random.default_rng(0).shuffle(reference)
    assert drift.band_test(reference, np.array([1.0]))[3][0] == 1.0
    assert drift.band_test(reference, np.array([2.0]))[3][0] < 1e-6


def test_the_seasonal_band_compares_with_the_same_season_by_hand():
    # Two seasons, three cycles: season 0 = 9, 11, 10 (mean 10), season 1 = 21, 19, 20 (mean 20).
    # Pooled within-season SD = sqrt(4 / (6 - 2)) = 1; prediction SD = sqrt(1 + 1/3).
    values = np.array([[9.0], [21], [11], [19], [10], [20]])
    seasons = np.array([0, 1, 0, 1, 0, 1])
    expected, half, statistic, p_value = drift.band_test(values, np.array([14.0]), seasons, 0, spacing=2)
    assert expected[0] == 10.0
    assert half[0] == pytest.approx(2.7764451 * np.sqrt(4 / 3))
    assert statistic[0] == pytest.approx(4 / np.sqrt(4 / 3))
    assert p_value[0] == pytest.approx(2 * stats.t.sf(4 / np.sqrt(4 / 3), 4))
    assert drift.band_test(values, np.array([14.0]), seasons, 1, spacing=2)[0][0] == 20.0
    # Pooled, 14 is unremarkable (mean 15, SD 5.5): the calendar is what makes it odd.
    assert drift.band_test(values, np.array([14.0]))[3][0] == 1.0


def test_periods_that_carry_over_widen_the_band():
    # The same values in a slow wander and in a shuffled order: the wander (lag-1 correlation
    # near 1) hides its own spread from a short reference, so its band is wider.
    wander = np.linspace(0.0, 1.0, 24)[:, None]
    shuffled = wander[np.random.default_rng(3).permutation(24)]
    assert (
        drift.band_test(wander, np.array([0.5]))[1][0]
        > 1.5 * drift.band_test(shuffled, np.array([0.5]))[1][0]
    )


def test_calibration_divides_by_the_references_own_inflation_by_hand():
    z2 = 2 * stats.norm.sf(2.0)  # p-value whose |z| is 2
    z6 = 2 * stats.norm.sf(6.0)
    # Four reference statistics at |z| = 2: phi² = 4, so z = 6 becomes t = 3 with 4 df.
    assert drift.calibrated_p(z6, np.full(4, z2)) == pytest.approx(2 * stats.t.sf(3.0, 4))
    # A reference that behaves (mean z² <= 1) leaves the test's own p-value; so do too few statistics.
    assert drift.calibrated_p(z6, np.full(4, 2 * stats.norm.sf(0.5))) == z6
    assert drift.calibrated_p(z6, np.full(2, z2)) == z6
    assert drift.z_of(np.array([z2, 1.0])).tolist() == pytest.approx([2.0, 0.0])
    assert drift.z_of(np.array([1e-200]))[0] == pytest.approx(30.2, abs=0.1)  # no underflow


def test_ks_is_calibrated_on_autocorrelated_rows():
    # Daily-like rows: each period's values share a random level (rows are not independent),
    # so the raw KS p-value of an ordinary period is tiny; the calibrated one is not.
    rng = np.random.default_rng(5)
    periods = [
        Observation(day, numeric_profile(v), v)
        for day, v in ((day, rng.normal(rng.normal(0, 0.5), 1, 30)) for day in months(25))
    ]
    findings = drift.evaluate_metric("x", periods[-1], periods[:-1], SETTINGS)
    [ks] = [f for f in findings if f.test == "ks"]
    raw = drift.ks_test(np.concatenate([p.sample for p in periods[:-1]]), periods[-1].sample)[1]
    assert ks.p_value is not None and ks.p_value > raw
    assert ks.p_value > 0.01


# ------------------------------------------------------------------ the calendar


def test_periods_per_year_and_seasons_from_timestamps():
    assert drift.periods_per_year(months(24)) == 12
    assert (
        drift.periods_per_year([date(2024, 1, 1), date(2024, 4, 1), date(2024, 7, 1), date(2024, 10, 1)]) == 4
    )
    assert drift.periods_per_year([date(2024, 1, 1 + 7 * k) for k in range(4)]) == 52
    assert drift.periods_per_year([date(2024, 1, 1)]) is None
    assert [drift.season(d, 12) for d in months(12, 2023)] == list(range(12))
    assert [drift.season(d, 12) for d in months(12, 2024)] == list(range(12))  # a leap year too
    assert [drift.season(date(2024, m, 1), 4) for m in (1, 4, 7, 10)] == [0, 1, 2, 3]


def test_the_reference_ends_with_the_model_and_needs_two_cycles_for_the_calendar():
    history = [Observation(day, {"mean": 1.0}) for day in months(30)]
    ref = drift.reference(history, SETTINGS, reference_end=date(2021, 12, 1))
    assert len(ref.periods) == 24 and len(ref.recent) == 6 and ref.cycle == 12
    short = drift.reference(history, SETTINGS, reference_end=date(2021, 6, 1))
    assert len(short.periods) == 18 and short.cycle is None  # 18 months: not two cycles
    assert drift.reference(history, Drift(seasonality="none")).cycle is None
    assert drift.reference(history, Drift(reference_periods=12)).periods == history[-12:]
    assert drift.reference(history, Drift(seasonality=4), reference_end=date(2020, 12, 1)).cycle == 4


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
    assert drift.cycles_by_construction(periods)
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
    assert drift.first_flagged("x", date(2025, 11, 1), earlier) == date(2025, 9, 1)
    assert drift.first_flagged("y", date(2025, 11, 1), earlier) == date(2025, 10, 1)
    assert drift.first_flagged("z", date(2025, 11, 1), earlier) == date(2025, 11, 1)


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
    finding = drift.Finding("x", "d5", "band", 1.0, 0.0, 1.0, flagged=True)
    assert not drift.persistent(finding, [(), ()], settings)
    assert drift.persistent(finding, [(), ("band:x:d5",)], settings)
    assert not drift.persistent(finding, [(), (), ("band:x:d5",)], settings)  # too long ago


@pytest.mark.slow
def test_false_alarms_and_power_over_simulated_runs():
    """A seeded sample of the benchmark's check (`make bench` runs 200 of each)."""
    rng = np.random.default_rng(2026)
    runs = 40
    false_alarms = sum(stationary_run(rng, 30, None, 0.0)[0] for _ in range(runs))
    assert false_alarms <= 0.05 * runs, f"{false_alarms} of {runs} stationary runs alerted"
    detected = sum(stationary_run(rng, 1, 0, 0.25)[1] for _ in range(runs))
    assert detected >= 0.95 * runs, f"a 0.25-sd shift was flagged in only {detected} of {runs} runs"
