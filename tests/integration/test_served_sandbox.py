"""The sandbox as a local server: another process (the CLI) loads data, trains and lists models."""

import json
import os
import socket
import subprocess
import sys

import pytest

from modelops_local.sandbox import served
from tests.conftest import QUIET


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def modelops(endpoint: str, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run(
        [sys.executable, "-m", "modelops_local.cli", *args, "--endpoint-url", endpoint],
        capture_output=True,
        text=True,
        timeout=600,
        env=environment,
        check=False,
    )


@pytest.fixture(scope="module")
def endpoint():
    port = free_port()
    with served(port=port, environment=QUIET):
        yield f"http://127.0.0.1:{port}"


def test_another_process_loads_data_trains_and_lists_models(endpoint):
    loaded = modelops(endpoint, "data", "load", "--customers", "800", "--months", "5", "--json")
    assert loaded.returncode == 0, loaded.stderr
    assert sum(json.loads(loaded.stdout)["partitions"].values()) == 4_000

    trained = modelops(endpoint, "train", "--model", "churn", "--as-of", "2025-05-01")
    assert trained.returncode == 0, trained.stdout + trained.stderr
    for state in ("GetData", "TransformData", "ValidateData", "TrainModel", "ValidateModel", "DeployModel"):
        assert f"✓ {state}" in trained.stdout  # progress, state by state
    assert "SUCCEEDED: version 1.0.0" in trained.stdout

    listed = modelops(endpoint, "models", "list", "--model", "churn", "--json")
    [version] = json.loads(listed.stdout)
    assert version["version"] == "1.0.0" and version["champion"] is True

    scored = modelops(endpoint, "score", "--model", "churn", "--as-of", "2025-05-01")
    assert scored.returncode == 0, scored.stdout + scored.stderr
    assert "✓ ScoreChunks" in scored.stdout and "800 scores published" in scored.stdout

    top = json.loads(modelops(endpoint, "top", "--model", "churn", "-n", "5", "--json").stdout)
    assert len(top) == 5 and [t["score"] for t in top] == sorted((t["score"] for t in top), reverse=True)
    history = modelops(endpoint, "scores", "history", top[0]["entity_id"], "--model", "churn", "--json")
    [row] = json.loads(history.stdout)
    assert row["score"] == top[0]["score"] and row["run_id"] == "scoring-churn-2025-05-01"


def test_metadata_exports_as_csv_and_parquet_and_the_report_is_written(endpoint, tmp_path):
    import csv

    import duckdb

    assert modelops(endpoint, "data", "load", "--customers", "500", "--months", "4").returncode == 0
    assert modelops(endpoint, "train", "--model", "churn", "--as-of", "2025-04-01").returncode == 0
    exported = modelops(
        endpoint, "metadata", "export", "--model", "churn", "--out", str(tmp_path / "m.csv"), "--json"
    )
    assert exported.returncode == 0, exported.stderr
    with (tmp_path / "m.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["model", "stage", "metric", "decile", "value", "timestamp"]
    assert {"validate_data", "validate_model"} <= {r["stage"] for r in rows}
    assert len(rows) == json.loads(exported.stdout)["rows"]
    parquet = tmp_path / "m.parquet"
    assert (
        modelops(endpoint, "metadata", "export", "--format", "parquet", "--out", str(parquet)).returncode == 0
    )
    assert duckdb.sql(f"SELECT count(*) FROM '{parquet}'").fetchall()[0][0] == len(rows)
    reported = modelops(endpoint, "report", "--model", "churn", "--out", str(tmp_path / "r.html"))
    assert reported.returncode == 0 and "Drift report: churn" in (tmp_path / "r.html").read_text()


def test_an_unreachable_sandbox_is_a_clear_error():
    result = modelops(f"http://127.0.0.1:{free_port()}", "models", "list")
    assert result.returncode == 2
    assert "cannot reach the sandbox" in result.stderr and "Traceback" not in result.stderr


def test_modelops_serve_answers_http_like_api_gateway(endpoint):
    assert modelops(endpoint, "data", "load", "--customers", "500", "--months", "5").returncode == 0
    assert modelops(endpoint, "train", "--model", "churn", "--as-of", "2025-04-01").returncode == 0
    assert modelops(endpoint, "score", "--model", "churn", "--as-of", "2025-05-01").returncode == 0
    [best] = json.loads(modelops(endpoint, "top", "--model", "churn", "-n", "1", "--json").stdout)
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "modelops_local.cli",
            "serve",
            "--port",
            str(port),
            "--endpoint-url",
            endpoint,
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        assert "online API on" in server.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        described = modelops(
            endpoint, "invoke", "--url", url, "--event", "events/online_model.json", "--json"
        )
        assert json.loads(described.stdout)["status"] == 200
        body = json.dumps(
            {"entity_id": best["entity_id"], "features": {"support_calls": 1, "data_usage_gb": 2.5}}
        )

        def post(data: str) -> tuple[subprocess.CompletedProcess[str], dict]:
            done = modelops(
                endpoint,
                "invoke",
                "--url",
                url,
                "--method",
                "POST",
                "--path",
                "/models/churn/score",
                "--data",
                data,
                "--json",
            )
            return done, json.loads(done.stdout)

        _, answer = post(body)
        assert answer["status"] == 200 and 0 < answer["body"]["score"] < 1
        wrong, refused = post("{not json")
        assert refused["status"] == 400 and wrong.returncode == 1
    finally:
        server.terminate()
        server.wait(timeout=10)
