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
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np

from modelops.domain.contract import CollectResult, ContractError, OutcomeGroup, OutcomesResult, StageDoc
from modelops.domain.data import skew
from modelops.domain.data.features import FeatureSchema, encode_column, entity_ids
from modelops.domain.monitoring.performance import STAGE
from modelops.domain.monitoring.profiles import Profile, profile_scores
from modelops.domain.periods import Window, add_periods
from modelops.domain.scores import ScoreSet
from modelops.domain.spec import ModelSpec, SpecError
from modelops.pipeline import monitoring, performance
from modelops.pipeline.common import chunk_list, query_for, read_chunk, spec_of
from modelops.stores import history, layout, metadata, objects, online_log, registry, tabular
from modelops.stores.query import NoDataError, engine_for

Joined = tuple[str, float, float]  # entity, score, outcome

ONLINE = "online"
SEGMENTS = "outcomes/segments.npz"


def _schema(model: str, version: str) -> FeatureSchema:
    return FeatureSchema.from_dict(registry.feature_schema(registry.get_version(model, version)))


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
    tallies = {  # each version's requests, counted for validate_online's skew check
        version: {
            name: counted.to_list()
            for name, counted in skew.from_requests(
                (f for f in found if f["model_version"] == version), _schema(run.model, version)
            ).items()
        }
        for version in versions
    }
    objects.put_json(layout.run_key(run.run_id, "online/tallies.json"), tallies)
    stamp = np.full(entity.size, np.datetime64(run.as_of, "D"))
    objects.put_bytes(
        layout.run_key(run.run_id, "online/scores.npz"), ScoreSet(entity, stamp, score).to_bytes()
    )
    return len(found)


def _segment_codes(doc: StageDoc, spec: ModelSpec, columns: dict[str, np.ndarray]) -> np.ndarray:
    """Each row's code of every segment feature (rows x features, NaN missing), encoded with the
    run's version's schema: what realized performance is sliced by."""
    names = spec.drift.segments
    if not names:
        return np.empty((len(columns[spec.timestamp]), 0))
    schema = _schema(doc.run.model, doc.run.version())
    infos = {info.name: info for info in schema.features}
    rows = len(columns[spec.timestamp])
    return np.column_stack(
        [
            encode_column(columns[spec.column_of(name)], infos[name])
            if name in infos and spec.column_of(name) in columns
            else np.full(rows, np.nan)
            for name in names
        ]
    )


def _outcomes(doc: StageDoc, spec: ModelSpec, period: date) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """entity -> outcome of the period, and entity -> its segment codes, from the spec's query
    (either engine); the SQL sees as far ahead as the outcome lag, so an outcome defined with
    lead() is known."""
    query = query_for(spec, Window(start=period, end=period), lookahead=spec.window.outcome_lag_periods)
    extract = engine_for(spec.source.engine).extract(query, layout.run_key(doc.run.run_id, "outcomes/raw/"))
    found: dict[str, float] = {}
    segments: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for part in extract.parts:
            columns = tabular.read_columns(objects.download_file(part.key, Path(scratch) / "part.parquet"))
            if spec.outcome not in columns:
                raise SpecError(f"model {spec.name!r}: the query returns no outcome column {spec.outcome!r}")
            codes = _segment_codes(doc, spec, columns)
            entities = entity_ids(columns, spec)
            for row, (entity, value) in enumerate(
                zip(entities, _numbers(columns[spec.outcome]), strict=True)
            ):
                if not np.isnan(value):
                    found[str(entity)] = float(value)
                    segments[str(entity)] = codes[row]
    return found, segments


def _numbers(values: np.ndarray) -> np.ndarray:
    return np.ma.filled(np.ma.asarray(values, dtype=np.float64), np.nan)


@dataclass
class _Joins:
    """A period's scores of every (source, version) joined with their outcomes, each entity's
    segment codes (for the batch scores' segments), or why nothing could be joined."""

    groups: dict[tuple[str, str], list[Joined]] = field(default_factory=dict)
    segments: dict[str, np.ndarray] = field(default_factory=dict)
    note: str | None = None


def _own_period(doc: StageDoc, spec: ModelSpec) -> _Joins:
    """With no outcome lag, the outcome is in this run's own extract: each chunk's scores (and
    the shadow's) joined row by row with its outcome column, and this period's online scores
    joined by entity."""
    run = doc.run
    joins = _Joins()
    outcome: dict[str, float] = {}
    for chunk in chunk_list(doc):
        columns = read_chunk(chunk)
        if spec.outcome not in columns:
            return _Joins(
                note=f"the scoring query returns no outcome column {spec.outcome!r} to measure {run.as_of} by"
            )
        codes = _segment_codes(doc, spec, columns)
        values = _numbers(columns[spec.outcome])
        for source, version, name in (
            ("batch", run.version(), "scores.npz"),
            ("shadow", run.shadow_version, "shadow_scores.npz"),
        ):
            if version is None:
                continue
            scored = ScoreSet.from_bytes(objects.get_bytes(layout.chunk_key(run.run_id, chunk.index, name)))
            rows = joins.groups.setdefault((source, version), [])
            rows += [
                (str(e), float(s), float(o))
                for e, s, o in zip(scored.entity, scored.score, values, strict=True)
                if not np.isnan(o)
            ]
            if source == "batch":
                outcome.update((str(e), float(o)) for e, o in zip(scored.entity, values, strict=True))
                joins.segments.update((str(e), row) for e, row in zip(scored.entity, codes, strict=True))
    for row in online_log.of_period(run.model, run.as_of.isoformat()):
        known = outcome.get(row["entity_id"], np.nan)
        if not np.isnan(known):
            joins.groups.setdefault((ONLINE, row["model_version"]), []).append(
                (row["entity_id"], row["score"], known)
            )
    return joins


def _earlier_period(doc: StageDoc, spec: ModelSpec, period: date) -> _Joins:
    """An earlier scored period's scores of every source (from the history) joined with the
    outcomes that have arrived since."""
    scored = history.read(doc.run.model, as_of=period)
    if not scored:
        return _Joins(
            note=f"no scores of {period} in the history to measure (the first scored period is later)"
        )
    try:
        outcome, segments = _outcomes(doc, spec, period)
    except NoDataError:
        outcome, segments = {}, {}
    if not outcome:
        lag = spec.window.outcome_lag_periods
        return _Joins(note=f"no outcomes of {period} in the source yet (outcome lag {lag})")
    joins = _Joins(segments=segments)
    for row in scored:
        entity_id = row["entity_id"]
        if entity_id in outcome:
            joins.groups.setdefault((row["source"], row["model_version"]), []).append(
                (entity_id, row["score"], outcome[entity_id])
            )
    return joins


def collect_outcomes(doc: StageDoc) -> StageDoc:
    """This period's online scores into the history; and the scores of the period whose
    outcomes are now known (this one, with no outcome lag) joined with those outcomes."""
    run = doc.run
    spec = spec_of(run)
    online_rows = _collect_online(doc)
    period = add_periods(run.as_of, -spec.window.outcome_lag_periods, spec.period)
    joins = _own_period(doc, spec) if period == run.as_of else _earlier_period(doc, spec, period)
    note = joins.note
    if joins.segments:  # each joined entity's segment codes, for realized performance per segment
        entities = sorted(joins.segments)
        objects.put_bytes(
            layout.run_key(run.run_id, SEGMENTS),
            performance.encode_segments(
                np.array(entities, dtype=str), np.array([joins.segments[e] for e in entities])
            ),
        )
    groups: list[OutcomeGroup] = []
    for (source, version), rows in sorted(joins.groups.items()):
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
    if not groups and note is None:
        note = f"none of the scores of {period} has an outcome yet"
    doc.results.collect_outcomes = CollectResult(
        outcome_period=period, groups=groups, online_rows=online_rows, note=note
    )
    return doc


def validate_outcomes(doc: StageDoc) -> StageDoc:
    run = doc.run
    spec = spec_of(run)
    collected = doc.results.collect_outcomes
    if collected is None:
        raise ContractError("validate_outcomes needs collect_outcomes' result")
    result = OutcomesResult(outcome_period=collected.outcome_period, note=collected.note)
    skipped: list[str] = []
    if collected.online_rows:
        online = ScoreSet.from_bytes(objects.get_bytes(layout.run_key(run.run_id, "online/scores.npz")))
        checked = monitoring.validate(
            run.model,
            "validate_online",
            run.run_id,
            run.as_of,
            profile_scores(online.score, None, run.as_of, spec.drift.sample_size),
            spec.drift,
            rows=online.rows,
            alert=False,
            reference_stage="validate_model",
        )
        tallied = objects.get_json(layout.run_key(run.run_id, "online/tallies.json"))
        skewed = [
            finding
            for version, counts in sorted(tallied.items())
            for finding in skew.findings(
                _schema(run.model, version),
                {name: skew.Tally.from_list(values) for name, values in counts.items()},
                spec.skew,
            )
        ]
        evidence = monitoring.skew_evidence("validate_online", run.as_of, skewed)
        result.online_rows, result.drift = online.rows, [*evidence, *checked.drift]
    profiles: list[Profile] = []
    targets: list[tuple[str, date, str]] = []
    for group in collected.groups:
        joined = ScoreSet.from_bytes(objects.get_bytes(group.key))
        if joined.outcome is None or np.unique(joined.outcome).size < 2:
            value = "no outcomes" if joined.outcome is None else f"every outcome is {joined.outcome[0]:g}"
            skipped.append(f"{group.source} {group.version}: {value}, and AUC needs both classes")
            continue
        found = performance.realized_profiles(
            doc,
            spec,
            collected.outcome_period,
            group.source,
            group.version,
            joined,
            layout.run_key(run.run_id, SEGMENTS),
        )
        profiles += found
        result.realized[group.source] = {
            "version": group.version,
            "rows": joined.rows,
            **{
                p.metric.partition(":")[2]: round(float(p.values["value"]), 6)
                for p in found
                if p.metric.partition(":")[0] == group.source and "value" in p.values and "[" not in p.metric
            },
        }
        if group.source == performance.BATCH:
            targets.append(("realized", collected.outcome_period, group.version))
    estimated = performance.estimated_profiles(doc, spec)
    if estimated:
        targets.append(("estimated", run.as_of, run.version()))
        result.estimated = {
            "period": run.as_of.isoformat(),
            "version": run.version(),
            **performance.summary(estimated),
        }
    metadata.write_profiles(run.model, STAGE, run.run_id, [*profiles, *estimated])
    judged = performance.judge(run.model, spec, targets)
    result.drift += judged.evidence
    result.notes += judged.notes
    if skipped and not result.realized:
        result.note = f"realized performance of {collected.outcome_period} not measured: " + "; ".join(
            skipped
        )
    doc.results.validate_outcomes = result
    return doc
