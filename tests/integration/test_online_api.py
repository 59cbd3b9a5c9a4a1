"""The online API through its Lambda handler with API Gateway events, on moto: every route,
every class of client error, parity with batch scoring, and random bodies."""

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelops.stores import latest, online_features
from modelops_local.sandbox import Sandbox
from tests.conftest import States, build_scored
from tests.helpers import event


@pytest.fixture(scope="module")
def api(states: States) -> Sandbox:
    """The scored sandbox, restored once for this module: its tests only add online scores."""
    states.restore("scored", build_scored)
    return states.sandbox


def call(sandbox: Sandbox, request: dict) -> tuple[int, dict]:
    """The online function's answer to an API Gateway event; a raised exception fails the test."""
    response = sandbox.call("OnlineScoreFunction", request)
    return response["statusCode"], json.loads(response["body"])


def post(body, raw: str | None = None) -> dict:
    request = copy.deepcopy(event("online_score"))
    request["body"] = raw if raw is not None else json.dumps(body)
    return request


GOOD = {"entity_id": "47", "features": {"support_calls": 2, "data_usage_gb": 5.5}}


def test_score_returns_and_stores_the_score(api):
    status, body = call(api, event("online_score"))
    assert status == 200
    assert body["entity_id"] == "47" and body["model_version"] == "1.0.0" and 0 < body["score"] < 1
    status, history = call(api, event("online_entity_scores"))
    assert status == 200 and history["latest"]["source"] == "online"
    assert history["latest"]["score"] == body["score"] and history["latest"]["scored_at"] == body["scored_at"]
    assert {h["source"] for h in history["history"]} == {"online", "batch"}


def test_batch_form_scores_every_record(api):
    status, body = call(api, event("online_score_batch"))
    assert status == 200 and [s["entity_id"] for s in body["scores"]] == ["47", "56"]


def test_model_route_shows_champion_schema_and_metrics(api):
    status, body = call(api, event("online_model"))
    assert status == 200 and body["champion"] == "1.0.0" and body["online_scorer"] == "numpy"
    assert body["feature_schema"]["features"][0]["name"] == "tenure_months"
    assert body["metrics"]["test"]["roc_auc"] > 0.6 and body["realtime_features"] == [
        "support_calls",
        "data_usage_gb",
    ]


def test_the_openapi_document_lists_every_route(api):
    status, document = call(api, event("online_openapi"))
    assert status == 200
    assert {"/models/{model}/score", "/models/{model}/scores/{entity_id}", "/models/{model}"} <= set(
        document["paths"]
    )


def features(**changes):
    return {**GOOD, "features": {**GOOD["features"], **changes}}


@pytest.mark.parametrize(
    ("request_body", "raw", "status", "field", "reason"),
    [
        (None, '{"entity_id": "47", "features": {', 400, "body", "malformed JSON"),
        (features(support_calls="three"), None, 422, "features.support_calls", "must be a number"),
        ({**GOOD, "entity_id": 47}, None, 422, "entity_id", "string"),
        (features(loyalty=1), None, 422, "features.loyalty", "unknown feature"),
        (features(tenure_months=3), None, 422, "features.tenure_months", "a batch feature"),
        (
            {**GOOD, "features": {"data_usage_gb": 1.0}},
            None,
            422,
            "features.support_calls",
            "missing real-time feature",
        ),
        (features(data_usage_gb=1e6), None, 422, "features.data_usage_gb", "out of range"),
        (features(support_calls=-1), None, 422, "features.support_calls", "whole number"),
        (features(support_calls=None), None, 422, "features.support_calls", "never saw it missing"),
        (
            None,
            '{"entity_id": "47", "features": {"support_calls": 1, "data_usage_gb": NaN}}',
            422,
            "data_usage_gb",
            "",
        ),
        (
            None,
            '{"entity_id": "47", "features": {"support_calls": 1, "data_usage_gb": Infinity}}',
            422,
            "data_usage_gb",
            "",
        ),
        ({**GOOD, "extra": True}, None, 422, "extra", ""),
        ({**GOOD, "entity_id": "no-such-customer"}, None, 404, "entity_id", "unknown entity"),
        ({"records": [GOOD] * 101}, None, 413, "records", "at most 100 records"),
        (None, json.dumps({**GOOD, "padding": "x" * 300_000}), 413, "body", "larger than"),
    ],
)
def test_client_mistakes_are_4xx_naming_the_field(api, request_body, raw, status, field, reason):
    got, body = call(api, post(request_body, raw))
    assert got == status, body
    assert field in body["field"] and reason in body["reason"]


def test_unknown_model_and_version_are_404(api):
    request = post(GOOD)
    request["path"], request["pathParameters"] = "/models/nope/score", {"model": "nope"}
    assert call(api, request)[0] == 404
    pinned = post(GOOD)
    pinned["queryStringParameters"] = {"version": "9.9.9"}
    pinned["multiValueQueryStringParameters"] = {"version": ["9.9.9"]}
    status, body = call(api, pinned)
    assert status == 404 and body["field"] == "version"


def test_online_equals_batch_for_the_same_entity_and_inputs(api):
    batch = latest.get("churn", "47")
    features_of_47 = online_features.read("churn", ["47"])["47"]
    realtime = {name: features_of_47[name] for name in ("support_calls", "data_usage_gb")}
    status, body = call(api, post({"entity_id": "47", "features": realtime}))
    assert status == 200
    assert abs(body["score"] - batch.score) <= 1e-9


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.one_of(
    json_values.map(json.dumps),
    st.fixed_dictionaries({"entity_id": json_values, "features": json_values}).map(json.dumps),
    st.fixed_dictionaries(
        {
            "entity_id": st.sampled_from(["47", "56", "x"]),
            "features": st.dictionaries(
                st.sampled_from(["support_calls", "data_usage_gb", "plan", "age"]), json_values
            ),
        }
    ).map(json.dumps),
    st.text(max_size=60),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_random_bodies_never_get_a_5xx(api, body):
    status, response = call(api, post(None, body))
    assert status < 500, response
    assert status == 200 or {"error", "field", "reason"} <= set(response)


def test_a_new_champion_is_picked_up_after_the_refresh_interval(api, monkeypatch):
    from modelops.online import service as online
    from modelops.stores import objects, registry

    current = registry.get_version("churn", "1.0.0")
    metadata = objects.get_json(current.metadata_key)
    fast = registry.verified_artifact(current, fast=True)
    newer = registry.publish("churn", "another-run", registry.verified_artifact(current), metadata, fast)
    assert call(api, event("online_score"))[1]["model_version"] == "1.0.0"  # within the interval: cached
    registry.set_champion("churn", newer.version, expected="1.0.0")
    try:
        assert call(api, event("online_score"))[1]["model_version"] == "1.0.0"
        monkeypatch.setattr(online, "REFRESH_SECONDS", 0.0)
        assert call(api, event("online_score"))[1]["model_version"] == newer.version == "1.1.0"
    finally:
        registry.set_champion("churn", "1.0.0", expected=newer.version)


def test_a_new_entity_that_brings_every_feature_is_scored(api):
    from modelops_local import api as gateway

    batch = latest.get("churn", "47")
    everything = online_features.read("churn", ["47"])["47"]  # all of 47's features, sent in the request
    status, body = call(api, post({"entity_id": "new customer 1", "features": everything}))
    assert status == 200 and body["entity_id"] == "new customer 1"
    assert abs(body["score"] - batch.score) <= 1e-9  # the same vector scores the same
    # The local gateway decodes the path as API Gateway does ('new%20customer%201').
    routes = gateway.routes(api)
    request = gateway.api_event("GET", "/models/churn/scores/new%20customer%201", None, {}, routes)
    assert request["pathParameters"] == {"model": "churn", "entity_id": "new customer 1"}
    status, scores = call(api, request)
    assert status == 200 and scores["latest"]["score"] == body["score"]
    status, refused = call(
        api, post({"entity_id": "new customer 2", "features": {**everything, "age": "old"}})
    )
    assert status == 422 and refused["field"] == "features.age"
    partial = {k: v for k, v in everything.items() if k != "plan"}
    status, refused = call(api, post({"entity_id": "new customer 3", "features": partial}))
    assert status == 404 and "send every feature" in refused["reason"]
