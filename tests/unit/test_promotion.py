"""The promotion gate on hand-built samples: what it promotes and every reason it refuses."""

from datetime import date

import numpy as np
import pytest

from modelops.domain.promotion import Candidate, decide, selected_share
from modelops.domain.spec import Campaign, Promotion

GATE, RULE = Promotion(), Campaign(top_n=200, min_score=0.3)
AUGUST, MARCH = date(2025, 8, 1), date(2025, 3, 1)


def rows(seed: int = 0, n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """Outcomes and a good model's scores (AUC about 0.85, calibrated)."""
    rng = np.random.default_rng(seed)
    logit = rng.normal(-2.5, 1.4, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    return y, 1 / (1 + np.exp(-logit))


def test_a_candidate_as_good_as_the_champion_is_promoted_with_its_evidence():
    y, score = rows()
    champion = Candidate(
        "1.0.0", score + np.random.default_rng(1).normal(0, 0.02, y.size).clip(-0.01, 0.01), AUGUST
    )
    verdict = decide(GATE, RULE, y, Candidate("new", score, AUGUST), champion, baseline_rate=y.mean())
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
    judged = decide(GATE, few, y, Candidate("new", ours, AUGUST), champion, baseline_rate=y.mean())
    assert "would select 1.5% of the customers instead of the champion's 0.5%" in judged.reason
    fewer, ours = lifted(3, 13)  # 3 against 13: noise
    verdict = decide(GATE, fewer, y, Candidate("new", ours, AUGUST), champion, baseline_rate=y.mean())
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
    verdict = decide(GATE, RULE, y, Candidate("new", doubled, AUGUST), None, baseline_rate=0.08)
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
    assert decide(GATE, RULE, y, Candidate("new", score, AUGUST), None, baseline_rate=y.mean()).accept
    coin = np.random.default_rng(3).random(y.size) * 2 * y.mean()  # calibrated noise, no ranking
    verdict = decide(GATE, RULE, y, Candidate("new", coin, AUGUST), None, baseline_rate=y.mean())
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
