"""Inline SVG line charts for the report: labelled axes (a title for each, round-numbered ticks on
the values, month labels on the periods), lines, shaded bands, points and red markers on
flagged values. Pure: data in, an SVG string out (stdlib only)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from html import escape

WIDTH, HEIGHT = 400, 210
LEFT, RIGHT, TOP, BOTTOM = 62, 26, 10, 42  # room for the newest month label
FLAG = "#d62728"
MAX_X_LABELS = 6
Y_TICKS = 5


@dataclass(frozen=True)
class Series:
    label: str
    points: list[tuple[date, float]]
    colour: str
    dashed: bool = False
    dots: bool = False  # draw each point (sparse or reference values)


@dataclass(frozen=True)
class Band:
    label: str
    points: list[tuple[date, float, float]]  # period, low, high
    colour: str


@dataclass(frozen=True)
class Flag:
    day: date
    value: float | None  # None: the flag is not on a drawn value (marked on the axis)
    label: str


@dataclass(frozen=True)
class Chart:
    title: str
    y_label: str
    series: list[Series]
    bands: list[Band] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    x_label: str = "period"


def e(value: object) -> str:
    return escape(str(value), quote=True)


def number(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}g}" if math.isfinite(value) else e(value)


def nice_ticks(low: float, high: float, count: int = Y_TICKS) -> list[float]:
    """Round-numbered ticks inside [low, high] (steps of 1, 2 or 5 times a power of ten), as
    close to ``count`` of them as those steps allow."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else []
    power = 10 ** math.floor(math.log10((high - low) / max(count - 1, 1)))
    best: list[float] = []
    for step in (m * power for m in (0.5, 1, 2, 5, 10)):
        first = math.ceil(low / step - 1e-9)
        ticks = [round(k * step, 12) for k in range(first, math.floor(high / step + 1e-9) + 1)]
        if not best or abs(len(ticks) - count) < abs(len(best) - count):
            best = ticks
    return best


def render(chart: Chart) -> str:
    values = [v for s in chart.series for _, v in s.points if math.isfinite(v)]
    values += [v for b in chart.bands for _, low, high in b.points for v in (low, high) if math.isfinite(v)]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    pad = (high - low) * 0.08 or abs(low) * 0.05 or 0.5
    bottom_value, top_value = low - pad, high + pad
    days = sorted(
        {d for s in chart.series for d, _ in s.points} | {d for b in chart.bands for d, _, _ in b.points}
    )
    first, span = (days[0].toordinal(), days[-1].toordinal() - days[0].toordinal()) if days else (0, 0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: date) -> float:  # by calendar time, so gaps between periods stay visible
        return LEFT + (plot_w * (day.toordinal() - first) / span if span else plot_w / 2)

    def y(value: float) -> float:
        return TOP + plot_h * (top_value - value) / (top_value - bottom_value)

    out = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg">\n<title>{e(chart.title)}</title>\n'
    ]
    for tick in nice_ticks(bottom_value, top_value):
        out.append(
            f'<line class="rule" x1="{LEFT}" y1="{y(tick):.1f}" x2="{LEFT + plot_w}" y2="{y(tick):.1f}"/>\n'
            f'<text class="tick" x="{LEFT - 4}" y="{y(tick) + 3.5:.1f}" text-anchor="end">'
            f"{number(tick)}</text>\n"
        )
    out.append(
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>\n'
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}"/>\n'
        f'<text class="axis-label" x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 4}" text-anchor="middle">'
        f"{e(chart.x_label)}</text>\n"
        f'<text class="axis-label" transform="translate(12 {TOP + plot_h / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">{e(chart.y_label)}</text>\n'
    )
    out += _x_labels(days, x, TOP + plot_h + 15)
    if not values:
        out.append(
            f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle">no values</text>\n'
        )
    for band in chart.bands:
        if band.points:
            outline = [(d, h) for d, _, h in band.points] + [(d, lo) for d, lo, _ in reversed(band.points)]
            coords = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in outline)
            out.append(
                f'<polygon class="band" points="{coords}" fill="{band.colour}">'
                f"<title>{e(band.label)}</title></polygon>\n"
            )
    for series in chart.series:
        points = [(d, v) for d, v in series.points if math.isfinite(v)]
        if not points:
            continue
        coords = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in points)
        dash = ' stroke-dasharray="5 3"' if series.dashed else ""
        if len(points) > 1 and not series.dots:
            out.append(
                f'<polyline points="{coords}" stroke="{series.colour}"{dash}>'
                f"<title>{e(series.label)}</title></polyline>\n"
            )
        if series.dots or len(points) == 1:
            out += [
                f'<circle class="point" cx="{x(d):.1f}" cy="{y(v):.1f}" r="2.6" fill="{series.colour}">'
                f"<title>{e(series.label)} {d.isoformat()}: {number(v, 4)}</title></circle>\n"
                for d, v in points
            ]
    out += _markers(chart.flags, x, y, TOP, TOP + plot_h)
    out.append("</svg>\n")
    return "".join(out)


def legend(chart: Chart) -> str:
    items = [(s.label, s.colour, "line") for s in chart.series] + [
        (b.label, b.colour, "band") for b in chart.bands
    ]
    if chart.flags:
        items.append(("flagged", FLAG, "dot"))
    return (
        '<div class="legend">'
        + "".join(
            f'<span><i class="{kind}" style="background:{colour}"></i>{e(label)}</span>'
            for label, colour, kind in items
        )
        + "</div>\n"
    )


def _x_labels(days: list[date], x: Callable[[date], float], baseline: float) -> list[str]:
    """At most MAX_X_LABELS month labels (YYYY-MM), counted back from the newest."""
    months = list(dict.fromkeys(d.strftime("%Y-%m") for d in days))
    firsts = {label: next(d for d in days if d.strftime("%Y-%m") == label) for label in months}
    step = max(1, math.ceil(len(months) / MAX_X_LABELS))
    return [
        f'<text class="tick" x="{x(firsts[label]):.1f}" y="{baseline}" text-anchor="middle">{label}</text>\n'
        for label in months[::-1][::step]
    ]


def _markers(
    flags: Sequence[Flag], x: Callable[[date], float], y: Callable[[float], float], top: float, bottom: float
) -> list[str]:
    """A red disc on each flagged value; a flag on something not drawn (the distribution, the
    categories) marks its period on the axis with a dashed line."""
    merged: dict[tuple[date, float | None], list[str]] = {}
    for flag in flags:  # one marker per point, however many tests flagged it
        merged.setdefault((flag.day, flag.value), []).append(flag.label)
    out = []
    for flag in (Flag(day, value, "; ".join(labels)) for (day, value), labels in merged.items()):
        if flag.value is None or not math.isfinite(flag.value):
            out.append(
                f'<line class="flag-line" x1="{x(flag.day):.1f}" y1="{top}" '
                f'x2="{x(flag.day):.1f}" y2="{bottom}"/>\n'
            )
            cx, cy = x(flag.day), bottom
        else:
            cx, cy = x(flag.day), y(flag.value)
        out.append(
            f'<circle class="flagged" cx="{cx:.1f}" cy="{cy:.1f}" r="4.5" fill="{FLAG}" stroke="#fff" '
            f'stroke-width="1.2"><title>{e(flag.label)}</title></circle>\n'
        )
    return out
