"""Alert decisions: severity from effect sizes, the fingerprint that stops repeats, and the
one-sentence summary naming the metrics that changed most."""

import hashlib
from datetime import date

import pytest

from modelops.domain.contract import Evidence
from modelops.domain.monitoring.alerts import (
    alert_fingerprint,
    alert_severity,
    alert_summary,
    describe,
    finding_severity,
    metric_changes,
    skew_sentence,
    strength,
)


def evidence(metric: str, test: str, effect: float, value: str = "d5", **extra) -> Evidence:
    return Evidence(stage=extra.pop("stage", "validate_data"), metric=metric, value=value, test=test,
                    statistic=extra.pop("statistic", effect), effect=effect, **extra)  # fmt: skip


def test_severity_comes_from_the_effect_size_of_each_kind():
    assert finding_severity(evidence("x", "band", 0.19)) == "low"
    assert finding_severity(evidence("x", "band", 0.2)) == "medium"
    assert finding_severity(evidence("x", "band", 0.5)) == "high"  # half the reference's 90 % spread
    assert finding_severity(evidence("x", "ks", 0.29, value="distribution")) == "medium"
    assert finding_severity(evidence("x", "ks", 0.3, value="distribution")) == "high"
    assert finding_severity(evidence("x", "band", 0.06, value="share:a")) == "medium"  # shares are absolute
    assert finding_severity(evidence("outcome", "band", 0.04, value="mean")) == "low"  # a rate too
    assert (
        alert_severity([evidence("x", "band", 0.1), evidence("y", "ks", 0.31, value="distribution")])
        == "high"
    )
    assert alert_severity([]) == "low"


def test_changes_are_grouped_per_metric_and_ranked_by_strength_across_tests():
    findings = [
        evidence("age", "band", 0.25),  # 0.25 / 0.5 = 0.5 of "high"
        evidence("usage", "ks", 0.27, value="distribution"),  # 0.27 / 0.3 = 0.9
        evidence("usage", "band", 0.1, since=date(2025, 9, 1)),
        evidence("plan", "chi2", 0.02, value="categories"),  # 0.02 / 0.1 = 0.2
    ]
    changes = metric_changes(findings)
    assert [c.metric for c in changes] == ["usage", "age", "plan"]
    assert changes[0].lead.test == "ks" and changes[0].since == date(2025, 9, 1)
    assert changes[0].severity == "medium"


def test_the_summary_names_the_top_three_with_effects_and_the_start():
    findings = [
        evidence("data_usage_gb", "band", 0.8, series=[4.9, 9.8], expected=4.95, reference="seasonal",
                 since=date(2025, 10, 1)),
        evidence("data_usage_gb", "ks", 0.45, value="distribution"),
        evidence("score", "ks", 0.2, value="distribution", stage="validate_scores", since=date(2025, 10, 1)),
        evidence("monthly_charges", "trend", 0.12, statistic=0.4),  # only in the report
        evidence("plan", "chi2", 0.03, value="categories"),
    ]  # fmt: skip
    text = alert_summary(findings)
    assert text.startswith(
        "High-severity drift: data_usage_gb (d5 9.8 vs 4.95 expected from the same season; KS D 0.45"
    )
    # plan's 3-point share move is 0.3 of a high one, monthly_charges' 0.12-spread trend 0.24
    assert (
        "since 2025-10-01), score (KS D 0.20, since 2025-10-01) and plan (category shares moved by up to 3%)"
        in text
    )
    assert text.endswith("changed; 1 more metric in the report.")
    assert alert_summary([]) == "No drift."


def test_the_fingerprint_ignores_numbers_and_order_but_not_metrics_or_severity():
    a = [evidence("x", "band", 0.3), evidence("y", "ks", 0.2, value="distribution")]
    same = [evidence("y", "ks", 0.21, value="distribution"), evidence("x", "trend", 0.31)]
    assert alert_fingerprint(a) == alert_fingerprint(same)
    assert alert_fingerprint(a) != alert_fingerprint([*a, evidence("z", "band", 0.3)])
    assert alert_fingerprint(a) != alert_fingerprint([evidence("x", "band", 0.6), a[1]])  # now high
    assert alert_fingerprint(a) != alert_fingerprint(
        [a[0], evidence("y", "ks", 0.2, value="distribution", stage="validate_scores")]
    )


def test_a_skew_finding_has_its_own_severity_and_leads_the_alert():
    skew = evidence("age", "skew", 0.96, value="missing", statistic=1.0, expected=0.04, severity="high")
    band = evidence("age", "band", 0.9, value="missing")  # a share: nine 'high' bars
    other = evidence("tenure", "band", 3.0)  # a large shift of another metric
    assert finding_severity(skew) == "high"
    assert finding_severity(skew.model_copy(update={"severity": "medium", "effect": 5.0})) == "medium"
    [first, second] = metric_changes([other, band, skew])
    assert (first.metric, first.lead.test) == ("age", "skew")
    assert second.metric == "tenure"
    assert alert_summary([other, band, skew]).startswith(
        "High-severity drift: age (missing in 100% of the scored rows, 4% in training) and tenure ("
    )


def test_strength_ranks_a_contract_finding_by_its_severity_then_its_effect():
    # A drift finding: its effect over its kind's 'high' bar. A contract finding: a base per
    # severity (high 100, so it leads any drift; medium 1, a drift finding at its high bar;
    # low 0.5) plus its effect, whatever its sign.
    assert strength(evidence("x", "band", 0.25)) == 0.5
    assert strength(evidence("x", "ks", 0.15, value="distribution")) == 0.5
    skew = evidence("age", "skew", 0.25, value="outside", severity="high")
    assert strength(skew) == 100.25
    assert strength(skew.model_copy(update={"severity": "medium"})) == 1.25
    assert strength(skew.model_copy(update={"severity": "low", "effect": -0.25})) == 0.75


def test_a_metric_s_findings_are_listed_strongest_first_and_a_change_is_frozen():
    weak, strong = evidence("age", "band", 0.1), evidence("age", "ks", 0.27, value="distribution")
    [change] = metric_changes([weak, strong])
    assert change.lead == strong and change.findings == (strong, weak)
    with pytest.raises(AttributeError):
        change.metric = "other"  # type: ignore[misc]


def test_the_fingerprint_is_the_stored_formula_stages_metrics_and_severity():
    # Each alert's fingerprint is stored and compared with the next run's: a new formula would
    # send every standing alert again once. It is the first 16 hex digits of the SHA-256 of the
    # sorted "stage:metric" lines and the severity.
    findings = [evidence("y", "ks", 0.2, value="distribution"), evidence("x", "band", 0.3)]
    text = "validate_data:x\nvalidate_data:y\nmedium"
    assert alert_fingerprint(findings) == hashlib.sha256(text.encode()).hexdigest()[:16]


def test_each_skew_finding_reads_as_a_sentence():
    def said(value: str, statistic: float, expected: float | None = None) -> str:
        return skew_sentence(
            evidence("age", "skew", 1.0, value=value, statistic=statistic, expected=expected)
        )

    assert said("missing", 0.5, 0.04) == "missing in 50% of the scored rows, 4% in training"
    assert said("missing", 0.5) == "missing in 50% of the scored rows, 0% in training"  # none recorded
    assert said("outside", 0.12) == "12% of its values outside what training saw"
    assert said("constant", 1.0) == "constant in every scored row, though it varied in every training period"


def test_a_change_is_described_by_its_band_else_its_trend_else_its_lead():
    def described(*findings: Evidence) -> str:
        [change] = metric_changes(findings)
        return describe(change)

    band = evidence("usage", "band", 0.3, series=[1.0, 2.0, 7.5], expected=2.25, reference="pooled")
    trend = evidence("usage", "trend", 0.2, statistic=0.125, value="mean")
    assert described(band) == "usage (d5 7.5 vs 2.25 expected from the reference)"
    assert described(band, trend) == "usage (d5 7.5 vs 2.25 expected from the reference)"
    assert described(trend) == "usage (mean trending by 0.125 a period)"
    no_series = evidence("usage", "band", 0.3, expected=2.25)  # a band without its series says no number
    assert described(no_series, trend) == "usage (mean trending by 0.125 a period)"
    assert described(evidence("usage", "band", 0.4)) == "usage (band on d5, effect 0.4)"
    skew = evidence("usage", "skew", 0.3, value="outside", statistic=0.3, severity="medium")
    assert described(skew) == "usage (30% of its values outside what training saw)"


def test_the_summary_of_one_metric_and_of_two_more_than_it_names():
    one = [evidence("age", "band", 0.6)]
    assert alert_summary(one) == "High-severity drift: age (band on d5, effect 0.6) changed."
    five = [
        evidence(name, "band", effect)
        for name, effect in zip("abcde", (0.5, 0.4, 0.3, 0.2, 0.1), strict=True)
    ]
    assert alert_summary(five).endswith(
        " and c (band on d5, effect 0.3) changed; 2 more metrics in the report."
    )
