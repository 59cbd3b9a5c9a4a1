"""The online API through its Lambda handler with API Gateway events, on moto: every route,
every class of client error, parity with batch scoring, and random bodies."""

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelops.stores import latest, online_features
from modelops_dev.sandbox import Sandbox
from tests.helpers import event
from tests.states import States, build_scored


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


GOOD = {"entity_id": "185", "features": {"support_calls": 2, "data_usage_gb": 5.5}}


def test_score_returns_and_stores_the_score(api):
    status, body = call(api, event("online_score"))
    assert status == 200
    assert body["entity_id"] == "185" and body["model_version"] == "1.0.0" and 0 < body["score"] < 1
    status, history = call(api, event("online_entity_scores"))
    assert status == 200 and history["latest"]["source"] == "online"
    assert history["latest"]["score"] == body["score"] and history["latest"]["scored_at"] == body["scored_at"]
    assert {h["source"] for h in history["history"]} == {"online", "batch"}


def test_batch_form_scores_every_record(api):
    status, body = call(api, event("online_score_batch"))
    assert status == 200 and [s["entity_id"] for s in body["scores"]] == ["185", "192"]


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
        (None, '{"entity_id": "185", "features": {', 400, "body", "malformed JSON"),
        (features(support_calls="three"), None, 422, "features.support_calls", "must be a number"),
        ({**GOOD, "entity_id": 185}, None, 422, "entity_id", "string"),
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
            '{"entity_id": "185", "features": {"support_calls": 1, "data_usage_gb": NaN}}',
            422,
            "data_usage_gb",
            "finite",
        ),
        (
            None,
            '{"entity_id": "185", "features": {"support_calls": 1, "data_usage_gb": Infinity}}',
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


HUGE = "1" + "0" * 400  # an integer beyond float range
LONG = "9" * 5_000  # longer than Python's int-from-text limit (4,300 digits)
DEEP = 5_000


def raw_features(support_calls: str, data_usage_gb: str = "5.5") -> str:
    features = f'{{"support_calls": {support_calls}, "data_usage_gb": {data_usage_gb}}}'
    return f'{{"entity_id": "185", "features": {features}}}'


@pytest.mark.parametrize(
    ("raw", "status", "field", "reason"),
    [
        (raw_features(HUGE), 422, "features.support_calls", "finite"),
        (raw_features("-" + HUGE), 422, "features.support_calls", "finite"),
        (raw_features("1", HUGE), 422, "features.data_usage_gb", "finite"),
        (raw_features(LONG), 422, "features.support_calls", "finite"),
        (raw_features("1", "NaN"), 422, "features.data_usage_gb", "finite"),
        (raw_features("1", "-Infinity"), 422, "features.data_usage_gb", "finite"),
        (raw_features("1", "1e400"), 422, "features.data_usage_gb", "finite"),
        ('{"entity_id": ' + HUGE + ', "features": {}}', 422, "entity_id", ""),
        ("[" * DEEP + "]" * DEEP, 400, "body", "nested deeper"),
        ('{"a": ' * DEEP + "1" + "}" * DEEP, 400, "body", "nested deeper"),
        (raw_features("[" * DEEP + "]" * DEEP), 400, "body", "nested deeper"),
        (raw_features("[" * 20 + "]" * 20), 400, "body", "nested deeper"),
        (raw_features('{"x": [1]}'), 422, "features.support_calls", "must be a number, a string"),
        ("[1, 2]", 422, "body", "JSON object"),
        ('"text"', 422, "body", "JSON object"),
    ],
)
def test_extreme_json_is_a_4xx_naming_the_field(api, raw, status, field, reason):
    """Numbers beyond float range, 5,000-digit integers and deep nesting used to crash the
    handler (a 502 behind API Gateway)."""
    got, body = call(api, post(None, raw))
    assert (got, body["field"]) == (status, field), body
    assert reason in body["reason"] and body["error"] == "invalid request"


def test_the_same_entity_twice_in_one_batch_is_a_422_naming_the_second(api):
    other = {"entity_id": "192", "features": GOOD["features"]}
    got, body = call(api, post({"records": [GOOD, other, GOOD]}))
    assert (got, body["field"]) == (422, "records[2].entity_id"), body
    assert "also records[0]" in body["reason"]


def test_more_records_than_the_request_model_allows_is_the_documented_413(api):
    got, body = call(api, post({"records": [GOOD] * 1_001}))
    assert (got, body["field"]) == (413, "records"), body
    assert "at most 1000 records" in body["reason"]


def test_a_body_that_is_not_json_is_a_415_in_the_error_shape(api):
    request = post(GOOD)
    request["headers"] = {**request["headers"], "Content-Type": "text/plain"}
    got, body = call(api, request)
    assert got == 415 and body == {
        "error": "invalid request",
        "field": "Content-Type",
        "reason": "must be application/json",
    }
    form = post(GOOD)
    form["headers"] = {"content-type": "application/x-www-form-urlencoded"}
    assert call(api, form)[0] == 415


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/models/churn/score", "POST"),
        ("GET", "/models/churn/score", "POST"),
        ("PUT", "/models/churn", "GET"),
        ("POST", "/models/churn/scores/185", "GET"),
        ("PATCH", "/openapi.json", "GET"),
    ],
)
def test_other_methods_are_405_with_allow(api, method, path, allowed):
    request = post(GOOD)
    request["httpMethod"], request["path"] = method, path
    response = api.call("OnlineScoreFunction", request)
    body = json.loads(response["body"])
    assert response["statusCode"] == 405 and body["field"] == "method", body
    assert response["multiValueHeaders"]["Allow"] == [allowed]


def test_an_unknown_path_is_a_404_in_the_error_shape(api):
    request = post(GOOD)
    request["httpMethod"], request["path"] = "GET", "/nothing/here"
    status, body = call(api, request)
    assert status == 404 and body["field"] == "path"


def test_a_model_name_that_cannot_exist_is_a_422(api):
    request = post(GOOD)
    request["path"], request["pathParameters"] = "/models/Not A Model!/score", {"model": "Not A Model!"}
    status, body = call(api, request)
    assert (status, body["field"]) == (422, "model"), body


def test_a_long_entity_id_in_the_path_is_a_422_not_a_key_size_error(api):
    request = copy.deepcopy(event("online_entity_scores"))
    entity = "x" * 5_000
    request["path"] = f"/models/churn/scores/{entity}"
    request["pathParameters"] = {"model": "churn", "entity_id": entity}
    status, body = call(api, request)
    assert (status, body["field"]) == (422, "entity_id"), body


def test_the_openapi_document_lists_every_status_with_the_error_schema(api):
    status, document = call(api, event("online_openapi"))
    assert status == 200
    paths = document["paths"]
    expected = {
        ("/models/{model}/score", "post"): {"200", "400", "404", "405", "410", "413", "415", "422", "503"},
        ("/models/{model}/scores/{entity_id}", "get"): {"200", "404", "405", "422"},
        ("/models/{model}", "get"): {"200", "404", "405", "422", "503"},
    }
    for (path, method), statuses in expected.items():
        responses = paths[path][method]["responses"]
        assert set(responses) == statuses, (path, set(responses))
        for code in statuses - {"200"}:
            schema = responses[code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (path, code)
    assert set(document["components"]["schemas"]["ErrorBody"]["required"]) == {"error", "field", "reason"}


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
    batch = latest.get("churn", "185")
    features_of_185 = online_features.read("churn", ["185"])["185"]
    realtime = {name: features_of_185[name] for name in ("support_calls", "data_usage_gb")}
    status, body = call(api, post({"entity_id": "185", "features": realtime}))
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
            "entity_id": st.sampled_from(["185", "192", "x"]),
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
    from modelops.stores import registry
    from tests.helpers import recompressed_copy

    newer = recompressed_copy("churn", "1.0.0", "another-run")
    assert call(api, event("online_score"))[1]["model_version"] == "1.0.0"  # within the interval: cached
    registry.change_champion("churn", newer.version, "1.0.0", kind="promote", reason="test", caller="test")
    try:
        assert call(api, event("online_score"))[1]["model_version"] == "1.0.0"
        monkeypatch.setattr(online, "REFRESH_SECONDS", 0.0)
        assert call(api, event("online_score"))[1]["model_version"] == newer.version == "1.1.0"
    finally:
        registry.change_champion(
            "churn", "1.0.0", newer.version, kind="rollback", reason="test", caller="test"
        )


def test_a_new_entity_that_brings_every_feature_is_scored(api):
    from modelops_dev.client import gateway

    batch = latest.get("churn", "185")
    everything = online_features.read("churn", ["185"])["185"]  # all of 185's features, sent in the request
    status, body = call(api, post({"entity_id": "new customer 1", "features": everything}))
    assert status == 200 and body["entity_id"] == "new customer 1"
    assert abs(body["score"] - batch.score) <= 1e-9  # the same vector scores the same
    # The local gateway passes the path as API Gateway does: percent-encoded, as sent.
    routes = gateway.routes(api)
    request = gateway.api_event("GET", "/models/churn/scores/new%20customer%201", None, {}, routes)
    assert request["pathParameters"] == {"model": "churn", "entity_id": "new%20customer%201"}
    assert request["path"] == "/models/churn/scores/new%20customer%201"
    status, scores = call(api, request)
    assert status == 200 and scores["latest"]["score"] == body["score"]
    status, refused = call(
        api, post({"entity_id": "new customer 2", "features": {**everything, "age": "old"}})
    )
    assert status == 422 and refused["field"] == "features.age"
    partial = {k: v for k, v in everything.items() if k != "plan"}
    status, refused = call(api, post({"entity_id": "new customer 3", "features": partial}))
    assert status == 404 and "send every feature" in refused["reason"]


# Entity ids a client may well send: path syntax, percent signs, unicode, quotes, control
# characters. POST takes any of them in its JSON body; GET must read each back.
UNUSUAL_IDS = [
    "a/b", "a%2Fb", "a%252Fb", "100%", "#1", "why?", "a&b=c", "x+y", "new customer",
    "naïve", "東京-7", "it's", 'say "hi"', "tab\there", "line\nbreak", "\x01bell", "back\\slash",
    "..", ".", "a;b", "~user", "[1]", "{x}", "<tag>", "ends with space ",
]  # fmt: skip


def test_every_id_post_accepts_is_read_back_by_get_over_http(api):
    """Through `modelops serve`'s gateway over HTTP, each id fully percent-encoded in the path
    (as a careful client encodes it): GET returns that id's own score, and the literal id
    'a%2Fb' is never the entity 'a/b'."""
    import http.client
    import threading
    from urllib.parse import quote

    from modelops_dev.client import gateway

    everything = online_features.read("churn", ["185"])["185"]  # a new entity brings every feature
    bound = gateway.server(api, 0)
    threading.Thread(target=bound.serve_forever, daemon=True).start()
    try:

        def send(method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
            connection = http.client.HTTPConnection("127.0.0.1", bound.server_address[1], timeout=30)
            payload = None if body is None else json.dumps(body)
            connection.request(method, path, payload, {"Content-Type": "application/json"})
            response = connection.getresponse()
            answer = (response.status, json.loads(response.read()))
            connection.close()
            return answer

        posted = {}
        for entity in UNUSUAL_IDS:
            features = {**everything, "support_calls": len(posted) % 7}  # scores that differ
            status, body = send("POST", "/models/churn/score", {"entity_id": entity, "features": features})
            assert status == 200 and body["entity_id"] == entity, (entity, body)
            posted[entity] = body["score"]
        assert posted["a/b"] != posted["a%2Fb"]
        for entity, score in posted.items():
            status, body = send("GET", f"/models/churn/scores/{quote(entity, safe='')}")
            assert status == 200, (entity, body)
            assert (body["entity_id"], body["latest"]["score"]) == (entity, score), entity
    finally:
        bound.shutdown()
        bound.server_close()
