"""A version's model report and card (`modelops models report`, ``Client.card``): one
self-contained HTML file (inline SVG, no scripts, fonts or files to fetch) holding

1. the model card: intended use, owner, limitations and notes (the spec's ``card``), the data
   (tables, window, rows, outcome rate, features), the metrics per sample;
2. the recipe: the training window, the recipe's and the model's sha256, the estimator and its
   hyperparameters, the libraries, the SQL;
3. the test sample's figures (the version's ``metrics.json``, ``domain/model/figures.py``): ROC
   and precision-recall curves, reliability and the score distribution, lift and cumulative
   gain by decile, precision, recall and volume at the campaign's selection rule, permutation
   feature importance;
4. the promotion evidence (the audit row that decided the version) and, when another version
   is the champion, both scored on this version's out-of-time rows (``local.compare``).

``gather`` reads the stores; ``render`` is pure (data in, a string out).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from modelops.domain.monitoring.charts import e
from modelops.domain.monitoring.report import CSS as DRIFT_CSS
from modelops_dev.client import report_figures
from modelops_dev.client.report_figures import num, pairs, pct, table

CSS = (
    DRIFT_CSS
    + """
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:14px}
.headline-figures{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}
.headline-figures div{border:1px solid #e2e2e2;border-radius:6px;padding:6px 12px;min-width:120px}
.headline-figures b{display:block;font-size:20px}
table.card-table th{width:170px;vertical-align:top}
pre{background:#f7f7f7;padding:8px;font-size:12px;overflow-x:auto}
.bar-cell{width:220px}.bar-cell i{display:inline-block;height:10px;background:#1f3a93;vertical-align:middle}
"""
)
CARD_FIELDS = (
    ("intended_use", "Intended use"),
    ("owner", "Owner"),
    ("limitations", "Limitations"),
    ("notes", "Notes"),
)
METRICS = ("roc_auc", "log_loss", "brier", "outcome_rate", "rows")


@dataclass(frozen=True)
class ReportData:
    """What the report shows, read from the stores."""

    model: str
    version: str
    status: str
    champion: str | None
    description: str
    card: dict[str, str]
    record: dict[str, Any]  # the registry's row
    metadata: dict[str, Any]  # the version's metadata.json (verified)
    recipe: dict[str, Any]  # the spec it was trained with, as the stored spec operates it
    figures: dict[str, Any] | None  # metrics.json (None: registered before versions kept it)
    decision: dict[str, Any] | None  # the audit row with the gate's evidence
    comparison: pd.DataFrame | None  # champion and this version on this version's out-of-time rows
    comparison_note: str
    generated_at: str


def gather(model: str, version: str | None = None) -> ReportData:
    """The version (default: the champion; a retired one too) and everything its report shows."""
    from modelops.stores import registry, version_metrics
    from modelops_dev.client import lifecycle, local

    shown = lifecycle.show(model, version)
    name = shown["version"]["version"]
    record = registry.get_version(model, name)
    this = local.load(model, name, servable=False)
    decided = [entry for entry in shown["audit"] if entry.get("version") == name and entry.get("evidence")]
    comparison, note = _against_champion(this, shown["champion"])
    return ReportData(
        model=model,
        version=name,
        status=record.status,
        champion=shown["champion"],
        description=this.spec.description,
        card=this.spec.card.model_dump(),
        record={**record.__dict__},
        metadata=registry.verified_metadata(record),
        recipe=this.spec.model_dump(mode="json"),
        figures=version_metrics.load(record),
        decision=decided[-1] if decided else None,
        comparison=comparison,
        comparison_note=note,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def _against_champion(this: Any, champion: str | None) -> tuple[pd.DataFrame | None, str]:
    from modelops_dev.client import local

    version = this.record.version
    if champion is None:
        return None, "The model has no champion to compare with."
    if champion == version:
        return (
            None,
            f"{version} is the champion: the promotion evidence above compares it with its predecessor.",
        )
    try:
        theirs = local.load(this.record.model, champion, servable=False)
        table = local.compare(theirs, this, local.out_of_time_rows(this))
    except local.PredictError as error:
        return None, f"The champion {champion} cannot score {version}'s out-of-time rows: {error}"
    return table, (
        f"The champion {champion} and {version} scored on {version}'s out-of-time test rows, as batch "
        f"scoring scores them; the difference is {version} minus {champion}, and roc_auc_p_worse is "
        f"DeLong's one-sided p-value that {version} is not worse."
    )


def write(data: ReportData, out: Path) -> Path:
    """Render the report into ``out`` (its folder made if needed)."""
    html = render(data)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out


# ------------------------------------------------------------------ rendering (pure)


def render(data: ReportData) -> str:
    """The whole report as one HTML document."""
    title = f"Model report: {data.model} {data.version}"
    badge = "champion" if data.champion == data.version else data.status
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f'<h1>{e(title)} <span class="status status-{e(badge)}">{e(badge)}</span></h1>\n'
        f'<p class="muted">{e(data.description)} Generated at {e(data.generated_at)}.</p>\n'
        + _headline(data.figures)
        + _card(data)
        + _recipe(data)
        + report_figures.performance(data.figures)
        + report_figures.campaign(data.figures)
        + report_figures.importance(data.figures)
        + _promotion(data.decision)
        + _champion(data)
        + "</body>\n</html>\n"
    )


def _headline(figures: dict[str, Any] | None) -> str:
    if figures is None:
        return ""
    rule = figures["campaign"]
    items = [
        ("test ROC AUC", f"{num(figures['roc_auc'])} ± {num(figures['roc_auc_se'], 2)}"),
        ("average precision", num(figures["average_precision"])),
        ("outcome rate", pct(figures["outcome_rate"])),
        ("precision at the rule", pct(rule["precision"])),
        ("recall at the rule", pct(rule["recall"])),
        ("selected at the rule", num(rule["volume"])),
    ]
    return (
        '<div class="headline-figures" id="headline">'
        + "".join(f"<div><b>{value}</b>{e(label)}</div>" for label, value in items)
        + "</div>\n"
    )


def _card(data: ReportData) -> str:
    meta, recipe = data.metadata, data.recipe
    rows = [
        (label, e(data.card.get(key)) or '<span class="empty">not given in the spec\'s card</span>')
        for key, label in CARD_FIELDS
    ]
    window = meta.get("training_window") or {}
    counts = meta.get("rows") or {}
    tables = ", ".join(recipe["source"].get("tables") or [])
    rows += [
        (
            "Data",
            e(
                f"tables {tables}; {window.get('start')} to {window.get('end')} by {recipe['period']}; "
                f"{num(counts.get('total'))} rows, the last {recipe['split']['test_periods']} period(s) "
                f"({num(counts.get('test'))} rows) held out as the out-of-time test sample"
            ),
        ),
        ("Outcome", e(f"{recipe['outcome']}, rate {pct(meta.get('outcome_rate'))} over the window")),
    ]
    features = table(
        ("feature", "type", "description"),
        [
            [(e(name), False), (e(feature["type"]), False), (e(feature.get("description", "")), False)]
            for name, feature in recipe["features"].items()
        ],
    )
    samples = meta.get("metrics") or {}
    metrics = table(
        ("sample", *METRICS),
        [
            [(e(sample), False), *((num(values.get(m)), True) for m in METRICS)]
            for sample, values in samples.items()
            if isinstance(values, dict)
        ],
    )
    return (
        '<section id="card">\n<h2>Model card</h2>\n'
        + pairs(rows)
        + "<h3>Features</h3>\n"
        + features
        + "<h3>Metrics</h3>\n"
        + metrics
        + "</section>\n"
    )


def _recipe(data: ReportData) -> str:
    meta, record = data.metadata, data.record
    window = meta.get("training_window") or {}
    libraries = ", ".join(f"{k} {v}" for k, v in sorted((meta.get("libraries") or {}).items()))
    rows = [
        ("Training run", e(record.get("run_id"))),
        ("Data window", e(f"{window.get('start')} to {window.get('end')}")),
        ("Recipe sha256", e(record.get("recipe_sha256") or "not kept")),
        ("Model sha256", e(record.get("sha256"))),
        ("Estimator", e(meta.get("estimator"))),
        ("Hyperparameters", f"<code>{e(json.dumps(meta.get('params', {}), sort_keys=True))}</code>"),
        ("Candidates searched", num(len(meta.get("candidates") or []))),
        ("Online scorer", e((meta.get("online") or {}).get("scorer", "–"))),
        ("Libraries", e(libraries)),
    ]
    sql = data.recipe["source"].get("sql") or ""
    return (
        '<section id="recipe">\n<h2>Recipe</h2>\n'
        + pairs(rows)
        + (f"<h3>SQL</h3>\n<pre>{e(sql.strip())}</pre>\n" if sql else "")
        + "</section>\n"
    )


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in _flatten(item, f"{prefix}{key}.")]
    return [(prefix.rstrip("."), value)]


def _promotion(decision: dict[str, Any] | None) -> str:
    head = '<section id="promotion">\n<h2>Promotion evidence</h2>\n'
    if decision is None:
        return (
            head
            + '<p class="empty">No audit row holds the gate\'s evidence for this version.</p>\n</section>\n'
        )
    evidence = _flatten(decision.get("evidence") or {})
    summary = pairs(
        [
            ("Decision", e(decision.get("kind"))),
            ("Reason", e(decision.get("reason", ""))),
            ("When, by whom", e(f"{decision.get('at', '')} — {decision.get('caller', '')}")),
        ]
    )
    return (
        head
        + summary
        + table(("evidence", "value"), [[(e(k), False), (num(v), True)] for k, v in evidence])
        + "</section>\n"
    )


def _champion(data: ReportData) -> str:
    head = '<section id="champion">\n<h2>Against the champion on the same rows</h2>\n'
    if data.comparison is None:
        return head + f'<p class="empty">{e(data.comparison_note)}</p>\n</section>\n'
    compared = data.comparison
    rows = [
        [(e(metric), False), *((num(compared.loc[metric, c]), True) for c in compared.columns)]
        for metric in compared.index
    ]
    return (
        head
        + f'<p class="muted">{e(data.comparison_note)}</p>\n'
        + table(("metric", *map(str, compared.columns)), rows)
        + "</section>\n"
    )
