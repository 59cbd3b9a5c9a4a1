"""Small samples: every test at 100 and 200 rows a period (modelops_dev.tools.drift_quality): the
seasonal demo scenario with that many customers (a panel renewed slowly: its composition wanders),
the share of quiet months that alert, and per test (band, KS, chi-square, trend) the share of
months it flags; the stationary check at the same sizes; and a level change of one SD found
within two periods."""

from __future__ import annotations

import dataclasses

import numpy as np

from modelops_dev.tools.bench.figures import Figure


def _by_test(seeds: range, customers: int) -> tuple[float, dict[str, float]]:
    from modelops.domain.monitoring import evaluation
    from modelops.domain.spec import Drift
    from modelops_dev.tools import drift_quality

    settings = Drift()
    alerted, months, tests = 0, 0, {"band": 0, "ks": 0, "chi2": 0, "trend": 0}
    for seed in seeds:
        history = [dict(month) for month in drift_quality.simulate(seed, customers, 48)]
        end = next(iter(history[35].values())).timestamp
        for index in range(36, 48):
            findings = [
                finding
                for metric, current in history[index].items()
                for finding in evaluation.evaluate_metric(
                    metric, current, [m[metric] for m in history[:index]], settings, end
                )
            ]
            evaluation.decide(findings, settings)
            flagged = [f for f in findings if f.flagged]
            months += 1
            alerted += bool(flagged)
            for test in {f.test for f in flagged}:
                tests[test] += 1
            for metric in history[index]:
                keys = tuple(f.key for f in flagged if f.metric == metric)
                history[index][metric] = dataclasses.replace(history[index][metric], flags=keys)
    return alerted / months, {test: count / months for test, count in tests.items()}


def small_samples(seeds: int = 40, runs: int = 200) -> list[Figure]:
    from modelops_dev.tools import drift_quality

    figures = []
    for customers in (100, 200):
        share, tests = _by_test(range(seeds), customers)
        figures.append(
            Figure.limited(
                f"small.seasonal_{customers}_rows_alerted_months_share ({seeds} seeds x 12 months)",
                share,
                "share",
                0.04,
            )
        )
        figures += [
            Figure.reported(f"small.seasonal_{customers}_rows_{test}_flagged_months_share", value, "share")
            for test, value in tests.items()
        ]
        rng = np.random.default_rng(customers)
        stationary = (
            sum(drift_quality.stationary_run(rng, 30, None, 0.0, customers)[0] for _ in range(runs)) / runs
        )
        figures.append(
            Figure.limited(
                f"small.stationary_{customers}_rows_runs_alerted_share ({runs} runs x 30 features)",
                stationary,
                "share",
                0.05,
            )
        )
        level = drift_quality.detected_within_two(range(seeds), "level", 1.0, customers)
        figures.append(
            Figure.reported(f"small.level_change_1sd_{customers}_rows_flagged_within_2_share", level, "share")
        )
    return figures
