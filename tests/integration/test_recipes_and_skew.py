"""A run reads the spec it started with, and a scored feature is held to what its version was
trained on (skew), through the functions and state machines on moto."""

from __future__ import annotations

import copy
import hashlib
import json

import numpy as np

from modelops.stores import lake, latest, registry, specs
from modelops_dev.demo import synthetic
from tests.helpers import alert_inbox, churn_spec, drain, event, invoke, invoke_raw, put_churn_spec, score
from tests.states import LAKE

SEPTEMBER = synthetic.generate(LAKE)[8][0]
CHEAP = {"kind": "hist_gradient_boosting", "params": {"max_iter": 30}, "search": {"space": {}}}


def test_a_spec_put_between_two_stages_changes_nothing_of_the_run(lake):
    """The spec changes after get_data (a feature dropped, the SQL changed): every later stage
    of the training run reads the spec it pinned, and the version keeps that spec as its recipe."""
    put_churn_spec(estimator=CHEAP)
    started = specs.read("churn")[1]
    doc = invoke(lake, "GetDataFunction", event("get_data"))
    assert doc["run"]["spec_sha256"] == hashlib.sha256(started).hexdigest()
    features = {k: v for k, v in churn_spec()["features"].items() if k != "age"}
    sql = churn_spec()["source"]["sql"].replace("age,", "")
    put_churn_spec(estimator=CHEAP, features=features, source={"tables": ["customers"], "sql": sql})
    for stage in ("TransformData", "ValidateData", "TrainModel", "ValidateModel", "DeployModel"):
        doc = invoke(lake, f"{stage}Function", doc)
    assert doc["results"]["transform_data"]["features"] == 9  # age too: the pinned spec's
    deployed = registry.get_version("churn", doc["results"]["deploy_model"]["version"])
    assert deployed.recipe_sha256 == hashlib.sha256(started).hexdigest()
    assert registry.recipe_text(deployed) == started.decode()
    assert registry.verified_metadata(deployed)["recipe_sha256"] == deployed.recipe_sha256


def test_a_feature_empty_in_scoring_is_a_high_alert_naming_it(trained):
    """age is missing in 3 % of training's rows; in a scored month it is missing in every row.
    The drift tests compare with the reference's spread; the skew check compares with training,
    and its finding leads the run's one alert."""
    _, columns = synthetic.generate(LAKE)[8]
    empty = np.ma.masked_all(columns["age"].shape, dtype=np.float64)
    lake.write_partition("customers", SEPTEMBER, {**columns, "age": empty})
    inbox = alert_inbox(trained.sandbox)
    results = score(trained.sandbox).output["results"]
    [skewed] = [f for f in results["validate_data"]["drift"] if f["test"] == "skew"]
    assert (skewed["metric"], skewed["value"], skewed["severity"]) == ("age", "missing", "high")
    assert skewed["statistic"] == 1.0 and 0.0 < skewed["expected"] < 0.05
    alert = results["validate_scores"]["alert"]
    assert alert["sent"] and alert["severity"] == "high" and alert["metrics"][0] == "age"
    assert alert["summary"].startswith("High-severity drift: age (missing in 100% of the scored rows, 3% in")
    [sent] = [m for m in drain(inbox) if m["Subject"].startswith("modelops drift")]
    assert "age" in json.loads(sent["Message"])["summary"]


def test_online_requests_are_held_to_training_too(scored):
    """Online requests that leave data_usage_gb empty (5 % missing in training) are counted as
    they arrive; the period's validation finds the skew of the online scores by name."""
    request = copy.deepcopy(event("online_score_batch"))
    entities = [top.entity_id for top in latest.top("churn", 40)]
    records = [{"entity_id": e, "features": {"support_calls": 1, "data_usage_gb": None}} for e in entities]
    request["body"] = json.dumps({"records": records})
    response = scored.sandbox.call("OnlineScoreFunction", request)
    assert response["statusCode"] == 200, response["body"]
    results = score(scored.sandbox, force=True).output["results"]  # the period again: its online scores
    outcomes = results["validate_outcomes"]
    assert outcomes["online_rows"] == 40
    [skewed] = [f for f in outcomes["drift"] if f["test"] == "skew"]
    assert (skewed["stage"], skewed["metric"], skewed["value"]) == (
        "validate_online",
        "data_usage_gb",
        "missing",
    )
    assert skewed["statistic"] == 1.0 and skewed["severity"] == "high"


def test_a_filter_the_spec_does_not_declare_fails_the_run_by_name(lake):
    """A WHERE beyond the window drops rows of every period: the extract is reconciled with
    the table and the run fails naming the periods and counts; declared, it runs and says so."""
    sql = churn_spec()["source"]["sql"].replace(
        "BETWEEN $start AND $end", "BETWEEN $start AND $end AND tenure_months > 3"
    )
    put_churn_spec(source={"tables": ["customers"], "sql": sql})
    error, failed = invoke_raw(lake, "GetDataFunction", event("get_data"))
    assert failed and error["errorType"] == "IncompleteExtractError"
    assert error["errorMessage"].startswith("the extract of 2025-")
    assert (
        "of table 'customers'" in error["errorMessage"] and "every period lost rows" in error["errorMessage"]
    )
    put_churn_spec(source={"tables": ["customers"], "sql": sql, "rows": {"filtered": True}})
    reconciled = invoke(lake, "GetDataFunction", event("get_data"))["results"]["get_data"]["reconciliation"]
    assert reconciled["filtered"] and reconciled["warnings"] == [] and "error" not in reconciled
    assert reconciled["source_rows"] == 8_000 > reconciled["extracted_rows"]
