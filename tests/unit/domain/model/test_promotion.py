"""The promotion gate on hand-built samples: what it promotes and every reason it refuses."""

from datetime import date

import numpy as np
import pytest

from modelops.domain.model import metrics
from modelops.domain.model.promotion import Candidate, Verdict, decide, selected_share
from modelops.domain.spec import Campaign, Promotion

GATE, RULE = Promotion(), Campaign(top_n=200, min_score=0.3)
AUGUST, MARCH = date(2025, 8, 1), date(2025, 3, 1)


def rows(seed: int = 0, n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """Outcomes and a good model's scores (AUC about 0.85, calibrated)."""
    rng = np.random.default_rng(seed)
    logit = rng.normal(-2.5, 1.4, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    return y, 1 / (1 + np.exp(-logit))


def judge(
    y: np.ndarray,
    score: np.ndarray,
    champion: Candidate | None = None,
    rule: Campaign = RULE,
    baseline_rate: float | None = None,
) -> Verdict:
    """The gate's verdict on a new candidate trained in August (the base rate: the sample's)."""
    rate = float(y.mean()) if baseline_rate is None else baseline_rate
    return decide(GATE, rule, y, Candidate("new", score, AUGUST), champion, baseline_rate=rate)


def test_a_candidate_as_good_as_the_champion_is_promoted_with_its_evidence():
    y, score = rows()
    champion = Candidate(
        "1.0.0", score + np.random.default_rng(1).normal(0, 0.02, y.size).clip(-0.01, 0.01), AUGUST
    )
    verdict = judge(y, score, champion)
    assert verdict.accept, verdict.reason
    assert "passes the gate" in verdict.reason
    assert verdict.evidence["champion"]["method"] == "DeLong" and verdict.evidence["rows"] == y.size


def test_a_crippled_candidate_is_refused_when_the_campaign_would_select_nobody():
    y, score = rows()
    # Same ranking, squeezed towards the base rate (few boosting rounds): no score reaches 0.3.
    squeezed = score.mean() + 0.15 * (score - score.mean())
    assert squeezed.max() < 0.3
    verdict = decide(
        GATE,
        RULE,
        y,
        Candidate("new", squeezed, AUGUST),
        Candidate("1.0.0", score, AUGUST),
        baseline_rate=0.05,
    )
    assert not verdict.accept
    assert "would select 0.0% of the customers instead of the champion's" in verdict.reason


def test_a_selection_of_a_handful_of_customers_is_not_judged_by_its_ratio():
    y, score = rows()
    champion = Candidate("1.0.0", score, AUGUST)
    order = np.argsort(score)[::-1]

    def lifted(floor_rank: int, reaching: int) -> tuple[Campaign, np.ndarray]:
        """A floor at the champion's ``floor_rank``-th score, and a candidate that lifts the
        next rows to it, so ``reaching`` rows reach it (the rest, and the mean, unchanged)."""
        floor = float(score[order[floor_rank - 1]])
        ours = score.copy()
        ours[order[floor_rank:reaching]] = floor
        return Campaign(min_score=floor), ours

    few, ours = lifted(20, 60)  # 20 customers against 60: a campaign three times the size
    judged = judge(y, ours, champion, rule=few)
    assert "would select 1.5% of the customers instead of the champion's 0.5%" in judged.reason
    fewer, ours = lifted(3, 13)  # 3 against 13: noise
    verdict = judge(y, ours, champion, rule=fewer)
    assert verdict.accept, verdict.reason
    assert verdict.evidence["selected_share"] == {"candidate": 13 / y.size, "champion": 3 / y.size}


def test_a_significantly_worse_candidate_is_refused():
    y, score = rows()
    noisy = 1 / (1 + np.exp(-(np.log(score / (1 - score)) + np.random.default_rng(2).normal(0, 1.5, y.size))))
    verdict = decide(
        GATE, RULE, y, Candidate("new", noisy, AUGUST), Candidate("1.0.0", score, AUGUST), baseline_rate=0.08
    )
    assert not verdict.accept and "significantly worse than the champion's" in verdict.reason


def test_a_candidate_trained_on_older_data_is_refused():
    y, score = rows()
    verdict = decide(
        GATE, RULE, y, Candidate("new", score, MARCH), Candidate("1.0.0", score, AUGUST), baseline_rate=0.08
    )
    assert not verdict.accept
    assert verdict.reason == "trained on data up to 2025-03-01, older than the champion's 2025-08-01"


def test_calibration_drift_and_the_floor_are_guards_too():
    y, score = rows()
    doubled = np.clip(score * 2.5, 0, 1)
    verdict = judge(y, doubled, baseline_rate=0.08)
    assert not verdict.accept and "times the observed outcome rate" in verdict.reason
    blocked = decide(
        GATE,
        RULE,
        y,
        Candidate("new", score, AUGUST),
        None,
        baseline_rate=0.08,
        drift_findings=2,
        block_on_drift=True,
    )
    assert not blocked.accept and blocked.reason == "drift alert blocks promotion (2 findings)"
    floor = decide(
        Promotion(min_test_auc=0.99), RULE, y, Candidate("new", score, AUGUST), None, baseline_rate=0.08
    )
    assert not floor.accept and "below the gate 0.9900" in floor.reason


def test_a_first_model_must_beat_knowing_nothing():
    y, score = rows()
    assert judge(y, score).accept
    coin = np.random.default_rng(3).random(y.size) * 2 * y.mean()  # calibrated noise, no ranking
    verdict = judge(y, coin)
    assert not verdict.accept and "not significantly better than knowing nothing" in verdict.reason
    log_gate = Promotion(metric="log_loss")
    assert decide(log_gate, RULE, y, Candidate("new", score, AUGUST), None, baseline_rate=y.mean()).accept
    assert not decide(log_gate, RULE, y, Candidate("new", coin, AUGUST), None, baseline_rate=y.mean()).accept


def test_the_selected_share_follows_the_campaigns_floor():
    assert selected_share(np.array([0.1, 0.3, 0.5, 0.2]), Campaign(min_score=0.3)) == 0.5
    assert selected_share(np.array([0.1, 0.9]), Campaign(top_n=1)) is None  # top N always selects N


@pytest.mark.parametrize(("metric", "allowed"), [("roc_auc", 0.01), ("brier", 0.002)])
def test_the_tolerance_has_a_default_per_metric(metric, allowed):
    assert Promotion(metric=metric).allowed_loss == allowed
    assert Promotion(metric=metric, tolerance=0.05).allowed_loss == 0.05


def noisy(score: np.ndarray, sd: float, seed: int) -> np.ndarray:
    """The same model with noise on its logits: a slightly worse ranking."""
    logit = np.log(score / (1 - score)) + np.random.default_rng(seed).normal(0, sd, score.size)
    return 1 / (1 + np.exp(-logit))


def test_a_candidate_worse_by_more_than_the_tolerance_is_refused_even_if_not_significantly():
    y, score = rows(0, 500)
    candidate = noisy(score, 0.7, 3)
    comparison = metrics.compare("roc_auc", y, candidate, score)
    assert -0.02 < comparison.difference < -0.01 and comparison.p_worse > GATE.level  # a small sample
    verdict = decide(
        GATE,
        RULE,
        y,
        Candidate("new", candidate, AUGUST),
        Candidate("1.0.0", score, AUGUST),
        baseline_rate=0.08,
    )
    assert not verdict.accept
    assert verdict.reason == (
        f"roc_auc {comparison.candidate:.4f} is more than 0.01 worse than the champion's "
        f"{comparison.reference:.4f} on the same rows"
    )
    loose = Promotion(tolerance=0.02)
    assert decide(
        loose,
        RULE,
        y,
        Candidate("new", candidate, AUGUST),
        Candidate("1.0.0", score, AUGUST),
        baseline_rate=0.08,
    ).accept


def test_the_evidence_holds_every_figure_of_the_decision():
    y, score = rows()
    champion_scores = noisy(score, 0.1, 4)
    verdict = decide(
        GATE,
        RULE,
        y,
        Candidate("new", score, AUGUST),
        Candidate("1.0.0", champion_scores, AUGUST),
        baseline_rate=0.08,
    )
    comparison = metrics.compare("roc_auc", y, score, champion_scores)
    assert verdict.accept
    assert verdict.reason == (
        f"roc_auc {comparison.candidate:.4f} against the champion's {comparison.reference:.4f} "
        "on the same rows passes the gate"
    )
    assert verdict.evidence == {
        "rows": 4000,
        "outcome_rate": pytest.approx(y.mean(), rel=1e-5),
        "candidate": {
            "version": "new",
            "roc_auc": pytest.approx(metrics.roc_auc(y, score), rel=1e-5),
            "calibration": pytest.approx(metrics.calibration(y, score), rel=1e-5),
        },
        "champion": {
            "version": "1.0.0",
            "metric": "roc_auc",
            "candidate": pytest.approx(comparison.candidate, rel=1e-5),
            "reference": pytest.approx(comparison.reference, rel=1e-5),
            "difference": pytest.approx(comparison.difference, rel=1e-4),
            "p_worse": pytest.approx(comparison.p_worse, rel=1e-4),
            "method": "DeLong",
        },
        "selected_share": {
            "candidate": float(np.mean(score >= 0.3)),
            "champion": float(np.mean(champion_scores >= 0.3)),
        },
    }
    first = judge(y, score)
    versus = metrics.delong(y, score, None)
    assert first.reason == f"first model: roc_auc {versus.candidate:.4f} beats the baseline"
    assert first.evidence["baseline"] == {
        "metric": "roc_auc",
        "candidate": pytest.approx(versus.candidate, rel=1e-5),
        "reference": 0.5,
        "difference": pytest.approx(versus.difference, rel=1e-5),
        "p_worse": pytest.approx(versus.p_worse, rel=1e-4, abs=1e-12),
        "method": "DeLong",
    }
    brier = decide(
        Promotion(metric="brier"), RULE, y, Candidate("new", score, AUGUST), None, baseline_rate=y.mean()
    )
    assert (
        brier.evidence["baseline"]["method"] != "DeLong" and brier.evidence["baseline"]["metric"] == "brier"
    )


def test_every_refusal_says_why_in_one_line():
    y, score = rows()
    auc, calibration = metrics.roc_auc(y, score), metrics.calibration(y, score)
    floor = decide(
        Promotion(min_test_auc=0.99), RULE, y, Candidate("new", score, AUGUST), None, baseline_rate=0.08
    )
    assert floor.reason == f"test AUC {auc:.4f} is below the gate 0.9900"
    # At exactly the floor or the calibration tolerance the candidate passes.
    exact = Promotion(min_test_auc=auc, calibration_tolerance=abs(calibration - 1))
    assert decide(exact, RULE, y, Candidate("new", score, AUGUST), None, baseline_rate=y.mean()).accept
    doubled = np.clip(score * 2.5, 0, 1)
    high = judge(y, doubled, baseline_rate=0.08)
    assert high.reason == (
        f"mean score is {metrics.calibration(y, doubled):.2f} times the observed outcome rate "
        "(allowed: within 50%)"
    )
    coin = np.random.default_rng(3).random(y.size) * 2 * y.mean()
    nothing = judge(y, coin)
    versus = metrics.delong(y, coin, None)
    assert nothing.reason == (
        f"roc_auc {versus.candidate:.4f} is not significantly better than knowing nothing "
        f"(0.5000, p = {1 - versus.p_worse:.3g})"
    )
    worse = noisy(score, 1.5, 2)
    comparison = metrics.compare("roc_auc", y, worse, score)
    refused = decide(
        GATE, RULE, y, Candidate("new", worse, AUGUST), Candidate("1.0.0", score, AUGUST), baseline_rate=0.08
    )
    assert refused.reason == (
        f"roc_auc {comparison.candidate:.4f} is significantly worse than the champion's "
        f"{comparison.reference:.4f} on the same rows (p = {comparison.p_worse:.3g})"
    )


def test_drift_blocks_promotion_only_when_the_spec_says_so_and_there_are_findings():
    y, score = rows()
    candidate = Candidate("new", score, AUGUST)
    assert decide(GATE, RULE, y, candidate, None, baseline_rate=y.mean(), drift_findings=3).accept
    assert decide(GATE, RULE, y, candidate, None, baseline_rate=y.mean(), block_on_drift=True).accept
    assert not decide(
        GATE, RULE, y, candidate, None, baseline_rate=y.mean(), drift_findings=1, block_on_drift=True
    ).accept


def test_the_selection_is_judged_from_twenty_customers_and_within_the_factor_inclusive():
    y, score = rows()
    champion = Candidate("1.0.0", score, AUGUST)
    order = np.argsort(score)[::-1]

    def floor_at(selected: int) -> Campaign:
        return Campaign(min_score=float(score[order[selected - 1]]))

    def lifted(rule: Campaign, reaching: int) -> np.ndarray:
        ours = score.copy()
        ours[order[:reaching]] = np.maximum(ours[order[:reaching]], rule.min_score or 0.0)
        return ours

    twenty = floor_at(7)  # the champion selects 7; a candidate selecting 20 is judged (20 / 7 > 2)
    judged = decide(
        GATE, twenty, y, Candidate("new", lifted(twenty, 20), AUGUST), champion, baseline_rate=y.mean()
    )
    assert (
        not judged.accept
        and "would select 0.5% of the customers instead of the champion's 0.2%" in judged.reason
    )
    nineteen = decide(
        GATE, twenty, y, Candidate("new", lifted(twenty, 19), AUGUST), champion, baseline_rate=y.mean()
    )
    assert nineteen.accept, nineteen.reason  # 19 against 7: too few to judge
    rule = floor_at(80)  # the champion selects 80 of 4,000: the candidate may select 40 to 160
    for reaching, accepted in ((40, True), (160, True), (39, False), (161, False)):
        if reaching < 80:  # fewer: lower the candidate's scores below the floor from rank `reaching` on
            ours = score.copy()
            ours[order[reaching:80]] = (rule.min_score or 0.0) * 0.999
        else:
            ours = lifted(rule, reaching)
        verdict = judge(y, ours, champion, rule=rule)
        assert verdict.accept == accepted, (reaching, verdict.reason)
        assert accepted or verdict.reason.startswith("the campaign rule (score >= ")
    top_only = Campaign(top_n=200)  # no floor: top N always selects N, nothing to compare
    assert judge(y, score, champion, rule=top_only).accept


def test_verdicts_and_candidates_are_values():
    verdict = Verdict(False, "the champion cannot be scored on this sample")
    assert verdict.evidence == {}  # a refusal made outside decide carries no figures
    with pytest.raises(AttributeError):
        verdict.accept = True  # type: ignore[misc]
    with pytest.raises(AttributeError):
        Candidate("new", np.zeros(2), AUGUST).version = "other"  # type: ignore[misc]


def test_a_champion_that_selects_nobody_leaves_the_selection_unjudged():
    y, score = rows()
    rule = Campaign(min_score=0.3)
    quiet_champion = Candidate("1.0.0", np.minimum(score, 0.29), AUGUST)  # nobody reaches the floor
    assert int(np.sum(score >= 0.3)) >= 20  # the candidate selects enough to be judged otherwise
    verdict = judge(y, score, quiet_champion, rule=rule)
    assert verdict.accept, verdict.reason
    assert verdict.evidence["selected_share"]["champion"] == 0.0


def test_a_first_model_that_knows_nothing_is_refused_even_with_no_variance():
    # Every score the base rate: AUC exactly 0.5, calibrated, and DeLong's variance 0, so the
    # p-value alone (1 - p_worse = 0) would call it significant: the difference must be > 0.
    y, _ = rows()
    constant = np.full(y.size, y.mean())
    versus = metrics.delong(y, constant, None)
    assert (versus.candidate, versus.difference, versus.p_worse) == (0.5, 0.0, 1.0)
    verdict = judge(y, constant)
    assert not verdict.accept
    assert verdict.reason == "roc_auc 0.5000 is not significantly better than knowing nothing (0.5000, p = 0)"


def test_an_equal_auc_passes_a_zero_tolerance():
    # A candidate that ranks the rows exactly as the champion (scores raised to a power: same
    # order, same AUC) loses nothing, which a tolerance of 0 allows.
    y, score = rows()
    candidate = score**1.02
    comparison = metrics.compare("roc_auc", y, candidate, score)
    assert comparison.difference == 0.0
    verdict = decide(
        Promotion(tolerance=0),
        RULE,
        y,
        Candidate("new", candidate, AUGUST),
        Candidate("1.0.0", score, AUGUST),
        baseline_rate=0.08,
    )
    assert verdict.accept, verdict.reason
    assert "passes the gate" in verdict.reason


def test_at_exactly_the_level_the_candidate_gets_the_benefit_of_the_doubt():
    # The gate's p-values are compared with the spec's level, which may be any number in
    # (0, 0.5): at exactly the level a first model is significantly better (p <= level) and a
    # candidate is not significantly worse than the champion (only p_worse < level is).
    y, score = rows()
    weak = 0.98 * np.random.default_rng(3).random(y.size) * 2 * y.mean() + 0.02 * score
    versus = metrics.delong(y, weak, None)
    assert 0.05 < 1 - versus.p_worse < 0.06  # a faint ranking, not significant at 5 %
    first = Promotion(level=1 - versus.p_worse)
    assert decide(first, RULE, y, Candidate("new", weak, AUGUST), None, baseline_rate=y.mean()).accept
    slightly_worse = noisy(score, 0.2, 1)
    comparison = metrics.compare("roc_auc", y, slightly_worse, score)
    assert -0.005 < comparison.difference < 0 and 0.007 < comparison.p_worse < 0.008
    at_level = Promotion(level=comparison.p_worse)
    champion = Candidate("1.0.0", score, AUGUST)
    verdict = decide(
        at_level, RULE, y, Candidate("new", slightly_worse, AUGUST), champion, baseline_rate=0.08
    )
    assert verdict.accept, verdict.reason
    above = Promotion(level=0.01)  # the same candidate at a level above its p-value is refused
    assert (
        "significantly worse"
        in decide(
            above, RULE, y, Candidate("new", slightly_worse, AUGUST), champion, baseline_rate=0.08
        ).reason
    )
