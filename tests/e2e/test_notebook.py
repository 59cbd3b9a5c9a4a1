"""A notebook session through the client, from a DataFrame to a comparison of two versions:
load → put_spec → train → score → predict (the same scores as batch, to 1e-9) → report →
compare, every result a DataFrame or a typed object."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from modelops_dev.client.notebook import MODEL_COLUMNS, Client, RequestError
from modelops_dev.client.results import LoadResult, ScoringResult, SpecResult, TrainingResult, VersionReport
from modelops_dev.demo import synthetic
from tests.helpers import churn_spec

pytestmark = pytest.mark.e2e


def test_a_notebook_session_loads_trains_scores_predicts_and_compares(sandbox):
    ops = Client.embedded(sandbox)
    months = synthetic.generate(synthetic.DemoConfig(customers=600, months=10))
    frame = pd.concat([pd.DataFrame(columns) for _, columns in months], ignore_index=True)

    loaded = ops.load(frame, "customers", "snapshot_month")
    assert isinstance(loaded, LoadResult) and loaded.rows == len(frame)
    assert loaded.partitions["rows"].sum() == len(frame) and len(loaded.partitions) == 10
    assert loaded.columns.set_index("name").loc["snapshot_month", "type"] == "DATE"

    stored = ops.put_spec(
        churn_spec(
            description="churn, from a notebook",
            estimator={"kind": "hist_gradient_boosting", "params": {"max_iter": 40}},  # no search: fast
        )
    )
    assert isinstance(stored, SpecResult) and stored.model == "churn" and len(stored.sha256) == 64
    models = ops.models()
    assert list(models.columns) == MODEL_COLUMNS and models["model"].tolist() == ["churn"]
    assert models.loc[0, "description"] == "churn, from a notebook"

    first = ops.train("churn", "2025-08-01")
    second = ops.train("churn", "2025-09-01")
    assert isinstance(first, TrainingResult) and first.version == "1.0.0" and first.promoted
    assert second.version != first.version
    assert set(first.metrics.columns) == {"metric", "value"}
    assert 0.5 < first.metrics.set_index("metric").loc["roc_auc", "value"] <= 1
    assert {"GetData", "TrainModel", "DeployModel"} <= set(first.stages["state"])

    scored = ops.score("churn", "2025-09-01")
    assert isinstance(scored, ScoringResult) and scored.latest
    champion = ops.versions().query("champion")["version"].item()
    assert scored.version == champion

    # predict: the same rows, scored in this process, give batch's scores
    september = frame[frame["snapshot_month"] == pd.Timestamp("2025-09-01")].set_index(
        "customer_id", drop=False
    )
    assert scored.rows == len(september)
    batch = ops.score_history("churn").set_index("entity_id")["score"]
    mine = ops.predict(september, "churn", invalid="policy")
    assert (
        list(mine.columns) == ["entity_id", "score", "model_version"]
        and (mine.index == september.index).all()
    )
    assert (mine["model_version"] == champion).all()
    difference = np.abs(mine.set_index("entity_id")["score"] - batch.loc[mine["entity_id"]].to_numpy())
    assert difference.max() < 1e-9
    # the rows as the run's SQL returned them score the same too
    extract = ops.extract(scored.run_id)
    assert len(extract) == len(september)
    again = ops.predict(extract, "churn", champion, invalid="policy").set_index("entity_id")["score"]
    assert np.abs(again - batch.loc[again.index].to_numpy()).max() < 1e-9

    # the online API's checks: a value the schema refuses names its row
    bad = september.head(3).copy()
    bad.loc[bad.index[1], "plan"] = "gold"
    with pytest.raises(RequestError, match=r"row .*: plan: unknown category 'gold' \(known: "):
        ops.predict(bad, "churn")
    assert np.isfinite(ops.predict(bad, "churn", invalid="policy")["score"]).all()  # plan: missing

    estimator = ops.model("churn", champion)
    assert isinstance(estimator, HistGradientBoostingClassifier)

    report = ops.report("churn", second.version)
    assert isinstance(report, VersionReport) and report.version == second.version
    assert report.metrics.loc["test", "roc_auc"] == pytest.approx(
        second.metrics.set_index("metric").loc["roc_auc", "value"]
    )
    assert report.evidence and len(report.recipe_sha256) == 64 and report.params == second.params

    # compare: both versions on the second's out-of-time rows, side by side
    table = ops.compare(first.version, second.version, "churn")
    assert list(table.columns) == [first.version, second.version, "difference"]
    assert table.loc["roc_auc", second.version] == pytest.approx(
        report.metrics.loc["test", "roc_auc"], abs=1e-12
    )
    assert (
        table.loc["rows", first.version]
        == table.loc["rows", second.version]
        == report.metrics.loc["test", "rows"]
    )
    assert 0 <= table.loc["roc_auc_p_worse", "difference"] <= 1
    assert table.loc["roc_auc", "difference"] == pytest.approx(
        table.loc["roc_auc", second.version] - table.loc["roc_auc", first.version]
    )
