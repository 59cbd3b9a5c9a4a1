"""How well the drift monitor separates seasons from change, on simulated data."""

from __future__ import annotations

from modelops_dev.tools.bench.figures import Figure


def detection_quality(seeds: int = 40, customers: int = 2000, runs: int = 200) -> list[Figure]:
    """How well the drift monitor separates seasons from change (modelops_dev.tools.drift_quality):
    on the seasonal demo scenario (36 reference months, a year monitored), the share of quiet
    months that alert; a one-feature change of 0.5 SD in level, or 2x in spread, flagged within
    two periods; and the stationary checks (30 N(0, 1) features, 10 history periods: runs that
    alert; a 0.25-SD shift at n = 5,000: runs that flag it). Shares, each with its target."""
    import numpy as np

    from modelops_dev.tools import drift_quality

    rng = np.random.default_rng(2026)
    stationary = sum(drift_quality.stationary_run(rng, 30, None, 0.0)[0] for _ in range(runs)) / runs
    power = sum(drift_quality.stationary_run(rng, 1, 0, 0.25)[1] for _ in range(runs)) / runs
    quiet = drift_quality.seasonal_false_alarms(range(seeds), customers)
    level = drift_quality.detected_within_two(range(seeds), "level", 0.5, customers)
    spread = drift_quality.detected_within_two(range(seeds), "spread", 2.0, customers)
    return [
        Figure.limited(
            f"drift.seasonal_alerted_months_share ({seeds} seeds x 12 months)", quiet, "share", 0.04
        ),
        Figure.limited(
            f"drift.stationary_runs_alerted_share ({runs} runs x 30 features)", stationary, "share", 0.05
        ),
        Figure.at_least(
            f"drift.level_change_0.5sd_flagged_within_2_share ({seeds} seeds)", level, "share", 0.95
        ),
        Figure.at_least(
            f"drift.spread_change_2x_flagged_within_2_share ({seeds} seeds)", spread, "share", 0.95
        ),
        Figure.at_least(f"drift.shift_0.25sd_n5000_flagged_share ({runs} runs)", power, "share", 0.95),
    ]
