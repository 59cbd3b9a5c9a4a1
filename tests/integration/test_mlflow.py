"""MLflow interop (issue 24): a version exported as an MLflow model directory that
``mlflow.pyfunc`` loads and that scores rows as batch scoring does, the same directory loaded in
a fresh interpreter from its own code, and a training run logged to a tracking server."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from modelops.stores import registry
from modelops_dev.cli import main, models, runs
from modelops_dev.client import local, mlflow_export, mlflow_tracking
from modelops_dev.client.notebook import Client
from modelops_dev.sandbox import PROJECT_ROOT

mlflow = pytest.importorskip("mlflow")  # a guard: CI installs requirements/dev.txt, which pins it

FEATURE_TYPES = {  # the churn spec's features (models/churn.yaml) and their MLflow types
    "tenure_months": "long", "age": "double", "region": "string", "plan": "string", "contract": "string",
    "monthly_charges": "double", "data_usage_gb": "double", "support_calls": "long", "late_payments": "long",
}  # fmt: skip


@pytest.fixture
def restored_path(monkeypatch):
    """sys.path as it was after the test: loading the model puts its code directory first."""
    monkeypatch.setattr(sys, "path", list(sys.path))


def test_the_export_loads_with_pyfunc_and_scores_as_batch_does(trained, tmp_path, restored_path):
    exported = mlflow_export.export("churn", None, tmp_path / "churn")
    assert (exported.version, exported.path) == ("1.0.0", str(tmp_path / "churn"))
    version = local.load("churn", "1.0.0")
    rows = local.out_of_time_rows(version)  # 1,000 rows, with the timestamp and outcome beside
    assert len(rows) == 1000
    expected = Client.embedded(trained.sandbox).predict(rows, "churn")

    loaded = mlflow.pyfunc.load_model(exported.path)
    found = loaded.predict(rows)
    assert list(found.columns) == ["entity_id", "score", "model_version"]
    assert (found["entity_id"].to_numpy() == expected["entity_id"].to_numpy()).all()
    assert np.abs(found["score"].to_numpy() - expected["score"].to_numpy()).max() <= 1e-9
    assert found["score"].std() > 0.01 and set(found["model_version"]) == {"1.0.0"}

    signature = mlflow.models.Model.load(exported.path).signature
    inputs = {spec.name: (spec.type.name, spec.required) for spec in signature.inputs.inputs}
    assert inputs == {
        **{name: (t, True) for name, t in FEATURE_TYPES.items()},
        "customer_id": ("string", False),
    }
    assert [f.name for f in version.schema.features] == list(FEATURE_TYPES) == exported.inputs[:-1]
    assert signature.outputs.input_names() == ["entity_id", "score", "model_version"]

    # a refused value: an error naming the row, or (invalid="policy") treated as a scoring run does
    bad = rows.head(5).copy()
    bad.loc[2, "region"] = "atlantis"
    with pytest.raises(local.PredictError, match=r"row 2: .*region"):
        loaded.predict(bad)
    policy = loaded.predict(bad, params={"invalid": "policy"})["score"].to_numpy()
    assert np.allclose(policy, local.predict(version, bad, "policy")["score"].to_numpy(), rtol=0, atol=1e-12)
    # MLflow checks the frame against the signature before the model sees it
    with pytest.raises(mlflow.exceptions.MlflowException, match=r"missing inputs.*plan"):
        loaded.predict(rows.drop(columns="plan"))


def test_the_export_is_self_contained_and_verified(trained, tmp_path, restored_path):
    """Loaded in a fresh interpreter (no PYTHONPATH, not in the project), the directory scores
    with the code it carries; a model file that is not the registered one is refused."""
    exported = mlflow_export.export("churn", "1.0.0", tmp_path / "model")
    rows = local.out_of_time_rows(local.load("churn", "1.0.0")).head(300)
    rows.to_pickle(tmp_path / "rows.pkl")  # the frame as it is (its dtypes)
    expected = local.predict(local.load("churn", "1.0.0"), rows)["score"].to_numpy()
    script = (
        "import json, sys, mlflow, pandas as pd\n"
        "model = mlflow.pyfunc.load_model(sys.argv[1])\n"
        "scores = model.predict(pd.read_pickle(sys.argv[2]))['score'].tolist()\n"
        "import modelops, modelops_dev.client.local as local\n"
        "print(json.dumps({'scores': scores, 'code': [modelops.__file__, local.__file__]}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", script, exported.path, str(tmp_path / "rows.pkl")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.splitlines()[-1])
    assert np.abs(np.array(result["scores"]) - expected).max() <= 1e-9
    assert all(path.startswith(exported.path + "/code/") for path in result["code"]), result["code"]
    assert not any(str(PROJECT_ROOT) in path for path in result["code"])

    model_file = tmp_path / "model" / "data" / "modelops" / "model.joblib"
    body = model_file.read_bytes()
    assert registry.sha256(body) == registry.get_version("churn", "1.0.0").sha256
    model_file.write_bytes(body + b"\0")
    with pytest.raises(
        registry.IntegrityError, match=r"churn 1\.0\.0: model\.joblib sha256 .* does not match"
    ):
        mlflow.pyfunc.load_model(exported.path)


def test_a_training_run_is_logged_to_the_tracking_server(trained, tmp_path, monkeypatch, capsys):
    from mlflow.tracking import MlflowClient

    record = registry.get_version("churn", "1.0.0")
    metadata = registry.verified_metadata(record)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert mlflow_tracking.track_training("churn", "1.0.0") is None  # not tracked: nothing asked

    uri = f"file://{tmp_path}/mlruns"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 keeps the file store for opt-ins
    run_id = mlflow_tracking.track_training("churn", "1.0.0")
    assert run_id is not None and capsys.readouterr().err == ""

    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(run_id)
    assert client.get_experiment(run.info.experiment_id).name == "churn"
    assert run.info.status == "FINISHED" and run.info.run_name == "churn 1.0.0"
    assert run.data.params == {
        "learning_rate": "0.05", "max_iter": "150", "max_leaf_nodes": "15",
        "estimator": metadata["estimator"],
        "training_window_start": "2025-01-01", "training_window_end": "2025-08-01",
    }  # fmt: skip
    expected = {
        f"{sample}_{name}": value for sample, m in metadata["metrics"].items() for name, value in m.items()
    }
    assert set(run.data.metrics) == set(expected) and "test_roc_auc" in expected
    for name, value in expected.items():
        assert math.isclose(run.data.metrics[name], value, rel_tol=0, abs_tol=1e-12), name
    assert run.data.metrics["test_roc_auc"] == pytest.approx(record.test_auc, abs=1e-12)
    tags = run.data.tags
    assert (tags["modelops.model"], tags["modelops.version"], tags["modelops.run_id"]) == (
        "churn", "1.0.0", record.run_id,
    )  # fmt: skip
    assert tags["modelops.recipe_sha256"] == record.recipe_sha256 and tags["modelops.report"] == "logged"
    artifacts = {a.path for a in client.list_artifacts(run_id)}
    assert artifacts == {"churn-1.0.0-report.html", "recipe.yaml"}
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    html = Path(client.download_artifacts(run_id, "churn-1.0.0-report.html", str(downloads))).read_text()
    assert '<section id="card">' in html and record.sha256 in html
    recipe = Path(client.download_artifacts(run_id, "recipe.yaml", str(downloads))).read_text()
    assert recipe == registry.recipe_text(record)

    # a tracking server that fails: one warning line; the (already registered) version stands
    refused = f"file://{tmp_path}/refused"  # a store MLflow refuses without the opt-in
    monkeypatch.setenv("MLFLOW_TRACKING_URI", refused)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "false")
    assert mlflow_tracking.track_training("churn", "1.0.0") is None
    warning = capsys.readouterr().err
    assert warning.startswith(
        f"warning: churn 1.0.0 is trained and registered, but logging it to MLflow at {refused} failed: "
    )
    assert warning.count("\n") == 1 and "filesystem tracking backend" in warning


def test_models_export_on_the_command_line(trained, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(models, "connect", lambda endpoint: trained.sandbox)
    out = tmp_path / "export"
    assert (
        main(["models", "export", "1.0.0", "--model", "churn", "--format", "mlflow", "--out", str(out)]) == 0
    )
    printed = capsys.readouterr().out
    assert printed.startswith(f"wrote churn 1.0.0 as an MLflow model to {out} (inputs: tenure_months, age, ")
    assert (out / "MLmodel").is_file() and "loader_module: modelops_dev.client.mlflow_export" in (
        out / "MLmodel"
    ).read_text()

    # the same directory again (now not empty): one line, and nothing written
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    assert main(["models", "export", "--model", "churn", "--out", str(out)]) == 2
    assert (
        capsys.readouterr().err
        == f"error: {out} already exists and is not empty: export into a new directory\n"
    )
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    (tmp_path / "file").write_text("x")
    assert main(["models", "export", "--out", str(tmp_path / "file")]) == 2
    assert "already exists and is not empty" in capsys.readouterr().err

    assert main(["models", "export", "9.9.9", "--model", "churn", "--out", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err == "error: model 'churn' has no version '9.9.9'\n"
    assert not (tmp_path / "none").exists()

    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if it were not installed
    assert main(["models", "export", "--out", str(tmp_path / "new")]) == 2
    assert capsys.readouterr().err == "error: mlflow is not installed: pip install mlflow-skinny\n"


def test_mlflow_is_a_development_requirement_only():
    layers = sorted((PROJECT_ROOT / "layers").glob("*/requirements.txt"))
    assert layers and not [p for p in layers if "mlflow" in p.read_text().lower()]
    assert "\nmlflow-skinny\n" in (PROJECT_ROOT / "requirements" / "dev.in").read_text()
    lock = (PROJECT_ROOT / "requirements" / "dev.txt").read_text().splitlines()
    assert [line for line in lock if "mlflow" in line] == [f"mlflow-skinny=={mlflow.__version__}"]
    assert not [p for p in (PROJECT_ROOT / "layers").rglob("*.py") if "mlflow" in p.read_text()]


def test_modelops_train_and_client_train_log_the_version_when_a_tracking_server_is_set(
    trained, tmp_path, monkeypatch, capsys
):
    """The training itself is the fixture's (the state machine is not run again): both callers
    log the version it registered once it has succeeded, and only when MLFLOW_TRACKING_URI is set."""
    from mlflow.tracking import MlflowClient

    from modelops_dev.client import runner

    monkeypatch.setattr(runs, "connect", lambda endpoint: trained.sandbox)
    monkeypatch.setattr(runner, "start", lambda arn, request, name=None: trained.execution.arn)
    monkeypatch.setattr(runner, "follow", lambda arn, **options: trained.execution)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert main(["train", "--model", "churn", "--as-of", "2025-08-01", "--json"]) == 0
    assert "mlflow_run" not in json.loads(capsys.readouterr().out)

    uri = f"file://{tmp_path}/mlruns"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    assert main(["train", "--model", "churn", "--as-of", "2025-08-01"]) == 0
    logged = capsys.readouterr().out.splitlines()[-1]
    assert logged.startswith("  logged to MLflow as run ") and logged.endswith(f" ({uri})")
    assert main(["train", "--model", "churn", "--as-of", "2025-08-01", "--json"]) == 0
    from_json = json.loads(capsys.readouterr().out)["mlflow_run"]
    trained_here = Client.embedded(trained.sandbox).train("churn", "2025-08-01")
    assert trained_here.version == "1.0.0"

    client = MlflowClient(tracking_uri=uri)
    found = client.search_runs([client.get_experiment_by_name("churn").experiment_id])
    assert len(found) == 3 and logged.split()[5] in {r.info.run_id for r in found}
    assert from_json in {r.info.run_id for r in found}
    assert {r.data.tags["modelops.version"] for r in found} == {"1.0.0"}
    assert all(
        r.data.metrics["test_roc_auc"]
        == pytest.approx(trained_here.results["train_model"]["metrics"]["roc_auc"])
        for r in found
    )
