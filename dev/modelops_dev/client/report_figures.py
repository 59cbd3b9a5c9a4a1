"""The test sample's figures in the model report (``model_report``): the six charts (ROC,
precision-recall, reliability, score distribution, lift and gain by decile), the decile table,
the campaign rule's selection and permutation importance, from a version's ``metrics.json``;
and the report's cell formats. Pure: data in, HTML strings out."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from modelops.domain.monitoring.charts import e, number
from modelops_dev.client import xycharts
from modelops_dev.client.xycharts import Bars, Line, XYChart

MODEL, REFERENCE, POSITIVE, NEGATIVE = "#1f3a93", "#888888", "#e67e22", "#6baed6"


def num(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return e(value)
    return f"{value:,.0f}" if float(value).is_integer() and abs(value) >= 1 else number(float(value), digits)


def pct(value: Any) -> str:
    return "–" if value is None or not math.isfinite(float(value)) else f"{float(value):.1%}"


def table(headers: Sequence[str], rows: Iterable[Sequence[tuple[str, bool]]], css: str = "") -> str:
    """Rows of (already escaped cell, numeric?) pairs."""
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{c}</td>' if n else f"<td>{c}</td>" for c, n in row) + "</tr>\n"
        for row in rows
    )
    classes = f' class="{css}"' if css else ""
    return f"<table{classes}>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>\n"


def pairs(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table of (label, already escaped value)."""
    body = "".join(f"<tr><th>{e(label)}</th><td>{value}</td></tr>\n" for label, value in rows)
    return f'<table class="card-table">\n<tbody>\n{body}</tbody>\n</table>\n'


def missing(what: str) -> str:
    return (
        f'<p class="empty">{e(what)}: this version was registered before versions kept their figures.</p>\n'
    )


def _unit(label: str, points: list[tuple[float, float]]) -> list[Line]:
    return [
        Line(label, points, MODEL),
        Line("a score that knows nothing", [(0.0, 0.0), (1.0, 1.0)], REFERENCE, True),
    ]


def charts(figures: dict[str, Any]) -> list[tuple[XYChart, str]]:
    """The test sample's six charts, each with a note on how to read it."""
    unit = (0.0, 1.0)
    roc, pr = figures["roc"], figures["precision_recall"]
    rate = float(figures["outcome_rate"])
    reliability = figures["reliability"]
    histogram = figures["score_histogram"]
    edges = histogram["edges"]
    deciles = figures["deciles"]
    stacked = [
        (edges[k], edges[k + 1], n, n + p)
        for k, (n, p) in enumerate(zip(histogram["negatives"], histogram["positives"], strict=True))
    ]
    decile_ticks = [(float(d["decile"]), str(int(d["decile"]))) for d in deciles]
    return [
        (
            XYChart(
                "ROC curve",
                "false positive rate",
                "true positive rate",
                _unit(f"ROC (AUC {num(figures['roc_auc'])})", list(zip(roc["fpr"], roc["tpr"], strict=True))),
                x_range=unit,
                y_range=unit,
            ),
            "Each point: a threshold; the higher and further left, the better.",
        ),
        (
            XYChart(
                "Precision-recall curve",
                "recall",
                "precision",
                [
                    Line(
                        f"precision-recall (AP {num(figures['average_precision'])})",
                        list(zip(pr["recall"], pr["precision"], strict=True)),
                        MODEL,
                    ),
                    Line(f"outcome rate {pct(rate)}", [(0.0, rate), (1.0, rate)], REFERENCE, True),
                ],
                x_range=unit,
                y_range=unit,
            ),
            "Precision among the rows at or above each threshold against the share of positives found.",
        ),
        (
            XYChart(
                "Reliability (calibration)",
                "mean score in the bin",
                "observed outcome rate",
                [
                    Line(
                        "observed, per score bin",
                        [(b["mean_score"], b["outcome_rate"]) for b in reliability],
                        MODEL,
                        dots=True,
                    ),
                    Line("calibrated", [(0.0, 0.0), (1.0, 1.0)], REFERENCE, True),
                ],
                x_range=unit,
                y_range=unit,
            ),
            "Score bins of width 0.1 holding rows; mean score over outcome rate "
            f"{num(figures['calibration'], 3)}.",
        ),
        (
            XYChart(
                "Score distribution",
                "score",
                "rows",
                bars=[
                    Bars("outcome 0", [(a, b, 0.0, top) for a, b, top, _ in stacked], NEGATIVE),
                    Bars("outcome 1", [(a, b, low, top) for a, b, low, top in stacked], POSITIVE),
                ],
                x_range=unit,
                y_range=(0.0, max([top for *_, top in stacked] + [1.0]) * 1.05),
            ),
            "The test sample's scores in bins of 0.05, the rows with the outcome stacked on those without.",
        ),
        (
            XYChart(
                "Lift by decile",
                "score decile (1: highest scores)",
                "lift",
                [Line("no lift", [(0.5, 1.0), (10.5, 1.0)], REFERENCE, True)],
                [
                    Bars(
                        "outcome rate over the sample's",
                        [(d["decile"] - 0.4, d["decile"] + 0.4, 0.0, d["lift"]) for d in deciles],
                        MODEL,
                    )
                ],
                x_range=(0.5, 10.5),
                y_range=(0.0, max([d["lift"] or 0.0 for d in deciles] + [1.0]) * 1.1),
                x_ticks=decile_ticks,
            ),
            "Each tenth of the rows by score: its outcome rate over the whole sample's.",
        ),
        (
            XYChart(
                "Cumulative gain by decile",
                "share of rows, highest scores first",
                "share of positives found",
                _unit(
                    "cumulative gain",
                    [(0.0, 0.0)] + [(d["decile"] / 10, d["cumulative_gain"]) for d in deciles],
                ),
                x_range=unit,
                y_range=unit,
            ),
            "Contacting the top k tenths finds this share of all the positives.",
        ),
    ]


def performance(figures: dict[str, Any] | None) -> str:
    if figures is None:
        return (
            '<section id="performance">\n<h2>Performance on the test sample</h2>\n'
            + missing("No figures")
            + "</section>\n"
        )
    cards = "".join(xycharts.card(chart, note) for chart, note in charts(figures))
    deciles = table(
        (
            "decile",
            "rows",
            "positives",
            "outcome rate",
            "lowest score",
            "lift",
            "cumulative gain",
            "cumulative lift",
        ),
        [
            [
                (num(d["decile"]), True),
                (num(d["rows"]), True),
                (num(d["positives"]), True),
                (pct(d["outcome_rate"]), True),
                (num(d["min_score"]), True),
                (num(d["lift"], 3), True),
                (pct(d["cumulative_gain"]), True),
                (num(d["cumulative_lift"], 3), True),
            ]
            for d in figures["deciles"]
        ],
    )
    return (
        '<section id="performance">\n<h2>Performance on the test sample</h2>\n'
        f'<p class="muted">{num(figures["rows"])} out-of-time rows, {num(figures["positives"])} with the '
        f"outcome; log loss {num(figures['log_loss'])}, Brier {num(figures['brier'])}.</p>\n"
        f'<div class="figures">\n{cards}</div>\n<h3>Lift and gain by decile</h3>\n{deciles}</section>\n'
    )


def campaign(figures: dict[str, Any] | None) -> str:
    head = '<section id="campaign">\n<h2>At the campaign\'s selection rule</h2>\n'
    if figures is None:
        return head + missing("No selection measured") + "</section>\n"
    rule = figures["campaign"]
    parts = [f"the top {rule['top_n']} of each period"] if rule.get("top_n") else []
    parts += [f"scores at or above {rule['min_score']}"] if rule.get("min_score") is not None else []
    state = (
        ""
        if rule["enabled"]
        else " The campaign is switched off in the spec: this is what its rule would select."
    )
    rows = [
        [
            (e(p["period"] or "all test periods"), False),
            (num(p["rows"]), True),
            (num(p["volume"]), True),
            (pct(p["share"]), True),
            (pct(p["precision"]), True),
            (pct(p["recall"]), True),
        ]
        for p in [*rule["periods"], {**rule, "period": None}]
    ]
    return (
        head
        + f'<p class="muted">The rule selects {e(" and ".join(parts))}, as a scoring run applies it.'
        + f"{e(state)}</p>\n"
        + table(("period", "rows", "selected", "share selected", "precision", "recall"), rows)
        + "</section>\n"
    )


def importance(figures: dict[str, Any] | None) -> str:
    head = '<section id="importance">\n<h2>Permutation feature importance</h2>\n'
    found = (figures or {}).get("permutation_importance") or {}
    if not found:
        return head + missing("No importance measured") + "</section>\n"
    features = found["features"]
    largest = max([f["importance"] for f in features] + [1e-12])
    rows = [
        [
            (e(f["feature"]), False),
            (num(f["importance"], 3), True),
            (num(f["std"], 2), True),
            (f'<i style="width:{max(0.0, f["importance"]) / largest * 200:.0f}px"></i>', False),
        ]
        for f in features
    ]
    body = table(("feature", "ROC AUC drop", "spread (sd)", ""), rows).replace("<td></td>", "")
    body = body.replace("<td><i style", '<td class="bar-cell"><i style')
    return (
        head
        + f'<p class="muted">How much the test ROC AUC ({num(found["baseline"])}) drops when one feature\'s '
        f"column is shuffled: the mean of {found['repeats']} shuffles of {num(found['rows'])} test "
        "rows.</p>\n" + body + "</section>\n"
    )
