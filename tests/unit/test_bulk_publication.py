"""A bulk publication's import still running is handed back to the state machine by name
(PublicationPending), which retries it a minute apart, and its part holds each row once in the
format ImportTable reads."""

import gzip
import json

import numpy as np
import pytest

from modelops.stores import aws, bulk_publication
from modelops.stores.bulk_publication import Imported, PublicationPending
from modelops_dev.sandbox import PROJECT_ROOT


def test_a_running_import_is_handed_back_by_name_and_a_finished_one_returned():
    running = Imported("t", "arn", "IN_PROGRESS", 0, 0, "")
    with pytest.raises(PublicationPending, match=r"^the import of t is still running$"):
        bulk_publication.wait(running, seconds=0)
    assert not aws.is_transient(PublicationPending("x"))  # its own retrier, not TransientError's
    done = Imported("t", "arn", "COMPLETED", 3, 0, "")
    assert bulk_publication.wait(done, seconds=0) is done


def test_the_state_machine_retries_a_pending_import_a_minute_apart_for_two_hours():
    asl = json.loads((PROJECT_ROOT / "statemachines" / "scoring.asl.json").read_text())
    [retry] = [
        r for r in asl["States"]["DeployScores"]["Retry"] if r["ErrorEquals"] == ["PublicationPending"]
    ]
    assert retry["IntervalSeconds"] == 60 and retry.get("BackoffRate", 2.0) == 1.0
    assert retry["MaxAttempts"] * (retry["IntervalSeconds"] + bulk_publication.WAIT_SECONDS) >= 2 * 3600


def test_a_part_holds_each_row_once_as_dynamodb_json():
    features = bulk_publication.feature_lines(
        {"age": [31.5, float("nan"), 7], "plan": ["basic", "pro", None], "vip": [True, False, True]}, 3
    )
    body = bulk_publication.part(
        np.array(["a", "b", 'c"quoted']), np.array([0.25, 1e-7, 1.0]), [3, None, 0], features
    )
    items = [json.loads(line)["Item"] for line in gzip.decompress(body).decode().splitlines()]
    assert [i["pk"] for i in items] == [{"S": "a"}, {"S": "b"}, {"S": 'c"quoted'}]
    assert [i["score"]["N"] for i in items] == ["0.25", "1E-7", "1.0"]
    assert [i.get("top_pk") for i in items] == [{"S": "3"}, None, {"S": "0"}]
    assert items[0]["features"]["M"] == {"age": {"N": "31.5"}, "plan": {"S": "basic"}, "vip": {"BOOL": True}}
    assert items[1]["features"]["M"]["age"] == {"NULL": True} and items[2]["features"]["M"]["plan"] == {
        "NULL": True
    }
    without = bulk_publication.part(np.array(["a"]), np.array([0.5]), [None], None)
    assert json.loads(gzip.decompress(without))["Item"] == {"pk": {"S": "a"}, "score": {"N": "0.5"}}
