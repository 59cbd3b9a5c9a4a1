"""The HTML drift report: well-formed, one chart per metric, flagged points marked once, data
escaped, alerts and versions listed, and the edge cases (one period, constant, gaps, empty)."""

from __future__ import annotations

import math
import re
from datetime import date
from html.parser import HTMLParser

from modelops.domain.monitoring import report
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
    "timestamp": "2025-05-01",
    "run_id": "run-may",
    "severity": "high",
    "metrics": ["data_usage_gb"],
    "findings": [
        {"stage": "validate_data", "metric": "data_usage_gb", "value": "d5", "test": "band", "statistic": 9.5,
         "p_value": None, "adjusted_p": None, "effect": 0.8123, "series": [1.0, 2.0]},
        {"stage": "validate_data", "metric": "data_usage_gb", "value": "d5", "test": "trend",
         "statistic": 1.25, "p_value": 0.00012345, "adjusted_p": 0.0031, "effect": 1.5, "series": [1.0, 2.0]},
    ],
}  # fmt: skip
OLDER = {**ALERT, "timestamp": "2025-02-01", "run_id": "run-feb", "severity": "medium", "findings": []}
VERSIONS = [
    {"version": "1.0.0", "created_at": "2025-01-03", "test_auc": 0.8012, "champion": False, "run_id": "r1"},
    {"version": "1.1.0", "created_at": "2025-04-02", "test_auc": 0.8234, "champion": True, "run_id": "r2"},
]


def render(periods=None, alerts=None, versions=None) -> str:
    return report.render(
        "churn",
        fixture() if periods is None else periods,
        [ALERT, OLDER] if alerts is None else alerts,
        VERSIONS if versions is None else versions,
        "2025-06-02T10:00:00Z",
    )


def polylines(svg_tree: Tree) -> list[list[tuple[float, float]]]:
    return [
        [tuple(map(float, xy.split(","))) for xy in a["points"].split()]  # type: ignore[misc]
        for a in svg_tree.tags("polyline")
    ]


def test_one_wellformed_chart_per_metric_with_the_right_lines():
    document = render()
    tree = parse(document)
    assert document.startswith("<!DOCTYPE html>")
    assert len(tree.tags("svg", "chart")) == document.count('<svg class="chart"') == 3
    # 10 deciles (mean/count/missing not drawn) + 2 category shares + the outcome's mean.
    assert len(tree.tags("polyline")) == 10 + 2 + 1
    assert all(len(line) == 6 for line in polylines(tree))
    titles = [text for tag, text in tree.text if tag == "title"]
    assert any("data_usage_gb" in t for t in titles) and any("outcome" in t and "mean" in t for t in titles)
    assert ("text", "2025-01") in tree.text and ("text", "2025-06") in tree.text  # x labels
    assert ("text", "1") in tree.text and ("text", "15") in tree.text  # y: d1 of Jan, d10 of Jun


def test_the_flagged_point_is_marked_once_on_its_line_and_in_its_heading():
    tree = parse(render())
    markers = tree.tags("circle", "flagged")
    assert len(markers) == 1  # two flags (band and trend) on the same point: one marker
    d5 = polylines(tree)[4]  # data_usage_gb's fifth line is d5; May is its fifth point
    assert (float(markers[0]["cx"]), float(markers[0]["cy"])) == d5[4]
    assert len(tree.tags("span", "has-flags")) == 2  # the summary line, and data_usage_gb's heading
    headings = [text for tag, text in tree.text if tag == "h3"]
    assert headings[:3] == ["data_usage_gb", "plan", "outcome"]
    flagged_cards = tree.tags("div", "is-flagged")
    assert len(flagged_cards) == 1


def test_a_flag_on_the_whole_distribution_marks_its_date_on_the_axis():
    periods = fixture()
    plan = periods["validate_data"]["plan"]
    plan[5] = Observation(MONTHS[5], plan[5].values, flags=("chi2:plan:categories",))
    document = render(periods)
    tree = parse(document)
    markers = tree.tags("circle", "flagged")
    assert len(markers) == 2 and len(tree.tags("line", "flag-line")) == 1
    bottom = report.HEIGHT - report.BOTTOM
    june = polylines(tree)[10][5][0]  # plan's first share line, sixth point
    assert (float(markers[1]["cx"]), float(markers[1]["cy"])) == (june, bottom)
    assert ("title", "2025-06-01: chi2:plan:categories") in tree.text


def test_share_flags_with_colons_land_on_their_category():
    periods = fixture()
    plan = periods["validate_data"]["plan"]
    plan[2] = Observation(MONTHS[2], plan[2].values, flags=("band:plan:share:premium",))
    tree = parse(render(periods))
    markers = tree.tags("circle", "flagged")
    assert len(markers) == 2 and not tree.tags("line", "flag-line")
    line_titles = [text for tag, text in tree.text if tag == "title" and text in ("basic", "premium")]
    assert line_titles == ["premium", "basic"]  # the largest category (at its peak) first
    premium = polylines(tree)[10]
    assert (float(markers[1]["cx"]), float(markers[1]["cy"])) == premium[2]


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
        "findings": [{**ALERT["findings"][0], "metric": EVIL}],
    }
    document = report.render(EVIL, periods, [alert], [{**VERSIONS[0], "version": EVIL}], EVIL)
    tree = parse(document)
    assert EVIL not in document and "<script" not in document
    assert not tree.tags("script")
    assert document.count("&lt;script&gt;x&lt;/script&gt;") >= 8


def test_alerts_newest_first_with_their_findings_table():
    tree = parse(render())
    document = render()
    assert document.index("2025-05-01") < document.index("2025-02-01")
    assert document.index("run-may") < document.index("run-feb")
    rows = re.findall(
        r"<tr><td>validate_data</td><td>data_usage_gb</td><td>d5</td><td>(\w+)</td>(.*?)</tr>", document
    )
    assert [test for test, _ in rows] == ["band", "trend"]
    cells = re.findall(r'<td class="num">([^<]*)</td>', rows[1][1])
    assert cells == ["1.25", "0.0001234", "0.0031", "1.5"]
    assert re.findall(r'<td class="num">([^<]*)</td>', rows[0][1])[1] == "–"  # a band test has no p-value
    assert len(tree.tags("span", "sev-high")) == 1 and len(tree.tags("span", "sev-medium")) == 1
    assert len(tree.tags("details")) == 2 and "open" in tree.tags("details")[0]


def test_versions_table_in_time_order_with_the_champion():
    document = render(versions=list(reversed(VERSIONS)))
    parse(document)
    assert document.index(">1.0.0<") < document.index(">1.1.0<")
    row = re.search(r"<tr><td>1\.1\.0</td>.*?</tr>", document)
    assert row and "0.8234" in row.group(0) and "champion" in row.group(0)
    assert "champion" not in re.search(r"<tr><td>1\.0\.0</td>.*?</tr>", document).group(0)  # type: ignore[union-attr]


def test_one_period_draws_points():
    periods = {"validate_data": {"x": [Observation(MONTHS[0], deciles(0.0), flags=("band:x:d1",))]}}
    tree = parse(render(periods, [], []))
    assert len(tree.tags("svg", "chart")) == 1
    dots = [c for c in tree.tags("circle") if "flagged" not in c.get("class", "")]
    assert len(dots) == 10 and len(tree.tags("circle", "flagged")) == 1
    assert all(math.isfinite(float(c["cx"])) and math.isfinite(float(c["cy"])) for c in dots)


def test_constant_series_and_gaps_render_finite_coordinates():
    values = [{**deciles(1.0), "d3": math.nan} for _ in MONTHS]
    del values[2]["d7"]
    periods = {
        "validate_data": {"flat": [Observation(t, {"mean": 3.0}) for t in MONTHS]},
        "validate_model": {"gappy": [Observation(t, v) for t, v in zip(MONTHS, values, strict=True)]},
    }
    document = render(periods, [], [])
    tree = parse(document)
    assert "nan" not in document.lower().replace("nanosecond", "")
    lines = polylines(tree)
    assert [len(line) for line in lines] == [6, 6, 6, 6, 6, 6, 5, 6, 6, 6]  # flat; d3 is all NaN
    flat = lines[0]
    assert len({y for _, y in flat}) == 1 and all(math.isfinite(v) for xy in flat for v in xy)


def test_empty_inputs():
    document = report.render("churn", {}, [], [], "now")
    parse(document)
    assert "No metadata yet" in document and "<svg" not in document
    only_versions = render({"validate_data": {}}, [], VERSIONS)
    parse(only_versions)
    assert "No alerts yet" in only_versions and "No drift metadata yet" in only_versions
    assert "<svg" not in only_versions


def test_a_flagged_metric_draws_its_reference_band_and_says_why():
    # Given data_usage_gb flagged in May, with the band its d5 was tested against in April and May,
    # and an alert whose change names it
    periods = fixture()
    usage = periods["validate_data"]["data_usage_gb"]
    for i, (expected, low, high) in ((3, (8.0, 7.0, 9.0)), (4, (8.5, 7.5, 9.5))):
        usage[i] = Observation(
            usage[i].timestamp, usage[i].values, flags=usage[i].flags, bands={"d5": (expected, low, high)}
        )
    periods["validate_data"]["plan"][4] = Observation(
        MONTHS[4], periods["validate_data"]["plan"][4].values, bands={"share:basic": (0.4, 0.3, 0.5)}
    )
    why = {
        "stage": "validate_data",
        "metric": "data_usage_gb",
        "why": "data_usage_gb (d5 9.5 vs 8.5 expected)",
    }
    alert = {**ALERT, "summary": "High-severity drift: data_usage_gb changed.", "changes": [why]}
    # When the report is rendered
    document = render(periods, alerts=[alert])
    tree = parse(document)
    # Then the flagged card has one band polygon over April-May (4 corners) and the expected line,
    [band] = tree.tags("polygon", "band")
    corners = [tuple(map(float, xy.split(","))) for xy in band["points"].split()]
    assert len(corners) == 4 and corners[0][0] == corners[-1][0] < corners[1][0] == corners[2][0]
    assert corners[0][1] < corners[-1][1]  # high above low (SVG y grows downwards)
    assert len(tree.tags("polyline", "expected")) == 1
    # the unflagged plan card draws no band although it has one stored,
    assert document.count('class="band"') == 1
    # and the why line and the alert's summary are shown, escaped.
    assert ("strong", "Why this alert:") in tree.text
    assert any("2025-05-01: data_usage_gb (d5 9.5 vs 8.5 expected)" in text for _, text in tree.text)
    assert any("High-severity drift: data_usage_gb changed." in text for _, text in tree.text)


def test_a_flag_without_an_alert_still_says_why_from_its_flags():
    tree = parse(render(alerts=[]))
    assert any(text.startswith("2025-05-01: band:data_usage_gb:d5") for _, text in tree.text)
    assert tree.tags("polygon", "band") == []  # no stored bands: nothing to draw
