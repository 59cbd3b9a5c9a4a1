"""Drift by segment on simulated data, without AWS: the seasonal demo scenario with its customers
spread over 20 stores (``store`` = customer id mod 20), profiled pooled and per store as
validate_data profiles a spec with ``drift.segments: [store]``, then monitored month by month
(``drift_quality.monitor``: one Benjamini-Hochberg family over every pooled and segment test).

A change in one store: one feature's level moves by ``size`` reference SDs there only, which
pooled over 20 stores is a twentieth of it, inside the pooled spread.

Used by `make bench` (seeded runs, with targets) and a slow test (one seed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from modelops.domain.monitoring.reference import Observation
from modelops.domain.monitoring.segments import segment_metric
from modelops.domain.spec import Drift
from modelops_dev.demo import synthetic
from modelops_dev.tools.drift_quality import CHANGEABLE, monitor, profile_month

STORES = 20
SETTINGS = Drift(segments=[], max_segments=STORES)  # the spec's drift section, segments aside
REFERENCE = 36


def store_of(customer_id: np.ndarray) -> np.ndarray:
    """Each customer's store, fixed for life."""
    return np.array([f"s{int(c) % STORES:02d}" for c in customer_id.tolist()])


@dataclass(frozen=True)
class StoreChange:
    feature: str
    store: str
    size: float  # reference SDs
    start: int  # month index


def simulate(
    seed: int, customers: int, months: int, change: StoreChange | None = None
) -> list[dict[str, Observation]]:
    """The months' profiles, pooled and per store."""
    generated = synthetic.generate(
        synthetic.DemoConfig(customers=customers, months=months, drift_month=None, seed=seed, seasonal=True)
    )
    if change is not None:
        sd = float(np.nanstd(np.concatenate([t[change.feature] for _, t in generated[:REFERENCE]])))
        for _, table in generated[change.start :]:
            here = store_of(table["customer_id"]) == change.store
            table[change.feature] = np.where(
                here, table[change.feature] + change.size * sd, table[change.feature]
            )
    out = []
    for day, table in generated:
        month = profile_month(day, table)
        stores = store_of(table["customer_id"])
        for store in sorted(set(stores.tolist())):
            rows = stores == store
            part = profile_month(day, {name: values[rows] for name, values in table.items()})
            month.update(
                {segment_metric(metric, "store", store): profile for metric, profile in part.items()}
            )
        out.append(month)
    return out


def quiet_alerted(seeds: range, customers: int = 4000) -> tuple[float, float]:
    """Share of monitored months (a year after 36 reference months) that alert at all, and
    that alert on a store's segment, with nothing changed."""
    alerted = by_segment = monitored = 0
    for seed in seeds:
        months = monitor(simulate(seed, customers, REFERENCE + 12), REFERENCE, SETTINGS)
        alerted += sum(bool(flagged) for flagged in months)
        by_segment += sum(any("[store=" in m for m in flagged) for flagged in months)
        monitored += len(months)
    return alerted / monitored, by_segment / monitored


def found_within_two(seeds: range, size: float = 0.5, customers: int = 4000) -> tuple[float, float]:
    """Share of seeds in which one store's change is flagged in that store's segment in its
    month or the next, and share in which the pooled metric flagged it (the feature rotates,
    the store and the month too)."""
    found = pooled = 0
    for seed in seeds:
        start = REFERENCE + seed % 10
        change = StoreChange(CHANGEABLE[seed % len(CHANGEABLE)], f"s{seed % STORES:02d}", size, start)
        months = monitor(simulate(seed, customers, start + 2, change), REFERENCE, SETTINGS)
        segment = segment_metric(change.feature, "store", change.store)
        found += any(segment in flagged for flagged in months[-2:])
        pooled += any(change.feature in flagged for flagged in months[-2:])
    return found / len(seeds), pooled / len(seeds)
