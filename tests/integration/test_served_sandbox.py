"""The sandbox as a local server in its own process (`modelops sandbox`); other processes (the
CLI, `modelops serve`) load data, train, score, list, export and call the online API. Each CLI
command is a process of its own, forked from one that imported the CLI once (the conftest's
``cli``). (tests/e2e/test_byod_cli.py and test_data_as_it_comes.py, and the weekly spec check of
test_repeated_entities.py, run the CLI in the test's process against the worker's sandbox.)"""

import csv
import json
import socket
import subprocess
import sys

import pytest

from tests.helpers import cli_environment, free_port

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(served_sandbox: str) -> str:
    return served_sandbox


@pytest.fixture(scope="module")
def session(server: str, cli) -> dict[str, subprocess.CompletedProcess[str]]:
    """One user session through the CLI: load, train, score (each step's output kept)."""
    steps = {
        # 2,000 customers: fewer leave a first model too overfitted to pass the calibration gate
        "load": ("data", "load", "--customers", "2000", "--months", "5", "--json"),
        # 5 months loaded, a window of 8: allowed by the flag (refused without it)
        "train": ("train", "--model", "churn", "--as-of", "2025-04-01", "--allow-partial-window"),
        "score": ("score", "--model", "churn", "--as-of", "2025-05-01"),
    }
    done = {}
    for name, args in steps.items():
        done[name] = cli(server, *args)
        assert done[name].returncode == 0, f"{name}: {done[name].stdout}{done[name].stderr}"
    return done


def test_another_process_loads_data_trains_scores_and_lists_models(server, session, cli):
    assert sum(json.loads(session["load"].stdout)["partitions"].values()) == 10_000
    trained = session["train"].stdout
    for state in ("GetData", "TransformData", "ValidateData", "TrainModel", "ValidateModel", "DeployModel"):
        assert f"✓ {state}" in trained  # progress, state by state
    assert "SUCCEEDED: churn version 1.0.0 — champion" in trained
    table = trained[trained.index("sample ") :].splitlines()
    assert table[0].split() == ["sample", "rows", "ROC", "AUC", "log", "loss", "Brier", "outcome", "rate"]
    assert [line.split()[0] for line in table[1:3]] == ["validation", "test"]  # the full metrics table
    assert "✓ ScoreChunks" in session["score"].stdout and "2,000 scores published" in session["score"].stdout

    [version] = json.loads(cli(server, "models", "list", "--model", "churn", "--json").stdout)
    assert version["version"] == "1.0.0" and version["champion"] is True
    top = json.loads(cli(server, "top", "--model", "churn", "-n", "5", "--json").stdout)
    assert len(top) == 5 and [t["score"] for t in top] == sorted((t["score"] for t in top), reverse=True)
    history = cli(server, "scores", "history", top[0]["entity_id"], "--model", "churn", "--json")
    [row] = json.loads(history.stdout)
    assert row["score"] == top[0]["score"] and row["run_id"] == "scoring-churn-2025-05-01"


def test_metadata_exports_as_csv_and_parquet_and_the_report_is_written(server, session, cli, tmp_path):
    import duckdb

    exported = cli(
        server, "metadata", "export", "--model", "churn", "--out", str(tmp_path / "m.csv"), "--json"
    )
    assert exported.returncode == 0, exported.stderr
    with (tmp_path / "m.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["model", "stage", "metric", "decile", "value", "timestamp"]
    stages = {"validate_data", "validate_model", "validate_outcomes", "validate_scores"}
    assert {r["stage"] for r in rows} == stages
    assert len(rows) == json.loads(exported.stdout)["rows"]
    parquet = tmp_path / "m.parquet"
    assert (
        cli(
            server, "metadata", "export", "--model", "churn", "--format", "parquet", "--out", str(parquet)
        ).returncode
        == 0
    )
    assert duckdb.sql(f"SELECT count(*) FROM '{parquet}'").fetchall()[0][0] == len(rows)
    reported = cli(server, "report", "--model", "churn", "--out", str(tmp_path / "r.html"))
    assert reported.returncode == 0 and "Monitoring report: churn" in (tmp_path / "r.html").read_text()


def test_an_unknown_model_is_named_before_anything_starts(server, session, cli):
    mistyped = cli(server, "score", "--model", "chrun", "--as-of", "2025-05-01")
    assert mistyped.returncode == 2 and mistyped.stdout == ""  # no execution started, nothing printed
    assert mistyped.stderr == "error: no model 'chrun' has a stored spec; did you mean 'churn'?\n"
    unknown = cli(server, "top", "--model", "nobody")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith(
        "error: no model 'nobody' has a stored spec (models: "
    )  # not "no scores"
    assert "churn" in unknown.stderr and unknown.stderr.count("\n") == 1


def test_scores_export_the_latest_a_period_or_the_history_as_parquet_or_csv(server, session, cli, tmp_path):
    import duckdb

    latest = tmp_path / "latest.parquet"
    done = cli(server, "scores", "export", "--model", "churn", "--out", str(latest), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"rows": 2_000, "file": str(latest), "format": "parquet"}
    columns = duckdb.sql(f"DESCRIBE SELECT * FROM '{latest}'").fetchall()
    assert [(c[0], c[1]) for c in columns][:3] == [
        ("entity_id", "VARCHAR"),
        ("score", "DOUBLE"),
        ("as_of", "DATE"),
    ]
    [(runs, rows)] = duckdb.sql(f"SELECT list(DISTINCT run_id), count(*) FROM '{latest}'").fetchall()
    assert runs == ["scoring-churn-2025-05-01"] and rows == 2_000
    top = json.loads(cli(server, "top", "--model", "churn", "-n", "1", "--json").stdout)[0]
    [(score,)] = duckdb.sql(f"SELECT score FROM '{latest}' WHERE entity_id = '{top['entity_id']}'").fetchall()
    assert score == top["score"]

    period = tmp_path / "may.csv"
    assert (
        cli(
            server,
            "scores",
            "export",
            "--model",
            "churn",
            "--as-of",
            "2025-05-01",
            "--format",
            "csv",
            "--out",
            str(period),
        ).returncode
        == 0
    )
    with period.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2_000 and list(rows[0]) == [
        "entity_id", "score", "as_of", "model_version", "run_id", "scored_at", "source",
    ]  # fmt: skip
    history = cli(
        server, "scores", "export", "--model", "churn", "--history", "--out", str(tmp_path / "h.parquet")
    )
    assert history.returncode == 0 and "the whole history" in history.stdout

    missing = cli(
        server, "scores", "export", "--model", "churn", "--as-of", "2025-06-01", "--out", str(period)
    )
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert (
        "no scores of 'churn' as of 2025-06-01 (a period's first day; scored: 2025-05-01)" in missing.stderr
    )


def test_an_unreachable_sandbox_is_a_clear_error(cli):
    result = cli(f"http://127.0.0.1:{free_port()}", "models", "list")
    assert result.returncode == 2
    assert "cannot reach the sandbox" in result.stderr and "Traceback" not in result.stderr


def test_modelops_serve_answers_http_like_api_gateway(server, session, cli):
    [best] = json.loads(cli(server, "top", "--model", "churn", "-n", "1", "--json").stdout)
    port = free_port()
    api = subprocess.Popen(
        [sys.executable, "-m", "modelops_dev.cli", "serve", "--port", str(port), "--endpoint-url", server],
        stdout=subprocess.PIPE,
        text=True,
        env=cli_environment(),
    )
    try:
        assert "online API on" in api.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        described = cli(server, "invoke", "--url", url, "--event", "events/online_model.json", "--json")
        assert json.loads(described.stdout)["status"] == 200

        def post(data: str) -> tuple[subprocess.CompletedProcess[str], dict]:
            done = cli(
                server,
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

        body = json.dumps(
            {"entity_id": best["entity_id"], "features": {"support_calls": 1, "data_usage_gb": 2.5}}
        )
        _, answer = post(body)
        assert answer["status"] == 200 and 0 < answer["body"]["score"] < 1
        wrong, refused = post("{not json")
        assert refused["status"] == 400 and wrong.returncode == 1
    finally:
        api.terminate()
        api.wait(timeout=10)


@pytest.mark.parametrize("command", [("sandbox",), ("serve", "--endpoint-url", "http://127.0.0.1:9")])
def test_a_port_in_use_is_a_clear_one_line_error(command):
    """`modelops sandbox` on a taken port used to hang for ever (moto's server thread died)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "modelops_dev.cli", *command, "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env=cli_environment(),
            check=False,
        )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        f"error: port {port} on 127.0.0.1 is already in use (another sandbox?); choose another with --port"
    ]
