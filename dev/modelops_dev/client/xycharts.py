"""Inline SVG charts on two numeric axes, for the model report (ROC and precision-recall
curves, reliability, the score distribution, lift and gain by decile): the drift report's
look (``modelops.domain.monitoring.charts``: its size, round-numbered ticks, titled axes and
legend) with numbers instead of periods on the x axis. Pure: data in, an SVG string out."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from modelops.domain.monitoring.charts import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH, e, nice_ticks, number


@dataclass(frozen=True)
class Line:
    label: str
    points: list[tuple[float, float]]
    colour: str
    dashed: bool = False
    dots: bool = False  # draw each point too


@dataclass(frozen=True)
class Bars:
    label: str
    bars: list[tuple[float, float, float, float]]  # x from, x to, y from, y to
    colour: str


@dataclass(frozen=True)
class XYChart:
    title: str
    x_label: str
    y_label: str
    lines: list[Line] = field(default_factory=list)
    bars: list[Bars] = field(default_factory=list)
    x_range: tuple[float, float] | None = None  # default: the data's, padded
    y_range: tuple[float, float] | None = None
    x_ticks: list[tuple[float, str]] | None = None  # default: round numbers


def tick_label(value: float) -> str:
    """A tick's number: whole numbers with thousands separators (1,500, not 1.5e+03)."""
    return f"{value:,.0f}" if float(value).is_integer() else number(value)


def _range(values: list[float], fixed: tuple[float, float] | None) -> tuple[float, float]:
    if fixed is not None:
        return fixed
    finite = [v for v in values if math.isfinite(v)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
    pad = (high - low) * 0.06 or abs(low) * 0.05 or 0.5
    return low - pad, high + pad


def render(chart: XYChart) -> str:
    xs = [x for line in chart.lines for x, _ in line.points] + [
        x for b in chart.bars for r in b.bars for x in r[:2]
    ]
    ys = [y for line in chart.lines for _, y in line.points] + [
        y for b in chart.bars for r in b.bars for y in r[2:]
    ]
    x_low, x_high = _range(xs, chart.x_range)
    y_low, y_high = _range(ys, chart.y_range)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(value: float) -> float:
        return LEFT + plot_w * (value - x_low) / ((x_high - x_low) or 1.0)

    def py(value: float) -> float:
        return TOP + plot_h * (y_high - value) / ((y_high - y_low) or 1.0)

    out = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg">\n<title>{e(chart.title)}</title>\n'
    ]
    for tick in nice_ticks(y_low, y_high):
        out.append(
            f'<line class="rule" x1="{LEFT}" y1="{py(tick):.1f}" x2="{LEFT + plot_w}" y2="{py(tick):.1f}"/>\n'
            f'<text class="tick" x="{LEFT - 4}" y="{py(tick) + 3.5:.1f}" text-anchor="end">'
            f"{tick_label(tick)}</text>\n"
        )
    x_ticks = chart.x_ticks
    if x_ticks is None:
        x_ticks = [(t, tick_label(t)) for t in nice_ticks(x_low, x_high)]
    out += [
        f'<text class="tick" x="{px(t):.1f}" y="{TOP + plot_h + 15}" text-anchor="middle">{e(text)}</text>\n'
        for t, text in x_ticks
    ]
    out.append(
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>\n'
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}"/>\n'
        f'<text class="axis-label" x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 4}" text-anchor="middle">'
        f"{e(chart.x_label)}</text>\n"
        f'<text class="axis-label" transform="translate(12 {TOP + plot_h / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">{e(chart.y_label)}</text>\n'
    )
    for group in chart.bars:
        for x0, x1, y0, y1 in group.bars:
            if all(math.isfinite(v) for v in (x0, x1, y0, y1)) and y1 != y0:
                out.append(
                    f'<rect class="bar" x="{px(x0):.1f}" y="{py(max(y0, y1)):.1f}" '
                    f'width="{px(x1) - px(x0):.1f}" height="{abs(py(y0) - py(y1)):.1f}" '
                    f'fill="{group.colour}">'
                    f"<title>{e(group.label)} {number(x0)}–{number(x1)}: {number(y1 - y0, 4)}"
                    "</title></rect>\n"
                )
    for line in chart.lines:
        points = [(x, y) for x, y in line.points if math.isfinite(x) and math.isfinite(y)]
        if not points:
            continue
        coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in points)
        dash = ' stroke-dasharray="5 3"' if line.dashed else ""
        if len(points) > 1:
            out.append(
                f'<polyline points="{coords}" stroke="{line.colour}"{dash}>'
                f"<title>{e(line.label)}</title></polyline>\n"
            )
        if line.dots or len(points) == 1:
            out += [
                f'<circle class="point" cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.6" fill="{line.colour}">'
                f"<title>{e(line.label)}: {number(x, 4)}, {number(y, 4)}</title></circle>\n"
                for x, y in points
            ]
    out.append("</svg>\n")
    return "".join(out)


def legend(chart: XYChart) -> str:
    items = [(line.label, line.colour, "line") for line in chart.lines] + [
        (group.label, group.colour, "band") for group in chart.bars
    ]
    return (
        '<div class="legend">'
        + "".join(
            f'<span><i class="{kind}" style="background:{colour}"></i>{e(label)}</span>'
            for label, colour, kind in items
        )
        + "</div>\n"
    )


def card(chart: XYChart, note: str = "") -> str:
    """The chart in a card with its title, legend and an optional note, as the drift report's."""
    explained = f'<p class="why">{e(note)}</p>\n' if note else ""
    return (
        f'<div class="card figure">\n<h3>{e(chart.title)}</h3>\n'
        f"{render(chart)}{legend(chart)}{explained}</div>\n"
    )
