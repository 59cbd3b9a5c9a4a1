"""What tests share: sample events, calling functions the way AWS does, running the state
machines, specs with changes, and reading what the system sent (alerts, queue messages)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import boto3
import yaml

from modelops_dev.client import runner
from modelops_dev.sandbox import PROJECT_ROOT, Sandbox

EVENTS = PROJECT_ROOT / "events"
CHURN_SPEC = PROJECT_ROOT / "models" / "churn.yaml"
HYMOD_SPEC = PROJECT_ROOT / "models" / "hymod.yaml"
# A real daily data set as it ships (spotpy, MIT, pinned in requirements/dev.txt): 2012-2016,
# a dd.mm.yyyy 'Date', 'rainfall[mm]', 'TURC [mm d-1]', 'Discharge[ls-1]' ('nan' in 2012).
HYMOD_DATA = Path(str(find_spec("spotpy").origin)).parent / "examples" / "hymod_python" / "hymod_input.csv"
HYMOD_LOAD = ("--date-column", "Date", "--date-format", "%d.%m.%Y")
TRAINING_AS_OF = "2025-08-01"
SCORING_AS_OF = "2025-09-01"


def event(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return document


KEPT_RESULTS = (
    "get_data",
    "transform_data",
    "collect_outcomes",
)  # as modelops_dev.tools.sample_events keeps them


def as_next_event(output: dict[str, Any]) -> dict[str, Any]:
    """A stage's output as the next stage's sample event holds it: results trimmed to what later
    stages read, and the run's start (a new one in every test) left out."""
    run = {k: v for k, v in output["run"].items() if k != "started_at"}
    return {
        **output,
        "run": run,
        "results": {k: v for k, v in output["results"].items() if k in KEPT_RESULTS},
    }


def asl_functions(flow: str) -> list[str]:
    """The functions a state machine invokes, in the order its states run (a Map's states in
    its place, a Choice's first branch), read from statemachines/<flow>.asl.json."""
    definition = json.loads((PROJECT_ROOT / "statemachines" / f"{flow}.asl.json").read_text())
    functions: list[str] = []

    def walk(machine: dict[str, Any]) -> None:
        name: str | None = machine["StartAt"]
        while name is not None:
            state = machine["States"][name]
            if state["Type"] == "Map":
                walk(state["ItemProcessor"])
            target = state.get("Parameters", {}).get("FunctionName", "")
            if target.startswith("${") and target.endswith("Arn}"):
                functions.append(target[2:-4])
            name = state.get("Next") or (state["Choices"][0]["Next"] if state["Type"] == "Choice" else None)

    walk(definition)
    return functions


def recompressed_copy(model: str, version: str, run_id: str) -> Any:
    """The version's model registered again from other bytes (recompressed: the same model) by
    another run: a second version to move the champion alias to."""
    import io

    import joblib

    from modelops.stores import registry

    record = registry.get_version(model, version)
    buffer = io.BytesIO()
    joblib.dump(registry.load_estimator(record), buffer, compress=3)
    fast = registry.verified_artifact(record, fast=True) if record.fast_sha256 else None
    return registry.publish(model, run_id, buffer.getvalue(), registry.verified_metadata(record), fast)


def without_start(document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "run": {k: v for k, v in document["run"].items() if k != "started_at"}}


def invoke(sandbox: Sandbox, logical_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Invoke a function through the Lambda API, as Step Functions does; a function error
    fails the test with its type and message."""
    body, error = invoke_raw(sandbox, logical_id, payload)
    if error:
        raise AssertionError(f"{logical_id} failed: {body['errorType']}: {body['errorMessage']}")
    return body


def invoke_raw(sandbox: Sandbox, logical_id: str, payload: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(response body, whether it is a function error) of a Lambda API invocation."""
    response = boto3.client("lambda").invoke(
        FunctionName=sandbox.ref(logical_id), Payload=json.dumps(payload).encode()
    )
    body: dict[str, Any] = json.loads(response["Payload"].read())
    return body, "FunctionError" in response


def run(
    sandbox: Sandbox, machine: str, as_of: str, model: str = "churn", **request: Any
) -> runner.ExecutionResult:
    """Start a state machine execution and wait for it to end."""
    arn = runner.start(sandbox.ref(machine), {"model": model, "as_of": as_of, **request})
    return runner.follow(arn, timeout=600)


def train(sandbox: Sandbox, as_of: str = TRAINING_AS_OF, **request: Any) -> runner.ExecutionResult:
    result = run(sandbox, "TrainingStateMachine", as_of, **request)
    assert result.status == "SUCCEEDED", f"{result.error}: {result.cause}"
    return result


def score(sandbox: Sandbox, as_of: str = SCORING_AS_OF, **request: Any) -> runner.ExecutionResult:
    result = run(sandbox, "ScoringStateMachine", as_of, **request)
    assert result.status == "SUCCEEDED", f"{result.error}: {result.cause}"
    return result


def churn_spec(**changes: Any) -> dict[str, Any]:
    """The churn spec as a document; top-level fields replaced, nested ones merged one level."""
    document: dict[str, Any] = yaml.safe_load(CHURN_SPEC.read_text())
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(document.get(key), dict):
            document[key] = {**document[key], **value}
        else:
            document[key] = value
    return document


def put_churn_spec(**changes: Any) -> None:
    """Store the churn spec with changes (see ``churn_spec``) where the stages read it."""
    from modelops.stores.specs import store_spec

    store_spec(yaml.safe_dump(churn_spec(**changes), sort_keys=False), source="test spec")


def pin_stored_spec(run_id: str, model: str = "churn") -> str:
    """Pin the model's stored spec for a run (as get_data does when the run starts); its sha256."""
    from modelops.stores import specs

    return specs.pin(run_id, specs.read(model)[1])


def write_spec(path: Path, **changes: Any) -> Path:
    path.write_text(yaml.safe_dump(churn_spec(**changes), sort_keys=False))
    return path


def alert_inbox(sandbox: Sandbox) -> str:
    """An SQS queue subscribed to the alert topic, to read what was published."""
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    url: str = sqs.create_queue(QueueName="alert-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=sandbox.ref("AlertTopic"), Protocol="sqs", Endpoint=arn)
    return url


def event_inbox() -> str:
    """An SQS queue behind an EventBridge rule for DriftDetected events."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url: str = sqs.create_queue(QueueName="drift-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="drift", EventPattern=json.dumps({"source": ["modelops"], "detail-type": ["DriftDetected"]})
    )
    events.put_targets(Rule="drift", Targets=[{"Id": "inbox", "Arn": arn}])
    return url


def drain(queue_url: str) -> list[dict[str, Any]]:
    """Every message body waiting in a queue (JSON), removing them."""
    sqs, bodies = boto3.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def latest_items(sandbox: Sandbox, publication: str, model: str = "churn") -> list[dict[str, Any]]:
    """Every row a publication wrote to the latest-scores table (a scan: tests only)."""
    return publication_items(sandbox, "ScoresTable", publication, model)


def publication_items(
    sandbox: Sandbox, table: str, publication: str, model: str = "churn"
) -> list[dict[str, Any]]:
    """Every item of a table written under a publication (``<model>#<publication>#…``)."""
    from boto3.dynamodb.conditions import Attr

    resource = boto3.resource("dynamodb").Table(sandbox.ref(table))
    kwargs: dict[str, Any] = {"FilterExpression": Attr("pk").begins_with(f"{model}#{publication}#")}
    items: list[dict[str, Any]] = []
    while True:
        page = resource.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@contextmanager
def s3_writes_fail(key_prefix: str, code: str, times: int) -> Iterator[list[str]]:
    """The sandbox's S3 refuses the next ``times`` writes under ``key_prefix`` with ``code`` (a
    fault injected in moto's backend, behind the same API the code calls); yields the keys it
    refused."""
    from unittest import mock

    from moto.s3.exceptions import S3ClientError
    from moto.s3.models import S3Backend

    original = S3Backend.put_object
    refused: list[str] = []

    def put_object(backend: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
        if key_name.startswith(key_prefix) and len(refused) < times:
            refused.append(key_name)
            raise S3ClientError(code, f"injected fault on {key_name}")
        return original(backend, bucket_name, key_name, *args, **kwargs)

    with mock.patch.object(S3Backend, "put_object", put_object):
        yield refused


def task_failures(result: runner.ExecutionResult) -> list[str]:
    """The error names of the failed task attempts of an execution, in order."""
    return [e["taskFailedEventDetails"]["error"] for e in result.history if e["type"] == "TaskFailed"]


def load_hymod(table: str = "hymod") -> Any:
    """The hymod file as it ships into the lake, by month (returns the load's summary)."""
    from modelops.stores import lake

    options = lake.LoadOptions(date_column="Date", date_format="%d.%m.%Y")
    return lake.load_file(table, HYMOD_DATA, options)


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli_environment() -> dict[str, str]:
    """This process's environment less the embedded sandbox's AWS settings (for the CLI in
    another process, talking to a served sandbox)."""
    import os

    from modelops_dev.sandbox import QUIET

    return {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **QUIET}


# The command modules that point their process at a served sandbox (cli.common.connect).
CONNECTING = ("data", "models", "runs", "scores", "serve", "spec")


def cli_here(sandbox: Sandbox, *argv: str) -> subprocess.CompletedProcess[str]:
    """`modelops ARGV` run in this process against this worker's embedded sandbox instead of a
    served one (the commands' connect answers it; the environment is the embedded sandbox's
    already): what it printed to stdout and stderr, and its exit status. The command's own code
    runs as it does in a process of its own; tests/integration/test_served_sandbox.py keeps the
    path through a served sandbox in another process."""
    import io
    from contextlib import ExitStack, redirect_stderr, redirect_stdout
    from unittest import mock

    from modelops_dev.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with ExitStack() as stack:
        for name in CONNECTING:
            stack.enter_context(mock.patch(f"modelops_dev.cli.{name}.connect", lambda endpoint: sandbox))
        stack.enter_context(redirect_stdout(out))
        stack.enter_context(redirect_stderr(err))
        code = main(list(argv))
    return subprocess.CompletedProcess(list(argv), code, out.getvalue(), err.getvalue())


# The conftest fixture ``cli``: ``cli(endpoint, *args)`` runs one `modelops` command against a
# served sandbox, in a process of its own (forked from one that imported the CLI once).
Cli = Callable[..., subprocess.CompletedProcess[str]]
