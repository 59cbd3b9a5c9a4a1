"""Realized performance: once a scored period's outcomes are known, how the scores of each
source (the champion's batch scores, the shadow challenger's, the online ones) actually did.

As metadata rows: ``<source>:roc_auc``, ``:log_loss``, ``:brier``, ``:calibration`` (each a
``value``) and ``<source>:response_rate`` (the outcome rate per score decile, ``d1``..``d10``),
and the same under ``<source>@<version>:`` for the version that scored them.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from modelops.domain.contract import Evidence
from modelops.domain.model import metrics
from modelops.domain.monitoring.profiles import DECILES, Profile

STAGE = "validate_outcomes"


def realized_profiles(
    timestamp: date, source: str, version: str, y: np.ndarray, score: np.ndarray
) -> list[Profile]:
    """Metadata of one source's scores against the outcomes of their period."""
    measured = {
        "roc_auc": metrics.roc_auc(y, score),
        "log_loss": metrics.log_loss(y, score),
        "brier": metrics.brier(y, score),
        "calibration": metrics.calibration(y, score),
    }
    rates = dict(zip(DECILES, metrics.decile_rates(y, score), strict=True))
    profiles = []
    for prefix in (source, f"{source}@{version}"):
        for name, value in measured.items():
            profiles.append(Profile(f"{prefix}:{name}", timestamp, {"value": value, "count": float(y.size)}))
        profiles.append(Profile(f"{prefix}:response_rate", timestamp, {**rates, "count": float(y.size)}))
    return profiles


def performance_drop(
    source: str, y: np.ndarray, score: np.ndarray, expected_auc: float, *, level: float, tolerance: float
) -> Evidence | None:
    """A finding when the realized AUC is below the model's test AUC by more than
    ``tolerance`` and significantly so (DeLong's variance of the realized AUC, one-sided)."""
    auc, error = metrics.auc_with_error(y, score)
    drop = expected_auc - auc
    p_value = metrics.normal_sf(drop / error) if error > 0 else (0.0 if drop > 0 else 1.0)
    if drop <= tolerance or p_value >= level:
        return None
    return Evidence(
        stage=STAGE,
        metric=f"{source}:roc_auc",
        value="value",
        test="realized",
        statistic=round(auc, 6),
        p_value=float(f"{p_value:.4g}"),
        effect=round(drop, 4),
        expected=round(expected_auc, 6),
    )
