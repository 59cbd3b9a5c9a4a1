"""One self-contained HTML drift report of a model: its alerts, its versions, and an inline SVG
chart of every metric's history per stage, with the points flagged by drift tests marked. A
flagged metric's chart also draws the reference band its value was tested against in each
monitored period (seasonal where the calendar applies) and says in one line why it alerted.

Pure: data in, a string out (stdlib only; no scripts, fonts or files to fetch), so the page can
be written to S3, attached to an e-mail or opened from disk as is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from html import escape
from typing import Any

from modelops.domain.contract import VALIDATION_STAGES
from modelops.domain.monitoring.reference import Observation

DECILES = tuple(f"d{i}" for i in range(1, 11))
SHARE = "share:"

# Chart geometry (SVG user units) and colours. Viridis for the ordered deciles; a categorical
# palette without red for shares, so that red is left to the flagged markers.
WIDTH, HEIGHT = 380, 190
LEFT, RIGHT, TOP, BOTTOM = 54, 24, 8, 24
VIRIDIS = (
    "#440154", "#482878", "#3e4989", "#31688e", "#26828e",
    "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#e6c619",
)  # fmt: skip
CATEGORICAL = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
    "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79",
)  # fmt: skip
FLAG = "#d62728"
BAND = "#6baed6"
MAX_X_LABELS = 6

CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:24px;
max-width:1280px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
h3{font-size:14px;margin:0 0 4px}.muted{color:#666}.empty{color:#666;font-style:italic}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0 12px}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}th{background:#f4f4f4}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.sev{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-size:12px}
.sev-high{background:#c62828}.sev-medium{background:#ef8f00}.sev-other{background:#777}
summary{cursor:pointer;margin:4px 0}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:14px}
.card{border:1px solid #e2e2e2;border-radius:6px;padding:8px 10px}.card.is-flagged{border-color:#d62728}
.has-flags{color:#d62728;font-weight:600;margin-left:6px}
svg.chart{display:block;width:100%;height:auto;font-size:11px;fill:#555}
svg.chart .axis{stroke:#bbb;stroke-width:1}svg.chart .rule{stroke:#eee;stroke-width:1}
svg.chart polyline{fill:none;stroke-width:1.6}
svg.chart .flag-line{stroke:#d62728;stroke-dasharray:3 3;stroke-width:1}
svg.chart polygon.band{fill:#6baed6;fill-opacity:.25;stroke:none}
svg.chart polyline.expected{stroke:#6baed6;stroke-dasharray:4 3;stroke-width:1.2}
.why{font-size:12.5px;margin:2px 0 4px}
.legend{font-size:11px;color:#444}.legend span{margin-right:6px;white-space:nowrap}
.legend i{display:inline-block;width:9px;height:3px;margin-right:3px;vertical-align:middle}
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
        body = (
            _summary(periods, alerts)
            + _alerts(alerts)
            + _versions(versions)
            + _realized(periods.get("validate_outcomes", {}))
            + _stages(periods, _reasons(alerts))
        )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Drift report: {_e(model)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<h1>Drift report: {_e(model)}</h1>\n"
        f'<p class="muted">Generated at {_e(generated_at)}</p>\n{body}\n</body>\n</html>\n'
    )


# -- text sections -----------------------------------------------------------------------------


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _num(value: Any, digits: int = 4) -> str:
    """Compact numbers for tables and axes; anything else (None, text) as escaped text."""
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _e(value)
    return f"{value:.{digits}g}" if math.isfinite(value) else _e(value)


def _table(headers: Sequence[str], rows: Iterable[Sequence[tuple[str, bool]]]) -> str:
    """Rows of (already escaped cell, numeric?) pairs."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{c}</td>' if n else f"<td>{c}</td>" for c, n in row) + "</tr>\n"
        for row in rows
    )
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>\n"


def _summary(periods: dict[str, dict[str, list[Observation]]], alerts: list[dict[str, Any]]) -> str:
    charts = sum(len(metrics) for metrics in periods.values())
    flagged = sum(1 for metrics in periods.values() for h in metrics.values() if any(p.flags for p in h))
    return (
        f"<p>{len(alerts)} alert(s) · {charts} metric(s) charted · "
        f'<span class="{"has-flags" if flagged else "muted"}">{flagged} with drift flags</span></p>\n'
    )


def _alerts(alerts: list[dict[str, Any]]) -> str:
    if not alerts:
        return '<h2>Alerts</h2>\n<p class="empty">No alerts yet.</p>\n'
    headers = ("stage", "metric", "value", "test", "statistic", "p", "adjusted p", "effect")
    parts = ["<h2>Alerts</h2>\n"]
    # ISO timestamps sort chronologically as text; newest first, and only the newest unfolded.
    for i, alert in enumerate(sorted(alerts, key=lambda a: str(a.get("timestamp", "")), reverse=True)):
        severity = str(alert.get("severity", ""))
        css = f"sev-{severity}" if severity in ("high", "medium") else "sev-other"
        metrics = ", ".join(str(m) for m in alert.get("metrics", []))
        findings = alert.get("findings", [])
        rows = [
            [
                *((_e(f.get(key, "")), False) for key in ("stage", "metric", "value", "test")),
                *((_num(f.get(key)), True) for key in ("statistic", "p_value", "adjusted_p", "effect")),
            ]
            for f in findings
        ]
        summary = f'<p class="why">{_e(alert["summary"])}</p>\n' if alert.get("summary") else ""
        parts.append(
            f'<details class="alert"{" open" if i == 0 else ""}>\n<summary><strong>'
            f'{_e(alert.get("timestamp", ""))}</strong> <span class="sev {css}">{_e(severity)}</span> '
            f'{_e(metrics)} <span class="muted">({len(findings)} finding(s), run '
            f"{_e(alert.get('run_id', ''))})</span></summary>\n{summary}{_table(headers, rows)}</details>\n"
        )
    return "".join(parts)


def _versions(versions: list[dict[str, Any]]) -> str:
    if not versions:
        return '<h2>Model versions</h2>\n<p class="empty">No model versions yet.</p>\n'
    rows = [
        [
            (_e(v.get("version", "")), False),
            (_e(v.get("created_at", "")), False),
            (_num(v.get("test_auc")), True),
            ("★ champion" if v.get("champion") else "", False),
            (_e(v.get("run_id", "")), False),
        ]
        for v in sorted(versions, key=lambda v: str(v.get("created_at", "")))
    ]
    headers = ("version", "created at", "test AUC", "champion", "run")
    return "<h2>Model versions</h2>\n" + _table(headers, rows)


def _reasons(alerts: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """Why each (stage, metric) alerted, from the newest alert that names it."""
    reasons: dict[tuple[str, str], str] = {}
    for alert in sorted(alerts, key=lambda a: str(a.get("timestamp", "")), reverse=True):
        for change in alert.get("changes", []):
            key = (str(change.get("stage", "")), str(change.get("metric", "")))
            reasons.setdefault(key, f"{alert.get('timestamp', '')}: {change.get('why', '')}")
    return reasons


def _stages(periods: dict[str, dict[str, list[Observation]]], reasons: dict[tuple[str, str], str]) -> str:
    # The pipeline's order first, then any other stage.
    order = [s for s in VALIDATION_STAGES if s in periods] + sorted(
        s for s in periods if s not in VALIDATION_STAGES
    )
    order = [s for s in order if periods[s]]  # a stage without metrics has nothing to show
    parts = []
    for stage in order:
        cards = "".join(
            _card(stage, metric, history, reasons.get((stage, metric)))
            for metric, history in periods[stage].items()
        )
        parts.append(f'<h2>{_e(stage)}</h2>\n<div class="grid">\n{cards}</div>\n')
    if not parts:
        return '<h2>Metrics</h2>\n<p class="empty">No drift metadata yet.</p>\n'
    return "".join(parts)


# -- charts ------------------------------------------------------------------------------------


def _realized(metrics: dict[str, list[Observation]]) -> str:
    """Realized AUC and top-decile lift by period, one line per source (the champion's batch
    scores against the shadow challenger's and the online ones)."""
    sources = sorted({m.split(":", 1)[0] for m in metrics if "@" not in m.split(":", 1)[0]})
    if not sources:
        return ""

    def combined(measure: str, value: Callable[[dict[str, float]], float | None]) -> list[Observation]:
        by_period: dict[date, dict[str, float]] = {}
        for source in sources:
            for period in metrics.get(f"{source}:{measure}", []):
                found = value(period.values)
                if found is not None:
                    by_period.setdefault(period.timestamp, {})[source] = found
        return [Observation(day, values) for day, values in sorted(by_period.items())]

    def lift(values: dict[str, float]) -> float | None:
        rates = [values[d] for d in DECILES if d in values]
        overall = sum(rates) / len(rates) if rates else 0.0
        return values["d10"] / overall if overall and "d10" in values else None

    cards = []
    for title, history in (
        ("realized ROC AUC", combined("roc_auc", lambda v: v.get("value"))),
        ("top-decile lift", combined("response_rate", lift)),
    ):
        legend = "".join(
            f'<span><i style="background:{CATEGORICAL[i]}"></i>{_e(source)}</span>'
            for i, source in enumerate(sources)
        )
        cards.append(
            f'<div class="card">\n<h3>{_e(title)}</h3>\n'
            f'<div class="muted legend">by source · {len(history)} period(s)</div>\n'
            f"{_chart('validate_outcomes', title, history, 'by source', sources, CATEGORICAL)}"
            f'<div class="legend">{legend}</div>\n</div>\n'
        )
    return (
        '<h2>Realized performance</h2>\n<p class="muted">Once a scored period\'s outcomes are known: how '
        "each source's scores did (batch = the champion's).</p>\n"
        f'<div class="grid">\n{"".join(cards)}</div>\n'
    )


def _lines(history: list[Observation]) -> tuple[str, list[str]]:
    """Which values to draw: deciles, else category shares, else the mean (e.g. the outcome)."""
    keys = {key for period in history for key in period.values}
    shares = [k for k in keys if k.startswith(SHARE)]
    if shares:
        # Largest categories first, so the legend reads like the distribution.
        peak = {k: max(_finite(p.values.get(k)) or 0.0 for p in history) for k in shares}
        return "category shares", sorted(shares, key=lambda k: (-peak[k], k))
    deciles = [d for d in DECILES if d in keys]
    if deciles:
        return "deciles", deciles
    for fallback in ("value", "mean", "missing", "count"):
        if fallback in keys:
            return fallback, [fallback]
    return "no values", []


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _flags(metric: str, history: list[Observation]) -> dict[tuple[date, str], list[str]]:
    """Flag keys ``<test>:<metric>:<value>`` by (timestamp, value). The metric is matched by
    name because values (``share:<category>``) may contain colons themselves."""
    found: dict[tuple[date, str], list[str]] = {}
    for period in history:
        for flag in period.flags:
            rest = flag.partition(":")[2]
            value = rest[len(metric) + 1 :] if rest.startswith(f"{metric}:") else rest.rpartition(":")[2]
            found.setdefault((period.timestamp, value), []).append(flag)
    return found


def _band_value(metric: str, history: list[Observation]) -> str | None:
    """Which value's reference band to draw: the newest flagged one that has bands, else the
    median or the mean."""
    banded = {value for period in history for value in period.bands}
    for period in reversed(history):
        for flag in period.flags:
            rest = flag.partition(":")[2]
            value = rest[len(metric) + 1 :] if rest.startswith(f"{metric}:") else ""
            if value in banded:
                return value
    return next((v for v in ("d5", "mean") if v in banded), None)


def _card(stage: str, metric: str, history: list[Observation], reason: str | None = None) -> str:
    flags = [flag for period in history for flag in period.flags]
    badge = (
        f'<span class="has-flags" title="{_e(", ".join(dict.fromkeys(flags)))}">⚑ flagged</span>'
        if flags
        else ""
    )
    kind, keys = _lines(history)
    palette = VIRIDIS if kind == "deciles" else CATEGORICAL
    legend = "".join(
        f'<span><i style="background:{palette[i % len(palette)]}"></i>{_e(key.removeprefix(SHARE))}</span>'
        for i, key in enumerate(keys)
    )
    banded = _band_value(metric, history) if flags else None
    if banded is not None:
        legend += f'<span><i style="background:{BAND}"></i>reference band of {_e(banded)}</span>'
    why = ""
    if flags:
        newest = next(p for p in reversed(history) if p.flags)
        text = reason or f"{newest.timestamp.isoformat()}: {', '.join(newest.flags)}"
        why = f'<p class="why"><strong>Why this alert:</strong> {_e(text)}</p>\n'
    return (
        f'<div class="card{" is-flagged" if flags else ""}">\n<h3>{_e(metric)}{badge}</h3>\n'
        f'<div class="muted legend">{_e(kind)} · {len(history)} period(s)</div>\n{why}'
        f"{_chart(stage, metric, history, kind, keys, palette, banded)}"
        f'<div class="legend">{legend}</div>\n</div>\n'
    )


def _chart(
    stage: str,
    metric: str,
    history: list[Observation],
    kind: str,
    keys: list[str],
    palette: Sequence[str],
    banded: str | None = None,
) -> str:
    series = {
        key: [(p.timestamp, v) for p in history if (v := _finite(p.values.get(key))) is not None]
        for key in keys
    }
    band = [
        (p.timestamp, *p.bands[banded])
        for p in history
        if banded is not None and banded in p.bands and all(math.isfinite(v) for v in p.bands[banded])
    ]
    ys = [v for points in series.values() for _, v in points] + [
        v for _, _, low, high in band for v in (low, high)
    ]
    low, high = (min(ys), max(ys)) if ys else (0.0, 1.0)
    # Some room above and below, so extreme lines do not hide in the axis; a constant series
    # gets a band around its value instead of a zero range.
    pad = (high - low) * 0.06 or abs(low) * 0.05 or 0.5
    bottom_value, top_value = low - pad, high + pad
    dates = sorted({p.timestamp for p in history})
    first, span = (dates[0].toordinal(), dates[-1].toordinal() - dates[0].toordinal()) if dates else (0, 0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: date) -> float:
        # Positioned by calendar time, so gaps between periods stay visible.
        return LEFT + (plot_w * (day.toordinal() - first) / span if span else plot_w / 2)

    def y(value: float) -> float:
        return TOP + plot_h * (top_value - value) / (top_value - bottom_value)

    title = f"{stage} · {metric}: {kind} over time"
    out = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg">\n<title>{_e(title)}</title>\n',
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>\n'
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}"/>\n',
    ]
    for value in dict.fromkeys((high, low)):  # the y range's labels, once for a constant series
        out.append(
            f'<line class="rule" x1="{LEFT}" y1="{y(value):.1f}" x2="{LEFT + plot_w}" y2="{y(value):.1f}"/>\n'
            f'<text x="{LEFT - 4}" y="{y(value) + 3.5:.1f}" text-anchor="end">{_num(value)}</text>\n'
        )
    out += _x_labels(dates, x, TOP + plot_h + 16)
    if not ys:
        out.append(
            f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle">no values</text>\n'
        )
    if band:
        outline = [(t, high) for t, _, _, high in band] + [(t, low) for t, _, low, _ in reversed(band)]
        coords = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in outline)
        expected = " ".join(f"{x(t):.1f},{y(e):.1f}" for t, e, _, _ in band)
        label = _e(f"reference band of {banded}: expected value and its 2.5-97.5 % band")
        out.append(f'<polygon class="band" points="{coords}"><title>{label}</title></polygon>\n')
        out.append(f'<polyline class="expected" points="{expected}"><title>{label}</title></polyline>\n')
    for i, (key, points) in enumerate(series.items()):
        if not points:
            continue
        colour, label = palette[i % len(palette)], _e(key.removeprefix(SHARE))
        coords = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in points)
        out.append(f'<polyline points="{coords}" stroke="{colour}"><title>{label}</title></polyline>\n')
        if len(points) == 1:  # a lone point draws no line
            out.append(
                f'<circle cx="{x(points[0][0]):.1f}" cy="{y(points[0][1]):.1f}" r="2.5" fill="{colour}"/>\n'
            )
    out += _markers(_flags(metric, history), series, x, y, TOP, TOP + plot_h)
    out.append("</svg>\n")
    return "".join(out)


def _x_labels(dates: list[date], x: Callable[[date], float], baseline: float) -> list[str]:
    """At most MAX_X_LABELS month labels (YYYY-MM), evenly spaced among the periods' months."""
    months = list(dict.fromkeys(d.strftime("%Y-%m") for d in dates))
    firsts = {label: next(d for d in dates if d.strftime("%Y-%m") == label) for label in months}
    step = max(1, math.ceil(len(months) / MAX_X_LABELS))
    picked = months[::-1][::step]  # counted back from the newest month, which is always labelled
    return [
        f'<text x="{x(firsts[label]):.1f}" y="{baseline}" text-anchor="middle">{label}</text>\n'
        for label in picked
    ]


def _markers(
    flags: dict[tuple[date, str], list[str]],
    series: dict[str, list[tuple[date, float]]],
    x: Callable[[date], float],
    y: Callable[[float], float],
    top: float,
    bottom: float,
) -> list[str]:
    """A red circle on each flagged point; a flag on something not drawn as a line (the whole
    distribution, the categories, the missing share) marks its date on the x axis instead."""
    out = []
    for (day, value), keys in flags.items():
        tooltip = _e(f"{day.isoformat()}: {', '.join(keys)}")
        point = next((v for t, v in series.get(value, []) if t == day), None)
        if point is None:
            out.append(
                f'<line class="flag-line" x1="{x(day):.1f}" y1="{top}" x2="{x(day):.1f}" y2="{bottom}"/>\n'
            )
            cx, cy = x(day), bottom
        else:
            cx, cy = x(day), y(point)
        out.append(
            f'<circle class="flagged" cx="{cx:.1f}" cy="{cy:.1f}" r="4.5" fill="{FLAG}" stroke="#fff" '
            f'stroke-width="1.2"><title>{tooltip}</title></circle>\n'
        )
    return out
