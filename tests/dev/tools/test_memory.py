"""template.yaml gives every function at least its measured peak memory times the margin
(bench/memory.json, written by `make memory`): a stage whose peak grows past its MemorySize, or
a MemorySize lowered below what was measured, fails here."""

from __future__ import annotations

import json
import re

from modelops_dev.sandbox import PROJECT_ROOT
from modelops_dev.sandbox.template import load, parse
from modelops_dev.tools import memory

REPORT = json.loads((PROJECT_ROOT / "bench" / "memory.json").read_text())
TEMPLATE = PROJECT_ROOT / "template.yaml"


def test_every_function_has_at_least_its_measured_peak_times_the_margin():
    assert memory.shortfalls(load(TEMPLATE), REPORT) == []


def test_the_report_states_its_margin_and_every_peak_is_above_the_interpreter():
    assert REPORT["margin"] >= 1.2
    for logical_id, measured in REPORT["functions"].items():
        assert measured["peak_mb"] > measured["import_mb"] >= measured["interpreter_mb"] > 0, logical_id


def test_a_memory_size_below_the_measured_peak_is_caught():
    text = TEMPLATE.read_text()
    logical_id, measured = max(REPORT["functions"].items(), key=lambda item: item[1]["peak_mb"])
    too_small = int(measured["peak_mb"] * REPORT["margin"]) - 64
    # the function's own MemorySize, or one added after its CodeUri where it takes the Globals'
    block = re.search(rf"\n  {logical_id}:\n(.*?)\n\n", text, re.S)
    assert block is not None
    body = block.group(1)
    if re.search(r"\n      MemorySize: \d+", body):
        lowered = re.sub(r"\n      MemorySize: \d+", f"\n      MemorySize: {too_small}", body)
    else:
        lowered = re.sub(r"(\n      CodeUri: [^\n]+)", rf"\1\n      MemorySize: {too_small}", body)
    doctored = parse(text.replace(body, lowered))
    assert memory.memory_sizes(doctored)[logical_id] == too_small
    [found] = memory.shortfalls(doctored, REPORT)
    assert found.startswith(f"{logical_id}: MemorySize {too_small} MB < measured peak")


def test_a_function_without_a_measurement_is_caught():
    template = load(TEMPLATE)
    report = {
        **REPORT,
        "functions": {k: v for k, v in REPORT["functions"].items() if k != "CampaignFunction"},
    }
    assert "CampaignFunction: no measured peak in the report (run `make memory`)" in memory.shortfalls(
        template, report
    )
