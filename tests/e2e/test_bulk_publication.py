"""Publication by bulk import (spec scoring.import_from_rows), through the real scoring state
machine: the run's rows imported into a table of the publication's own, served as the item
path serves them, and every guarantee of the item path kept: readers never see half a
publication, a crash at any step followed by a re-run converges, time only moves forward,
superseded tables are retired, and nothing is imported twice or half."""

import os
import threading
from datetime import UTC, datetime, timedelta
from unittest import mock

import boto3
import numpy as np
import pytest

from modelops import caches
from modelops.online import service
from modelops.stores import bulk_publication, latest, layout, objects, online_features
from modelops_dev.sandbox import Sandbox
from tests.helpers import put_churn_spec, run, score
from tests.states import States, build_trained

pytestmark = pytest.mark.e2e
SEPTEMBER, OCTOBER = "2025-09-01", "2025-10-01"
RUN_ID = f"scoring-churn-{SEPTEMBER}"
BULK = {"chunk_rows": 500, "import_from_rows": 1, "top_candidates": 250}  # half of each chunk indexed


def imports(sandbox: Sandbox) -> list[object]:
    """Every import moto holds (the sandbox's own backend: tests only)."""
    from moto.dynamodb.models import dynamodb_backends

    from modelops_dev.sandbox.constants import ACCOUNT, REGION

    return list(dynamodb_backends[ACCOUNT][REGION].table_imports.values())


def tables() -> set[str]:
    return set(boto3.client("dynamodb").list_tables()["TableNames"])


def publication_tables(sandbox: Sandbox) -> set[str]:
    return {t for t in tables() if bulk_publication.is_publication_table(t, sandbox.ref("ScoresTable"))}


def served(entities: list[str]) -> dict[str, object]:
    """What readers see of the latest publication: top 50, each entity's score, its features."""
    return {
        "top": [(s.entity_id, s.score, s.model_version, s.run_id, s.as_of) for s in latest.top("churn", 50)],
        "get": {
            e: (lambda s: None if s is None else (s.score, s.as_of))(latest.get("churn", e)) for e in entities
        },
        "features": online_features.read_published("churn", entities),
    }


def build_item_by_item(states: States) -> dict[str, object]:
    states.restore("trained", build_trained)
    put_churn_spec(scoring={**BULK, "import_from_rows": None})
    score(states.sandbox, SEPTEMBER)
    entities = [*sorted(s.entity_id for s in latest.top("churn", 20)), "no-such-customer"]
    return {"entities": entities, "served": served(entities)}


def build_bulk(states: States) -> dict[str, object]:
    states.restore("trained", build_trained)
    put_churn_spec(scoring=BULK)
    return {"result": score(states.sandbox, SEPTEMBER).output}


@pytest.fixture
def bulk(states: States) -> tuple[Sandbox, dict]:
    return states.sandbox, states.restore("bulk-september", build_bulk)


def test_an_imported_publication_serves_exactly_what_the_item_path_serves(states, bulk):
    reference = states.restore("item-by-item-september", build_item_by_item)
    sandbox, built = states.sandbox, states.restore("bulk-september", build_bulk)
    deployed = built["result"]["results"]["deploy_scores"]
    table = deployed["table"]
    assert publication_tables(sandbox) == {table} and deployed["rows"] == 1000 and deployed["latest"] is True
    assert latest.pointer("churn").table == table
    assert served(reference["entities"]) == reference["served"]
    # One item per customer, holding only what readers read: the score, the index shard of
    # the rows the chunk indexed, the features; the version, run and period are the pointer's.
    items = boto3.resource("dynamodb").Table(table).scan()["Items"]
    assert len(items) == len({i["pk"] for i in items}) == 1000
    assert {frozenset(i) for i in items} == {
        frozenset({"pk", "score", "features"}),
        frozenset({"pk", "score", "features", "top_pk"}),
    }
    # Nothing went to the shared tables item by item.
    shared = boto3.resource("dynamodb").Table(sandbox.ref("OnlineFeaturesTable")).scan()["Items"]
    assert shared == []


def test_a_crash_right_after_the_import_started_resumes_that_import(states):
    states.restore("trained", build_trained)
    put_churn_spec(scoring=BULK)
    marker = layout.publication_import_key(RUN_ID)
    original = objects.put_json

    def crash_on_the_marker(key, document):
        if key == marker:
            raise RuntimeError("crashed after ImportTable, before its marker")
        return original(key, document)

    with mock.patch.object(objects, "put_json", crash_on_the_marker):
        crashed = run(states.sandbox, "ScoringStateMachine", SEPTEMBER)
    assert crashed.status == "FAILED" and "crashed after ImportTable" in crashed.cause
    assert latest.pointer("churn") is None  # never half a publication
    again = score(states.sandbox, SEPTEMBER)  # the same run id: the same client token
    assert again.output["results"]["deploy_scores"]["latest"] is True
    [made] = imports(states.sandbox)  # the re-run found the first import, not a second
    assert (made.status, made.imported_count, made.error_count) == ("COMPLETED", 1000, 0)
    table = latest.pointer("churn").table
    assert len(boto3.resource("dynamodb").Table(table).scan()["Items"]) == 1000


def test_a_tampered_part_fails_the_run_by_name_and_a_rerun_imports_afresh(states):
    states.restore("trained", build_trained)
    put_churn_spec(scoring=BULK)
    original = bulk_publication.part

    def one_row_short(entity_id, score, shard, features):  # a part that lost its last line
        return original(entity_id[:-1], score[:-1], shard[:-1], None if features is None else features[:-1])

    with mock.patch.object(bulk_publication, "part", one_row_short):
        tampered = run(states.sandbox, "ScoringStateMachine", SEPTEMBER)
    assert tampered.status == "FAILED" and tampered.error == "PublicationImportError", tampered.cause
    assert "imported 998 of 1000 rows" in tampered.cause
    assert latest.pointer("churn") is None
    assert publication_tables(states.sandbox) == set()  # the bad import's table is discarded
    table = score(states.sandbox, SEPTEMBER).output["results"]["deploy_scores"]["table"]
    assert publication_tables(states.sandbox) == {table} == {latest.pointer("churn").table}
    assert len(boto3.resource("dynamodb").Table(table).scan()["Items"]) == 1000
    assert len(imports(states.sandbox)) == 2


def test_a_newer_month_supersedes_the_table_which_is_retired_after_the_readers_grace(bulk):
    sandbox, _built = bulk
    september = latest.pointer("churn")
    october = score(sandbox, OCTOBER).output["results"]
    assert october["deploy_scores"]["latest"] is True
    # The sandbox deploys with ReaderGraceSeconds 0: no reader to wait for, so deploy_scores
    # retires September right after its flip, and the run skips the wait and the last stage.
    assert october["deploy_scores"]["retired"] == [september.table]
    assert october["deploy_scores"]["retire_later"] is False and "retire_publications" not in october
    assert september.table not in tables() and latest.pointer("churn").table in tables()
    assert latest.pointer("churn").superseded == {}


def test_a_superseded_table_stays_while_a_reader_may_hold_its_pointer(bulk):
    sandbox, _ = bulk
    september = latest.pointer("churn")
    with mock.patch.dict(os.environ, {"READER_GRACE_SECONDS": "900"}):  # the functions' setting
        caches.clear_all()
        october = score(sandbox, OCTOBER).output["results"]
    caches.clear_all()
    assert october["deploy_scores"]["retired"] == october["retire_publications"]["retired"] == []
    assert october["deploy_scores"]["retire_later"] is True
    assert september.table in tables()
    assert set(latest.pointer("churn").superseded) == {september.table}
    later = datetime.now(UTC) + timedelta(seconds=901)
    assert latest.retire("churn", 900, now=later) == [september.table]
    assert september.table not in tables() and latest.pointer("churn").superseded == {}


def test_a_crash_before_the_retirement_is_retired_by_the_rerun(bulk):
    sandbox, _ = bulk
    september = latest.pointer("churn")

    def refused(table):
        raise RuntimeError(f"crashed before deleting {table}")

    with mock.patch.object(bulk_publication, "delete_table", refused):
        crashed = run(sandbox, "ScoringStateMachine", OCTOBER)
    assert crashed.status == "FAILED" and "crashed before deleting" in crashed.cause
    assert latest.pointer("churn").as_of == OCTOBER  # the publication itself stands
    again = score(sandbox, OCTOBER).output["results"]
    assert again["deploy_scores"]["reason"] == "already the latest publication"
    assert again["deploy_scores"]["retired"] == [september.table]
    assert september.table not in tables()


def test_an_older_month_goes_to_the_history_only_and_imports_nothing_unless_forced(bulk):
    sandbox, _ = bulk
    newest, started = latest.pointer("churn"), len(imports(sandbox))
    older = score(sandbox, "2025-08-01").output["results"]["deploy_scores"]
    assert older["latest"] is False and "table" not in older
    assert latest.pointer("churn") == newest and len(imports(sandbox)) == started
    forced = score(sandbox, "2025-08-01", force=True, run_id="rescore-2025-08-01").output["results"]
    assert forced["deploy_scores"]["latest"] is True and forced["deploy_scores"]["table"]
    assert latest.pointer("churn").as_of == "2025-08-01" and newest.table not in tables()


def test_a_run_that_loses_the_flip_to_a_concurrent_one_deletes_its_own_table(bulk):
    """Two runs at once: October flips while September's re-run (forced) imports; September's
    conditional flip then fails by name and its table, which no reader ever saw, is deleted."""
    sandbox, _ = bulk
    original = latest.flip
    october: dict[str, object] = {}

    def october_meanwhile() -> None:  # a thread of its own: its calls are no function's
        october.update(score(sandbox, OCTOBER).output["results"]["deploy_scores"])

    def october_first(new, previous, now=None):
        if new.as_of == SEPTEMBER and not october:
            with mock.patch.object(latest, "flip", original):
                meanwhile = threading.Thread(target=october_meanwhile)
                meanwhile.start()
                meanwhile.join()
        return original(new, previous, now)

    with mock.patch.object(latest, "flip", october_first):
        lost = run(sandbox, "ScoringStateMachine", SEPTEMBER, force=True, run_id="rescore-september")
    assert october["latest"] is True
    assert lost.status == "FAILED" and lost.error == "FlipLost", lost.cause
    assert latest.pointer("churn").as_of == OCTOBER
    assert publication_tables(sandbox) == {latest.pointer("churn").table}  # the loser's is gone


def test_a_model_without_an_online_api_publishes_no_features(states):
    states.restore("trained", build_trained)
    put_churn_spec(scoring=BULK, online={"enabled": False})
    deployed = score(states.sandbox, SEPTEMBER).output["results"]["deploy_scores"]
    items = boto3.resource("dynamodb").Table(deployed["table"]).scan()["Items"]
    assert len(items) == 1000 and not any("features" in i for i in items)
    assert online_features.read_published("churn", [items[0]["pk"]]) == (SEPTEMBER, {})
    request = service.ScoreRequest(entity_id=items[0]["pk"], features={})
    with pytest.raises(service.RequestError, match="has no online API") as refused:
        service.score("churn", request)
    assert refused.value.status == 404


def test_a_forced_rescore_of_a_superseded_month_under_its_own_run_id_stays_served(bulk):
    """September imported, then October, then September forced again under its default run id
    (the same publication id) while September's old table waits out the grace: the pointer's
    table is never the one retired."""
    sandbox, _ = bulk
    with mock.patch.dict(os.environ, {"READER_GRACE_SECONDS": "900"}):
        caches.clear_all()
        score(sandbox, OCTOBER)
        forced = score(sandbox, SEPTEMBER, force=True).output["results"]["deploy_scores"]
    caches.clear_all()
    assert forced["latest"] is True and latest.pointer("churn").as_of == SEPTEMBER
    current = latest.pointer("churn").table
    assert current not in latest.pointer("churn").superseded
    later = datetime.now(UTC) + timedelta(seconds=901)
    retired = latest.retire("churn", 900, now=later)
    assert current not in retired and publication_tables(sandbox) == {current}
    assert len(boto3.resource("dynamodb").Table(current).scan()["Items"]) == 1000
    assert latest.get("churn", latest.top("churn", 1)[0].entity_id).as_of == SEPTEMBER


def test_switching_between_item_and_bulk_publication_serves_each_and_leaves_no_table(states):
    states.restore("trained", build_trained)
    put_churn_spec(scoring={**BULK, "import_from_rows": None})
    score(states.sandbox, SEPTEMBER)
    assert latest.pointer("churn").table is None and len(latest.top("churn", 50)) == 50
    put_churn_spec(scoring=BULK)
    score(states.sandbox, OCTOBER)
    assert latest.pointer("churn").table in publication_tables(states.sandbox)
    assert {s.as_of for s in latest.top("churn", 50)} == {OCTOBER}
    put_churn_spec(scoring={**BULK, "import_from_rows": None})
    score(states.sandbox, "2025-11-01")
    assert latest.pointer("churn").table is None and publication_tables(states.sandbox) == set()
    entity = latest.top("churn", 1)[0].entity_id
    assert latest.get("churn", entity).as_of == "2025-11-01"
    assert online_features.read_published("churn", [entity])[0] == "2025-11-01"


def test_stale_parts_of_an_earlier_attempt_are_not_imported(bulk):
    sandbox, _ = bulk
    run_id = "scoring-churn-2025-10-01"
    stale = layout.publication_part_key(run_id, 99)  # as if an attempt with 100 chunks left it
    objects.put_bytes(stale, bulk_publication.part(np.array(["ghost"]), np.array([0.5]), [None], None))
    deployed = score(sandbox, OCTOBER).output["results"]["deploy_scores"]
    assert deployed["latest"] is True and not objects.exists(stale)
    assert latest.get("churn", "ghost") is None
