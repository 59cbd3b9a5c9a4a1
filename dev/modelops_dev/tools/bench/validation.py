"""validate_data's work against one numpy.quantile call."""

from __future__ import annotations

import time

from modelops_dev.tools.bench.figures import Figure


def validation(rows: int = 1_000_000, features: int = 20, history: int = 10) -> list[Figure]:
    """validate_data's work on rows x features (deciles, samples, writes to the sandbox's
    metadata table, drift tests against ``history`` earlier periods) against the floor: the
    same deciles from one ``numpy.quantile`` call over the matrix."""
    from datetime import date

    import numpy as np

    from modelops.domain.data.features import FeatureInfo, FeatureMatrix, FeatureSchema
    from modelops.domain.monitoring.profiles import DECILE_LEVELS, profile_features
    from modelops.domain.periods import add_months
    from modelops.domain.spec import Drift
    from modelops.pipeline import monitoring
    from modelops_dev.sandbox import QUIET, embedded

    rng = np.random.default_rng(0)
    schema = FeatureSchema([FeatureInfo(f"x{j}", "numeric") for j in range(features)])
    settings = Drift()

    def period(day: date, n: int) -> FeatureMatrix:
        X = rng.normal(size=(n, features))
        return FeatureMatrix(
            np.arange(n).astype(str), np.full(n, np.datetime64(day, "D")), X, None, schema.names
        )

    with embedded(environment=QUIET):
        for i in range(history):  # earlier periods, smaller: only their profiles matter here
            day = add_months(date(2024, 1, 1), i)
            monitoring.validate(
                "bench",
                "validate_data",
                f"r{i}",
                day,
                profile_features(period(day, 20_000), schema),
                settings,
                rows=20_000,
                alert=False,
            )
        day = add_months(date(2024, 1, 1), history)
        matrix = period(day, rows)
        started = time.perf_counter()
        profiles = profile_features(matrix, schema, settings.sample_size)
        monitoring.validate("bench", "validate_data", "now", day, profiles, settings, rows=rows, alert=False)
        seconds = time.perf_counter() - started
    started = time.perf_counter()
    np.quantile(matrix.X, DECILE_LEVELS, axis=0)
    floor = time.perf_counter() - started
    return [
        Figure.judged(
            f"validation.{rows:,}x{features}_seconds_vs_numpy_quantile", seconds, "s", floor, target=3.0
        )
    ]
