"""A 600-column file, as wide models come (issue 23): `data load` writes it into the lake, and a
spec with every other column as a feature is trained on and scored. Every column arrives as
a feature of the trained version and every customer of the scored month gets a score."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from modelops_dev.sandbox import Sandbox
from tests.helpers import churn_spec, score, train

pytestmark = pytest.mark.e2e

COLUMNS = 600
FEATURES = [f"f{i:03d}" for i in range(COLUMNS - 3)]  # with the entity, the date and the outcome
MONTHS = [date(2025, month, 1) for month in range(4, 10)]  # a window of 3 months to 2025-07, then 09
CUSTOMERS = 40


def write_wide_file(path: Path) -> int:
    """CUSTOMERS rows a month, the outcome driven by the first two features; the rows written."""
    rng = np.random.default_rng(7)
    lines = [",".join(["customer_id", "snapshot_month", "churned", *FEATURES])]
    for month in MONTHS:
        values = np.round(rng.normal(size=(CUSTOMERS, len(FEATURES))), 3)
        churned = (values[:, 0] + values[:, 1] + rng.normal(scale=0.5, size=CUSTOMERS)) > 0
        for row in range(CUSTOMERS):
            cells = ",".join(f"{v:g}" for v in values[row])
            lines.append(f"c{row:03d},{month.isoformat()},{int(churned[row])},{cells}")
    path.write_text("\n".join(lines) + "\n")
    return len(lines) - 1


def test_a_600_column_file_is_loaded_trained_on_and_scored(sandbox: Sandbox, tmp_path, monkeypatch, capsys):
    from modelops.stores import history, registry
    from modelops.stores.specs import store_spec
    from modelops_dev.cli import data, main

    path = tmp_path / "wide.csv"
    rows = write_wide_file(path)
    monkeypatch.setattr(data, "connect", lambda endpoint: None)  # the embedded sandbox already
    assert main(["data", "load", "--file", str(path), "--table", "wide", "--json"]) == 0
    loaded = json.loads(capsys.readouterr().out)
    assert loaded["written"] and loaded["rows"] == rows and len(loaded["columns"]) == COLUMNS
    assert loaded["date_column"] == "snapshot_month" and len(loaded["partitions"]) == len(MONTHS)
    assert {c["name"]: c["type"] for c in loaded["columns"]}["f000"] == "DOUBLE"

    spec = churn_spec(
        name="wide",
        source={
            "tables": ["wide"],
            "sql": "SELECT * FROM wide WHERE snapshot_month BETWEEN $start AND $end\n",
        },
        outcome="churned",
        campaign={"enabled": False},
    )  # churn's sections, its features, estimator and online features replaced whole:
    spec["features"] = {name: {"type": "numeric"} for name in FEATURES}
    spec["estimator"] = {"kind": "hist_gradient_boosting", "params": {"max_iter": 20}}
    spec["online"] = {"realtime_features": ["f000"]}
    spec["window"] = {"training_periods": 3, "outcome_lag_periods": 1}
    store_spec(json.dumps(spec), source="wide.yaml")
    train(sandbox, "2025-08-01", model="wide")
    version = registry.champion("wide")
    assert version is not None
    schema = registry.feature_schema(registry.get_version("wide", version))
    assert [feature["name"] for feature in schema["features"]] == FEATURES

    score(sandbox, "2025-09-01", model="wide")
    scores = {r["entity_id"]: r["score"] for r in history.read("wide")}
    assert sorted(scores) == [f"c{row:03d}" for row in range(CUSTOMERS)]
    assert all(0 <= s <= 1 for s in scores.values())
