"""`make fuzz`: a bounded schema-driven fuzz run of the online API against its own OpenAPI
document (schemathesis), served over HTTP by the local gateway (`modelops serve`) on an
embedded sandbox holding a trained and scored model.

Passes when schemathesis reports no failure of the checks below, the gateway answered no
request with a 5xx, and the online function's role allowed every AWS call it made.
`positive_data_acceptance` is left out: the document describes the API, not one model, so a
schema-valid body can still name a feature the model does not have (a 422 by design;
GET /models/{model} gives the model's own feature schema).
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from modelops_dev.client import gateway, runner
from modelops_dev.demo import synthetic
from modelops_dev.sandbox import PROJECT_ROOT, QUIET, embedded

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "unsupported_method",
    "allow_header_conformance",
    "missing_required_header",
)
# Every refusal of a schema-violating request is one of the API's documented 4xx (413: more
# records than the request model allows, as for more than the spec's own limit).
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "404", "405", "413", "415", "422"]
"""
# A full training window (8 months up to August) and enough customers for a first model the
# promotion gate accepts; September is scored, so every route has data to answer with.
LAKE = synthetic.DemoConfig(customers=2000, months=9)
TRAINING_AS_OF, SCORING_AS_OF = "2025-08-01", "2025-09-01"


def _run(machine_arn: str, as_of: str) -> None:
    result = runner.follow(runner.start(machine_arn, {"model": "churn", "as_of": as_of}), timeout=600)
    if result.status != "SUCCEEDED":
        raise SystemExit(f"{machine_arn}: {result.status}: {result.error}: {result.cause}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="modelops-fuzz", description=__doc__)
    parser.add_argument("--examples", type=int, default=200, help="test cases per API operation")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--report-dir", type=Path, default=PROJECT_ROOT / "out" / "fuzz")
    args = parser.parse_args(argv)

    statuses: collections.Counter[int] = collections.Counter()
    with embedded(environment=QUIET, enforce_roles=True) as sandbox:
        runner.put_spec(PROJECT_ROOT / "models" / "churn.yaml")
        synthetic.load_demo_data(LAKE)
        _run(sandbox.ref("TrainingStateMachine"), TRAINING_AS_OF)
        _run(sandbox.ref("ScoringStateMachine"), SCORING_AS_OF)
        ready = threading.Event()
        urls: list[str] = []

        def served(url: str) -> None:
            urls.append(url)
            ready.set()

        threading.Thread(
            target=gateway.serve,
            args=(sandbox, 0, served),
            kwargs={"on_response": lambda status: statuses.update([status])},
            daemon=True,
        ).start()
        ready.wait(30)
        args.report_dir.mkdir(parents=True, exist_ok=True)
        config = args.report_dir / "schemathesis.toml"
        config.write_text(CONFIG)
        command = [
            str(Path(sys.executable).with_name("st")),
            "--config-file",
            str(config),
            "run",
            f"{urls[0]}/openapi.json",
            "--checks",
            ",".join(CHECKS),
            "--max-examples",
            str(args.examples),
            "--seed",
            str(args.seed),
            "--phases",
            "examples,coverage,fuzzing",
            "--workers",
            "1",
            "--continue-on-failure",
            "--report",
            "junit",
            "--report-dir",
            str(args.report_dir),
        ]
        print("$", " ".join(command), flush=True)
        done = subprocess.run(command, check=False)  # noqa: S603 - our own schemathesis, our own URL
        assert sandbox.iam is not None
        denied = sandbox.iam.denied()
        online_calls = sum(1 for c in sandbox.iam.calls if c.principal == "OnlineScoreFunction")
    errors = sum(count for status, count in statuses.items() if status >= 500)
    summary = ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
    print(f"gateway answered {sum(statuses.values())} requests ({summary}); 5xx: {errors}")
    print(f"schemathesis exit code {done.returncode} (0: no check failed)")
    checked = len(sandbox.iam.calls)
    print(f"roles: {checked} AWS calls checked ({online_calls} by the online function), {len(denied)} denied")
    for call in denied[:10]:
        print(f"  DENIED {call}")
    return 0 if done.returncode == 0 and errors == 0 and not denied else 1


if __name__ == "__main__":
    sys.exit(main())
