"""Detection quality of the drift monitor on simulated data, without AWS: the months of the
demo data are profiled as validate_data profiles them, then monitored month by month as the
scoring runs would (reference = the periods up to the model's training end).

Used by `make bench` (seeded runs, with targets) and by the unit tests (a few seeds).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

import numpy as np

from modelops.domain.monitoring import evaluation
from modelops.domain.monitoring.profiles import bounded_sample, categorical_profile, numeric_profile
from modelops.domain.monitoring.reference import Observation
from modelops.domain.spec import Drift
from modelops_dev.demo import synthetic

NUMERIC = ("age", "monthly_charges", "data_usage_gb", "tenure_months", "support_calls", "late_payments")
CATEGORICAL = {
    "region": list(synthetic.REGIONS),
    "plan": list(synthetic.PLANS),
    "contract": list(synthetic.CONTRACTS),
}
OUTCOME = "churned_next_month"
CHANGEABLE = ("monthly_charges", "data_usage_gb", "age")  # the power runs change one of these


@dataclass(frozen=True)
class Change:
    """One feature changed from month ``start`` on: its level by ``size`` reference SDs
    ('level'), or its spread around the month's mean by the factor ``size`` ('spread')."""

    feature: str
    kind: str
    size: float
    start: int


def profile_month(day: date, table: dict[str, np.ndarray], sample_size: int = 1000) -> dict[str, Observation]:
    """One month's profiles, as validate_data computes them for the churn spec."""
    out = {"outcome": Observation(day, numeric_profile(table[OUTCOME].astype(float), with_deciles=False))}
    for name in NUMERIC:
        values = table[name].astype(float)
        out[name] = Observation(day, numeric_profile(values), bounded_sample(values, sample_size))
    for name, categories in CATEGORICAL.items():
        codes = np.array([categories.index(v) for v in table[name].tolist()], dtype=float)
        out[name] = Observation(day, categorical_profile(codes, categories))
    return out


def apply_change(months: list[tuple[date, dict[str, np.ndarray]]], change: Change, reference: int) -> None:
    """Change one feature in place from month ``change.start`` on (SD of the reference months)."""
    sd = float(np.nanstd(np.concatenate([table[change.feature] for _, table in months[:reference]])))
    for _, table in months[change.start :]:
        column = table[change.feature].astype(float)
        if change.kind == "level":
            table[change.feature] = column + change.size * sd
        else:
            centre = np.nanmean(column)
            table[change.feature] = centre + change.size * (column - centre)


def simulate(
    seed: int, customers: int, months: int, change: Change | None = None, reference: int = 36
) -> list[dict[str, Observation]]:
    """The seasonal scenario's monthly profiles (with ``change`` applied, if any)."""
    config = synthetic.DemoConfig(
        customers=customers, months=months, drift_month=None, seed=seed, seasonal=True
    )
    generated = synthetic.generate(config)
    if change is not None:
        apply_change(generated, change, reference)
    return [profile_month(day, table) for day, table in generated]


def monitor(
    profiles: list[dict[str, Observation]], reference: int, settings: Drift, until: int | None = None
) -> list[set[str]]:
    """Monitor every month after the first ``reference`` ones (up to ``until``), as monthly
    runs would: each month is tested against the reference (the model trained on the first
    ``reference`` months) and its flags are stored for the runs after it. Returns the flagged
    metrics of each monitored month."""
    history = [dict(month) for month in profiles]
    reference_end = next(iter(history[reference - 1].values())).timestamp
    flagged_months = []
    for index in range(reference, until or len(history)):
        findings = []
        for metric, current in history[index].items():
            earlier = [month[metric] for month in history[:index]]
            findings += evaluation.evaluate_metric(metric, current, earlier, settings, reference_end)
        evaluation.decide(findings, settings)
        flagged = {f.metric for f in findings if f.flagged}
        for metric in history[index]:
            keys = tuple(f.key for f in findings if f.metric == metric and f.flagged)
            history[index][metric] = dataclasses.replace(history[index][metric], flags=keys)
        flagged_months.append(flagged)
    return flagged_months


def seasonal_false_alarms(seeds: range, customers: int = 2000, settings: Drift | None = None) -> float:
    """Share of monitored months (a year after a 36-month reference) that alert, over seeds."""
    alerted = monitored = 0
    for seed in seeds:
        months = monitor(simulate(seed, customers, 48), 36, settings or Drift())
        alerted += sum(bool(flagged) for flagged in months)
        monitored += len(months)
    return alerted / monitored


def detected_within_two(
    seeds: range, kind: str, size: float, customers: int = 2000, settings: Drift | None = None
) -> float:
    """Share of seeded runs in which a changed feature is flagged in the month it changes or
    the one after (the feature rotates over CHANGEABLE, the change month over the year)."""
    found = 0
    for seed in seeds:
        start = 36 + seed % 10
        change = Change(CHANGEABLE[seed % len(CHANGEABLE)], kind, size, start)
        months = monitor(simulate(seed, customers, start + 2, change), 36, settings or Drift())
        found += any(change.feature in flagged for flagged in months[-2:])
    return found / len(seeds)


def stationary_run(
    rng: np.random.Generator, features: int, shift_feature: int | None, shift: float, rows: int = 5000
) -> tuple[bool, bool]:
    """One simulated run of the stationary check: 10 history periods and a new one of
    ``features`` N(0, 1) columns of ``rows`` rows, ``shift`` sd added to one feature's new period.
    Returns (any flag, the shifted feature flagged)."""
    days = [date(2020 + i // 12, i % 12 + 1, 1) for i in range(11)]
    findings = []
    levels = (np.arange(1, 11) - 0.5) / 10
    for j in range(features):
        values = rng.normal(size=(11, rows))
        if j == shift_feature:
            values[-1] += shift
        deciles = np.quantile(values, levels, axis=1).T
        periods = [
            Observation(
                day,
                {
                    "count": float(rows),
                    "missing": 0.0,
                    "mean": float(row.mean()),
                    **{f"d{k + 1}": float(q) for k, q in enumerate(quantiles)},
                },
                row[:1000],  # iid rows: the first 1,000 are a random sample
            )
            for day, row, quantiles in zip(days, values, deciles, strict=True)
        ]
        findings += evaluation.evaluate_metric(f"f{j}", periods[-1], periods[:-1], Drift())
    evaluation.decide(findings, Drift())
    flagged = {f.metric for f in findings if f.flagged}
    return bool(flagged), (shift_feature is not None and f"f{shift_feature}" in flagged)
