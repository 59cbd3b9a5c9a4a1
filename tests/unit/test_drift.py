"""The drift tests against known answers (scipy as the reference, hand-computed bands),
their edge cases, and a seeded statistical check of false alarms and power."""

from datetime import date

import numpy as np
import pytest
from scipy import stats

from modelops.domain import drift
from modelops.domain.drift import Observation
from modelops.domain.profiles import bounded_sample, categorical_profile, numeric_profile
from modelops.domain.spec import Drift

SETTINGS = Drift()


def months(count: int) -> list[date]:
    return [date(2020 + i // 12, i % 12 + 1, 1) for i in range(count)]


def test_trend_matches_linregress():
    values = np.array([1.0, 1.2, 0.9, 1.5, 1.7, 1.6, 2.1, 2.0])
    slope, p_value = drift.trend_test(values)
    reference = stats.linregress(np.arange(8), values)
    assert slope == pytest.approx(reference.slope) and p_value == pytest.approx(reference.pvalue)
    assert drift.trend_test(np.full(8, 3.0)) == (0.0, 1.0)  # a constant series has no trend


def test_ks_matches_ks_2samp():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=800), rng.normal(0.2, 1, size=600)
    statistic, p_value = drift.ks_test(a, b)
    reference = stats.ks_2samp(a, b)
    assert (statistic, p_value) == pytest.approx((reference.statistic, reference.pvalue))


def test_band_is_the_historical_central_95_percent():
    history = np.arange(1.0, 41.0)  # 1..40
    low, high = drift.band(history)
    # numpy's linear quantile: position 0.025 * 39 = 0.975 -> 1 + 0.975; 0.975 * 39 = 38.025 -> 39.025
    assert (low, high) == pytest.approx((1.975, 39.025))


def test_chi2_matches_chi2_contingency_and_handles_a_single_category():
    reference, current = np.array([500.0, 300, 200]), np.array([450.0, 380, 170])
    statistic, p_value = drift.chi2_test(reference, current)
    expected = stats.chi2_contingency(np.vstack([reference, current]), correction=False)
    assert (statistic, p_value) == pytest.approx((expected.statistic, expected.pvalue))
    assert drift.chi2_test(np.array([100.0, 0]), np.array([90.0, 0])) == (0.0, 1.0)


def test_benjamini_hochberg_matches_scipy():
    p = [0.01, 0.04, 0.03, 0.20, 0.001, 0.5]
    assert drift.benjamini_hochberg(p) == pytest.approx(stats.false_discovery_control(p).tolist())


def stationary(rng, periods: int, n: int = 5000, shift: float = 0.0) -> list[Observation]:
    out = []
    for i, day in enumerate(months(periods)):
        values = rng.normal(shift if i == periods - 1 else 0.0, 1.0, n)
        out.append(Observation(day, numeric_profile(values), bounded_sample(values, 1000)))
    return out


def evaluate(
    periods: list[Observation], settings: Drift = SETTINGS, metric: str = "x"
) -> list[drift.Finding]:
    return drift.decide(drift.evaluate_metric(metric, periods[-1], periods[:-1], settings), settings)


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
    # A 0.02 sd shift at n=5000 with a tiny band: significant for the band, but below min_effect.
    periods = stationary(np.random.default_rng(5), 12, shift=0.02)
    assert not any(f.flagged for f in evaluate(periods))


def test_persistence_needs_k_of_the_last_n_runs():
    settings = Drift(persistence={"k": 2, "n": 3})
    finding = drift.Finding("x", "d5", "band", 1.0, 0.0, 1.0, flagged=True)
    assert not drift.persistent(finding, [(), ()], settings)
    assert drift.persistent(finding, [(), ("band:x:d5",)], settings)
    assert not drift.persistent(finding, [(), (), ("band:x:d5",)], settings)  # too long ago


def run_any_alert(rng, features: int, shift_feature: int | None, shift: float) -> tuple[bool, bool]:
    """One simulated run: 10 history periods + a new one, ``features`` N(0,1) columns of 5,000 rows."""
    findings = []
    for j in range(features):
        periods = stationary(rng, 11, shift=shift if j == shift_feature else 0.0)
        findings += drift.evaluate_metric(f"f{j}", periods[-1], periods[:-1], SETTINGS)
    drift.decide(findings, SETTINGS)
    flagged = {f.metric for f in findings if f.flagged}
    return bool(flagged), (shift_feature is not None and f"f{shift_feature}" in flagged)


@pytest.mark.slow
def test_false_alarms_and_power_over_simulated_runs():
    """A seeded sample of the benchmark's check (`make bench` runs 200 of each)."""
    rng = np.random.default_rng(2026)
    runs = 40
    false_alarms = sum(run_any_alert(rng, 30, None, 0.0)[0] for _ in range(runs))
    assert false_alarms <= 0.05 * runs, f"{false_alarms} of {runs} stationary runs alerted"
    detected = sum(run_any_alert(rng, 1, 0, 0.25)[1] for _ in range(runs))
    assert detected >= 0.95 * runs, f"a 0.25-sd shift was flagged in only {detected} of {runs} runs"
