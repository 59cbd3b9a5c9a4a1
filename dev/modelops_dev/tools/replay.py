"""Monthly monitoring of a real panel replayed without AWS, the way the pipeline's stages would see
it: a model trained on a window (its last ``test_periods`` months held out as the out-of-time
test sample, calibrated and measured per month), then each later month scored and validated:
its features (pooled and per segment: validate_data's family), its scores against the test
sample's (validate_scores' family), and its performance (validate_outcomes' family: the month's
estimate, and the realized measures of the month before once its outcomes are known). Every
test is the library's own (``domain/monitoring``); only the stores are left out.

Used by ``modelops_dev.tools.employment`` (and by the bench and its slow test).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from modelops.domain.monitoring import calibration, evaluation
from modelops.domain.monitoring import performance as measures
from modelops.domain.monitoring.profiles import (
    OUTCOME_METRIC,
    SCORE_METRIC,
    bounded_sample,
    categorical_profile,
    numeric_profile,
    profile_scores,
)
from modelops.domain.monitoring.reference import Observation
from modelops.domain.monitoring.segments import segment_metric, top_segments
from modelops.domain.periods import add_months
from modelops.domain.spec import Campaign, Drift

# A measure to judge: its period, "estimated" or "realized", its name, value, standard error, rows.
Target = tuple[date, str, str, float, float, float]


@dataclass(frozen=True)
class Panel:
    """Rows of one entity and month: numeric features, categorical ones, a 0/1 outcome."""

    month: np.ndarray  # datetime64[D], each row's month
    numeric: dict[str, np.ndarray]
    categorical: dict[str, np.ndarray]  # text
    outcome: np.ndarray

    def rows(self, day: date) -> np.ndarray:
        return np.asarray(self.month == np.datetime64(day, "D"))


@dataclass
class Month:
    day: date
    features: set[str] = field(default_factory=set)  # flagged metrics (segments: "x[seg=v]")
    scores: set[str] = field(default_factory=set)
    performance: set[str] = field(default_factory=set)  # "realized:<measure>" / "estimated:<measure>"
    notes: list[str] = field(default_factory=list)

    @property
    def alerted(self) -> bool:
        return bool(self.features or self.scores or self.performance)


def print_months(months: list[Month], quiet: tuple[date, date]) -> None:
    """Each month's flagged metrics, then how many months of the quiet year alerted."""
    for month in months:
        flags = sorted(month.features) + sorted(month.scores) + sorted(month.performance)
        print(f"  {month.day}  {', '.join(flags) or '-'}")
    calm = [m for m in months if quiet[0] <= m.day <= quiet[1]]
    print(f"quiet year: {sum(m.alerted for m in calm)} of {len(calm)} months alerted")


def _profiles(
    panel: Panel, rows: np.ndarray, day: date, segments: dict[str, list[str]]
) -> dict[str, Observation]:
    """validate_data's profiles of one month's rows: outcome, features, and per segment."""

    def of(mask: np.ndarray) -> dict[str, Observation]:
        found = {OUTCOME_METRIC: Observation(day, numeric_profile(panel.outcome[mask], with_deciles=False))}
        for name, values in panel.numeric.items():
            found[name] = Observation(day, numeric_profile(values[mask]), bounded_sample(values[mask], 1000))
        for name, values in panel.categorical.items():
            categories = sorted(set(values.tolist()))
            codes = np.array([categories.index(v) for v in values[mask].tolist()], dtype=float)
            found[name] = Observation(day, categorical_profile(codes, categories))
        return found

    out = of(rows)
    for feature, top in segments.items():
        named = np.array([v if v in top else "other" for v in panel.categorical[feature].tolist()])
        for segment in sorted(set(named[rows].tolist())):
            part = of(rows & (named == segment))
            out.update({segment_metric(m, feature, segment): o for m, o in part.items() if m != feature})
    return out


def _decide(
    family: dict[str, list[Observation]], current: dict[str, Observation], settings: Drift, end: date | None
) -> set[str]:
    """One validation's family: every metric's tests, BH, flags stored on the current period."""
    findings = []
    for metric, observation in current.items():
        findings += evaluation.evaluate_metric(metric, observation, family.get(metric, []), settings, end)
    evaluation.decide(findings, settings)
    for metric, observation in current.items():
        keys = tuple(f.key for f in findings if f.metric == metric and f.flagged)
        family.setdefault(metric, []).append(dataclasses.replace(observation, flags=keys))
    return {f.metric for f in findings if f.flagged}


def replay(
    panel: Panel,
    train_as_of: date,
    until: date,
    settings: Drift,
    *,
    training_periods: int = 48,
    test_periods: int = 12,
    campaign: Campaign | None = None,
    features: list[str] | None = None,
) -> list[Month]:
    from sklearn.ensemble import HistGradientBoostingClassifier

    campaign = campaign or Campaign(enabled=False)
    first = add_months(train_as_of, -(training_periods - 1))
    test_start = add_months(train_as_of, -(test_periods - 1))
    days = [d.astype("datetime64[D]").item() for d in np.unique(panel.month)]
    window = [d for d in days if first <= d <= train_as_of]
    names = features or list(panel.numeric)
    categories = {name: sorted(set(values.tolist())) for name, values in panel.categorical.items()}

    def design(rows: np.ndarray) -> np.ndarray:
        columns = [panel.numeric[n][rows] for n in names if n in panel.numeric]
        columns += [
            np.array([categories[n].index(v) for v in panel.categorical[n][rows].tolist()], dtype=float)
            for n in names
            if n in panel.categorical
        ]
        return np.column_stack(columns)

    in_window = (panel.month >= np.datetime64(first, "D")) & (panel.month <= np.datetime64(train_as_of, "D"))
    known = ~np.isnan(panel.outcome)
    fit = in_window & known & (panel.month < np.datetime64(test_start, "D"))
    test = in_window & known & (panel.month >= np.datetime64(test_start, "D"))
    categorical = [n in panel.categorical for n in names]
    model = HistGradientBoostingClassifier(
        max_iter=100, random_state=0, categorical_features=categorical or None
    )
    model.fit(design(fit), panel.outcome[fit])
    test_scores = model.predict_proba(design(test))[:, 1]
    fitted = calibration.fit(test_scores, panel.outcome[test])
    reference = measures.reference_periods(
        fitted, test_scores, panel.outcome[test], panel.month[test], campaign
    )
    segments = {
        name: top_segments(
            {c: float(np.mean(panel.categorical[name][in_window] == c)) for c in categories[name]},
            settings.max_segments,
        )
        for name in settings.segments
    }
    data: dict[str, list[Observation]] = {}
    for day in window:  # the training run's validate_data: the reference
        for metric, observation in _profiles(panel, panel.rows(day), day, segments).items():
            data.setdefault(metric, []).append(observation)
    scores: dict[str, list[Observation]] = {}
    for profile in profile_scores(test_scores, panel.outcome[test], panel.month[test], settings.sample_size):
        scores.setdefault(profile.metric, []).append(
            Observation(profile.timestamp, profile.values, profile.sample)
        )
    months: list[Month] = []
    history: dict[str, list[measures.Measured]] = {}
    previous: tuple[date, dict[str, dict[str, float]]] | None = None
    for day in (d for d in days if train_as_of < d <= until):
        rows = panel.rows(day)
        month = Month(day)
        profiled = _profiles(panel, rows, day, segments)  # a scoring run does not see the outcome yet
        profiled = {m: o for m, o in profiled.items() if not m.startswith(OUTCOME_METRIC)}
        month.features = _decide(data, profiled, settings, train_as_of)
        score = model.predict_proba(design(rows))[:, 1]
        current = {
            p.metric: Observation(day, p.values, p.sample)
            for p in profile_scores(score, None, day, settings.sample_size)
        }
        month.scores = _decide(scores, current, settings, None) & {SCORE_METRIC}
        known_rows = rows & known
        targets: list[Target] = [
            (day, "estimated", measures.ESTIMATED + n, e.value, e.se, float(e.count))
            for n, e in measures.estimated(fitted.apply(score), score, campaign).items()
        ]
        if previous is not None:
            targets += [
                (previous[0], "realized", n, v["value"], v["se"], v["count"]) for n, v in previous[1].items()
            ]
        month.performance = _judge(targets, reference, history, settings)
        if known_rows.any() and np.unique(panel.outcome[known_rows]).size == 2:
            previous = (
                day,
                measures.realized(
                    panel.outcome[known_rows], model.predict_proba(design(known_rows))[:, 1], campaign
                ),
            )
        else:
            previous = None
        months.append(month)
    return months


def _judge(
    targets: list[Target],
    reference: list[dict[str, Any]],
    history: dict[str, list[measures.Measured]],
    settings: Drift,
) -> set[str]:
    """One run's performance family: the month's estimates and the month before's realized."""
    findings = []
    for day, test, name, value, se, count in targets:
        if not math.isfinite(se) or measures.too_small(name, {"count": count}, settings):
            continue
        periods = measures.reference(
            measures.measured_of(reference, name), history.get(name, []), day, settings.trend_periods
        )
        found = measures.judge_period(
            f"batch:{name}", test, measures.Measured(day, value, se, count), periods, settings
        )
        if isinstance(found, evaluation.Finding):
            findings.append((day, name, found, measures.Measured(day, value, se, count)))
    evaluation.decide([f for _, _, f, _ in findings], settings)
    flagged = set()
    for day, name, found, current in findings:
        history.setdefault(name, []).append(dataclasses.replace(current, flagged=found.flagged))
        if found.flagged:
            flagged.add(f"{found.test}:{name.removeprefix(measures.ESTIMATED)}@{day.isoformat()}")
    return flagged
