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
