"""The embedded AWS sandbox (docs/architecture.md, "The sandbox").

moto plays AWS. Every bucket, table, topic, function and state machine is created from
template.yaml itself (moto's CloudFormation applies no SAM transform), with
DefinitionSubstitutions resolved, and moto's Step Functions engine runs the real ASL files.
moto's docker-less Lambda only echoes, so ``invoke`` is replaced: the function's CodeUri +
Handler from the template is imported by file path and called in-process; an exception
becomes a Lambda error whose errorType Step Functions' Retry/Catch can match.

Where moto lacks a service's behaviour the sandbox emulates it behind the same API calls:
Athena queries run on DuckDB over the same S3 objects (``athena``).

Two ways to run it: ``embedded()`` in this process (tests, demo), or ``serve()`` as a local
server on 127.0.0.1 that the CLI, other processes and the ``aws`` CLI can use.
"""

from __future__ import annotations

import copy
import importlib.util
import io
import json
import logging
import os
import socket
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from unittest import mock

import boto3

from modelops_dev.sandbox import athena, hooks, iam
from modelops_dev.sandbox.template import Resolver, load

if TYPE_CHECKING:
    from moto.core.config import DefaultConfig

PROJECT_ROOT = Path(__file__).resolve().parents[3]
REGION = "us-east-1"
ACCOUNT = "123456789012"
PREFIX = "modelops-local"
DEFAULT_PORT = 4566
MOTO_CONFIG: DefaultConfig = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}
# For demos, tests and benchmarks: warnings only, no metric lines on stdout.
QUIET = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
_ROLE = f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-role"


@dataclass(frozen=True)
class LocalFunction:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    timeout: int
    memory: int


@dataclass(frozen=True)
class LambdaContext:
    """What a Lambda handler gets as ``context``."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    deadline: float
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class Sandbox:
    """The resources of template.yaml, named deterministically, in moto."""

    def __init__(self, root: Path = PROJECT_ROOT, parameters: dict[str, str] | None = None) -> None:
        self.root = root
        self.template = load(root / "template.yaml")
        declared = self.template.get("Parameters", {})
        values = {name: str(p.get("Default", "")) for name, p in declared.items()}
        values.update(parameters or {})
        self.resolver = Resolver(values, REGION, ACCOUNT)
        self.functions: dict[str, LocalFunction] = {}
        self.environment: dict[str, str] = {}
        self._modules: dict[str, ModuleType] = {}
        self._import_lock = threading.Lock()
        self._clients: dict[str, Any] = {}
        self.iam: iam.Authorizer | None = None  # set when roles are enforced (embedded(enforce_roles=True))
        # moto runs a Map's children as threads of this one process: a cap (e.g. the cores)
        # keeps each child's wall time close to its own work, as in its own Lambda.
        self.map_concurrency: int | None = None
        # Whether any AWS call other than a read was made since the last reset or restore
        # (tracked only in this process: embedded(), not served()), and the snapshot that
        # reset (_EMPTY) or restore put in place.
        self.changed = True
        self._tracking = False
        self._holds: Snapshot | None = None
        self._plan()

    # ------------------------------------------------------------------ naming
    def ref(self, logical_id: str) -> str:
        return self.resolver.refs[logical_id]

    def _resources(self, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.template["Resources"].items():
            if resource["Type"] in types:
                yield logical_id, resource

    def _plan(self) -> None:
        """Physical names and ARNs of every resource, without creating anything."""
        refs, attributes = self.resolver.refs, self.resolver.attributes
        arn = f"{REGION}:{ACCOUNT}"
        for logical_id, _ in self._resources("AWS::S3::Bucket"):
            name = f"{PREFIX}-{logical_id.lower()}"
            refs[logical_id] = name
            attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"
        for logical_id, _ in self._resources("AWS::DynamoDB::Table"):
            refs[logical_id] = f"{PREFIX}-{logical_id}"
            attributes[(logical_id, "Arn")] = f"arn:aws:dynamodb:{arn}:table/{PREFIX}-{logical_id}"
        for logical_id, _ in self._resources("AWS::SNS::Topic"):
            refs[logical_id] = f"arn:aws:sns:{arn}:{PREFIX}-{logical_id}"
            attributes[(logical_id, "TopicName")] = f"{PREFIX}-{logical_id}"
        for logical_id, resource in self._resources("AWS::SQS::Queue"):
            fifo = resource.get("Properties", {}).get("FifoQueue", False)
            name = f"{PREFIX}-{logical_id}" + (".fifo" if fifo else "")
            refs[logical_id] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
            attributes[(logical_id, "Arn")] = f"arn:aws:sqs:{arn}:{name}"
            attributes[(logical_id, "QueueName")] = name
        for logical_id, _ in self._resources("AWS::Serverless::LayerVersion"):
            refs[logical_id] = f"arn:aws:lambda:{arn}:layer:{PREFIX}-{logical_id}:1"
        for logical_id, _ in self._resources("AWS::Serverless::Function"):
            refs[logical_id] = f"{PREFIX}-{logical_id}"
            attributes[(logical_id, "Arn")] = f"arn:aws:lambda:{arn}:function:{PREFIX}-{logical_id}"
        for logical_id, resource in self._resources("AWS::Glue::Database"):
            refs[logical_id] = self.resolver.resolve(resource["Properties"]["DatabaseInput"]["Name"])
        for logical_id, resource in self._resources("AWS::Athena::WorkGroup"):
            refs[logical_id] = self.resolver.resolve(resource["Properties"]["Name"])
        for logical_id, resource in self._resources("AWS::Glue::Table"):
            refs[logical_id] = self.resolver.resolve(resource["Properties"]["TableInput"]["Name"])
        for logical_id, _ in self._resources("AWS::Serverless::Api", "AWS::ApiGateway::Account"):
            refs[logical_id] = "local"  # served by `modelops serve`, not created in moto
        for logical_id, resource in self._resources("AWS::Logs::LogGroup"):
            name = self.resolver.resolve(resource["Properties"]["LogGroupName"])
            refs[logical_id] = name
            attributes[(logical_id, "Arn")] = f"arn:aws:logs:{arn}:log-group:{name}:*"
        for logical_id, _ in self._resources("AWS::IAM::Role"):
            refs[logical_id] = f"{PREFIX}-{logical_id}"
            attributes[(logical_id, "Arn")] = f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-{logical_id}"
        for logical_id, resource in self._resources("AWS::Serverless::StateMachine"):
            name = self.resolver.resolve(resource["Properties"].get("Name", f"{PREFIX}-{logical_id}"))
            refs[logical_id] = f"arn:aws:states:{arn}:stateMachine:{name}"
            attributes[(logical_id, "Name")] = name
        globals_ = self.template.get("Globals", {}).get("Function", {})
        environment = self.resolver.resolve(globals_.get("Environment", {}).get("Variables", {}))
        for logical_id, resource in self._resources("AWS::Serverless::Function"):
            properties = {**globals_, **resource["Properties"]}
            own = self.resolver.resolve(resource["Properties"].get("Environment", {}).get("Variables", {}))
            for key, value in own.items():
                if environment.get(key, value) != value:
                    raise ValueError(
                        f"{logical_id}: {key} differs between functions, "
                        "but in-process runs share one environment"
                    )
            environment.update(own)
            self.functions[refs[logical_id]] = LocalFunction(
                logical_id=logical_id,
                name=refs[logical_id],
                arn=attributes[(logical_id, "Arn")],
                code_dir=self.root / properties["CodeUri"],
                handler=properties["Handler"],
                timeout=int(properties.get("Timeout", 3)),
                memory=int(properties.get("MemorySize", 128)),
            )
        self.environment = {key: str(value) for key, value in environment.items()}

    def authorizer(self) -> iam.Authorizer:
        """The template's roles, resolved to this sandbox's names, ready to check calls."""
        machines = {
            self.ref(logical_id): logical_id
            for logical_id, _ in self._resources("AWS::Serverless::StateMachine")
        }
        return iam.Authorizer(
            iam.Roles.from_template(self.root, self.resolver), REGION, ACCOUNT, machines, _object_exists
        )

    # ------------------------------------------------------------------ creation
    def _client(self, service: str) -> Any:
        """The sandbox's own client of a service, kept across resets (making one takes longer
        than most of the calls a provision makes with it)."""
        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=REGION)
        return self._clients[service]

    def provision(self) -> None:
        """Create every resource of the template in the (mocked or served) AWS."""
        self._client("iam").create_role(RoleName=f"{PREFIX}-role", AssumeRolePolicyDocument="{}")
        for logical_id, resource in self._resources("AWS::S3::Bucket"):
            s3 = self._client("s3")
            s3.create_bucket(Bucket=self.ref(logical_id))
            properties = resource.get("Properties", {})
            if "VersioningConfiguration" in properties:
                s3.put_bucket_versioning(
                    Bucket=self.ref(logical_id), VersioningConfiguration=properties["VersioningConfiguration"]
                )
        for _, resource in self._resources("AWS::S3::BucketPolicy"):
            properties = self.resolver.resolve(resource["Properties"])
            # moto enforces bucket policies but ignores their conditions, so a conditional
            # Deny (such as insecure transport only) would refuse every request: those are left
            # to iam.py, which evaluates conditions, for the template's principals.
            document = properties["PolicyDocument"]
            statements = [
                s for s in document["Statement"] if not (s["Effect"] == "Deny" and "Condition" in s)
            ]
            document = {**document, "Statement": statements}
            self._client("s3").put_bucket_policy(Bucket=properties["Bucket"], Policy=json.dumps(document))
        for logical_id, resource in self._resources("AWS::S3::Bucket"):
            # Configured as declared (after every bucket and its policy exist); moto delivers no
            # access logs.
            logging_configuration = self.resolver.resolve(
                resource.get("Properties", {}).get("LoggingConfiguration")
            )
            if logging_configuration:
                self._client("s3").put_bucket_logging(
                    Bucket=self.ref(logical_id),
                    BucketLoggingStatus={
                        "LoggingEnabled": {
                            "TargetBucket": logging_configuration["DestinationBucketName"],
                            "TargetPrefix": logging_configuration.get("LogFilePrefix", ""),
                        }
                    },
                )
        logs = self._client("logs")
        for logical_id, resource in self._resources("AWS::Logs::LogGroup"):
            properties = self.resolver.resolve(resource["Properties"])
            logs.create_log_group(logGroupName=self.ref(logical_id))
            if "RetentionInDays" in properties:
                logs.put_retention_policy(
                    logGroupName=self.ref(logical_id), retentionInDays=int(properties["RetentionInDays"])
                )
        for logical_id, resource in self._resources("AWS::IAM::Role"):
            properties = self.resolver.resolve(resource["Properties"])
            iam_client = self._client("iam")
            iam_client.create_role(
                RoleName=self.ref(logical_id),
                AssumeRolePolicyDocument=json.dumps(properties["AssumeRolePolicyDocument"]),
            )
            # Its AWS managed policies are not attached: moto does not load them (and nothing
            # here assumes the role); iam.py checks what the template's roles allow.
        # AWS::ApiGateway::Account (API Gateway's account-wide log role) is not created: API
        # Gateway is played by `modelops serve`, which has no logs to deliver.
        for logical_id, resource in self._resources("AWS::DynamoDB::Table"):
            properties = self.resolver.resolve(resource["Properties"])
            table: dict[str, Any] = {
                "TableName": self.ref(logical_id),
                "AttributeDefinitions": properties["AttributeDefinitions"],
                "KeySchema": properties["KeySchema"],
                "BillingMode": properties.get("BillingMode", "PAY_PER_REQUEST"),
            }
            for option in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification"):
                if option in properties:
                    table[option] = properties[option]
            dynamodb = self._client("dynamodb")
            dynamodb.create_table(**table)
            if "TimeToLiveSpecification" in properties:
                dynamodb.update_time_to_live(
                    TableName=self.ref(logical_id),
                    TimeToLiveSpecification=properties["TimeToLiveSpecification"],
                )
        for logical_id, _ in self._resources("AWS::SNS::Topic"):
            name = self.resolver.attributes[(logical_id, "TopicName")]
            self._client("sns").create_topic(Name=name)
        for logical_id, resource in self._resources("AWS::SQS::Queue"):
            properties = self.resolver.resolve(resource.get("Properties", {}))
            attributes = {
                key: str(value).lower() if isinstance(value, bool) else str(value)
                for key, value in properties.items()
                if key
                in ("FifoQueue", "ContentBasedDeduplication", "VisibilityTimeout", "MessageRetentionPeriod")
            }
            name = self.resolver.attributes[(logical_id, "QueueName")]
            self._client("sqs").create_queue(QueueName=name, Attributes=attributes)
        glue = self._client("glue")
        for _, resource in self._resources("AWS::Glue::Database"):
            glue.create_database(DatabaseInput=self.resolver.resolve(resource["Properties"]["DatabaseInput"]))
        for _, resource in self._resources("AWS::Glue::Table"):
            properties = self.resolver.resolve(resource["Properties"])
            glue.create_table(DatabaseName=properties["DatabaseName"], TableInput=properties["TableInput"])
        athena = self._client("athena")
        for _, resource in self._resources("AWS::Athena::WorkGroup"):
            properties = self.resolver.resolve(resource["Properties"])
            configuration = properties.get("WorkGroupConfiguration", {})
            athena.create_work_group(
                Name=properties["Name"],
                Configuration={"ResultConfiguration": configuration.get("ResultConfiguration", {})},
            )
        cloudwatch = self._client("cloudwatch")
        for _, resource in self._resources("AWS::CloudWatch::Dashboard"):
            properties = self.resolver.resolve(resource["Properties"])
            cloudwatch.put_dashboard(
                DashboardName=properties["DashboardName"], DashboardBody=properties["DashboardBody"]
            )
        awslambda = self._client("lambda")
        for function in self.functions.values():
            awslambda.create_function(
                FunctionName=function.name,
                Runtime="python3.12",
                Role=_ROLE,
                Handler=function.handler,
                Code={"ZipFile": _placeholder_zip()},
                Timeout=function.timeout,
                MemorySize=function.memory,
                Environment={"Variables": self.environment},
            )
        for logical_id, resource in self._resources("AWS::Serverless::StateMachine"):
            self._create_state_machine(logical_id, resource["Properties"])
        for logical_id, resource in self._resources(
            "AWS::Serverless::StateMachine", "AWS::Serverless::Function"
        ):
            self._create_schedules(logical_id, resource["Properties"])

    def definition(self, logical_id: str) -> str:
        """The state machine's ASL with DefinitionSubstitutions resolved, as deployed."""
        properties = self.template["Resources"][logical_id]["Properties"]
        text: str = (self.root / properties["DefinitionUri"]).read_text()
        for key, value in self.resolver.resolve(properties.get("DefinitionSubstitutions", {})).items():
            text = text.replace("${" + key + "}", str(value))
        if self.map_concurrency is None:
            return text
        document = json.loads(text)
        for state in document["States"].values():
            if state["Type"] == "Map":
                declared = state.get("MaxConcurrency") or self.map_concurrency
                state["MaxConcurrency"] = min(declared, self.map_concurrency)
        return json.dumps(document)

    def _create_state_machine(self, logical_id: str, properties: dict[str, Any]) -> None:
        name = self.resolver.attributes[(logical_id, "Name")]
        self._client("stepfunctions").create_state_machine(
            name=name,
            definition=self.definition(logical_id),
            roleArn=_ROLE,
            type=properties.get("Type", "STANDARD"),
        )

    def _create_schedules(self, logical_id: str, properties: dict[str, Any]) -> None:
        """The resource's ScheduleV2 events as Scheduler schedules (moto keeps them; it does
        not fire them: tests send the target the input a schedule would, see ``schedule_input``)."""
        scheduler = self._client("scheduler")
        events = self._client("events")
        # A function's schedule targets its ARN; a state machine's Ref is already its ARN.
        arn = self.resolver.attributes.get((logical_id, "Arn"), self.ref(logical_id))
        for event_id, event in properties.get("Events", {}).items():
            if event["Type"] == "EventBridgeRule":
                rule = self.resolver.resolve(event["Properties"])
                events.put_rule(Name=f"{logical_id}{event_id}", EventPattern=json.dumps(rule["Pattern"]))
                target: dict[str, Any] = {"Id": logical_id, "Arn": arn, "RoleArn": _ROLE}
                if "InputTransformer" in rule:
                    target["InputTransformer"] = rule["InputTransformer"]
                events.put_targets(Rule=f"{logical_id}{event_id}", Targets=[target])
                continue
            if event["Type"] != "ScheduleV2":
                continue
            schedule = self.resolver.resolve(event["Properties"])
            scheduler.create_schedule(
                Name=f"{logical_id}{event_id}",
                ScheduleExpression=schedule["ScheduleExpression"],
                ScheduleExpressionTimezone=schedule.get("ScheduleExpressionTimezone", "UTC"),
                FlexibleTimeWindow={"Mode": "OFF"},
                Target={"Arn": arn, "RoleArn": _ROLE, "Input": schedule.get("Input", "{}")},
            )

    def fire_schedule(self, name: str, scheduled_time: str) -> dict[str, Any]:
        """Do what EventBridge Scheduler does when schedule ``name`` fires: send its target its
        input (the scheduled time filled in) as the schedule's role: start a state machine's
        execution ({"executionArn": ...}) or invoke a function ({"payload": its result}).
        moto stores schedules but never fires them."""
        target, event = self.schedule_input(name, scheduled_time)
        with iam.acting_as(name):
            if target.startswith("arn:aws:states:"):
                started = boto3.client("stepfunctions", region_name=REGION).start_execution(
                    stateMachineArn=target, input=json.dumps(event)
                )
                return {"executionArn": started["executionArn"]}
            if target.startswith("arn:aws:lambda:"):
                response = boto3.client("lambda", region_name=REGION).invoke(
                    FunctionName=target, Payload=json.dumps(event).encode()
                )
                payload = json.loads(response["Payload"].read())
                if "FunctionError" in response:
                    raise RuntimeError(
                        f"schedule {name}: {payload.get('errorType')}: {payload.get('errorMessage')}"
                    )
                return {"payload": payload}
        raise NotImplementedError(f"schedule {name}: only state machine and function targets are emulated")

    # ------------------------------------------------------------------ invocation
    def function(self, logical_id: str) -> LocalFunction:
        return self.functions[self.ref(logical_id)]

    def handler(self, logical_id: str) -> Callable[[Any, Any], Any]:
        """The handler of a template function, imported from its CodeUri by file path."""
        return self._handler(self.function(logical_id))

    def context(self, logical_id: str) -> LambdaContext:
        """A Lambda context for one invocation of the function."""
        function = self.function(logical_id)
        return LambdaContext(
            function_name=function.name,
            invoked_function_arn=function.arn,
            memory_limit_in_mb=function.memory,
            aws_request_id=str(uuid.uuid4()),
            deadline=time.monotonic() + function.timeout,
        )

    def call(self, logical_id: str, event: Any) -> Any:
        """Call a function's handler directly (no Lambda API in between); exceptions propagate."""
        with iam.acting_as(logical_id):
            return self.handler(logical_id)(event, self.context(logical_id))

    def _handler(self, function: LocalFunction) -> Callable[[Any, Any], Any]:
        module_file, attribute = function.handler.rsplit(".", 1)
        with self._import_lock:
            module = self._modules.get(function.name)
            if module is None:
                path = function.code_dir / f"{module_file}.py"
                spec = importlib.util.spec_from_file_location(f"modelops_fn_{function.logical_id}", path)
                assert spec is not None and spec.loader is not None
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                self._modules[function.name] = module
        handler: Callable[[Any, Any], Any] = getattr(module, attribute)
        return handler

    def schedule_input(self, name: str, scheduled_time: str) -> tuple[str, dict[str, Any]]:
        """(target ARN, event) that the Scheduler would send when schedule ``name`` fires at
        ``scheduled_time`` (its ``<aws.scheduler.scheduled-time>`` placeholder filled in)."""
        schedule = boto3.client("scheduler", region_name=REGION).get_schedule(Name=name)
        text = schedule["Target"]["Input"].replace("<aws.scheduler.scheduled-time>", scheduled_time)
        event: dict[str, Any] = json.loads(text)
        return schedule["Target"]["Arn"], event

    def invoke(self, function_name: str, body: str | bytes | None, response_headers: dict[str, str]) -> bytes:
        """Run a function's handler here and now, the way Lambda would answer."""
        name = function_name.rsplit(":", 1)[-1] if function_name.startswith("arn:") else function_name
        function = self.functions[name]
        event = json.loads(body) if body else {}
        try:
            with iam.acting_as(function.logical_id):
                result = self._handler(function)(event, self.context(function.logical_id))
        except Exception as error:  # noqa: BLE001 - every failure becomes a Lambda error
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(
                {
                    "errorType": type(error).__name__,
                    "errorMessage": str(error),
                    "stackTrace": traceback.format_exception(error),
                }
            ).encode()
        return json.dumps(result).encode()

    @contextmanager
    def _lambda_patched(self) -> Iterator[None]:
        from moto.awslambda_simple.models import LambdaSimpleBackend

        sandbox = self

        def invoke(
            backend: Any,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: dict[str, str],
        ) -> bytes:
            return sandbox.invoke(function_name, body, response_headers)

        with mock.patch.object(LambdaSimpleBackend, "invoke", invoke):
            yield

    @contextmanager
    def _events_routed(self) -> Iterator[None]:
        """moto's EventBridge delivers to logs, queues and buses but not to state machines: a
        matching rule's state machine target is started here, with the rule's input
        transformer applied, as EventBridge would (as the rule's role)."""
        from moto.events.models import Rule
        from moto.events.utils import EventTemplateParser

        original = Rule.send_to_targets

        def send_to_targets(rule: Any, event: Any, transform_input: bool = True) -> None:
            machines = [t for t in rule.targets if str(t["Arn"]).startswith("arn:aws:states:")]
            if machines and rule.event_pattern.matches_event(event):
                client = boto3.client("stepfunctions", region_name=REGION)
                for target in machines:
                    transformer = target.get("InputTransformer", {})
                    payload = EventTemplateParser.parse(
                        input_template=transformer.get("InputTemplate"),
                        input_paths_map=transformer.get("InputPathsMap", {}),
                        event=event,
                    )
                    with iam.acting_as(rule.name):
                        client.start_execution(stateMachineArn=target["Arn"], input=json.dumps(payload))
            others = [t for t in rule.targets if t not in machines]
            if others:
                kept, rule.targets = rule.targets, others
                try:
                    original(rule, event, transform_input)
                finally:
                    rule.targets = kept

        with mock.patch.object(Rule, "send_to_targets", send_to_targets):
            yield

    @staticmethod
    @contextmanager
    def _map_failures_as_on_aws() -> Iterator[None]:
        """moto's Distributed Map counts a failed child and goes on; AWS fails the Map run
        once failures exceed its tolerated count or percentage (0 unless the ASL says), with
        States.ExceedToleratedFailureThreshold, which the Map's Catch sees. moto's Fail state
        also refuses to rethrow a caught ``States.*`` error through its ErrorPath (the ASL
        reserves the prefix for names a definition declares, not for errors passed on)."""
        from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
        from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
        from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
            FailureEvent,
            FailureEventException,
        )
        from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
            StatesErrorName,
        )
        from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
            StatesErrorNameType,
        )
        from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (  # noqa: E501
            DistributedIterationComponent,
        )
        from moto.stepfunctions.parser.asl.component.state.fail import state_fail
        from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

        original = DistributedIterationComponent._map_run

        def map_run(component: Any, env: Any, eval_input: Any) -> None:
            original(component, env, eval_input)
            record = eval_input.map_run_record
            counted = record.item_counter
            failed = counted.failed.get() + counted.timed_out.get() + counted.aborted.get()
            total = max(counted.total.get(), 1)
            if failed > (record.tolerated_failure_count or 0) and (
                100.0 * failed / total > (record.tolerated_failure_percentage or 0.0)
            ):
                error = StatesErrorNameType.StatesExceedToleratedFailureThreshold.to_name()
                cause = f"{failed} of {total} items failed: the Map tolerates none"
                raise FailureEventException(
                    FailureEvent(
                        env=env,
                        error_name=StatesErrorName(StatesErrorNameType.StatesExceedToleratedFailureThreshold),
                        event_type=HistoryEventType.ExecutionFailed,
                        event_details=EventDetails(  # type: ignore[typeddict-item]  # one key, as moto's own
                            executionFailedEventDetails=ExecutionFailedEventDetails(error=error, cause=cause)
                        ),
                    )
                )

        with (
            mock.patch.object(DistributedIterationComponent, "_map_run", map_run),
            mock.patch.object(state_fail, "CustomErrorName", ErrorName),
        ):
            yield

    def _apply_environment(self, stack: ExitStack, overrides: dict[str, str]) -> None:
        stack.enter_context(mock.patch.dict(os.environ, {**self.environment, **overrides}))
        # A new sandbox is a cold start: no settings or models cached from an earlier one.
        from modelops import caches

        caches.clear_all()
        stack.callback(caches.clear_all)

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        """Forget everything stored (every service's state) and create the template's
        resources again: a fresh, empty sandbox in the same process."""
        from moto.moto_api import _internal

        from modelops import caches

        _internal.models.moto_api_backend.reset()
        caches.clear_all()
        self.provision()
        self.changed, self._holds = False, _EMPTY

    def snapshot(self) -> Snapshot:
        """Every object of every bucket (its latest version) and every item of every table.
        Read from moto's stores, not through the AWS API: serialising a scan page by page made
        a snapshot cost as much as the pipeline run that built the state. Items are copied:
        moto keeps a set's list as it was given, and an ADD changes it in place."""
        s3, dynamodb = _data_backends()
        objects = {
            bucket: {key: kept.value for key, kept in s3.get_bucket(bucket).keys.items() if _is_object(kept)}
            for bucket in self._names("AWS::S3::Bucket")
        }
        items = {
            table: [
                copy.deepcopy(item.to_json()["Attributes"]) for item in dynamodb.get_table(table).all_items()
            ]
            for table in self._names("AWS::DynamoDB::Table")
        }
        return Snapshot(objects, items)

    def restore(self, snapshot: Snapshot) -> None:
        """A fresh sandbox holding exactly what ``snapshot`` holds. Where changes are tracked
        (in this process, by an embedded sandbox) and only reads were made since the last
        reset or restore, nothing is redone that is already in place: a restore of the
        snapshot last restored only drops the library's caches (tests that read share one
        restored state), and one right after a reset does not reset again."""
        from modelops import caches

        unchanged = self._tracking and not self.changed
        if unchanged and self._holds is snapshot:
            caches.clear_all()
            return
        if unchanged and self._holds is _EMPTY:
            caches.clear_all()  # as the reset it skips would
        else:
            self.reset()
        s3, dynamodb = _data_backends()
        for bucket, objects in snapshot.objects.items():
            for key, body in objects.items():
                s3.put_object(bucket, key, body)
        for table, items in snapshot.items.items():
            for item in items:
                dynamodb.put_item(table, copy.deepcopy(item))  # the snapshot stays as it was
        self.changed, self._holds = False, snapshot

    def _names(self, resource_type: str) -> list[str]:
        return [self.ref(logical_id) for logical_id, _ in self._resources(resource_type)]

    @contextmanager
    def _changes_tracked(self) -> Iterator[None]:
        """Set ``changed`` on every AWS call but a read (by operation name: Get, List, Describe,
        Head, Query, Scan, BatchGet), made by any client of this process."""

        def before_call(model: Any, **_: Any) -> None:
            if not model.name.startswith(_READ_OPERATIONS):
                self.changed = True

        with hooks.every_client_hooked("before-call", before_call, "modelops-changes"):
            self._tracking = True
            try:
                yield
            finally:
                self._tracking = False


_READ_OPERATIONS = ("Get", "List", "Describe", "Head", "Query", "Scan", "BatchGet")


@dataclass(frozen=True)
class Snapshot:
    """The stored state of a sandbox: bucket -> key -> bytes, table -> items (as moto's
    DynamoDB holds them: attribute -> {type: value}, binary values as bytes)."""

    objects: dict[str, dict[str, bytes]]
    items: dict[str, list[dict[str, Any]]]


_EMPTY = Snapshot({}, {})  # what a sandbox holds right after a reset


def _data_backends() -> tuple[Any, Any]:
    """moto's S3 and DynamoDB stores of the sandbox's account and region."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.s3.models import s3_backends

    return s3_backends[ACCOUNT]["aws"], dynamodb_backends[ACCOUNT][REGION]


def _is_object(found: Any) -> bool:
    """A stored object's latest version, not a delete marker."""
    from moto.s3.models import FakeKey

    return isinstance(found, FakeKey)


def _object_exists(bucket: str, key: str) -> bool:
    """Whether moto holds the object (read from its backend: no AWS call, nothing recorded)."""
    try:
        found = _data_backends()[0].get_bucket(bucket).keys.get(key)
    except Exception:  # noqa: BLE001 - no such bucket: the object does not exist either
        return False
    return _is_object(found)


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "# runs in-process from the project tree\n")
    return buffer.getvalue()


def _quiet_engine() -> None:
    for name in ("moto.stepfunctions.parser", "moto", "werkzeug", "botocore", "aws_lambda_powertools"):
        logging.getLogger(name).setLevel(logging.WARNING)


@contextmanager
def _definitions_parsed_once() -> Iterator[None]:
    """moto checks a definition by parsing it with its ANTLR grammar on every
    CreateStateMachine (0.4 s for ours), and every reset creates the state machines again. A
    definition it accepted once is accepted without parsing it again; one it refused is
    parsed, and refused, every time."""
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    validate = StepFunctionsParserBackend._validate_definition
    accepted: set[str] = set()

    def validate_once(definition: str) -> None:
        if definition not in accepted:
            validate(definition=definition)
            accepted.add(definition)

    with mock.patch.object(StepFunctionsParserBackend, "_validate_definition", staticmethod(validate_once)):
        yield


@contextmanager
def _item_sizes_summed_once() -> Iterator[None]:
    """moto checks DynamoDB's 400 KB item limit as it adds each attribute to an item, by
    summing the sizes of all the attributes added before it: quadratic in the attributes, and
    two fifths of moto's PutItem for our items. Here the sizes are summed once, after all of
    them are converted. The same items are refused, with the same error: sizes are never negative, so
    the last of those partial sums is the largest."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    def item(self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]) -> None:
        self.hash_key, self.range_key = hash_key, range_key
        values = {key: DynamoType(value) for key, value in attrs.items()}
        if sum(bytesize(key) + value.size() for key, value in values.items()) > _MAX_ITEM_BYTES:
            raise ItemSizeTooLarge
        self.attrs = LimitedSizeDict(values)  # its __init__ does not check (dict.update)

    with mock.patch.object(Item, "__init__", item):
        yield


_MAX_ITEM_BYTES = 405_000  # moto's limit: between AWS's measured 409 and 410 KB


@contextmanager
def _member_names_looked_up_once() -> Iterator[None]:
    """moto writes a response by looking each member of each shape up in its result under
    every name the member may go by (its own, snake_case, aliases from the model), worked out
    afresh each time: for DynamoDB, the ten members of an attribute value for every attribute
    of every item, 2 ms an item of a Query or Scan. For a result held in a dict (every DynamoDB
    item is), those names depend only on the member's shape and its parent, so they are worked
    out once per shape. Values in other kinds of objects, and responses with moto's own
    transformers, are looked up as before."""
    from moto.core.constants import MISSING
    from moto.core.serialize import AttributePickerContext, ResponseSerializer, XFormedAttributePicker
    from moto.core.utils import get_value as value_of

    original = ResponseSerializer.get_value
    # botocore's shapes are compared by identity; each member shape has one parent.
    names: dict[tuple[Any, Any, str, tuple[type, ...]], tuple[str, ...]] = {}

    def get_value(self: Any, value: Any, key: str, shape: Any) -> Any:
        picker = self._value_picker
        if (
            type(value) is not dict
            or type(picker) is not XFormedAttributePicker
            or picker.response_transformers
        ):
            return original(self, value, key, shape)
        cache_key = (shape, getattr(shape, "parent", None), key, tuple(picker.alias_providers))
        known = names.get(cache_key)
        if known is None:
            context = AttributePickerContext(
                obj=value,
                key=key,
                shape=shape,
                operation_model=self.operation_model,
                service_model=self.operation_model.service_model,
            )
            known = names[cache_key] = tuple(picker.get_possible_keys(context))
        for name in known:
            found = value_of(value, name, MISSING)
            if found is not MISSING:
                return found
        return None

    with mock.patch.object(ResponseSerializer, "get_value", get_value):
        yield


@contextmanager
def _sqs_clock_from_time() -> Iterator[None]:
    """moto's SQS works out every message's visibility and delay afresh on each send and
    receive (walking the whole queue), from a clock built of datetime objects at 6.5 µs a
    read: 300 FIFO sends took 11 s, 900 receives 53 s. The same clock read from time.time()
    makes it about 50 times faster; what moto answers is unchanged."""
    import moto.sqs.models as sqs_models
    from moto.core.utils import unix_time as original

    def unix_time(dt: Any = None) -> float:
        return time.time() if dt is None else original(dt)

    def unix_time_millis(dt: Any = None) -> float:
        return unix_time(dt) * 1000.0

    with (
        mock.patch.object(sqs_models, "unix_time", unix_time),
        mock.patch.object(sqs_models, "unix_time_millis", unix_time_millis),
    ):
        yield


@contextmanager
def _moto_extended(sandbox: Sandbox) -> Iterator[None]:
    """What the sandbox adds to moto, embedded or served: the template's functions run on
    Invoke, EventBridge delivers to targets, a Map fails as on AWS, Athena answers queries,
    and four of moto's own costs are cut without changing an answer."""
    with ExitStack() as stack:
        stack.enter_context(sandbox._lambda_patched())
        stack.enter_context(sandbox._events_routed())
        stack.enter_context(sandbox._map_failures_as_on_aws())
        stack.enter_context(athena.emulated())
        stack.enter_context(_sqs_clock_from_time())
        stack.enter_context(_definitions_parsed_once())
        stack.enter_context(_item_sizes_summed_once())
        stack.enter_context(_member_names_looked_up_once())
        yield


_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@contextmanager
def embedded(
    root: Path = PROJECT_ROOT,
    environment: dict[str, str] | None = None,
    enforce_roles: bool = False,
    map_concurrency: int | None = None,
) -> Iterator[Sandbox]:
    """The sandbox inside this process: every boto3 call here goes to moto. With
    ``enforce_roles``, every call of a function, state machine or schedule is checked against
    its role in the template (``modelops_dev.sandbox.iam``; needs the SAM environment, .venv-sam).
    ``map_concurrency`` caps the Map's concurrent children (see ``Sandbox.map_concurrency``)."""
    from moto import mock_aws

    _quiet_engine()
    sandbox = Sandbox(root)
    sandbox.map_concurrency = map_concurrency
    with ExitStack() as stack:
        stack.enter_context(mock.patch.dict(os.environ, _FAKE_CREDENTIALS))
        if enforce_roles:
            sandbox.iam = stack.enter_context(sandbox.authorizer().installed())
        stack.enter_context(mock_aws(config=MOTO_CONFIG))
        stack.enter_context(sandbox._changes_tracked())
        stack.enter_context(_moto_extended(sandbox))
        sandbox._apply_environment(stack, environment or {})
        sandbox.provision()
        yield sandbox


class PortInUse(Exception):
    """The port asked for is taken: a clear one-line message instead of a server that never starts."""

    def __init__(self, port: int) -> None:
        super().__init__(
            f"port {port} on 127.0.0.1 is already in use (another sandbox?); choose another with --port"
        )
        self.port = port


def claim_check(port: int) -> None:
    """Raise PortInUse if nothing could listen on 127.0.0.1:port now (bound the way the servers
    bind, so a port in TIME_WAIT still counts as free)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise PortInUse(port) from None


@contextmanager
def served(
    port: int = DEFAULT_PORT, root: Path = PROJECT_ROOT, environment: dict[str, str] | None = None
) -> Iterator[Sandbox]:
    """The sandbox as a local server on 127.0.0.1:port (stops when the block ends)."""
    from moto.core.config import default_user_config
    from moto.server import ThreadedMotoServer

    # moto's server binds in a thread and waits for it forever when the bind fails.
    claim_check(port)
    _quiet_engine()
    sandbox = Sandbox(root)
    endpoint = f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        # Handlers run inside the server process and call it back over HTTP, as does the
        # Step Functions engine (it reads MOTO_PORT).
        stack.enter_context(
            mock.patch.dict(
                os.environ, {**_FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint, "MOTO_PORT": str(port)}
            )
        )
        stack.enter_context(mock.patch.dict(default_user_config, MOTO_CONFIG))
        stack.enter_context(_moto_extended(sandbox))
        sandbox._apply_environment(stack, environment or {})
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        stack.callback(server.stop)
        sandbox.provision()
        yield sandbox


def client_environment(endpoint: str) -> dict[str, str]:
    """Environment for a process that talks to a served sandbox (CLI, aws CLI, tests)."""
    return {**_FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}
