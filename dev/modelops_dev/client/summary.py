"""What a run did, as lines a person reads (the CLI and the demo print them): how its extract
reconciled with the source, what the SQL computed outside the window, the repeated rows its
spec's policy dropped, what it decided not to do, the training/serving skew it found, and
realized performance or why there is none."""

from __future__ import annotations

from typing import Any

from modelops.domain.contract import Evidence
from modelops.domain.monitoring.alerts import skew_sentence


def reconciliation_line(reconciled: dict[str, Any] | None) -> str | None:
    if reconciled is None:
        return None
    if reconciled.get("note"):
        return str(reconciled["note"])
    declared = " (the spec declares that its SQL filters rows)" if reconciled.get("filtered") else ""
    return (
        f"rows: {reconciled['extracted_rows']:,} of the {reconciled['source_rows']:,} rows table "
        f"{reconciled['table']!r} holds in the window, counted by {reconciled['column']}{declared}"
    )


def realized_line(outcomes: dict[str, Any] | None) -> str | None:
    """Each source's realized AUC on the period whose outcomes arrived, or why there is none."""
    if outcomes is None:
        return None
    measured = [
        f"{source} {found['version']} AUC {found['roc_auc']:.3f} ({found['rows']:,} rows)"
        for source, found in outcomes.get("realized", {}).items()
        if found.get("roc_auc") is not None
    ]
    if measured:
        return (
            f"realized: scores of {outcomes['outcome_period']} against their outcomes: {', '.join(measured)}"
        )
    return f"realized: not measured: {outcomes.get('note') or 'no scores joined with outcomes'}"


def run_lines(results: dict[str, Any]) -> list[str]:
    """The lines worth reading of a finished run's results (the stage document's)."""
    lines: list[str] = []
    extract = results.get("get_data") or {}
    reconciled = extract.get("reconciliation")
    if (line := reconciliation_line(reconciled)) is not None:
        lines.append(line)
    lines += [f"warning: {warning}" for warning in (reconciled or {}).get("warnings", [])]
    if extract.get("lookback_rows"):
        lines.append(
            f"the SQL computed {extract['lookback_rows']:,} rows of earlier periods for lag and rolling "
            "features (window.lookback_periods); none is scored, trained on or profiled"
        )
    if dropped := extract.get("duplicates"):
        lines.append(
            f"duplicates: kept the {dropped['policy']} row of each entity and period, dropped "
            f"{dropped['rows']:,} rows of {dropped['entities']:,} entity-periods ({dropped['example']})"
        )
    lines += list(extract.get("notes", []))
    for stage in ("validate_data", "validate_outcomes"):
        for found in (results.get(stage) or {}).get("drift", []):
            if found.get("test") == "skew":
                finding = Evidence.model_validate(found)
                lines.append(f"skew ({finding.severity}): {finding.metric} {skew_sentence(finding)}")
    if (line := realized_line(results.get("validate_outcomes"))) is not None:
        lines.append(line)
    return lines
