"""One self-contained HTML monitoring report of a model, for people first:

1. a plain-language summary (``narrative``): what changed and since when, how much it matters
   for the scores and the campaign, and what to do;
2. the performance: realized ROC AUC, precision of the campaign's selection and outcome rate
   per period, the estimate made before the outcomes beside them, the version's test periods;
3. the segments (``drift.segments``): realized and estimated performance per segment, and a
   chart of every segment metric that was flagged;
4. the model versions with their status, and a note when their test windows differ;
5. behind a details toggle, the statistics: every alert's findings, and each metric's history
   per stage (flagged ones first, each with the band it was tested against and why it alerted).

Charts have titled axes; a categorical feature draws its largest categories and "other".
Pure: data in, a string out (stdlib only; no scripts, fonts or files to fetch).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from modelops.domain.contract import VALIDATION_STAGES
from modelops.domain.monitoring import cards
from modelops.domain.monitoring.charts import e, number
from modelops.domain.monitoring.narrative import PERFORMANCE_STAGE, SOURCE, summarise
from modelops.domain.monitoring.reference import Observation
from modelops.domain.monitoring.segments import OTHER, label, split_metric

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:24px;
max-width:1280px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
h3{font-size:14px;margin:0 0 4px}.muted{color:#666}.empty{color:#666;font-style:italic}
.summary{border-left:6px solid #2e7d32;background:#f4faf4;padding:10px 16px;margin:12px 0}
.summary.tone-watch{border-color:#ef8f00;background:#fff8ec}.summary.tone-act{border-color:#c62828;background:#fdf1f1}
.summary .headline{font-size:17px;font-weight:600;margin:4px 0 8px}.summary h3{margin:10px 0 2px}
.summary ul{margin:2px 0 4px 18px;padding:0}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0 12px}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}th{background:#f4f4f4}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.sev{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-size:12px}
.sev-high{background:#c62828}.sev-medium{background:#ef8f00}.sev-other{background:#777}
.status{display:inline-block;padding:0 6px;border-radius:3px;font-size:12px;background:#eee}
.status-champion{background:#2e7d32;color:#fff}.status-rejected{background:#c62828;color:#fff}
.status-retired{background:#999;color:#fff}
summary{cursor:pointer;margin:4px 0}details.details>summary{font-size:16px;font-weight:600}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:14px}
.card{border:1px solid #e2e2e2;border-radius:6px;padding:8px 10px}.card.is-flagged{border-color:#d62728}
.has-flags{color:#d62728;font-weight:600;margin-left:6px}.note{font-size:12.5px;color:#8a5a00}
svg.chart{display:block;width:100%;height:auto;font-size:11px;fill:#555}
svg.chart .axis{stroke:#999;stroke-width:1}svg.chart .rule{stroke:#eee;stroke-width:1}
svg.chart .axis-label{font-size:11.5px;fill:#333}
svg.chart polyline{fill:none;stroke-width:1.7}svg.chart polygon.band{fill-opacity:.35;stroke:none}
svg.chart .flag-line{stroke:#d62728;stroke-dasharray:3 3;stroke-width:1}
.why{font-size:12.5px;margin:2px 0 4px}
.legend{font-size:11px;color:#444}.legend span{margin-right:8px;white-space:nowrap}
.legend i{display:inline-block;width:10px;height:3px;margin-right:3px;vertical-align:middle}
.legend i.band{height:8px;opacity:.5}.legend i.dot{width:7px;height:7px;border-radius:50%}
"""


def render(
    model: str,
    periods: dict[str, dict[str, list[Observation]]],
    alerts: list[dict[str, Any]],
    versions: list[dict[str, Any]],
    generated_at: str,
) -> str:
    """The whole report as one HTML document."""
    has_periods = any(metrics for metrics in periods.values())
    if not (has_periods or alerts or versions):
        body = '<p class="empty">No metadata yet.</p>'
    else:
        champion = next((v for v in versions if v.get("champion")), None)
        body = (
            _summary(periods, alerts)
            + _performance(periods.get(PERFORMANCE_STAGE, {}), champion)
            + _segments(periods, _reasons(alerts))
            + _versions(versions)
            + '<details class="details">\n'
            + "<summary>Statistics: every alert's findings and every metric</summary>\n"
            + _alerts(alerts)
            + _stages(periods, _reasons(alerts))
            + "</details>\n"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Monitoring report: {e(model)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<h1>Monitoring report: {e(model)}</h1>\n"
        f'<p class="muted">Generated at {e(generated_at)}</p>\n{body}\n</body>\n</html>\n'
    )


def _num(value: Any, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return e(value)
    return number(float(value), digits)


def _table(headers: Sequence[str], rows: Iterable[Sequence[tuple[str, bool]]]) -> str:
    """Rows of (already escaped cell, numeric?) pairs."""
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{c}</td>' if n else f"<td>{c}</td>" for c, n in row) + "</tr>\n"
        for row in rows
    )
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>\n"


def _list(title: str, items: list[str]) -> str:
    if not items:
        return ""
    return f"<h3>{e(title)}</h3>\n<ul>" + "".join(f"<li>{e(item)}</li>" for item in items) + "</ul>\n"


def _summary(periods: dict[str, dict[str, list[Observation]]], alerts: list[dict[str, Any]]) -> str:
    found = summarise(periods, alerts)
    return (
        f'<section id="summary" class="summary tone-{found.tone}">\n'
        f'<p class="headline">{e(found.headline)}</p>\n'
        + _list("What changed", found.changed)
        + _list("How much it matters", found.matters)
        + _list("What to do", found.actions)
        + "</section>\n"
    )


# -- performance ---------------------------------------------------------------------------------


def _performance(metrics: dict[str, list[Observation]], champion: dict[str, Any] | None) -> str:
    test = (champion or {}).get("reference") or []
    shown = []
    for measure, y_label in (
        ("roc_auc", "ROC AUC"),
        ("precision", "precision of the campaign's selection"),
        ("outcome_rate", "outcome rate"),
    ):
        chart = cards.measure_chart(metrics, measure, y_label, test=test)
        if chart is not None:
            shown.append(cards.card(chart, flagged=bool(chart.flags)))
    if not shown:
        return '<h2>Performance</h2>\n<p class="empty">No performance measured or estimated yet.</p>\n'
    return (
        '<h2>Performance</h2>\n<p class="muted">Estimated from each period\'s scores as soon as they are '
        "made (the band is where the realized value should fall if the model's calibration holds); "
        "realized once the outcomes arrive; the grey points are the version's own test periods.</p>\n"
        f'<div class="grid">\n{"".join(shown)}</div>\n'
    )


# -- segments ------------------------------------------------------------------------------------


def _segments(periods: dict[str, dict[str, list[Observation]]], reasons: dict[tuple[str, str], str]) -> str:
    performance = periods.get(PERFORMANCE_STAGE, {})
    sliced = sorted({s for m in performance if (s := split_metric(m)[1]) is not None})
    flagged = [
        (stage, metric, history)
        for stage, metrics in periods.items()
        for metric, history in metrics.items()
        if split_metric(metric)[1] is not None and any(o.flags for o in history)
    ]
    if not sliced and not flagged:
        return ""
    rows = []
    for segment in sliced:
        cells: list[tuple[str, bool]] = [(e(segment), False)]
        for name in ("roc_auc", "estimated_roc_auc", "precision", "estimated_precision"):
            newest = max(
                performance.get(f"{SOURCE}:{name}[{segment}]", []), key=lambda o: o.timestamp, default=None
            )
            cells.append(
                (
                    "–"
                    if newest is None
                    else f"{_num(newest.values.get('value'), 3)} ({newest.timestamp:%Y-%m})",
                    True,
                )
            )
        drifted = sorted({split_metric(m)[0] for _, m, h in flagged if split_metric(m)[1] == segment})
        cells.append((e(", ".join(drifted)) or "–", False))
        rows.append(cells)
    headers = (
        "segment",
        "realized ROC AUC",
        "estimated ROC AUC",
        "realized precision",
        "estimated precision",
        "flagged metrics",
    )
    drawn = "".join(cards.metric_card(stage, m, h, reasons.get((stage, m))) for stage, m, h in flagged)
    return (
        '<h2>Segments</h2>\n<p class="muted">Each segment\'s newest realized and estimated performance (the '
        f'period in brackets); segments beyond the largest ones are pooled as "{OTHER}". Flagged segment '
        "metrics are drawn below.</p>\n"
        + (_table(headers, rows) if rows else "")
        + (f'<div class="grid">\n{drawn}</div>\n' if drawn else "")
    )


# -- versions and alerts ---------------------------------------------------------------------------


def _versions(versions: list[dict[str, Any]]) -> str:
    if not versions:
        return '<h2>Model versions</h2>\n<p class="empty">No model versions yet.</p>\n'
    ordered = sorted(versions, key=lambda v: str(v.get("created_at", "")))
    rows = []
    for v in ordered:
        status = "champion" if v.get("champion") else str(v.get("status", ""))
        window = v.get("test_window") or {}
        tested = f"{window.get('start', '')} … {window.get('end', '')}" if window else "–"
        rows.append(
            [
                (e(v.get("version", "")), False),
                (f'<span class="status status-{e(status)}">{e(status)}</span>', False),
                (e(v.get("created_at", "")), False),
                (e(v.get("trained_through", "")), False),
                (e(tested), False),
                (_num(v.get("test_auc")), True),
            ]
        )
    windows = {
        (str((v.get("test_window") or {}).get("start")), str((v.get("test_window") or {}).get("end")))
        for v in ordered
    }
    note = (
        '<p class="note">The versions were tested on different windows, so their test AUCs are not '
        "comparable: the promotion gate compares a candidate with the champion on the same rows.</p>\n"
        if len(windows) > 1
        else ""
    )
    headers = ("version", "status", "created at", "trained through", "test window", "test ROC AUC")
    return "<h2>Model versions</h2>\n" + _table(headers, rows) + note


def _alerts(alerts: list[dict[str, Any]]) -> str:
    if not alerts:
        return '<h2>Alerts</h2>\n<p class="empty">No alerts yet.</p>\n'
    headers = ("stage", "metric", "value", "test", "statistic", "p", "adjusted p", "effect")
    parts = ["<h2>Alerts</h2>\n"]
    for i, alert in enumerate(sorted(alerts, key=lambda a: str(a.get("timestamp", "")), reverse=True)):
        severity = str(alert.get("severity", ""))
        css = f"sev-{severity}" if severity in ("high", "medium") else "sev-other"
        names = ", ".join(label(str(m)) for m in alert.get("metrics", []))
        findings = alert.get("findings", [])
        rows = [
            [
                (e(f.get("stage", "")), False),
                (e(label(str(f.get("metric", "")))), False),
                *((e(f.get(key, "")), False) for key in ("value", "test")),
                *((_num(f.get(key)), True) for key in ("statistic", "p_value", "adjusted_p", "effect")),
            ]
            for f in findings
        ]
        summary = f'<p class="why">{e(alert["summary"])}</p>\n' if alert.get("summary") else ""
        parts.append(
            f'<details class="alert"{" open" if i == 0 else ""}>\n<summary><strong>'
            f'{e(alert.get("timestamp", ""))}</strong> <span class="sev {css}">{e(severity)}</span> '
            f'{e(names)} <span class="muted">({len(findings)} finding(s), run '
            f"{e(alert.get('run_id', ''))})</span></summary>\n{summary}{_table(headers, rows)}</details>\n"
        )
    return "".join(parts)


def _reasons(alerts: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """Why each (stage, metric) alerted, from the newest alert that names it."""
    reasons: dict[tuple[str, str], str] = {}
    for alert in sorted(alerts, key=lambda a: str(a.get("timestamp", "")), reverse=True):
        for change in alert.get("changes", []):
            key = (str(change.get("stage", "")), str(change.get("metric", "")))
            reasons.setdefault(key, f"{alert.get('timestamp', '')}: {change.get('why', '')}")
    return reasons


def _stages(periods: dict[str, dict[str, list[Observation]]], reasons: dict[tuple[str, str], str]) -> str:
    order = [s for s in VALIDATION_STAGES if s in periods and s != PERFORMANCE_STAGE] + sorted(
        s for s in periods if s not in VALIDATION_STAGES
    )
    parts = []
    for stage in order:
        shown = [  # pooled metrics; a segment's only when flagged (the segments section draws it)
            (metric, history)
            for metric, history in periods[stage].items()
            if split_metric(metric)[1] is None or any(o.flags for o in history)
        ]
        shown.sort(key=lambda item: (not any(o.flags for o in item[1]), item[0]))
        if shown:
            drawn = "".join(cards.metric_card(stage, m, h, reasons.get((stage, m))) for m, h in shown)
            parts.append(f'<h2>{e(stage)}</h2>\n<div class="grid">\n{drawn}</div>\n')
    return "".join(parts) or '<h2>Metrics</h2>\n<p class="empty">No drift metadata yet.</p>\n'
