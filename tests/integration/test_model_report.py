"""A version's model report and card (issue 24): train_model's figures kept as the version's
metrics.json (verified like its model), the HTML report opened in headless Chromium, and
`modelops models report` / `models compare` run in this process against the sandbox."""

from __future__ import annotations

import json

import numpy as np
import pytest

from modelops.stores import layout, objects, registry, version_metrics
from modelops_dev.cli import main, models
from modelops_dev.client.notebook import Client
from tests.helpers import recompressed_copy
from tests.integration.test_report_chromium import Elements, colour_count, png_rgb, run_chromium

DRIVERS = {"contract", "support_calls", "late_payments", "monthly_charges", "tenure_months"}  # demo/synthetic
SECTIONS = ("headline", "card", "recipe", "performance", "campaign", "importance", "promotion", "champion")
MODEL_BLUE = np.array([0x1F, 0x3A, 0x93])  # report_figures.MODEL: the curves and bars


def test_the_version_keeps_its_test_figures_as_metrics_json(trained):
    record = registry.get_version("churn", "1.0.0")
    training = objects.get_json(layout.training_key(record.run_id, "training.json"))
    body = objects.get_bytes(layout.model_metrics_key("churn", "1.0.0"))
    assert body == objects.get_bytes(layout.training_key(record.run_id, version_metrics.NAME))
    found = json.loads(body)  # strict JSON for any tool: no NaN
    assert found == version_metrics.load(record)
    test = training["metrics"]["test"]
    assert found["roc_auc"] == pytest.approx(test["roc_auc"], abs=1e-12)
    assert found["brier"] == pytest.approx(test["brier"], abs=1e-12)
    assert found["rows"] == training["rows"]["test"] == test["rows"]
    roc = found["roc"]
    assert (roc["fpr"][0], roc["tpr"][0], roc["fpr"][-1], roc["tpr"][-1]) == (0, 0, 1, 1)
    histogram = found["score_histogram"]
    assert sum(histogram["positives"]) == found["positives"] and sum(histogram["negatives"]) == (
        found["rows"] - found["positives"]
    )
    gains = [d["cumulative_gain"] for d in found["deciles"]]
    assert gains[-1] == pytest.approx(1.0) and gains == sorted(gains) and gains[0] > 0.1  # better than chance
    rule = found["campaign"]  # churn: the top 200 of each month scoring at least 0.3
    assert (rule["top_n"], rule["min_score"], len(rule["periods"])) == (200, 0.3, 1)
    assert 0 < rule["volume"] <= 200 and rule["precision"] > found["outcome_rate"]
    importance = found["permutation_importance"]
    assert importance["rows"] == found["rows"] and importance["baseline"] == pytest.approx(found["roc_auc"])
    ranked = [f["feature"] for f in importance["features"]]
    assert sorted(ranked) == sorted(f["name"] for f in training["feature_schema"]["features"])
    assert ranked[0] in DRIVERS and importance["features"][0]["importance"] > 0.01

    objects.put_bytes(layout.model_metrics_key("churn", "1.0.0"), body.replace(b'"rows"', b'"Rows"', 1))
    changed = r"churn 1\.0\.0: metrics\.json sha256 .* does not match its metadata's"
    with pytest.raises(registry.IntegrityError, match=changed):
        version_metrics.load(record)


def test_the_report_opens_in_chromium_with_every_section_and_the_champion_on_the_same_rows(trained, tmp_path):
    second = recompressed_copy("churn", "1.0.0", "another-run")  # the same model, other bytes
    registry.change_champion("churn", second.version, "1.0.0", kind="promotion", reason="test", caller="test")
    page = tmp_path / "churn-1.0.0.html"
    assert Client.embedded(trained.sandbox).card("churn", "1.0.0", out=page) == str(page)

    dom = run_chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    elements = Elements()
    elements.feed(dom)
    ids = [a["id"] for tag, a in elements.elements if tag in ("section", "div") and "id" in a]
    assert ids == list(SECTIONS)  # in this order
    assert elements.count("svg", "chart") == 6 and elements.count("text", "axis-label") == 12
    for title in ("ROC curve", "Precision-recall curve", "Reliability (calibration)", "Score distribution",
                  "Lift by decile", "Cumulative gain by decile"):  # fmt: skip
        assert f"<h3>{title}</h3>" in dom
    stored = version_metrics.load(registry.get_version("churn", "1.0.0"))
    histogram = stored["score_histogram"]
    drawn = histogram["negatives"] + histogram["positives"] + [d["lift"] for d in stored["deciles"]]
    assert elements.count("rect", "bar") == sum(1 for n in drawn if n)  # every non-empty bin and decile
    assert "Retention analytics (retention-analytics@example.com)" in dom  # the spec's card
    assert "first model: roc_auc" in dom and "baseline.p_worse" in dom  # the gate's evidence
    record = registry.get_version("churn", "1.0.0")
    assert record.sha256 in dom and record.recipe_sha256 in dom and "max_leaf_nodes" in dom
    # the champion 1.1.0 is the same model: on the same rows, every difference is zero
    champion = dom[dom.index('id="champion"') :]
    assert "The champion 1.1.0 and 1.0.0 scored on 1.0.0's out-of-time test rows" in champion
    assert "<th>1.1.0</th><th>1.0.0</th><th>difference</th>" in champion
    assert champion.count('<td class="num">0</td>') >= 4  # roc_auc, log_loss, brier, outcome_rate

    png = tmp_path / "report.png"
    run_chromium(tmp_path, f"--screenshot={png}", "--window-size=1200,2400", page.as_uri())
    pixels = png_rgb(png)
    assert pixels.shape == (2400, 1200, 3)
    assert colour_count(pixels) > 100  # text, tables, lines: not blank
    assert (pixels < 128).all(axis=2).mean() > 0.002  # dark text is drawn
    blue = np.abs(pixels.astype(int) - MODEL_BLUE).sum(axis=2) <= 12
    assert blue.sum() > 3_000  # the curves and the lift bars


@pytest.fixture
def cli(trained, monkeypatch):
    """The trained sandbox with 1.1.0 beside 1.0.0; the CLI uses it instead of a served one."""
    recompressed_copy("churn", "1.0.0", "another-run")
    monkeypatch.setattr(models, "connect", lambda endpoint: trained.sandbox)
    return trained.sandbox


def test_models_report_and_compare_on_the_command_line(cli, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["models", "report", "--model", "churn", "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote the model report of churn 1.0.0 to {out}\n"
    assert '<section id="champion">' in out.read_text() and "1.0.0 is the champion" in out.read_text()
    assert main(["models", "report", "1.0.0", "--model", "churn", "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["version"], printed["report"]) == ("1.0.0", str(out))
    assert printed["metrics"] == version_metrics.load(registry.get_version("churn", "1.0.0"))

    assert main(["models", "compare", "1.1.0", "1.0.0", "--model", "churn"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "churn 1.1.0 and 1.0.0 on 1.0.0's out-of-time test rows"
    assert lines[1].split() == ["metric", "1.1.0", "1.0.0", "difference"]
    auc = next(line.split() for line in lines if line.startswith("roc_auc "))
    assert auc[1] == auc[2] and float(auc[3]) == 0
    assert main(["models", "compare", "1.1.0", "1.0.0", "--model", "churn", "--json"]) == 0
    compared = json.loads(capsys.readouterr().out)["metrics"]
    expected = version_metrics.load(registry.get_version("churn", "1.0.0"))
    assert compared["roc_auc"]["1.0.0"] == pytest.approx(expected["roc_auc"], abs=1e-12)
    assert compared["roc_auc_p_worse"]["1.1.0"] is None
    assert 0 <= compared["roc_auc_p_worse"]["difference"] <= 1
    assert main(["models", "compare", "1.0.0", "1.0.0", "--model", "churn"]) == 2
    assert capsys.readouterr().err.strip() == "error: compare two different versions (both are 1.0.0)"
