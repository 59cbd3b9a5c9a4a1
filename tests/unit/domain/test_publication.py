"""Whether a scoring run becomes the latest scores, and what each chunk indexes."""

from datetime import date

import numpy as np
import pytest

from modelops.domain.publication import becomes_latest


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


def test_each_decision_says_why_and_cannot_be_changed():
    september, october = date(2025, 9, 1), date(2025, 10, 1)
    assert becomes_latest(None, september).reason == "first publication"
    assert becomes_latest(september, october).reason == ("2025-10-01 is not older than the latest 2025-09-01")
    assert becomes_latest(october, september, force=True).reason == (
        "forced: 2025-09-01 replaces the newer 2025-10-01"
    )
    decision = becomes_latest(october, september)
    with pytest.raises(AttributeError):
        decision.accept = True  # type: ignore[misc]
