"""The system's decisions, each on its boundaries: promotion, versions, alerts, campaign."""

from dataclasses import FrozenInstanceError, dataclass
from datetime import date

import pytest

from modelops.domain.contract import Evidence
from modelops.domain.decisions import (
    Contact,
    Decision,
    alert_fingerprint,
    alert_severity,
    claim_outcome,
    cooldown_cutoff,
    next_version,
    parse_version,
    promotion,
    select_contacts,
)
from modelops.domain.spec import Campaign, Promotion

# ---------------------------------------------------------------- promotion

# Binary fractions, so that "champion - drop" is exact and the boundary is the boundary.
GATE = Promotion(min_test_auc=0.625, max_auc_drop=0.125)


def test_a_candidate_exactly_at_the_gate_is_promoted_and_just_below_it_is_not():
    assert promotion(GATE, 0.625, None) == Decision(True, "test AUC 0.6250 passes the gate")
    assert promotion(GATE, 0.6249, None) == Decision(False, "test AUC 0.6249 is below the gate 0.6250")


def test_a_candidate_may_lose_at_most_max_auc_drop_to_the_champion():
    # Champion 0.875, drop 0.125: 0.75 is the lowest AUC that still replaces it.
    assert promotion(GATE, 0.75, 0.875) == Decision(True, "test AUC 0.7500 passes the gate")
    assert promotion(GATE, 0.7499, 0.875) == Decision(
        False, "test AUC 0.7499 is more than 0.125 below the champion's 0.8750"
    )


def test_a_better_candidate_beats_the_champion_and_the_gate_comes_first():
    assert promotion(GATE, 0.9, 0.8).promote
    # Below the gate, the gate is the reason even when the champion is worse still.
    assert promotion(GATE, 0.6, 0.55) == Decision(False, "test AUC 0.6000 is below the gate 0.6250")


def test_drift_blocks_promotion_only_when_the_spec_says_so_and_there_are_findings():
    blocked = promotion(GATE, 0.9, 0.8, drift_findings=2, block_on_drift=True)
    assert blocked == Decision(False, "drift alert blocks promotion (2 findings)")
    assert promotion(GATE, 0.9, 0.8, drift_findings=2, block_on_drift=False).promote
    assert promotion(GATE, 0.9, 0.8, drift_findings=0, block_on_drift=True).promote
    assert promotion(GATE, 0.9, 0.8, block_on_drift=True).promote  # no findings by default
    assert promotion(GATE, 0.9, 0.8, drift_findings=3).promote  # and by default they do not block


def test_the_default_gate_is_half_auc_and_two_points_of_drop():
    gate = Promotion()
    assert promotion(gate, 0.5, None).promote and not promotion(gate, 0.4999, None).promote
    assert promotion(gate, 0.68, 0.70).promote and not promotion(gate, 0.6799, 0.70).promote


# ---------------------------------------------------------------- versions


@pytest.mark.parametrize(
    ("version", "parsed"), [("1.0.0", (1, 0, 0)), ("2.13.4", (2, 13, 4)), ("0.0.10", (0, 0, 10))]
)
def test_a_semantic_version_parses_to_three_numbers(version, parsed):
    assert parse_version(version) == parsed


@pytest.mark.parametrize("version", ["1.2", "1.2.3.4", "1.x.0", "v1.2.0", "1.-2.0", "", "1..0"])
def test_anything_else_is_named_in_the_error(version):
    with pytest.raises(ValueError) as raised:
        parse_version(version)
    assert str(raised.value) == f"{version!r} is not a semantic version (major.minor.patch)"


def test_the_first_model_is_1_0_0():
    assert next_version([], "schema-a") == "1.0.0"


def test_a_retrain_on_the_same_schema_is_a_minor_version_with_patch_zero():
    assert next_version([("1.0.0", "a")], "a") == "1.1.0"
    assert next_version([("3.4.7", "a")], "a") == "3.5.0"


def test_a_new_feature_schema_is_a_major_version():
    assert next_version([("1.0.0", "a")], "b") == "2.0.0"
    assert next_version([("3.4.7", "a")], "b") == "4.0.0"


def test_the_newest_version_is_found_by_number_not_by_text():
    registered = [("1.9.0", "a"), ("1.10.0", "b"), ("1.2.0", "a")]
    # As text "1.9.0" sorts last; by number 1.10.0 is the newest, and its schema is "b".
    assert next_version(registered, "b") == "1.11.0"
    assert next_version(registered, "a") == "2.0.0"


# ---------------------------------------------------------------- alerts


def finding(metric: str, *, stage="validate_data", test="ks", value="d5", statistic=0.3) -> Evidence:
    return Evidence(stage=stage, metric=metric, value=value, test=test, statistic=statistic, effect=0.1)


@pytest.mark.parametrize("metric", ["score", "outcome", "outcome_by_score_decile"])
def test_drift_of_the_scores_or_the_outcome_is_always_high(metric):
    assert alert_severity([finding(metric)]) == "high"


def test_three_drifting_metrics_are_high_two_are_medium():
    assert alert_severity([finding("age"), finding("plan")]) == "medium"
    assert alert_severity([finding("age"), finding("plan"), finding("tenure_months")]) == "high"
    # Three findings on one metric are one metric.
    assert alert_severity([finding("age", value=v) for v in ("d1", "d2", "d3")]) == "medium"
    assert alert_severity([]) == "medium"


def test_the_fingerprint_ignores_order_and_numbers_but_not_what_drifted():
    a, b = finding("age"), finding("plan", test="chi2", value="share:basic")
    fingerprint = alert_fingerprint([a, b])
    assert len(fingerprint) == 16 and int(fingerprint, 16) >= 0
    assert alert_fingerprint([b, a]) == fingerprint
    assert alert_fingerprint([finding("age", statistic=0.9), b]) == fingerprint
    assert alert_fingerprint([a, b, a]) == fingerprint
    for changed in (
        finding("age", stage="validate_scores"),
        finding("age", test="trend"),
        finding("tenure_months"),
        finding("age", value="d6"),
    ):
        assert alert_fingerprint([changed, b]) != fingerprint
    assert alert_fingerprint([a]) != fingerprint


# ---------------------------------------------------------------- campaign


@dataclass(frozen=True)
class Customer:
    entity_id: str
    score: float


CUSTOMERS = [Customer("c", 0.9), Customer("a", 0.5), Customer("b", 0.9), Customer("d", 0.2)]


def ids(selected: list[Customer]) -> list[str]:
    return [c.entity_id for c in selected]


def test_the_top_n_highest_scores_ties_to_the_smaller_id():
    assert ids(select_contacts(CUSTOMERS, Campaign(top_n=3))) == ["b", "c", "a"]
    assert ids(select_contacts(CUSTOMERS, Campaign(top_n=1))) == ["b"]


def test_min_score_is_inclusive_and_combines_with_top_n():
    assert ids(select_contacts(CUSTOMERS, Campaign(top_n=None, min_score=0.5))) == ["b", "c", "a"]
    assert ids(select_contacts(CUSTOMERS, Campaign(top_n=2, min_score=0.2))) == ["b", "c"]
    assert ids(select_contacts(CUSTOMERS, Campaign(top_n=10, min_score=0.95))) == []


def test_without_a_limit_everyone_eligible_is_contacted_in_score_order():
    assert ids(select_contacts(CUSTOMERS, Campaign(top_n=None, min_score=0.0))) == ["b", "c", "a", "d"]
    assert ids(select_contacts(iter(CUSTOMERS), Campaign(top_n=100))) == ["b", "c", "a", "d"]


def test_the_cooldown_cutoff_is_that_many_days_back():
    assert cooldown_cutoff(date(2025, 3, 31), 30) == date(2025, 3, 1)
    assert cooldown_cutoff(date(2025, 3, 1), 1) == date(2025, 2, 28)
    assert cooldown_cutoff(date(2025, 3, 1), 0) == date(2025, 3, 1)


CUTOFF = date(2025, 3, 1)


@pytest.mark.parametrize(
    ("previous", "outcome"),
    [
        (None, "claim"),  # never contacted
        (Contact("other", date(2025, 3, 1), "sent"), "claim"),  # on the cutoff: cooldown over
        (Contact("other", date(2025, 3, 2), "sent"), "cooldown"),
        (Contact("other", date(2025, 3, 2), "pending"), "cooldown"),
        (Contact("run-1", date(2025, 3, 2), "pending"), "claim"),  # this run, crashed before sending
        (Contact("run-1", date(2025, 3, 2), "sent"), "already_sent"),  # this run, a retry
        (Contact("run-1", date(2025, 2, 1), "sent"), "claim"),  # this run id, long ago
    ],
)
def test_who_may_claim_a_customer(previous, outcome):
    assert claim_outcome(previous, "run-1", CUTOFF) == outcome


def test_decisions_and_contacts_are_values():
    decision = promotion(GATE, 0.9, None)
    with pytest.raises(FrozenInstanceError):
        decision.promote = False  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        Contact("run-1", CUTOFF, "sent").status = "pending"  # type: ignore[misc]
