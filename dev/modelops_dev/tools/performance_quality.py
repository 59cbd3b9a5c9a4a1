"""Performance monitoring on simulated data, without AWS: the seasonal demo scenario (a seasonal
outcome: churn spikes every December) with a model trained on 24 months, its calibration and
reference fitted on the next 12 (the out-of-time test sample, one period per month), then 12
months scored and monitored as monthly runs with a one-month outcome lag would: run t tests the
estimated performance of month t (its scores only) and the realized performance of month t - 1
(its outcomes have arrived), one Benjamini-Hochberg family per run, with the same domain code as
validate_outcomes (``domain/monitoring/performance``).

A real drop is simulated as a change of the outcome's relation to the features: from month s
on, a share of customers' outcomes become a coin of the month's own rate (the rate and every
feature unchanged, the AUC lower).

Used by `make bench` (seeded runs, with targets) and a slow test (one seed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from modelops.domain.monitoring import calibration, evaluation
from modelops.domain.monitoring import performance as measures
from modelops.domain.monitoring.calibration import Calibration
from modelops.domain.monitoring.estimate import Estimate
from modelops.domain.spec import Campaign, Drift
from modelops_dev.demo import synthetic
from modelops_dev.tools.drift_quality import NUMERIC, OUTCOME

TRAIN, TEST, MONITORED = 24, 12, 12
CAMPAIGN = Campaign(top_n=200)
TRAINING_ROWS = 60_000  # a sample of the training months: the model's quality is not under test


def features(table: dict[str, np.ndarray]) -> np.ndarray:
    """The churn spec's features as a model reads them (categories one-hot)."""
    columns = [table[name].astype(float) for name in NUMERIC]
    for name, values in (
        ("plan", synthetic.PLANS),
        ("contract", synthetic.CONTRACTS),
        ("region", synthetic.REGIONS),
    ):
        columns += [(table[name] == value).astype(float) for value in values[1:]]
    return np.column_stack(columns)


@dataclass(frozen=True)
class Prepared:
    """A seed's model: its calibration and test periods, and the monitored months' scores."""

    days: list[date]
    calibration: Calibration
    reference: list[dict[str, object]]
    scores: list[np.ndarray]
    outcomes: list[np.ndarray]
    seed: int


def prepare(seed: int, customers: int = 20_000) -> Prepared:
    from sklearn.ensemble import HistGradientBoostingClassifier

    months = synthetic.generate(
        synthetic.DemoConfig(
            customers=customers, months=TRAIN + TEST + MONITORED, drift_month=None, seed=seed, seasonal=True
        )
    )
    X = [features(table) for _, table in months]
    y = [table[OUTCOME].astype(float) for _, table in months]
    rng = np.random.default_rng(seed)
    train_X, train_y = np.vstack(X[:TRAIN]), np.concatenate(y[:TRAIN])
    rows = rng.choice(train_y.size, min(TRAINING_ROWS, train_y.size), replace=False)
    model = HistGradientBoostingClassifier(max_iter=80, learning_rate=0.1, random_state=seed)
    model.fit(train_X[rows], train_y[rows])
    scores = [model.predict_proba(x)[:, 1] for x in X[TRAIN:]]
    test_scores, test_y = np.concatenate(scores[:TEST]), np.concatenate(y[TRAIN : TRAIN + TEST])
    test_months = zip(scores[:TEST], months[TRAIN : TRAIN + TEST], strict=True)
    stamp = np.concatenate([np.full(s.size, np.datetime64(day, "D")) for s, (day, _) in test_months])
    fitted = calibration.fit(test_scores, test_y)
    reference = measures.reference_periods(fitted, test_scores, test_y, stamp, CAMPAIGN)
    return Prepared(
        [day for day, _ in months[TRAIN + TEST :]],
        fitted,
        reference,
        scores[TEST:],
        y[TRAIN + TEST :],
        seed,
    )


def degrade(y: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """``share`` of the outcomes replaced by a coin of the same rate (the AUC falls, the rate not)."""
    changed = y.copy()
    chosen = rng.random(y.size) < share
    changed[chosen] = (rng.random(int(chosen.sum())) < y.mean()).astype(float)
    return changed


@dataclass
class Month:
    day: date
    realized: dict[str, dict[str, float]]
    estimated: dict[str, Estimate]
    flagged: set[str] = field(
        default_factory=set
    )  # "realized:<measure>" / "estimated:<measure>" of this month
    alerted: bool = (
        False  # the run scoring this month sent a performance finding (about it or the one before)
    )


def monitor(
    prepared: Prepared, drop_start: int | None = None, share: float = 0.0, settings: Drift | None = None
) -> list[Month]:
    """Monthly runs over the monitored year; ``drop_start`` (an index) degrades the outcomes."""
    settings = settings or Drift()
    rng = np.random.default_rng(prepared.seed + 1000)
    months: list[Month] = []
    history: dict[str, list[measures.Measured]] = {}
    for index, (day, score, outcome) in enumerate(
        zip(prepared.days, prepared.scores, prepared.outcomes, strict=True)
    ):
        y = degrade(outcome, share, rng) if drop_start is not None and index >= drop_start else outcome
        p = prepared.calibration.apply(score)
        month = Month(day, measures.realized(y, score, CAMPAIGN), measures.estimated(p, score, CAMPAIGN))
        months.append(month)
        targets: list[tuple[Month, str, str, float, float, float]] = [
            (month, "estimated", measures.ESTIMATED + name, e.value, e.se, float(e.count))
            for name, e in month.estimated.items()
        ]
        if index > 0:  # the outcomes of the month before have arrived
            before = months[index - 1]
            targets += [
                (before, "realized", name, v["value"], v["se"], v["count"])
                for name, v in before.realized.items()
            ]
        findings: list[tuple[Month, str, measures.Measured, evaluation.Finding]] = []
        for target, test, name, value, se, count in targets:
            current = measures.Measured(target.day, value, se, count)
            if not math.isfinite(se) or measures.too_small(name, {"count": count}, settings):
                continue
            periods = measures.reference(
                measures.measured_of(prepared.reference, name),
                history.get(name, []),
                target.day,
                settings.trend_periods,
            )
            found = measures.judge_period(f"batch:{name}", test, current, periods, settings)
            if isinstance(found, evaluation.Finding):
                findings.append((target, name, current, found))
        evaluation.decide([f for *_, f in findings], settings)
        for target, name, current, found in findings:
            history.setdefault(name, []).append(
                measures.Measured(current.timestamp, current.value, current.se, current.count, found.flagged)
            )
            if found.flagged:
                target.flagged.add(f"{found.test}:{name.removeprefix(measures.ESTIMATED)}")
                month.alerted = True
    return months
