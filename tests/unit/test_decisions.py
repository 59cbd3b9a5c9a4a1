"""The pure decisions the pipeline acts on."""

from datetime import date

import numpy as np

from modelops.domain.decisions import becomes_latest


def test_time_only_moves_forward_unless_forced():
    assert becomes_latest(None, date(2025, 9, 1)).accept
    assert becomes_latest(date(2025, 9, 1), date(2025, 9, 1)).accept  # a re-score of the same period
    assert becomes_latest(date(2025, 9, 1), date(2025, 10, 1)).accept
    older = becomes_latest(date(2025, 10, 1), date(2025, 9, 1))
    assert not older.accept and older.reason == "2025-09-01 is older than the latest 2025-10-01: history only"
    assert becomes_latest(date(2025, 10, 1), date(2025, 9, 1), force=True).accept


def test_each_chunk_indexes_its_top_rows_and_everything_above_the_floor():
    from modelops.stores.latest import indexed_rows

    score = np.array([0.1, 0.9, 0.5, 0.7, 0.3])
    assert indexed_rows(score, 2, None).tolist() == [False, True, False, True, False]
    assert indexed_rows(score, 1, 0.4).tolist() == [False, True, True, True, False]
    assert indexed_rows(np.empty(0), 3, 0.5).tolist() == []


def test_a_run_never_contacts_its_own_customers_twice_even_without_cooldown():
    from modelops.domain.decisions import Contact, claim_outcome

    today = date(2025, 10, 1)
    sent = Contact("run-10", today, "sent")
    assert claim_outcome(sent, "run-10", cutoff=today) == "already_sent"  # cooldown 0: cutoff is today
    assert claim_outcome(Contact("run-10", today, "pending"), "run-10", cutoff=today) == "claim"
    assert claim_outcome(Contact("run-09", date(2025, 9, 1), "sent"), "run-10", cutoff=today) == "claim"
    assert (
        claim_outcome(Contact("run-09", date(2025, 9, 20), "sent"), "run-10", cutoff=date(2025, 9, 1))
        == "cooldown"
    )
    assert claim_outcome(None, "run-10", cutoff=today) == "claim"


def test_retraining_needs_the_minimum_severity():
    from modelops.domain.decisions import should_retrain

    assert should_retrain("high", "medium") and should_retrain("medium", "medium")
    assert not should_retrain("low", "medium") and not should_retrain("high", None)
