"""`make memory`: each function's peak memory, measured the way its Lambda would hold it.

A sandbox is served on 127.0.0.1 (moto in this process) and its Lambda runtime is replaced:
every invocation, by the state machines or by a direct Invoke, runs in a fresh interpreter
(``memory_worker``) that imports the function's handler, calls it once and reports its resident
set: before the import (the Python runtime), after it (the libraries: a cold start) and at its
peak. A fresh process per invocation is what makes the peak that invocation's: moto's objects
and items stay in this process, and no earlier stage's heap is counted. Then:

1. the demo churn model is trained on ``--training-customers`` customers over 8 months (the
   training stages; the default, 250,000, makes an extract of about 2,000,000 rows, the
   training sample's default cap ``split.max_training_rows``);
2. one month of ``--scoring-rows`` customers is scored with ``scoring.chunk_rows`` =
   ``--chunk-rows`` (default 100,000, the spec's default): the Map's children each hold one
   chunk of production size, and the stages after the Map merge its chunks;
3. the online function answers one request of one record and one of ``online.max_records``
   (100), the dispatcher one hourly tick and explain_map_failure one failed Map's event.

Each function's ``peak_mb`` is its largest peak over its invocations; ``needs_mb`` is that peak
times ``MARGIN``, which template.yaml's MemorySize must reach (tests/dev/tools/test_memory.py).
Writes ``--out`` (bench/memory.json, checked in).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from modelops_dev.sandbox import PROJECT_ROOT, QUIET, Sandbox

# MemorySize must be at least the measured peak times this: room for data that grows between
# measurements, a heavier month, allocator fragmentation, and Lambda's own runtime beside ours.
MARGIN = 1.5
PORT = 4599  # not the sandbox's default (4566): a developer's own `modelops sandbox` may hold it
TRAINING_MONTHS = 8
WORKERS = 2  # worker processes at once


class Recorder:
    """The sandbox's Lambda runtime, replaced: each invocation in its own fresh interpreter
    (``memory_worker``), its memory figures kept by function, tagged with ``phase``."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.phase = ""
        self.invocations: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        # The Map's children run as threads here (up to its MaxConcurrency, 100): at most this
        # many worker processes at once, so that many chunks cannot exhaust the host's memory.
        self._workers = threading.Semaphore(WORKERS)

    def invoke(self, function_name: str, body: str | bytes | None, response_headers: dict[str, str]) -> bytes:
        name = function_name.rsplit(":", 1)[-1] if function_name.startswith("arn:") else function_name
        function = self.sandbox.functions[name]
        module_file, attribute = function.handler.rsplit(".", 1)
        job = {
            "logical_id": function.logical_id,
            "file": str(function.code_dir / f"{module_file}.py"),
            "attribute": attribute,
            "name": function.name,
            "arn": function.arn,
            "memory": function.memory,
            "timeout": function.timeout,
            "event": json.loads(body) if body else {},
        }
        with tempfile.TemporaryDirectory(prefix="modelops-memory-") as scratch:
            job_file, out_file = Path(scratch) / "job.json", Path(scratch) / "out.json"
            job_file.write_text(json.dumps(job))
            with self._workers:
                done = subprocess.run(  # noqa: S603 - this interpreter, our own module  # nosec B603
                    [sys.executable, "-m", "modelops_dev.tools.memory_worker", str(job_file), str(out_file)],
                    env=dict(os.environ),  # the sandbox's endpoint, credentials, functions' environment
                    capture_output=True,
                    text=True,
                    check=False,
                )
            if done.returncode != 0 or not out_file.exists():
                raise RuntimeError(f"{function.logical_id}: worker failed:\n{done.stderr[-4000:]}")
            outcome = json.loads(out_file.read_text())
        memory = outcome["memory"]
        record = {
            "phase": self.phase,
            "interpreter_mb": memory["interpreter"],
            "import_mb": memory["imported"],
            "peak_mb": memory["peak"],
            "after_mb": memory["after"],
            "growth_mb": round(memory["peak"] - memory["imported"], 1),
            "seconds": memory["seconds"],
            "cpu_seconds": memory["cpu_seconds"],
            "error": outcome["error"]["errorType"] if "error" in outcome else None,
        }
        with self._lock:
            self.invocations.setdefault(function.logical_id, []).append(record)
        if "error" in outcome:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(outcome["error"]).encode()
        return json.dumps(outcome["result"]).encode()


def _invoke(sandbox: Sandbox, logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
    import boto3

    response = boto3.client("lambda").invoke(
        FunctionName=sandbox.ref(logical_id), Payload=json.dumps(event).encode()
    )
    answer: dict[str, Any] = json.loads(response["Payload"].read())
    return answer


def _online_event(entities: list[str]) -> dict[str, Any]:
    """The sample API Gateway event (events/online_score_batch.json), one record per entity."""
    event: dict[str, Any] = json.loads((PROJECT_ROOT / "events" / "online_score_batch.json").read_text())
    body = {
        "records": [
            {"entity_id": entity, "features": {"support_calls": i % 5, "data_usage_gb": 3.5}}
            for i, entity in enumerate(entities)
        ]
    }
    event["body"] = json.dumps(body)
    return event


def _run(sandbox: Sandbox, machine: str, request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A state machine's run to its end: its execution ARN and output."""
    from modelops_dev.client import runner

    arn = runner.start(sandbox.ref(machine), request)
    result = runner.follow(arn, timeout=6 * 3600, poll=2.0)
    if result.status != "SUCCEEDED" or result.output is None:
        raise RuntimeError(f"{machine} failed: {result.error}: {result.cause}")
    output: dict[str, Any] = result.output
    return arn, output


def measure(training_customers: int, scoring_rows: int, chunk_rows: int, port: int) -> dict[str, Any]:
    import yaml

    from modelops.stores import lake, specs
    from modelops_dev.demo import synthetic
    from modelops_dev.sandbox import served

    sizes: dict[str, Any] = {"chunk_rows": chunk_rows, "scoring_rows": scoring_rows}
    seconds: dict[str, float] = {}
    with served(port=port, environment=QUIET) as sandbox:
        recorder = Recorder(sandbox)
        sandbox.runtime.invoke = recorder.invoke  # type: ignore[method-assign]
        document = yaml.safe_load((PROJECT_ROOT / "models" / "churn.yaml").read_text())
        document["scoring"] = {**document.get("scoring", {}), "chunk_rows": chunk_rows}
        specs.store_spec(yaml.safe_dump(document, sort_keys=False), "memory spec")

        started = time.perf_counter()
        recorder.phase = "training"
        synthetic.load_demo_data(synthetic.DemoConfig(customers=training_customers, months=TRAINING_MONTHS))
        _, trained = _run(sandbox, "TrainingStateMachine", {"model": "churn", "as_of": "2025-08-01"})
        sizes["training_rows"] = trained["results"]["get_data"]["rows"]
        seconds["training"] = round(time.perf_counter() - started, 1)

        started = time.perf_counter()
        recorder.phase = "scoring"
        month = date(2025, 9, 1)
        [(_, columns)] = synthetic.generate(
            synthetic.DemoConfig(customers=scoring_rows, months=1, start=month, burn_in=24)
        )
        lake.write_partition("customers", month, columns)
        execution, scored = _run(
            sandbox, "ScoringStateMachine", {"model": "churn", "as_of": month.isoformat()}
        )
        sizes["scored_rows"] = scored["results"]["get_data"]["rows"]
        sizes["chunks"] = len(recorder.invocations.get("ScoreDataFunction", []))
        seconds["scoring"] = round(time.perf_counter() - started, 1)

        max_records = int(document.get("online", {}).get("max_records", 100))
        for phase, records in (("online, 1 record", 1), (f"online, {max_records} records", max_records)):
            recorder.phase = phase
            entities = [str(entity) for entity in columns["customer_id"][:records]]
            answer = _invoke(sandbox, "OnlineScoreFunction", _online_event(entities))
            if answer.get("statusCode") != 200:
                raise RuntimeError(
                    f"online scoring answered {answer.get('statusCode')}: {answer.get('body')}"
                )
        recorder.phase = "hourly tick"
        _invoke(
            sandbox,
            "DispatcherFunction",
            json.loads((PROJECT_ROOT / "events" / "dispatcher.json").read_text()),
        )
        # Its event names the scoring run just made (whose Map did not fail: the same calls,
        # ListMapRuns, DescribeMapRun, ListExecutions, finding nothing to name).
        recorder.phase = "a Map's event"
        event = json.loads((PROJECT_ROOT / "events" / "explain_map_failure.json").read_text())
        _invoke(sandbox, "ExplainMapFailureFunction", {**event, "execution": execution})
        declared = [logical_id for logical_id, _ in sandbox.resources("AWS::Serverless::Function")]
    functions = {}
    for logical_id in declared:
        runs = recorder.invocations.get(logical_id)
        if not runs:
            continue
        peak = max(run["peak_mb"] for run in runs)
        functions[logical_id] = {
            "peak_mb": peak,
            "needs_mb": math.ceil(peak * MARGIN),
            "import_mb": max(run["import_mb"] for run in runs),
            "interpreter_mb": max(run["interpreter_mb"] for run in runs),
            "invocations": runs,
        }
    return {
        "command": "make memory",
        "measured": datetime.now(UTC).strftime("%Y-%m-%d"),
        "host": (
            f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}"
        ),
        "method": (
            "each invocation in a fresh interpreter (modelops_dev.tools.memory_worker): RSS "
            "before the handler's import, after it, and the peak (VmHWM) at the invocation's end"
        ),
        "margin": MARGIN,
        "sizes": sizes,
        "seconds": seconds,
        "functions": functions,
        "not_measured": sorted(set(declared) - set(functions)),
    }


def memory_sizes(template: dict[str, Any]) -> dict[str, int]:
    """Each function's MemorySize in a template (read with ``sandbox.template.load``): its own,
    else the Globals'."""
    default = template.get("Globals", {}).get("Function", {}).get("MemorySize", 128)
    return {
        logical_id: int(resource.get("Properties", {}).get("MemorySize", default))
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def shortfalls(template: dict[str, Any], report: dict[str, Any]) -> list[str]:
    """What a template lacks against a memory report: each function whose MemorySize is below
    its measured peak times the report's margin, and each function the report has no figure
    for (a new function: measure it)."""
    margin = float(report["margin"])
    found = []
    for logical_id, size in memory_sizes(template).items():
        measured = report["functions"].get(logical_id)
        if measured is None:
            found.append(f"{logical_id}: no measured peak in the report (run `make memory`)")
            continue
        needs = math.ceil(float(measured["peak_mb"]) * margin)
        if size < needs:
            found.append(
                f"{logical_id}: MemorySize {size} MB < measured peak {measured['peak_mb']} MB "
                f"x {margin} = {needs} MB"
            )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--training-customers", type=int, default=250_000)
    parser.add_argument("--scoring-rows", type=int, default=100_000)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "memory.json")
    args = parser.parse_args(argv)
    report = measure(args.training_customers, args.scoring_rows, args.chunk_rows, args.port)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'function':<28} {'interpreter':>11} {'imported':>9} {'peak':>7} {'x margin':>9}  MB")
    for logical_id, figures in report["functions"].items():
        print(
            f"{logical_id:<28} {figures['interpreter_mb']:>11.0f} {figures['import_mb']:>9.0f} "
            f"{figures['peak_mb']:>7.0f} {figures['needs_mb']:>9}"
        )
    if report["not_measured"]:
        print(f"not invoked: {', '.join(report['not_measured'])}")
    print(f"wrote {args.out}")
    from modelops_dev.sandbox.template import load

    short = shortfalls(load(PROJECT_ROOT / "template.yaml"), report)
    for line in short:
        print(f"template.yaml: {line}")
    return 1 if short else 0


if __name__ == "__main__":
    raise SystemExit(main())
