"""The report's cards: a chart with its title, legend and why it alerted; a performance
measure's chart (realized, estimated with its band, the version's test periods) and a metric's
history (its deciles, or its largest categories and "other", with the band it was tested against).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from modelops.domain.monitoring import charts
from modelops.domain.monitoring.charts import Band, Chart, Flag, Series, e
from modelops.domain.monitoring.narrative import SOURCE
from modelops.domain.monitoring.reference import Observation
from modelops.domain.monitoring.segments import OTHER, label

DECILES = tuple(f"d{i}" for i in range(1, 11))
SHARE = "share:"
TOP_CATEGORIES = 5  # drawn as their own lines; the rest as "other"
VIRIDIS = (
    "#440154", "#482878", "#3e4989", "#31688e", "#26828e",
    "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#e6c619",
)  # fmt: skip
CATEGORICAL = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#7f7f7f")
REALIZED, ESTIMATED, TEST = "#1f3a93", "#e67e22", "#888888"
BAND, ESTIMATE_BAND = "#6baed6", "#f5c28b"


def finite(value: Any) -> float | None:
    try:
        found = float(value)
    except (TypeError, ValueError):
        return None
    return found if math.isfinite(found) else None


def measure_chart(
    metrics: dict[str, list[Observation]],
    measure: str,
    y_label: str,
    suffix: str = "",
    test: list[Any] | None = None,
) -> Chart | None:
    realized = metrics.get(f"{SOURCE}:{measure}{suffix}", [])
    estimated = metrics.get(f"{SOURCE}:estimated_{measure}{suffix}", [])
    if not realized and not estimated:
        return None
    series = []
    if test:
        points = [(date.fromisoformat(p["period"]), float(p[measure]["value"])) for p in test if measure in p]
        series.append(Series("the version's test periods", points, TEST, dots=True))
    series.append(
        Series(
            "estimated before outcomes",
            [(o.timestamp, o.values["value"]) for o in estimated],
            ESTIMATED,
            dashed=True,
        )
    )
    series.append(Series("realized", [(o.timestamp, o.values["value"]) for o in realized], REALIZED))
    bands = [
        Band(
            "estimate ± 95 % (where realized should fall)",
            [
                (
                    o.timestamp,
                    o.values["value"] - 1.96 * o.values["realized_se"],
                    o.values["value"] + 1.96 * o.values["realized_se"],
                )
                for o in estimated
                if finite(o.values.get("realized_se")) is not None
            ],
            ESTIMATE_BAND,
        ),
        Band(
            "expected from the version's periods",
            [(o.timestamp, o.bands["value"][1], o.bands["value"][2]) for o in realized if "value" in o.bands],
            BAND,
        ),
    ]
    flags = [
        Flag(o.timestamp, o.values.get("value"), f"{o.timestamp.isoformat()}: {', '.join(o.flags)}")
        for o in [*realized, *estimated]
        if o.flags
    ]
    title = f"{y_label}{' in ' + suffix[1:-1] if suffix else ''}"
    return Chart(title, y_label, series, [b for b in bands if b.points], flags)


def card(chart: Chart, note: str = "", flagged: bool = False) -> str:
    badge = '<span class="has-flags">⚑ flagged</span>' if flagged else ""
    return (
        f'<div class="card{" is-flagged" if flagged else ""}">\n<h3>{e(chart.title)}{badge}</h3>\n{note}'
        f"{charts.render(chart)}{charts.legend(chart)}</div>\n"
    )


def _flag_value(metric: str, flag: str) -> str:
    """The value a flag key ``<test>:<metric>:<value>`` is about (metrics may hold colons)."""
    rest = flag.partition(":")[2]
    return rest[len(metric) + 1 :] if rest.startswith(f"{metric}:") else rest.rpartition(":")[2]


def _lines(history: list[Observation]) -> tuple[str, str, list[tuple[str, str, dict[date, float]]]]:
    """(kind, y axis title, lines of (key, label, values by period)): deciles, else the largest
    category shares and "other", else the mean or value."""
    keys = {key for period in history for key in period.values}
    shares = [k for k in keys if k.startswith(SHARE)]
    if shares:
        peak = {k: max(finite(p.values.get(k)) or 0.0 for p in history) for k in shares}
        ordered = sorted(shares, key=lambda k: (-peak[k], k))
        top, rest = ordered[:TOP_CATEGORIES], ordered[TOP_CATEGORIES:]
        lines = [
            (
                k,
                k.removeprefix(SHARE),
                {p.timestamp: v for p in history if (v := finite(p.values.get(k))) is not None},
            )
            for k in top
        ]
        if rest:
            other = {p.timestamp: sum(finite(p.values.get(k)) or 0.0 for k in rest) for p in history}
            lines.append(("", f"{OTHER} ({len(rest)} categories)", other))
        return "category shares", "share of rows", lines
    deciles = [d for d in DECILES if d in keys]
    chosen = deciles or next(([k] for k in ("value", "mean", "missing", "count") if k in keys), [])
    kind = "deciles" if deciles else (chosen[0] if chosen else "no values")
    lines = [
        (k, k, {p.timestamp: v for p in history if (v := finite(p.values.get(k))) is not None})
        for k in chosen
    ]
    return kind, "value" if kind != "deciles" else "value (deciles d1–d10)", lines


def metric_card(stage: str, metric: str, history: list[Observation], reason: str | None) -> str:
    kind, y_label, lines = _lines(history)
    palette = VIRIDIS if kind == "deciles" else CATEGORICAL
    series = [
        Series(name, sorted(values.items()), palette[i % len(palette)])
        for i, (_, name, values) in enumerate(lines)
    ]
    drawn = {key: values for key, _, values in lines if key}
    flags = [
        Flag(
            o.timestamp,
            drawn.get(_flag_value(metric, f), {}).get(o.timestamp),
            f"{o.timestamp.isoformat()}: {f}",
        )
        for o in history
        for f in o.flags
    ]
    banded = next(
        (
            _flag_value(metric, f)
            for o in reversed(history)
            for f in o.flags
            if _flag_value(metric, f) in o.bands
        ),
        None,
    )
    bands = []
    if banded is not None:
        points = [(o.timestamp, o.bands[banded][1], o.bands[banded][2]) for o in history if banded in o.bands]
        bands.append(Band(f"reference band of {banded}", points, BAND))
    note = ""
    if flags:
        newest = next(o for o in reversed(history) if o.flags)
        text = reason or f"{newest.timestamp.isoformat()}: {', '.join(newest.flags)}"
        note = f'<p class="why"><strong>Why this alert:</strong> {e(text)}</p>\n'
    chart = Chart(f"{label(metric)} ({stage}: {kind})", y_label, series, bands, flags)
    return card(chart, note, bool(flags))
