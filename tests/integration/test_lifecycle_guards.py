"""The model lifecycle under races, operators and faults: a retired version never serves nor
becomes the champion, an operator's promotion while a candidate trains stands, a re-run after a
crash completes the promotion, and a tampered model is a 503 the operators hear about once."""

import copy
import io
import json
import threading
from collections.abc import Callable
from typing import Any

import joblib
import numpy as np
import pytest

from modelops.domain.scores import ScoreSet
from modelops.stores import layout, metadata, objects, registry
from modelops_dev.client import lifecycle
from modelops_dev.sandbox import Sandbox
from tests.helpers import alert_inbox, drain, event, invoke, invoke_raw, pin_stored_spec, recompressed_copy
from tests.states import Prepared

OPERATOR = "test operator"


def as_operator(action: Callable[[], Any]) -> None:
    """Run an operator's action to its end in its own thread: the AWS calls are the operator's,
    not those of the function whose call it interleaves with."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            action()
        except BaseException as error:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def promote(version: str) -> Callable[[], Any]:
    return lambda: lifecycle.promote("churn", version, reason="the operator's choice", caller=OPERATOR)


def retire(version: str) -> Callable[[], Any]:
    return lambda: lifecycle.retire("churn", version, reason="misbehaves", caller=OPERATOR)


def write_held_until(action: Callable[[], Any], monkeypatch) -> list[str]:
    """The next registry write of this thread (the race's first mover) waits until ``action``
    has run to its end in another thread: a deterministic interleaving of two operations, at
    the DynamoDB backend, whatever the code above it does."""
    from moto.dynamodb.models import DynamoDBBackend

    mover, fired = threading.current_thread(), []
    for name in ("put_item", "update_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def held(
            backend: Any, *args: Any, _original: Any = original, _name: str = name, **kwargs: Any
        ) -> Any:
            if threading.current_thread() is mover and not fired:
                fired.append(_name)
                as_operator(action)
            return _original(backend, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, held)
    return fired


def rollback() -> Callable[[], Any]:
    return lambda: lifecycle.rollback("churn", reason="back to the one before", caller=OPERATOR)


# ---------------------------------------------------------------- item 1: a retired version never serves
@pytest.fixture
def contested(trained: Prepared) -> dict[str, tuple[str, Callable[[], Any]]]:
    """1.1.0 registered beside champion 1.0.0: what each champion change would make the
    champion, and the change."""
    other = recompressed_copy("churn", "1.0.0", "another-run").version
    return {"promote": (other, promote(other)), "rollback": ("1.0.0", rollback())}


@pytest.mark.parametrize("change", ["promote", "rollback"])
def test_a_retire_racing_a_champion_change_to_the_same_version_never_leaves_a_retired_champion(
    contested, change, monkeypatch
):
    if change == "rollback":
        promote(contested["promote"][0])()  # 1.1.0 champion: a rollback returns to 1.0.0
    version, move = contested[change]
    fired = write_held_until(move, monkeypatch)  # the change lands just before the retire writes
    with pytest.raises(registry.NotAllowed, match="is the champion"):
        retire(version)()
    assert fired  # the change did land in between
    assert registry.champion("churn") == version
    assert registry.get_version("churn", version).status == registry.REGISTERED


@pytest.mark.parametrize("change", ["promote", "rollback"])
def test_a_champion_change_racing_a_retire_of_the_same_version_never_makes_it_champion(
    contested, change, monkeypatch
):
    if change == "rollback":
        promote(contested["promote"][0])()
    before = registry.champion("churn")
    version, move = contested[change]
    write_held_until(retire(version), monkeypatch)  # the retire lands just before the change writes
    with pytest.raises(registry.RetiredVersion, match="is retired"):
        move()
    assert registry.champion("churn") == before
    assert registry.get_version("churn", version).status == registry.RETIRED


def _online(sandbox: Sandbox, version: str | None = None, path: str | None = None) -> tuple[int, dict]:
    request = copy.deepcopy(event("online_score" if path is None else "online_model"))
    if version is not None:
        request["queryStringParameters"] = {"version": version}
        request["multiValueQueryStringParameters"] = {"version": [version]}
    response = sandbox.call("OnlineScoreFunction", request)
    return response["statusCode"], json.loads(response["body"])


def test_a_retired_version_asked_for_online_is_a_410_in_the_error_shape(scored: Prepared, monkeypatch):
    from modelops.online import service

    sandbox = scored.sandbox
    other = recompressed_copy("churn", "1.0.0", "another-run").version
    status, body = _online(sandbox, other)
    assert status == 200 and body["model_version"] == other
    lifecycle.retire("churn", other, reason="misbehaves", caller=OPERATOR)
    monkeypatch.setattr(service, "REFRESH_SECONDS", 0.0)  # the container's next look at the registry
    status, body = _online(sandbox, other)
    assert status == 410, body
    assert body == {
        "error": "invalid request",
        "field": "version",
        "reason": f"model 'churn' version '{other}' is retired",
    }
    assert _online(sandbox)[0] == 200  # the champion serves on


# ---------------------------------------------------------------- item 5: a tampered model online
@pytest.mark.parametrize("tampered", ["fast.npz", "metadata.json"])
def test_a_tampered_model_online_is_a_503_logged_and_alerted_once(scored: Prepared, tampered, caplog):
    sandbox = scored.sandbox
    inbox = alert_inbox(sandbox)
    key = f"{layout.model_prefix('churn', '1.0.0')}{tampered}"
    body = bytearray(objects.get_bytes(key))
    body[len(body) // 2] ^= 0x01  # one flipped bit
    objects.put_bytes(key, bytes(body))
    answers = [_online(sandbox), _online(sandbox), _online(sandbox, path="describe")]
    expected = {
        "error": "server error",
        "field": "model",
        "reason": (
            "model 'churn' version 1.0.0 fails its integrity check and cannot serve (operators are alerted)"
        ),
    }
    assert answers == [(503, expected)] * 3
    logged = [r for r in caplog.records if r.getMessage() == "model unavailable"]
    assert len(logged) == 3 and f"{tampered} sha256" in logged[0].cause  # type: ignore[attr-defined]
    alerts = [m for m in drain(inbox) if m["MessageAttributes"]["kind"]["Value"] == "IntegrityFailure"]
    assert len(alerts) == 1, alerts  # three refusals, one alert
    assert alerts[0]["Subject"] == "modelops: churn 1.0.0 fails its integrity check"
    assert f"{tampered} sha256" in json.loads(alerts[0]["Message"])["error"]
    assert [i["incident"].split("#")[0] for i in metadata.incidents("churn")] == ["integrity"]


# ---------------------------------------------------------------- items 2 and 3: deploy_model
@pytest.fixture
def candidate(trained: Prepared) -> Callable[[str], dict]:
    """A training run's deploy_model input for a candidate that beats champion 1.0.0 on the same
    rows: 1.0.0's model in other bytes (a new version), compared with 1.0.0 whose scores of
    the test rows are 30 % shuffled (the same scores, worse ranked)."""
    output = trained.execution.output
    record = registry.get_version("churn", "1.0.0")
    buffer = io.BytesIO()
    joblib.dump(registry.load_estimator(record), buffer, compress=3)
    model = buffer.getvalue()
    test = ScoreSet.from_bytes(objects.get_bytes(objects.key_of(output["artifacts"]["test_scores"])))
    rng = np.random.default_rng(7)
    worse = test.score.copy()
    rows = rng.choice(worse.size, size=worse.size * 3 // 10, replace=False)
    worse[rows] = worse[rng.permutation(rows)]
    champion = ScoreSet(test.entity, test.timestamp, worse, test.outcome).to_bytes()

    def make(run_id: str) -> dict:
        document = event("deploy_model")
        document["run"] = {**output["run"], "run_id": run_id, "spec_sha256": pin_stored_spec(run_id)}
        for name in ("performance.json", "metrics.json"):  # as train_model would
            body = objects.get_bytes(layout.training_key(output["run"]["run_id"], name))
            objects.put_bytes(layout.training_key(run_id, name), body)
        document["artifacts"] = {
            **output["artifacts"],
            "model": objects.put_bytes(layout.training_key(run_id, "model.joblib"), model),
            "champion_scores": objects.put_bytes(
                layout.training_key(run_id, "champion_scores.npz"), champion
            ),
        }
        document["results"]["transform_data"]["champion"] = "1.0.0"
        return document

    return make


def test_a_rerun_after_a_crash_between_registering_and_promoting_completes_the_promotion(
    trained, candidate, monkeypatch
):
    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("injected: the function died before the champion alias moved")

    with monkeypatch.context() as patched:
        patched.setattr(registry, "change_champion", crash)
        error, failed = invoke_raw(trained.sandbox, "DeployModelFunction", candidate("training-churn-a"))
    assert failed and error["errorType"] == "RuntimeError", error
    assert registry.get_version("churn", "1.1.0").status == registry.REGISTERED  # registered, not promoted
    assert registry.champion("churn") == "1.0.0"
    # The re-run (a new execution: a new run id) trains the same bytes: it completes the decision.
    again = invoke(trained.sandbox, "DeployModelFunction", candidate("training-churn-b"))["results"]
    deployed = again["deploy_model"]
    assert (deployed["version"], deployed["champion"], registry.champion("churn")) == ("1.1.0", True, "1.1.0")
    assert deployed["reason"].endswith("on the same rows passes the gate")
    last = registry.audit("churn")[-1]
    assert (last["kind"], last["from"], last["to"], last["caller"]) == (
        "promotion",
        "1.0.0",
        "1.1.0",
        "training run training-churn-b",
    )
    # and a third run of the same bytes changes nothing
    third = invoke(trained.sandbox, "DeployModelFunction", candidate("training-churn-c"))["results"]
    assert (third["deploy_model"]["reason"], len(registry.audit("churn"))) == ("already the champion", 2)


@pytest.mark.parametrize("when", ["before deploy_model", "after registering", "at the alias write"])
def test_an_operators_promotion_while_a_candidate_trained_stands(trained, candidate, monkeypatch, when):
    """The gate compared the candidate with 1.0.0; meanwhile an operator made 1.1.0 the champion
    (before deploy_model started, while it registered the candidate, or just before its
    conditional write of the alias): the candidate is registered, not promoted, and says why."""
    chosen = recompressed_copy("churn", "1.0.0", "operator-run").version  # 1.1.0 (compress=3)
    document = candidate("training-churn-2025-08-01-again")
    document["artifacts"]["model"] = _other_bytes(document)  # so the candidate is a version of its own
    if when == "before deploy_model":
        promote(chosen)()
    elif when == "after registering":
        publish = registry.publish

        def publish_then_promote(*args: Any, **kwargs: Any) -> Any:
            record = publish(*args, **kwargs)
            as_operator(promote(chosen))
            return record

        monkeypatch.setattr(registry, "publish", publish_then_promote)
    else:
        change = registry.change_champion
        deploying = threading.current_thread()

        def promoted_first(*args: Any, **kwargs: Any) -> Any:
            if threading.current_thread() is deploying:
                as_operator(promote(chosen))  # lands between deploy's read of the alias and its write
            return change(*args, **kwargs)

        monkeypatch.setattr(registry, "change_champion", promoted_first)
    deployed = invoke(trained.sandbox, "DeployModelFunction", document)["results"]["deploy_model"]
    assert (deployed["version"], deployed["status"], deployed["champion"]) == ("1.2.0", "registered", False)
    assert deployed["reason"] == (
        "passed the gate against 1.0.0, but the champion moved to 1.1.0 meanwhile: 1.2.0 stays "
        "registered, not promoted (train again to compare with 1.1.0)"
    )
    assert registry.champion("churn") == chosen
    trail = registry.audit("churn")
    assert [(e["kind"], e["version"]) for e in trail] == [
        ("promotion", "1.0.0"),
        ("promote", "1.1.0"),
        ("held", "1.2.0"),
    ]
    assert (trail[-1]["compared_with"], trail[-1]["reason"]) == ("1.0.0", deployed["reason"])


def _other_bytes(document: dict) -> str:
    """The candidate's model serialized once more (compress=1): bytes no version has yet."""
    model = joblib.load(io.BytesIO(objects.get_bytes(objects.key_of(document["artifacts"]["model"]))))
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=1)
    return objects.put_bytes(
        layout.training_key(document["run"]["run_id"], "model.joblib"), buffer.getvalue()
    )
