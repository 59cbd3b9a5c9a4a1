"""Provisioning from template.yaml: every resource named deterministically (``plan``, before
anything exists) and then created in the mocked or served AWS (``Provisioner``). moto's
CloudFormation applies no SAM transform, so the SAM resources are created here, with their
DefinitionSubstitutions resolved."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from modelops_dev.sandbox.constants import ACCOUNT, PREFIX, REGION, ROLE
from modelops_dev.sandbox.runtime import LocalFunction
from modelops_dev.sandbox.template import Resolver

if TYPE_CHECKING:
    from modelops_dev.sandbox.core import Sandbox


def resources_of(template: dict[str, Any], *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(logical id, resource) of every resource of the template of one of ``types``."""
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] in types:
            yield logical_id, resource


# ---------------------------------------------------------------------- naming
def plan(
    template: dict[str, Any], resolver: Resolver, root: Path
) -> tuple[dict[str, LocalFunction], dict[str, str]]:
    """Physical names and ARNs of every resource (into ``resolver``), without creating
    anything; returns the functions by name and the environment they share."""
    _name_resources(template, resolver)
    return _plan_functions(template, resolver, root)


def _name_resources(template: dict[str, Any], resolver: Resolver) -> None:
    refs, attributes = resolver.refs, resolver.attributes
    arn = f"{REGION}:{ACCOUNT}"
    for logical_id, _ in resources_of(template, "AWS::S3::Bucket"):
        name = f"{PREFIX}-{logical_id.lower()}"
        refs[logical_id] = name
        attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"
    for logical_id, _ in resources_of(template, "AWS::DynamoDB::Table"):
        refs[logical_id] = f"{PREFIX}-{logical_id}"
        attributes[(logical_id, "Arn")] = f"arn:aws:dynamodb:{arn}:table/{PREFIX}-{logical_id}"
    for logical_id, _ in resources_of(template, "AWS::SNS::Topic"):
        refs[logical_id] = f"arn:aws:sns:{arn}:{PREFIX}-{logical_id}"
        attributes[(logical_id, "TopicName")] = f"{PREFIX}-{logical_id}"
    for logical_id, resource in resources_of(template, "AWS::SQS::Queue"):
        fifo = resource.get("Properties", {}).get("FifoQueue", False)
        name = f"{PREFIX}-{logical_id}" + (".fifo" if fifo else "")
        refs[logical_id] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
        attributes[(logical_id, "Arn")] = f"arn:aws:sqs:{arn}:{name}"
        attributes[(logical_id, "QueueName")] = name
    for logical_id, _ in resources_of(template, "AWS::Serverless::LayerVersion"):
        refs[logical_id] = f"arn:aws:lambda:{arn}:layer:{PREFIX}-{logical_id}:1"
    for logical_id, _ in resources_of(template, "AWS::Serverless::Function"):
        refs[logical_id] = f"{PREFIX}-{logical_id}"
        attributes[(logical_id, "Arn")] = f"arn:aws:lambda:{arn}:function:{PREFIX}-{logical_id}"
    for logical_id, resource in resources_of(template, "AWS::Glue::Database"):
        refs[logical_id] = resolver.resolve(resource["Properties"]["DatabaseInput"]["Name"])
    for logical_id, resource in resources_of(template, "AWS::Athena::WorkGroup"):
        refs[logical_id] = resolver.resolve(resource["Properties"]["Name"])
    for logical_id, resource in resources_of(template, "AWS::Glue::Table"):
        refs[logical_id] = resolver.resolve(resource["Properties"]["TableInput"]["Name"])
    for logical_id, _ in resources_of(template, "AWS::Serverless::Api", "AWS::ApiGateway::Account"):
        refs[logical_id] = "local"  # served by `modelops serve`, not created in moto
    for logical_id, resource in resources_of(template, "AWS::Logs::LogGroup"):
        name = resolver.resolve(resource["Properties"]["LogGroupName"])
        refs[logical_id] = name
        attributes[(logical_id, "Arn")] = f"arn:aws:logs:{arn}:log-group:{name}:*"
    for logical_id, _ in resources_of(template, "AWS::IAM::Role"):
        refs[logical_id] = f"{PREFIX}-{logical_id}"
        attributes[(logical_id, "Arn")] = f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-{logical_id}"
    for logical_id, resource in resources_of(template, "AWS::Serverless::StateMachine"):
        name = resolver.resolve(resource["Properties"].get("Name", f"{PREFIX}-{logical_id}"))
        refs[logical_id] = f"arn:aws:states:{arn}:stateMachine:{name}"
        attributes[(logical_id, "Name")] = name


def _plan_functions(
    template: dict[str, Any], resolver: Resolver, root: Path
) -> tuple[dict[str, LocalFunction], dict[str, str]]:
    """Each function's code, handler and limits, and the one environment all of them get
    (functions run in this process, so no two may set a variable differently)."""
    refs, attributes = resolver.refs, resolver.attributes
    globals_ = template.get("Globals", {}).get("Function", {})
    environment = resolver.resolve(globals_.get("Environment", {}).get("Variables", {}))
    functions: dict[str, LocalFunction] = {}
    for logical_id, resource in resources_of(template, "AWS::Serverless::Function"):
        properties = {**globals_, **resource["Properties"]}
        own = resolver.resolve(resource["Properties"].get("Environment", {}).get("Variables", {}))
        for key, value in own.items():
            if environment.get(key, value) != value:
                raise ValueError(
                    f"{logical_id}: {key} differs between functions, "
                    "but in-process runs share one environment"
                )
        environment.update(own)
        functions[refs[logical_id]] = LocalFunction(
            logical_id=logical_id,
            name=refs[logical_id],
            arn=attributes[(logical_id, "Arn")],
            code_dir=root / properties["CodeUri"],
            handler=properties["Handler"],
            timeout=int(properties.get("Timeout", 3)),
            memory=int(properties.get("MemorySize", 128)),
        )
    return functions, {key: str(value) for key, value in environment.items()}


def definition(sandbox: Sandbox, logical_id: str) -> str:
    """The state machine's ASL with DefinitionSubstitutions resolved, as deployed (its Maps'
    MaxConcurrency capped at ``sandbox.map_concurrency`` when that is set)."""
    properties = sandbox.template["Resources"][logical_id]["Properties"]
    text: str = (sandbox.root / properties["DefinitionUri"]).read_text()
    for key, value in sandbox.resolver.resolve(properties.get("DefinitionSubstitutions", {})).items():
        text = text.replace("${" + key + "}", str(value))
    if sandbox.map_concurrency is None:
        return text
    document = json.loads(text)
    for state in document["States"].values():
        if state["Type"] == "Map":
            declared = state.get("MaxConcurrency") or sandbox.map_concurrency
            state["MaxConcurrency"] = min(declared, sandbox.map_concurrency)
    return json.dumps(document)


# ---------------------------------------------------------------------- creation
class Provisioner:
    """Creates every resource of a sandbox's template in the (mocked or served) AWS."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.resolver = sandbox.resolver
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        """The sandbox's own client of a service, kept across resets (making one takes longer
        than most of the calls a provision makes with it)."""
        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=REGION)
        return self._clients[service]

    def _resources(self, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        return resources_of(self.sandbox.template, *types)

    def provision(self) -> None:
        """Create every resource of the template."""
        self.client("iam").create_role(RoleName=f"{PREFIX}-role", AssumeRolePolicyDocument="{}")
        self._buckets()
        self._log_groups()
        self._roles()
        # AWS::ApiGateway::Account (API Gateway's account-wide log role) is not created: API
        # Gateway is played by `modelops serve`, which has no logs to deliver.
        self._tables()
        self._topics_and_queues()
        self._catalog()
        self._dashboards()
        self._functions()
        for logical_id, resource in self._resources("AWS::Serverless::StateMachine"):
            self._state_machine(logical_id, resource["Properties"])
        for logical_id, resource in self._resources(
            "AWS::Serverless::StateMachine", "AWS::Serverless::Function"
        ):
            self._schedules(logical_id, resource["Properties"])

    def _buckets(self) -> None:
        s3 = self.client("s3")
        for logical_id, resource in self._resources("AWS::S3::Bucket"):
            s3.create_bucket(Bucket=self.sandbox.ref(logical_id))
            properties = resource.get("Properties", {})
            if "VersioningConfiguration" in properties:
                s3.put_bucket_versioning(
                    Bucket=self.sandbox.ref(logical_id),
                    VersioningConfiguration=properties["VersioningConfiguration"],
                )
        for _, resource in self._resources("AWS::S3::BucketPolicy"):
            properties = self.resolver.resolve(resource["Properties"])
            # moto enforces bucket policies but ignores their conditions, so a conditional
            # Deny (such as insecure transport only) would refuse every request: those are left
            # to the IAM check (sandbox/iam), which evaluates conditions, for the template's principals.
            document = properties["PolicyDocument"]
            statements = [
                s for s in document["Statement"] if not (s["Effect"] == "Deny" and "Condition" in s)
            ]
            document = {**document, "Statement": statements}
            s3.put_bucket_policy(Bucket=properties["Bucket"], Policy=json.dumps(document))
        for logical_id, resource in self._resources("AWS::S3::Bucket"):
            # Configured as declared (after every bucket and its policy exist); no access logs
            # are written (emulation.access_logs_not_written).
            logging_configuration = self.resolver.resolve(
                resource.get("Properties", {}).get("LoggingConfiguration")
            )
            if logging_configuration:
                s3.put_bucket_logging(
                    Bucket=self.sandbox.ref(logical_id),
                    BucketLoggingStatus={
                        "LoggingEnabled": {
                            "TargetBucket": logging_configuration["DestinationBucketName"],
                            "TargetPrefix": logging_configuration.get("LogFilePrefix", ""),
                        }
                    },
                )

    def _log_groups(self) -> None:
        logs = self.client("logs")
        for logical_id, resource in self._resources("AWS::Logs::LogGroup"):
            properties = self.resolver.resolve(resource["Properties"])
            logs.create_log_group(logGroupName=self.sandbox.ref(logical_id))
            if "RetentionInDays" in properties:
                logs.put_retention_policy(
                    logGroupName=self.sandbox.ref(logical_id),
                    retentionInDays=int(properties["RetentionInDays"]),
                )

    def _roles(self) -> None:
        for logical_id, resource in self._resources("AWS::IAM::Role"):
            properties = self.resolver.resolve(resource["Properties"])
            self.client("iam").create_role(
                RoleName=self.sandbox.ref(logical_id),
                AssumeRolePolicyDocument=json.dumps(properties["AssumeRolePolicyDocument"]),
            )
            # Its AWS managed policies are not attached: moto does not load them (and nothing
            # here assumes the role); the IAM check (sandbox/iam) checks what the template's
            # roles allow.

    def _tables(self) -> None:
        for logical_id, resource in self._resources("AWS::DynamoDB::Table"):
            properties = self.resolver.resolve(resource["Properties"])
            table: dict[str, Any] = {
                "TableName": self.sandbox.ref(logical_id),
                "AttributeDefinitions": properties["AttributeDefinitions"],
                "KeySchema": properties["KeySchema"],
                "BillingMode": properties.get("BillingMode", "PAY_PER_REQUEST"),
            }
            for option in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification"):
                if option in properties:
                    table[option] = properties[option]
            dynamodb = self.client("dynamodb")
            dynamodb.create_table(**table)
            if "TimeToLiveSpecification" in properties:
                dynamodb.update_time_to_live(
                    TableName=self.sandbox.ref(logical_id),
                    TimeToLiveSpecification=properties["TimeToLiveSpecification"],
                )

    def _topics_and_queues(self) -> None:
        for logical_id, _ in self._resources("AWS::SNS::Topic"):
            name = self.resolver.attributes[(logical_id, "TopicName")]
            self.client("sns").create_topic(Name=name)
        for logical_id, resource in self._resources("AWS::SQS::Queue"):
            properties = self.resolver.resolve(resource.get("Properties", {}))
            attributes = {
                key: str(value).lower() if isinstance(value, bool) else str(value)
                for key, value in properties.items()
                if key
                in ("FifoQueue", "ContentBasedDeduplication", "VisibilityTimeout", "MessageRetentionPeriod")
            }
            name = self.resolver.attributes[(logical_id, "QueueName")]
            self.client("sqs").create_queue(QueueName=name, Attributes=attributes)

    def _catalog(self) -> None:
        """The Glue database and tables, and the Athena workgroups."""
        glue = self.client("glue")
        for _, resource in self._resources("AWS::Glue::Database"):
            glue.create_database(DatabaseInput=self.resolver.resolve(resource["Properties"]["DatabaseInput"]))
        for _, resource in self._resources("AWS::Glue::Table"):
            properties = self.resolver.resolve(resource["Properties"])
            glue.create_table(DatabaseName=properties["DatabaseName"], TableInput=properties["TableInput"])
        athena = self.client("athena")
        for _, resource in self._resources("AWS::Athena::WorkGroup"):
            properties = self.resolver.resolve(resource["Properties"])
            configuration = properties.get("WorkGroupConfiguration", {})
            athena.create_work_group(
                Name=properties["Name"],
                Configuration={"ResultConfiguration": configuration.get("ResultConfiguration", {})},
            )

    def _dashboards(self) -> None:
        cloudwatch = self.client("cloudwatch")
        for _, resource in self._resources("AWS::CloudWatch::Dashboard"):
            properties = self.resolver.resolve(resource["Properties"])
            cloudwatch.put_dashboard(
                DashboardName=properties["DashboardName"], DashboardBody=properties["DashboardBody"]
            )

    def _functions(self) -> None:
        awslambda = self.client("lambda")
        for function in self.sandbox.functions.values():
            awslambda.create_function(
                FunctionName=function.name,
                Runtime="python3.12",
                Role=ROLE,
                Handler=function.handler,
                Code={"ZipFile": _placeholder_zip()},
                Timeout=function.timeout,
                MemorySize=function.memory,
                Environment={"Variables": self.sandbox.environment},
            )

    def _state_machine(self, logical_id: str, properties: dict[str, Any]) -> None:
        name = self.resolver.attributes[(logical_id, "Name")]
        self.client("stepfunctions").create_state_machine(
            name=name,
            definition=definition(self.sandbox, logical_id),
            roleArn=ROLE,
            type=properties.get("Type", "STANDARD"),
        )

    def _schedules(self, logical_id: str, properties: dict[str, Any]) -> None:
        """The resource's ScheduleV2 events as Scheduler schedules (moto keeps them; it does
        not fire them: tests send the target the input a schedule would, see ``schedule_input``),
        and its EventBridgeRule events as rules with the resource as their target."""
        scheduler = self.client("scheduler")
        events = self.client("events")
        # A function's schedule targets its ARN; a state machine's Ref is already its ARN.
        arn = self.resolver.attributes.get((logical_id, "Arn"), self.sandbox.ref(logical_id))
        for event_id, event in properties.get("Events", {}).items():
            if event["Type"] == "EventBridgeRule":
                rule = self.resolver.resolve(event["Properties"])
                events.put_rule(Name=f"{logical_id}{event_id}", EventPattern=json.dumps(rule["Pattern"]))
                target: dict[str, Any] = {"Id": logical_id, "Arn": arn, "RoleArn": ROLE}
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
                Target={"Arn": arn, "RoleArn": ROLE, "Input": schedule.get("Input", "{}")},
            )


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "# runs in-process from the project tree\n")
    return buffer.getvalue()
