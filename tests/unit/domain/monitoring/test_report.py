"""The HTML monitoring report: a plain-language summary first, the performance (realized beside
the estimate), the segments, the versions with their status, and the statistics behind a details
toggle; well-formed, axes labelled, flagged points marked once, data escaped, and the edge cases
(one period, constant, gaps, empty)."""

from __future__ import annotations

import math
import re
from datetime import date
from html.parser import HTMLParser

from modelops.domain.monitoring import charts, narrative, report
from modelops.domain.monitoring.reference import Observation

MONTHS = [date(2025, m, 1) for m in range(1, 7)]
VOID = {"meta", "br", "hr", "img", "input", "link"}
EVIL = "<script>x</script>"


class Tree(HTMLParser):
    """Counts tags, checks their nesting, and keeps the start tags with their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.starts: list[tuple[str, dict[str, str]]] = []
        self.errors: list[str] = []
        self.text: list[tuple[str, str]] = []  # (enclosing tag, text)

    def handle_starttag(self, tag, attrs):
        self.starts.append((tag, {k: v or "" for k, v in attrs}))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        if data.strip():
            self.text.append((self.stack[-1] if self.stack else "", data.strip()))

    def tags(self, name: str, css: str | None = None) -> list[dict[str, str]]:
        return [a for t, a in self.starts if t == name and (css is None or css in a.get("class", "").split())]


def parse(document: str) -> Tree:
    tree = Tree()
    tree.feed(document)
    tree.close()
    assert not tree.errors and not tree.stack, (tree.errors, tree.stack)
    return tree


def deciles(base: float) -> dict[str, float]:
    return {f"d{i}": base + i for i in range(1, 11)}


def fixture() -> dict[str, dict[str, list[Observation]]]:
    usage = [
        Observation(t, {"count": 100.0, "missing": 0.0, "mean": 5.0 + i, **deciles(float(i))})
        for i, t in enumerate(MONTHS)
    ]
    usage[4] = Observation(
        MONTHS[4], usage[4].values, flags=("band:data_usage_gb:d5", "trend:data_usage_gb:d5")
    )
    plan = [
        Observation(
            t, {"count": 100.0, "missing": 0.0, "share:basic": 0.6 - i / 20, "share:premium": 0.4 + i / 20}
        )
        for i, t in enumerate(MONTHS)
    ]
    outcome = [
        Observation(t, {"count": 100.0, "missing": 0.0, "mean": 0.2 + i / 100}) for i, t in enumerate(MONTHS)
    ]
    return {"validate_data": {"data_usage_gb": usage, "plan": plan}, "validate_scores": {"outcome": outcome}}


ALERT = {
    "timestamp": "2025-06-01",
    "run_id": "run-may",
    "severity": "high",
    "metrics": ["data_usage_gb"],
    "changes": [{"stage": "validate_data", "metric": "data_usage_gb",
                 "why": "data_usage_gb (d5 9.5 vs 8.5 expected)"}],
    "findings": [
        {"stage": "validate_data", "metric": "data_usage_gb", "value": "d5", "test": "band", "statistic": 9.5,
         "p_value": None, "adjusted_p": None, "effect": 0.8123, "series": [1.0, 2.0]},
        {"stage": "validate_data", "metric": "data_usage_gb", "value": "d5", "test": "trend",
         "statistic": 1.25, "p_value": 0.00012345, "adjusted_p": 0.0031, "effect": 1.5, "series": [1.0, 2.0]},
    ],
}  # fmt: skip
OLDER = {**ALERT, "timestamp": "2025-02-01", "run_id": "run-feb", "severity": "medium", "findings": []}
WINDOW = {"start": "2024-10-01", "end": "2024-12-01"}
VERSIONS = [
    {"version": "1.0.0", "created_at": "2025-01-03", "test_auc": 0.8012, "champion": False,
     "status": "registered", "run_id": "r1", "trained_through": "2024-12-01", "test_window": WINDOW},
    {"version": "1.1.0", "created_at": "2025-04-02", "test_auc": 0.8234, "champion": True,
     "status": "registered", "run_id": "r2", "trained_through": "2025-03-01",
     "test_window": {"start": "2025-01-01", "end": "2025-03-01"}},
]  # fmt: skip


def render(periods=None, alerts=None, versions=None) -> str:
    return report.render(
        "churn",
        fixture() if periods is None else periods,
        [ALERT, OLDER] if alerts is None else alerts,
        VERSIONS if versions is None else versions,
        "2025-06-02T10:00:00Z",
    )


def polylines(tree: Tree) -> list[list[tuple[float, float]]]:
    return [[tuple(map(float, xy.split(","))) for xy in a["points"].split()] for a in tree.tags("polyline")]  # type: ignore[misc]


def test_the_summary_comes_first_and_the_statistics_sit_behind_a_toggle():
    document = render()
    tree = parse(document)
    assert document.startswith("<!DOCTYPE html>")
    summary = document.index('<section id="summary"')
    assert summary < document.index("<svg") and summary < document.index("<table")
    assert ("p", "High-severity alert for 2025-06-01: the data changed.") in tree.text
    assert ("h3", "What changed") in tree.text and ("h3", "What to do") in tree.text
    assert ("li", "data_usage_gb (d5 9.5 vs 8.5 expected)") in tree.text
    statistics = document.index('<details class="details">')
    assert statistics > document.index("<h2>Model versions</h2>")
    assert (
        document.index("<h2>Alerts</h2>") > statistics
        and document.index("<h2>validate_data</h2>") > statistics
    )


def test_one_chart_per_metric_with_labelled_axes_and_round_ticks():
    tree = parse(render())
    assert len(tree.tags("svg", "chart")) == 3
    assert len(tree.tags("polyline")) == 10 + 2 + 1  # deciles; two category shares; the outcome's mean
    assert all(len(line) == 6 for line in polylines(tree))
    labels = [text for tag, text in tree.text if tag == "text" and (tag, text) in tree.text]
    assert labels.count("period") == 3  # every x axis says what it is
    assert "value (deciles d1–d10)" in labels and "share of rows" in labels and "value" in labels
    assert ("text", "2025-01") in tree.text and ("text", "2025-06") in tree.text
    assert charts.nice_ticks(0.07, 0.93) == [0.2, 0.4, 0.6, 0.8]
    assert charts.nice_ticks(0.781, 0.842, 5) == [0.79, 0.8, 0.81, 0.82, 0.83, 0.84]
    assert charts.nice_ticks(1.0, 1.0) == [1.0]


def test_the_flagged_point_is_marked_once_on_its_line_and_its_card_comes_first():
    periods = fixture()
    periods["validate_data"] = {"plan": periods["validate_data"]["plan"], **periods["validate_data"]}
    tree = parse(render(periods))
    markers = tree.tags("circle", "flagged")
    assert len(markers) == 1  # two flags (band and trend) on the same point: one marker
    d5 = polylines(tree)[4]  # the first card is data_usage_gb's, flagged; its fifth line is d5
    assert (float(markers[0]["cx"]), float(markers[0]["cy"])) == d5[4]
    headings = [text for tag, text in tree.text if tag == "h3" and "(" in text]
    assert headings[0].startswith("data_usage_gb")
    assert len(tree.tags("div", "is-flagged")) == 1


def test_a_flag_on_the_whole_distribution_marks_its_date_on_the_axis():
    periods = fixture()
    plan = periods["validate_data"]["plan"]
    plan[5] = Observation(MONTHS[5], plan[5].values, flags=("chi2:plan:categories",))
    tree = parse(render(periods))
    assert len(tree.tags("circle", "flagged")) == 2 and len(tree.tags("line", "flag-line")) == 1
    bottom = charts.HEIGHT - charts.BOTTOM
    axis = [m for m in tree.tags("circle", "flagged") if float(m["cy"]) == bottom]
    assert len(axis) == 1
    assert ("title", "2025-06-01: chi2:plan:categories") in tree.text


def test_share_flags_with_colons_land_on_their_category():
    periods = fixture()
    plan = periods["validate_data"]["plan"]
    plan[2] = Observation(MONTHS[2], plan[2].values, flags=("band:plan:share:premium",))
    tree = parse(render(periods))
    markers = tree.tags("circle", "flagged")
    assert len(markers) == 2 and not tree.tags("line", "flag-line")
    lines = polylines(tree)
    premium = next(
        line
        for line in lines
        if len(line) == 6 and any(p == (float(markers[1]["cx"]), float(markers[1]["cy"])) for p in line)
    )
    assert premium[2] == (float(markers[1]["cx"]), float(markers[1]["cy"]))


def test_a_categorical_feature_draws_its_largest_categories_and_other():
    shares = [0.3, 0.2, 0.15, 0.1, 0.08, 0.07, 0.05, 0.03, 0.02]
    many = [
        Observation(t, {"count": 100.0, **{f"share:c{i}": s for i, s in enumerate(shares)}}) for t in MONTHS
    ]
    tree = parse(render({"validate_data": {"store": many}}, [], []))
    titles = [text for tag, text in tree.text if tag == "title"]
    assert len(tree.tags("polyline")) == report.cards.TOP_CATEGORIES + 1
    assert [t for t in titles if t.startswith("c")] == ["c0", "c1", "c2", "c3", "c4"]
    assert "other (4 categories)" in titles
    other = polylines(tree)[-1]
    assert len({round(y, 6) for _, y in other}) == 1  # 0.07 + 0.05 + 0.03 + 0.02 every month


def test_text_from_data_is_escaped():
    periods = {
        "validate_data": {
            EVIL: [Observation(t, {"count": 1.0, f"share:{EVIL}": 0.5, "share:b": 0.5}) for t in MONTHS]
        }
    }
    alert = {
        **ALERT,
        "run_id": EVIL,
        "metrics": [EVIL],
        "changes": [{"stage": "validate_data", "metric": EVIL, "why": EVIL}],
        "findings": [{**ALERT["findings"][0], "metric": EVIL}],
    }
    document = report.render(EVIL, periods, [alert], [{**VERSIONS[0], "version": EVIL}], EVIL)
    tree = parse(document)
    assert EVIL not in document and "<script" not in document and not tree.tags("script")
    assert document.count("&lt;script&gt;x&lt;/script&gt;") >= 8


def test_alerts_newest_first_with_their_findings_table():
    document = render()
    tree = parse(document)
    assert document.index("run-may") < document.index("run-feb")
    rows = re.findall(
        r"<tr><td>validate_data</td><td>data_usage_gb</td><td>d5</td><td>(\w+)</td>(.*?)</tr>", document
    )
    assert [test for test, _ in rows] == ["band", "trend"]
    assert re.findall(r'<td class="num">([^<]*)</td>', rows[1][1]) == ["1.25", "0.0001234", "0.0031", "1.5"]
    assert re.findall(r'<td class="num">([^<]*)</td>', rows[0][1])[1] == "–"  # a band test has no p-value
    assert len(tree.tags("span", "sev-high")) == 1 and len(tree.tags("span", "sev-medium")) == 1
    alerts = tree.tags("details", "alert")
    assert len(alerts) == 2 and "open" in alerts[0]


def test_versions_show_their_status_and_say_when_test_windows_differ():
    rejected = {
        **VERSIONS[1],
        "version": "1.2.0",
        "created_at": "2025-05-02",
        "champion": False,
        "status": "rejected",
        "test_auc": 0.9,
    }
    document = render(versions=[rejected, *reversed(VERSIONS)])
    parse(document)
    assert document.index(">1.0.0<") < document.index(">1.1.0<") < document.index(">1.2.0<")
    row = re.search(r"<tr><td>1\.2\.0</td>.*?</tr>", document)
    assert row and "status-rejected" in row.group(0) and "0.9" in row.group(0)
    assert "status-champion" in re.search(r"<tr><td>1\.1\.0</td>.*?</tr>", document).group(0)  # type: ignore[union-attr]
    assert "2025-01-01 … 2025-03-01" in document
    assert "tested on different windows" in document
    same = [{**v, "test_window": WINDOW} for v in VERSIONS]
    assert "tested on different windows" not in render(versions=same)


def test_one_period_draws_points():
    periods = {"validate_data": {"x": [Observation(MONTHS[0], deciles(0.0), flags=("band:x:d1",))]}}
    tree = parse(render(periods, [], []))
    assert len(tree.tags("svg", "chart")) == 1
    assert len(tree.tags("circle", "point")) == 10 and len(tree.tags("circle", "flagged")) == 1
    assert all(math.isfinite(float(c["cx"])) and math.isfinite(float(c["cy"])) for c in tree.tags("circle"))


def test_constant_series_and_gaps_render_finite_coordinates():
    values = [{**deciles(1.0), "d3": math.nan} for _ in MONTHS]
    del values[2]["d7"]
    periods = {
        "validate_data": {"flat": [Observation(t, {"mean": 3.0}) for t in MONTHS]},
        "validate_model": {"gappy": [Observation(t, v) for t, v in zip(MONTHS, values, strict=True)]},
    }
    document = render(periods, [], [])
    tree = parse(document)
    assert "nan" not in document.lower()
    lines = polylines(tree)
    assert [len(line) for line in lines] == [6, 6, 6, 6, 6, 6, 5, 6, 6, 6]  # flat; d3 is all NaN
    assert len({y for _, y in lines[0]}) == 1 and all(math.isfinite(v) for xy in lines[0] for v in xy)


def test_empty_inputs():
    document = report.render("churn", {}, [], [], "now")
    parse(document)
    assert "No metadata yet" in document and "<svg" not in document
    only_versions = render({"validate_data": {}}, [], VERSIONS)
    parse(only_versions)
    assert "No alerts yet" in only_versions and "No drift metadata yet" in only_versions
    assert "No performance measured or estimated yet" in only_versions and "<svg" not in only_versions


def test_a_flagged_metric_draws_its_reference_band_and_says_why():
    periods = fixture()
    usage = periods["validate_data"]["data_usage_gb"]
    for i, band in ((3, (8.0, 7.0, 9.0)), (4, (8.5, 7.5, 9.5))):
        usage[i] = Observation(usage[i].timestamp, usage[i].values, flags=usage[i].flags, bands={"d5": band})
    plan = periods["validate_data"]["plan"]
    plan[4] = Observation(MONTHS[4], plan[4].values, bands={"share:basic": (0.4, 0.3, 0.5)})
    tree = parse(render(periods))
    [band] = tree.tags("polygon", "band")
    corners = [tuple(map(float, xy.split(","))) for xy in band["points"].split()]
    assert len(corners) == 4 and corners[0][0] == corners[-1][0] < corners[1][0] == corners[2][0]
    assert corners[0][1] < corners[-1][1]  # high above low (SVG y grows downwards)
    assert ("strong", "Why this alert:") in tree.text
    assert any("2025-06-01: data_usage_gb (d5 9.5 vs 8.5 expected)" in text for _, text in tree.text)


def performance_periods(flag_may: bool = False) -> dict[str, list[Observation]]:
    realized = [
        Observation(t, {"value": 0.80 - (0.06 if i == 4 else 0.0), "se": 0.01, "count": 5000.0},
                    flags=("realized:batch:roc_auc:value",) if flag_may and i == 4 else (),
                    bands={"value": (0.8, 0.77, 0.83)})
        for i, t in enumerate(MONTHS[:5])
    ]  # fmt: skip
    estimated = [
        Observation(
            t,
            {"value": 0.79, "se": 0.003, "realized_se": 0.012, "count": 5000.0},
            bands={"value": (0.8, 0.78, 0.82)},
        )
        for t in MONTHS
    ]
    segment = [Observation(MONTHS[5], {"value": 0.7, "se": 0.003, "realized_se": 0.03, "count": 800.0})]
    return {
        "batch:roc_auc": realized,
        "batch:estimated_roc_auc": estimated,
        "batch:estimated_roc_auc[region=south]": segment,
        "batch:roc_auc[region=south]": [Observation(MONTHS[4], {"value": 0.72, "se": 0.02, "count": 800.0})],
    }


def test_the_performance_draws_realized_beside_the_estimate_and_the_test_periods():
    periods = {**fixture(), "validate_outcomes": performance_periods(flag_may=True)}
    reference = [
        {"period": f"2024-1{m}-01", "roc_auc": {"value": 0.8, "se": 0.01, "count": 5000}} for m in (0, 1, 2)
    ]
    champion = {**VERSIONS[1], "reference": reference}
    document = render(periods, versions=[VERSIONS[0], champion])
    tree = parse(document)
    section = document[document.index("<h2>Performance</h2>") : document.index("<h2>Segments</h2>")]
    card = parse(section)
    assert len(card.tags("svg", "chart")) == 1  # the ROC AUC: nothing else was measured
    titles = [text for tag, text in card.text if tag == "title"]
    assert "realized" in titles and "estimated before outcomes" in titles
    assert len([t for t in titles if t.startswith("the version's test periods 2024-1")]) == 3
    assert len(card.tags("polygon", "band")) == 2  # the estimate's band and the expected band
    assert len(card.tags("circle", "flagged")) == 1 and "⚑ flagged" in section
    assert ("text", "ROC AUC") in card.text
    # The segment view: region=south's newest realized and estimated AUC.
    row = re.search(r"<tr><td>region=south</td>(.*?)</tr>", document)
    assert row and "0.72 (2025-05)" in row.group(1) and "0.7 (2025-06)" in row.group(1)
    assert tree.tags("section")


def test_a_flagged_segment_metric_is_drawn_in_the_segment_view_with_its_name():
    periods = fixture()
    segment = [Observation(t, {"count": 80.0, "missing": 0.0, **deciles(2.0)}) for t in MONTHS]
    segment[5] = Observation(MONTHS[5], segment[5].values, flags=("band:data_usage_gb[region=south]:d5",))
    periods["validate_data"]["data_usage_gb[region=south]"] = segment
    periods["validate_data"]["age[region=south]"] = [
        Observation(t, {"count": 80.0, **deciles(1.0)}) for t in MONTHS
    ]
    document = render(periods)
    parse(document)
    segments = document[document.index("<h2>Segments</h2>") : document.index("<h2>Model versions</h2>")]
    assert "data_usage_gb in region=south" in segments and "age in region=south" not in document
    assert segments.count('<svg class="chart"') == 1
    statistics = document[document.index('<details class="details">') :]
    assert "data_usage_gb in region=south" in statistics  # flagged: among its stage's cards too


def test_the_narrative_says_what_to_do():
    quiet = narrative.summarise(fixture(), [])
    assert quiet.tone == "quiet" and quiet.actions == ["Nothing to do."]
    drift = narrative.summarise(fixture(), [ALERT])
    assert drift.tone == "act" and drift.actions[0].startswith("Check the source of data_usage_gb")
    assert "known seasonal event" in drift.actions[0]
    drop = {
        **ALERT,
        "changes": [{"stage": "validate_outcomes", "metric": "batch:roc_auc", "why": "realized ROC AUC …"}],
    }
    dropped = narrative.summarise({**fixture(), "validate_outcomes": performance_periods(True)}, [drop])
    assert dropped.headline.endswith("the model's performance dropped.") and dropped.actions[0].startswith(
        "Retrain"
    )
    assert any(
        line.startswith("The ROC AUC") and "expected at 0.790 ± 0.024" in line for line in dropped.matters
    )
    assert any(
        "measured at 0.740 for 2025-05-01 (expected 0.800) — a significant drop" in line
        for line in dropped.matters
    )
    skew = {**ALERT, "findings": [{**ALERT["findings"][0], "test": "skew"}]}
    assert any(
        a.startswith("Check the source: some scored features")
        for a in narrative.summarise(fixture(), [skew]).actions
    )
    segment = {
        **ALERT,
        "changes": [{"stage": "validate_data", "metric": "data_usage_gb[region=south]", "why": "…"}],
    }
    found = narrative.summarise(fixture(), [segment])
    assert "data_usage_gb in region=south" in found.actions[0]
    assert "The change is in part of the customers only: region=south." in found.matters
    # The newest alert is about the data, but May's realized AUC was flagged: retrain, never
    # "no drop so far" beside "a significant drop".
    both = narrative.summarise({**fixture(), "validate_outcomes": performance_periods(True)}, [ALERT])
    assert both.headline.endswith("the data changed.") and both.actions[0].startswith("Retrain")
    assert not any("no drop so far" in action for action in both.actions)
    assert "Check the source of data_usage_gb: a change there may explain the drop" in both.actions[1]
    stale = narrative.summarise(fixture(), [OLDER])  # the newest period is June
    assert stale.headline == "No alert in the newest period (2025-06-01); the last one was for 2025-02-01."
    assert stale.tone == "watch"
