"""Which batch values the model's feature schema refuses, and what a feature's policy does with
them: the batch side of the online API's 422s, so that batch never publishes what online
refuses.

A value is invalid when it is an unseen category, a number outside the accepted range
(training [min, max] widened by ``margin`` x span on each side, as online), or missing where
training never saw the feature missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from modelops.domain.data.features import FeatureInfo, FeatureSchema, is_missing
from modelops.domain.spec import FeatureType


class InvalidDataError(ValueError):
    """Too many values that the model's feature schema refuses: the run publishes nothing."""


def accepted_range(info: FeatureInfo, margin: float) -> tuple[float, float] | None:
    if info.minimum is None or info.maximum is None:
        return None
    slack = margin * (info.maximum - info.minimum)
    return info.minimum - slack, info.maximum + slack


def invalid_mask(raw: np.ndarray, encoded: np.ndarray, info: FeatureInfo, margin: float) -> np.ndarray:
    """Rows whose value of this feature the schema refuses (``raw`` as the query returned it,
    ``encoded`` as the model sees it)."""
    missing = is_missing(raw)
    refused = missing if info.missing_share == 0 else np.zeros(raw.size, dtype=bool)
    if info.type == FeatureType.categorical.value:
        unknown: np.ndarray = refused | (~missing & np.isnan(encoded))  # present, not a known category
        return unknown
    bounds = accepted_range(info, margin)
    if bounds is not None and info.type != FeatureType.boolean.value:
        low, high = bounds
        with np.errstate(invalid="ignore"):
            refused |= ~np.isnan(encoded) & ((encoded < low) | (encoded > high))
    return refused


def apply_policies(
    X: np.ndarray,
    masks: Mapping[str, np.ndarray],
    schema: FeatureSchema,
    policies: Mapping[str, str],
    margin: float,
) -> np.ndarray:
    """X with each feature's refused values treated by its policy: 'missing' makes them NaN,
    'clip' clips numbers into the accepted range (other refused values become NaN), 'fail'
    leaves them for the share check."""
    out = X.copy()
    for j, info in enumerate(schema.features):
        mask, policy = masks[info.name], policies.get(info.name, "fail")
        if policy == "fail" or not mask.any():
            continue
        bounds = accepted_range(info, margin)
        if policy == "clip" and bounds is not None and info.type != FeatureType.categorical.value:
            column = out[:, j]
            clipped = np.clip(column, *bounds)
            out[:, j] = np.where(mask & ~np.isnan(column), clipped, np.where(mask, np.nan, column))
        else:
            out[mask, j] = np.nan
    return out


def refused_features(shares: Mapping[str, float], policies: Mapping[str, str], threshold: float) -> list[str]:
    """Features under the 'fail' policy whose invalid share passes the threshold."""
    return sorted(
        name for name, share in shares.items() if policies.get(name, "fail") == "fail" and share > threshold
    )


def invalid_shares(counts: Iterable[Mapping[str, int]], rows: int) -> dict[str, float]:
    """Each feature's share of the run's ``rows`` that the schema refused, from the chunks'
    counts (features with none left out)."""
    total: dict[str, int] = {}
    for counted in counts:
        for name, count in counted.items():
            total[name] = total.get(name, 0) + count
    return {name: count / rows for name, count in total.items() if count}


def refusal(shares: Mapping[str, float], policies: Mapping[str, str], threshold: float) -> str | None:
    """Why validate_data refuses a scoring run (None: it does not): the 'fail' features whose
    invalid share passes ``threshold``, with their shares and what would score them anyway."""
    refused = refused_features(shares, policies, threshold)
    if not refused:
        return None
    detail = ", ".join(f"{name} {shares[name]:.2%}" for name in refused)
    return (
        f"values the model's schema refuses pass {threshold:.2%} of the rows: {detail} "
        "(unseen categories, numbers outside the accepted range, or missing where training had none; "
        "set features.<name>.on_invalid to 'missing' or 'clip' to score them anyway)"
    )
