"""Whether a scoring run may be published (every chunk's work is there, every count adds up),
whether it becomes the latest scores, and what each chunk indexes."""

from datetime import date

import numpy as np
import pytest

from modelops.domain.contract import Chunk, PublishChunkResult
from modelops.domain.publication import (
    Decision,
    PublicationImportError,
    ScoreCountError,
    becomes_latest,
    by_import,
    check_import,
    latest_decision,
    published_rows,
    require_all,
    require_counts,
    retired_tables,
)

CHUNKS = [Chunk(index=0, key="part-0", rows=3), Chunk(index=1, key="part-0", offset=3, rows=2)]


def receipt(rows: int, shadow: int = 0, **changes: int) -> PublishChunkResult:
    counts = {"history_rows": rows, "latest_rows": rows, "online_feature_rows": rows, **changes}
    return PublishChunkResult(shadow_rows=shadow, **counts)


def test_time_only_moves_forward_unless_forced():
    assert becomes_latest(None, date(2025, 9, 1)) == Decision(True, "first publication", flip=True)
    assert becomes_latest(date(2025, 9, 1), date(2025, 9, 1)).flip  # a re-score of the same period
    assert becomes_latest(date(2025, 9, 1), date(2025, 10, 1)) == Decision(
        True, "2025-10-01 is not older than the latest 2025-09-01", flip=True
    )
    older = becomes_latest(date(2025, 10, 1), date(2025, 9, 1))
    assert older == Decision(False, "2025-09-01 is older than the latest 2025-10-01: history only")
    assert older.flip is False and {older, older} == {older}  # a value: frozen, hashable
    assert becomes_latest(date(2025, 10, 1), date(2025, 9, 1), force=True) == Decision(
        True, "forced: 2025-09-01 replaces the newer 2025-10-01", flip=True
    )


def test_a_rerun_of_the_latest_publication_leaves_the_pointer_where_it_is():
    current = ("run-1#1.0.0", date(2025, 10, 1))
    again = latest_decision(current, "run-1#1.0.0", date(2025, 10, 1))
    assert again == Decision(True, "already the latest publication") and again.flip is False
    assert latest_decision(current, "run-2#1.0.0", date(2025, 10, 1)).flip
    assert not latest_decision(current, "run-2#1.0.0", date(2025, 9, 1)).accept
    assert latest_decision(None, "run-2#1.0.0", date(2025, 9, 1)).flip


def test_every_chunk_must_have_done_its_part():
    require_all(CHUNKS, {0, 1}, "scores")
    with pytest.raises(ScoreCountError, match=r"^chunk 1 has no scores \(1 of 2 chunks missing\)$"):
        require_all(CHUNKS, {0}, "scores")
    with pytest.raises(ScoreCountError, match=r"^chunk 0 has no scores \(2 of 2 chunks missing\)$"):
        require_all(CHUNKS, set(), "scores")


def test_each_receipt_accounts_for_each_row_of_its_chunk():
    assert published_rows(CHUNKS, [receipt(3), receipt(2)], shadow=False) == 5
    assert published_rows(CHUNKS, [receipt(3, shadow=3), receipt(2, shadow=2)], shadow=True) == 5
    with pytest.raises(ScoreCountError, match=r"^chunk 1 has a receipt without its publication$"):
        published_rows(CHUNKS, [receipt(3), None], shadow=False)
    for short in ("history_rows", "latest_rows", "online_feature_rows"):
        with pytest.raises(ScoreCountError, match=f"^chunk 0 published .*{short}=2.* for 3 rows$"):
            published_rows(CHUNKS, [receipt(3, **{short: 2}), receipt(2)], shadow=False)
    with pytest.raises(ScoreCountError, match=r"^chunk 1 published .* for 2 rows$"):
        published_rows(CHUNKS, [receipt(3), receipt(1)], shadow=False)  # consistent, but short
    with pytest.raises(ScoreCountError, match=r"^the shadow challenger scored 1 of chunk 1's 2 rows$"):
        published_rows(CHUNKS, [receipt(3, shadow=3), receipt(2, shadow=1)], shadow=True)
    with pytest.raises(ValueError, match="shorter"):  # one receipt per chunk, never fewer
        published_rows(CHUNKS, [receipt(3)], shadow=False)


def test_a_model_without_an_online_api_accounts_for_no_online_features():
    none = [receipt(3, online_feature_rows=0), receipt(2, online_feature_rows=0)]
    assert published_rows(CHUNKS, none, shadow=False, online=False) == 5
    with pytest.raises(ScoreCountError, match=r"^chunk 0 published .*online_feature_rows=0.* for 3 rows$"):
        published_rows(CHUNKS, none, shadow=False)  # with an online API, they must be there
    with pytest.raises(ScoreCountError, match=r"^chunk 0 published .*online_feature_rows=3.* for 3 rows$"):
        published_rows(CHUNKS, [receipt(3), receipt(2, online_feature_rows=0)], shadow=False, online=False)


def test_a_run_publishes_by_import_from_the_specs_threshold_on():
    assert by_import(100_000, 100_000) and by_import(2_000_000, 100_000)
    assert not by_import(99_999, 100_000)
    assert not by_import(10**9, None)  # null: always item by item
    assert by_import(0, 0)


def test_an_import_is_done_only_with_exactly_the_runs_rows():
    assert check_import("t", "COMPLETED", 5, 0, 5) is True
    assert check_import("t", "IN_PROGRESS", 0, 0, 5) is False
    with pytest.raises(
        PublicationImportError, match=r"^the import of t imported 4 of 5 rows \(0 items refused\)$"
    ):
        check_import("t", "COMPLETED", 4, 0, 5)
    with pytest.raises(PublicationImportError, match=r"^the import of t imported 6 of 5 rows"):
        check_import("t", "COMPLETED", 6, 0, 5)  # a row twice: a part staged twice
    with pytest.raises(PublicationImportError, match=r"\(1 items refused\)$"):
        check_import("t", "COMPLETED", 5, 1, 5)
    for status in ("FAILED", "CANCELLED", "CANCELLING"):
        with pytest.raises(PublicationImportError, match=f"^the import of t ended {status}: bad line$"):
            check_import("t", status, 5, 0, 5, "bad line")


def test_a_superseded_table_is_retired_only_after_the_readers_grace():
    superseded = {"old": 1_000, "older": 100}
    assert retired_tables(superseded, now=1_899, grace_seconds=900) == ["older"]
    assert retired_tables(superseded, now=1_900, grace_seconds=900) == ["old", "older"]
    assert retired_tables(superseded, now=1_000, grace_seconds=0) == ["old", "older"]
    assert retired_tables({}, now=10**10, grace_seconds=0) == []


def test_every_extracted_row_is_published_and_validated():
    require_counts(extracted=5, published=5, validated=5)
    for published, validated in ((4, 5), (5, 4), (6, 6)):
        with pytest.raises(ScoreCountError, match=f"^{published} rows published, {validated} validated, 5"):
            require_counts(extracted=5, published=published, validated=validated)


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
