"""The one maker of boto3 clients and resources: what is shared, and by whom."""

import threading

from modelops import caches
from modelops.stores import aws


def test_a_table_is_made_once_a_thread_and_again_after_the_caches_are_cleared(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    caches.clear_all()
    mine = aws.table("scores")
    assert aws.table("scores") is mine and aws.table("scores").name == "scores"
    assert aws.table("other") is not mine
    theirs: list[object] = []
    worker = threading.Thread(target=lambda: theirs.append(aws.table("scores")))
    worker.start()
    worker.join()
    # Another thread has its own resource (its client's condition builder is not shared).
    assert theirs[0] is not mine and theirs[0].meta.client is not mine.meta.client
    assert aws.client("dynamodb") is aws.client("dynamodb")  # clients are shared
    caches.clear_all()
    assert aws.table("scores") is not mine


def test_a_thread_that_has_ended_hands_its_tables_to_the_next_and_a_living_one_keeps_them(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    caches.clear_all()
    mine = aws.table("scores")

    def table_in_a_thread(hold: threading.Event | None = None) -> tuple[threading.Thread, list[object]]:
        made: list[object] = []
        ready = threading.Event()

        def body() -> None:
            made.append(aws.table("scores"))
            ready.set()
            if hold is not None:
                hold.wait(timeout=30)

        thread = threading.Thread(target=body, daemon=True)
        thread.start()
        assert ready.wait(timeout=30), "the thread made no table"
        return thread, made

    first, firsts = table_in_a_thread()
    first.join()
    second, seconds = table_in_a_thread()
    second.join()
    assert seconds[0] is firsts[0] is not mine  # a Map's next iteration does not make them again
    release = threading.Event()
    living, held = table_in_a_thread(release)
    other, others = table_in_a_thread()
    other.join()
    release.set()
    living.join()
    assert others[0] is not held[0] and others[0].meta.client is not held[0].meta.client
    assert held[0] is firsts[0] and aws.table("scores") is mine
    caches.clear_all()  # every set is dropped: an ended thread's is not handed on
    after, afters = table_in_a_thread()
    after.join()
    assert all(afters[0] is not earlier for earlier in (firsts[0], others[0], mine))  # Tables compare by name
