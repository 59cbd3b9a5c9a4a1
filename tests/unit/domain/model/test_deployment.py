"""What deploy_model does with a judged candidate: promote it (conditional on the champion the
gate compared with), record its rejection once, leave an operator's choice standing, and
complete a decision a crash left half done."""

import pytest

from modelops.domain.model.deployment import Deployment, Registered, decide, history

RUN = "training-churn-2025-09-01"
MINE = Registered("1.1.0", RUN, "registered", was_champion=False, rejection_noted=False)
PASSED = "roc_auc 0.8100 against the champion's 0.7900 on the same rows passes the gate"


def deploy(registered: Registered = MINE, *, accept: bool = True, compared="1.0.0", current="1.0.0"):
    return decide(
        accept=accept,
        verdict=PASSED if accept else "test AUC 0.6000 is below the gate 0.6500",
        registered=registered,
        compared=compared,
        current=current,
    )


def test_a_candidate_that_passed_is_promoted_from_the_champion_it_was_compared_with():
    assert deploy() == Deployment(True, PASSED, promote=True, expected="1.0.0")
    assert {deploy(), deploy()} == {deploy()} and {MINE, MINE} == {MINE}  # values: frozen, hashable


def test_the_first_model_is_promoted_only_while_there_is_still_no_champion():
    assert deploy(compared=None, current=None) == Deployment(True, PASSED, promote=True, expected=None)
    raced = deploy(compared=None, current="1.0.0")  # another first training won meanwhile
    assert (raced.champion, raced.promote, raced.hold) == (False, False, True)
    assert "against no champion, but the champion moved to 1.0.0" in raced.reason


def test_an_operators_promotion_while_the_candidate_trained_stands():
    held = deploy(compared="1.0.0", current="0.9.0")
    assert (held.champion, held.promote, held.reject, held.hold) == (False, False, False, True)
    assert held.reason == (
        "passed the gate against 1.0.0, but the champion moved to 0.9.0 meanwhile: 1.1.0 stays "
        "registered, not promoted (train again to compare with 0.9.0)"
    )


def test_a_rejection_is_recorded_and_alerted_once():
    rejected = deploy(accept=False)
    assert rejected == Deployment(False, "test AUC 0.6000 is below the gate 0.6500", reject=True)
    again = deploy(Registered("1.1.0", RUN, "rejected", False, rejection_noted=True), accept=False)
    assert (again.champion, again.reject, again.reason) == (False, False, rejected.reason)


def test_a_rejection_stands_even_when_the_champion_moved_meanwhile():
    rejected = deploy(accept=False, current="0.9.0")
    assert (rejected.reject, rejected.hold, rejected.promote) == (True, False, False)


def test_the_champion_already_is_the_candidate():
    assert deploy(current="1.1.0") == Deployment(True, "already the champion")
    assert deploy(current="1.1.0").expected is None  # nothing to write, nothing expected
    # whatever the verdict or the history says: nothing to change
    assert deploy(
        Registered("1.1.0", "other", "rejected", True, True), accept=False, current="1.1.0"
    ).champion


def test_a_rerun_completes_the_promotion_a_crash_left_undone():
    # Run A registered 1.1.0 and crashed before the alias moved; run B trained the same bytes.
    earlier = Registered("1.1.0", "training-churn-2025-09-01-a", "registered", False, False)
    assert deploy(earlier) == Deployment(True, PASSED, promote=True, expected="1.0.0")


def test_a_rerun_completes_a_rejection_a_crash_left_unrecorded():
    earlier = Registered("1.1.0", "training-churn-2025-09-01-a", "rejected", False, False)
    assert deploy(earlier, accept=False).reject


def test_a_version_that_was_champion_before_is_not_promoted_again_by_a_retrain():
    before = Registered("1.0.0", "training-churn-2025-08-01", "registered", True, False)
    kept = deploy(before, compared="1.2.0", current="1.2.0")
    assert (kept.champion, kept.promote, kept.reject, kept.hold) == (False, False, False, False)
    assert kept.reason == (
        "the same model is already registered as 1.0.0 (registered) and was the champion before: "
        "the champion chosen since (1.2.0) stands"
    )


@pytest.mark.parametrize("accept", [True, False])
def test_the_same_bytes_as_a_retired_version_never_serve(accept):
    retired = deploy(Registered("1.1.0", "earlier", "retired", False, False), accept=accept)
    assert (retired.champion, retired.promote, retired.reject, retired.hold) == (False, False, False, False)
    assert retired.reason == "the same model is registered as 1.1.0, which is retired"


def test_the_audit_trail_says_whether_a_version_was_champion_and_whether_its_rejection_was_noted():
    trail = [("promotion", "1.0.0"), ("rejected", "1.1.0"), ("promote", "1.2.0"), ("rollback", "0.9.0")]
    assert history("1.0.0", trail) == (True, False)  # promoted by a training run
    assert history("1.1.0", trail) == (False, True)
    assert history("1.2.0", trail) == (True, False)  # promoted by an operator
    assert history("0.9.0", trail) == (True, False)  # rolled back to
    assert history("1.3.0", trail) == (False, False)
    assert history("1.3.0", [("held", "1.3.0"), ("retired", "1.3.0")]) == (False, False)
