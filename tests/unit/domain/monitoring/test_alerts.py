"""Alert decisions: severity from effect sizes, the fingerprint that stops repeats, and the
one-sentence summary naming the metrics that changed most."""

from datetime import date

from modelops.domain.contract import Evidence
from modelops.domain.monitoring.alerts import (
    alert_fingerprint,
    alert_severity,
    alert_summary,
    finding_severity,
    metric_changes,
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
