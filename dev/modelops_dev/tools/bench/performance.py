"""Performance alerts you can trust (modelops_dev.tools.performance_quality): on the seasonal demo
scenario with its seasonal outcome, the share of monthly runs with a performance finding when
nothing changed; a real drop of about 0.05 AUC found in its month or the next; and how far the
estimate made before the outcomes lands from the realized AUC (its mean absolute error, and how
often the realized value falls inside the estimate's 95 % band)."""

from __future__ import annotations

import numpy as np

from modelops_dev.tools.bench.figures import Figure

DROP_SHARE = 0.17  # outcomes turned into a coin: about 0.05 of the model's ~0.81 AUC


def performance(seeds: int = 40, customers: int = 20_000) -> list[Figure]:
    from modelops_dev.tools import performance_quality as quality

    alerted = runs = found = 0
    drops, errors, inside = [], [], []
    for seed in range(seeds):
        prepared = quality.prepare(seed, customers)
        quiet = quality.monitor(prepared)
        runs += len(quiet)
        alerted += sum(month.alerted for month in quiet)
        for month in quiet:
            estimate, realized = month.estimated["roc_auc"], month.realized["roc_auc"]["value"]
            errors.append(abs(estimate.value - realized))
            inside.append(abs(estimate.value - realized) <= 1.96 * estimate.realized_se)
        start = seed % 10
        dropped = quality.monitor(prepared, start, DROP_SHARE)
        found += any("realized:roc_auc" in month.flagged for month in dropped[start : start + 2])
        drops += [
            q.realized["roc_auc"]["value"] - d.realized["roc_auc"]["value"]
            for q, d in zip(quiet[start:], dropped[start:], strict=True)
        ]
    return [
        Figure.limited(
            f"performance.seasonal_runs_with_a_performance_finding_share ({seeds} seeds x 12 months)",
            alerted / runs,
            "share",
            0.04,
        ),
        Figure.at_least(
            f"performance.auc_drop_{float(np.mean(drops)):.3f}_found_within_2_share ({seeds} seeds)",
            found / seeds,
            "share",
            0.90,
        ),
        Figure.reported(
            "performance.estimated_auc_mean_absolute_error (quiet months)", float(np.mean(errors)), "AUC"
        ),
        Figure.reported(
            "performance.realized_auc_inside_the_estimates_95%_band_share", float(np.mean(inside)), "share"
        ),
    ]
