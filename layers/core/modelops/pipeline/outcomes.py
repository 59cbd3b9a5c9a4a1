"""What happened after scoring, in the scoring flow before its alert:

- collect_outcomes (a DuckDB function): the online scores that were joined with this run's
  period's batch features go into the score history (source=online); and once the outcomes
  of an earlier scored period are known (the spec's outcome lag), that period's scores of
  every source are joined with them.
- validate_outcomes (a SciPy function): the online scores are validated like batch scores
  (stage validate_online); the realized performance of each source and version goes into the
  metadata (stage validate_outcomes), and a real drop of the champion's AUC below its test
  AUC becomes a finding of the run's one alert.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

import numpy as np

from modelops.domain.contract import CollectResult, ContractError, OutcomeGroup, OutcomesResult, StageDoc
from modelops.domain.data.features import entity_ids
from modelops.domain.monitoring import performance
from modelops.domain.monitoring.profiles import profile_scores
from modelops.domain.periods import Window, add_periods
from modelops.domain.scores import ScoreSet
from modelops.pipeline import monitoring
from modelops.stores import history, layout, objects, online_log, registry, tabular
from modelops.stores.query import NoDataError, Query, engine_for
from modelops.stores.specs import load_spec

ONLINE = "online"
# How far the realized AUC may fall below the test AUC before it is a finding (and only when
# the drop is also significant).
AUC_TOLERANCE = 0.02


def _collect_online(doc: StageDoc) -> int:
    """The online scores of this period into the history (source=online) and the run's prefix."""
    run = doc.run
    found = online_log.of_period(run.model, run.as_of.isoformat())
    if not found:
        return 0
    entity = np.array([f["entity_id"] for f in found], dtype=str)
    score = np.array([f["score"] for f in found], dtype=np.float64)
    versions = sorted({f["model_version"] for f in found})
    staged = []
    for index, version in enumerate(versions):  # one part per model version that answered
        rows = np.array([f["model_version"] == version for f in found])
        scored_at = max(
            datetime.fromisoformat(f["scored_at"]) for f in found if f["model_version"] == version
        )
        key = layout.run_key(run.run_id, f"online/part-{index:05d}.parquet")
        history.stage_part(key, run.as_of, entity[rows], score[rows], version, "online", scored_at, ONLINE)
        staged.append(key)
    history.publish(run.model, run.as_of, ONLINE, staged)
    stamp = np.full(entity.size, np.datetime64(run.as_of, "D"))
    objects.put_bytes(
        layout.run_key(run.run_id, "online/scores.npz"), ScoreSet(entity, stamp, score).to_bytes()
    )
    return len(found)


def _outcomes(doc: StageDoc, period: Window) -> dict[str, float]:
    """entity -> outcome of the period, from the spec's query (either engine)."""
    spec = load_spec(doc.run.model)
    query = Query(
        spec.source.sql,
        spec.source.tables,
        period.days(spec.period),
        part_rows=max(spec.scoring.chunk_rows, 1),
    )
    extract = engine_for(spec.source.engine).extract(query, layout.run_key(doc.run.run_id, "outcomes/raw/"))
    found: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for part in extract.parts:
            columns = tabular.read_columns(objects.download_file(part.key, Path(scratch) / "part.parquet"))
            outcome = np.ma.filled(np.ma.asarray(columns[spec.outcome], dtype=np.float64), np.nan)
            for entity, value in zip(entity_ids(columns, spec), outcome, strict=True):
                if not np.isnan(value):
                    found[str(entity)] = float(value)
    return found


def collect_outcomes(doc: StageDoc) -> StageDoc:
    run = doc.run
    spec = load_spec(run.model)
    online_rows = _collect_online(doc)
    period = add_periods(run.as_of, -spec.window.outcome_lag_periods, spec.period)
    groups: list[OutcomeGroup] = []
    scored = history.read(run.model, as_of=period)
    if scored and period < run.as_of:
        try:
            outcome = _outcomes(doc, Window(start=period, end=period))
        except NoDataError:
            outcome = {}
        by_group: dict[tuple[str, str], list[tuple[str, float, float]]] = {}
        for row in scored:
            entity_id = row["entity_id"]
            if entity_id in outcome:
                group = (row["source"], row["model_version"])
                by_group.setdefault(group, []).append((entity_id, row["score"], outcome[entity_id]))
        for (source, version), rows in sorted(by_group.items()):
            entity = np.array([r[0] for r in rows], dtype=str)
            joined = ScoreSet(
                entity,
                np.full(entity.size, np.datetime64(period, "D")),
                np.array([r[1] for r in rows], dtype=np.float64),
                np.array([r[2] for r in rows], dtype=np.float64),
            )
            stored = layout.run_key(run.run_id, f"outcomes/{source}@{version}.npz")
            objects.put_bytes(stored, joined.to_bytes())
            groups.append(OutcomeGroup(source=source, version=version, rows=joined.rows, key=stored))
    doc.results.collect_outcomes = CollectResult(
        outcome_period=period, groups=groups, online_rows=online_rows
    )
    return doc


def validate_outcomes(doc: StageDoc) -> StageDoc:
    run = doc.run
    spec = load_spec(run.model)
    collected = doc.results.collect_outcomes
    if collected is None:
        raise ContractError("validate_outcomes needs collect_outcomes' result")
    result = OutcomesResult(outcome_period=collected.outcome_period)
    if collected.online_rows:
        online = ScoreSet.from_bytes(objects.get_bytes(layout.run_key(run.run_id, "online/scores.npz")))
        profiles = profile_scores(online.score, None, run.as_of, spec.drift.sample_size)
        checked = monitoring.validate(
            run.model,
            "validate_online",
            run.run_id,
            run.as_of,
            profiles,
            spec.drift,
            rows=online.rows,
            alert=False,
            reference_stage="validate_model",
        )
        result.online_rows, result.drift = online.rows, list(checked.drift)
    for group in collected.groups:
        joined = ScoreSet.from_bytes(objects.get_bytes(group.key))
        if joined.outcome is None or np.unique(joined.outcome).size < 2:
            continue  # one class only: no AUC to measure yet
        profiles = performance.realized_profiles(
            collected.outcome_period, group.source, group.version, joined.outcome, joined.score
        )
        checked = monitoring.validate(
            run.model,
            performance.STAGE,
            run.run_id,
            collected.outcome_period,
            profiles,
            spec.drift,
            rows=joined.rows,
            alert=False,
        )
        result.drift += checked.drift
        realized = {
            p.metric.split(":", 1)[1]: p.values.get("value")
            for p in profiles
            if p.metric.startswith(f"{group.source}:")
        }
        result.realized[group.source] = {
            "version": group.version,
            "rows": joined.rows,
            **{name: round(float(value), 6) for name, value in realized.items() if value is not None},
        }
        if group.source == "batch":
            expected = registry.get_version(run.model, group.version).test_auc
            dropped = performance.performance_drop(
                group.source,
                joined.outcome,
                joined.score,
                expected,
                level=spec.promotion.level,
                tolerance=AUC_TOLERANCE,
            )
            if dropped is not None:
                result.drift.append(dropped)
    doc.results.validate_outcomes = result
    return doc
