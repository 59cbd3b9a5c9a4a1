"""The sandbox builds every resource of template.yaml, as the template declares it."""

import json
from datetime import date

import boto3
import pytest
from botocore.exceptions import ClientError

from modelops.stores import layout, objects
from modelops_dev.sandbox import ACCOUNT, Sandbox


def test_every_template_resource_exists_in_the_sandbox(sandbox: Sandbox):
    resources = sandbox.template["Resources"]
    kinds = {r["Type"] for r in resources.values()}
    assert kinds == {
        "AWS::S3::Bucket",
        "AWS::S3::BucketPolicy",
        "AWS::DynamoDB::Table",
        "AWS::SQS::Queue",
        "AWS::SNS::Topic",
        "AWS::Glue::Database",
        "AWS::Glue::Table",
        "AWS::Athena::WorkGroup",
        "AWS::Serverless::LayerVersion",
        "AWS::Serverless::Function",
        "AWS::Serverless::StateMachine",
        "AWS::CloudWatch::Dashboard",
        "AWS::Serverless::Api",
        "AWS::Logs::LogGroup",
        "AWS::IAM::Role",
        "AWS::ApiGateway::Account",  # not created: `modelops serve` plays API Gateway
    }, "a new resource type needs the sandbox to create it"
    functions = {k for k, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    deployed = {f["FunctionName"] for f in boto3.client("lambda").list_functions()["Functions"]}
    assert deployed == {sandbox.ref(k) for k in functions} and len(functions) == 19
    tables = {k for k, r in resources.items() if r["Type"] == "AWS::DynamoDB::Table"}
    assert set(boto3.client("dynamodb").list_tables()["TableNames"]) == {sandbox.ref(k) for k in tables}
    scores = boto3.client("dynamodb").describe_table(TableName=sandbox.ref("ScoresTable"))["Table"]
    assert [i["IndexName"] for i in scores["GlobalSecondaryIndexes"]] == ["TopScores"]
    queue = boto3.client("sqs").get_queue_attributes(
        QueueUrl=sandbox.ref("CampaignQueue"), AttributeNames=["All"]
    )
    assert queue["Attributes"]["FifoQueue"] == "true"
    glue = boto3.client("glue").get_table(DatabaseName=sandbox.ref("ScoresDatabase"), Name="score_history")[
        "Table"
    ]
    location = glue["Parameters"]["storage.location.template"]
    assert location == f"s3://{sandbox.ref('DataBucket')}/{layout.HISTORY_LOCATION_TEMPLATE}"
    assert layout.history_part_key("m", date(2025, 1, 1), "shadow", 3) == (
        "scores/model=m/as_of=2025-01-01/source=shadow/part-00003.parquet"
    )
    assert (
        boto3.client("cloudwatch").list_dashboards()["DashboardEntries"][0]["DashboardName"]
        == "modelops-local-pipeline"
    )
    groups = {k for k, r in resources.items() if r["Type"] == "AWS::Logs::LogGroup"}
    created = {g["logGroupName"]: g for g in boto3.client("logs").describe_log_groups()["logGroups"]}
    assert (
        set(created) == {sandbox.ref(k) for k in groups} and len(groups) == 22
    )  # 19 functions, 2 state machines, the API
    assert {g["retentionInDays"] for g in created.values()} == {365}
    s3 = boto3.client("s3")
    assert s3.get_bucket_logging(Bucket=sandbox.ref("DataBucket"))["LoggingEnabled"] == {
        "TargetBucket": sandbox.ref("AccessLogBucket"),
        "TargetPrefix": "data-bucket/",
    }
    assert "logging.s3.amazonaws.com" in s3.get_bucket_policy(Bucket=sandbox.ref("AccessLogBucket"))["Policy"]
    assert boto3.client("iam").get_role(RoleName=sandbox.ref("ApiGatewayCloudWatchRole"))["Role"]


def test_state_machines_run_the_asl_files_with_substitutions_resolved(sandbox: Sandbox):
    client = boto3.client("stepfunctions")
    for logical_id in ("TrainingStateMachine", "ScoringStateMachine"):
        definition = client.describe_state_machine(stateMachineArn=sandbox.ref(logical_id))["definition"]
        assert "${" not in definition
        states = json.loads(definition)["States"]
        assert (
            states["GetData"]["Parameters"]["FunctionName"]
            == sandbox.resolver.attributes[("GetDataFunction", "Arn")]
        )


def test_the_only_schedule_is_the_dispatchers_and_it_carries_the_scheduler_time(sandbox: Sandbox):
    from modelops_dev.client import runner

    scheduler = boto3.client("scheduler")
    assert [s["Name"] for s in scheduler.list_schedules()["Schedules"]] == [runner.DISPATCH_SCHEDULE]
    schedule = scheduler.get_schedule(Name=runner.DISPATCH_SCHEDULE)
    assert schedule["ScheduleExpression"] == "cron(0 * * * ? *)"  # hourly, so interval_minutes is 60
    assert json.loads(schedule["Target"]["Input"]) == {
        "scheduled_time": "<aws.scheduler.scheduled-time>",
        "interval_minutes": 60,
    }
    assert schedule["Target"]["Arn"] == sandbox.resolver.attributes[("DispatcherFunction", "Arn")]
    dispatcher = sandbox.function("DispatcherFunction")
    assert sandbox.environment["TRAINING_STATE_MACHINE_ARN"] == sandbox.ref("TrainingStateMachine")
    assert dispatcher.timeout == 60
    # events/dispatcher.json is what the schedule sends at that time
    from tests.helpers import event

    target, sent = sandbox.schedule_input(runner.DISPATCH_SCHEDULE, "2025-10-01T04:00:00Z")
    assert sent == event("dispatcher") and target == dispatcher.arn


def test_reset_empties_and_restore_brings_back_exactly_a_snapshot(sandbox: Sandbox):
    objects.put_bytes("runs/x/a.bin", b"\x00\x01")
    table = boto3.resource("dynamodb").Table(sandbox.ref("RegistryTable"))
    table.put_item(Item={"model": "m", "sk": "v#1.0.0", "n": 3})
    snapshot = sandbox.snapshot()
    objects.put_bytes("runs/x/b.bin", b"later")
    sandbox.reset()
    assert objects.list_keys("") == [] and table.scan()["Items"] == []
    sandbox.restore(snapshot)
    assert objects.list_keys("runs/") == ["runs/x/a.bin"] and objects.get_bytes("runs/x/a.bin") == b"\x00\x01"
    assert table.scan()["Items"] == [{"model": "m", "sk": "v#1.0.0", "n": 3}]
    assert objects.exists("specs/churn.yaml")
    # A restore right after a reset does not reset again, unless something was written between.
    sandbox.reset()
    objects.put_bytes("runs/x/between.bin", b"dropped")
    sandbox.restore(snapshot)
    assert objects.list_keys("runs/") == ["runs/x/a.bin"]


def test_a_restore_after_only_reads_keeps_the_state_and_after_any_write_puts_it_back(sandbox: Sandbox):
    from moto.s3.models import s3_backends

    objects.put_bytes("runs/x/a.bin", b"kept")
    snapshot = sandbox.snapshot()
    sandbox.restore(snapshot)
    assert not sandbox.changes.any
    assert objects.get_bytes("runs/x/a.bin") == b"kept" and objects.list_keys("runs/") == ["runs/x/a.bin"]
    boto3.client("dynamodb").scan(TableName=sandbox.ref("RegistryTable"))
    boto3.client("sqs").get_queue_attributes(QueueUrl=sandbox.ref("CampaignQueue"), AttributeNames=["All"])
    assert not sandbox.changes.any
    # Proof that nothing was redone: a change made behind the API's back survives the restore.
    backend = s3_backends[ACCOUNT]["global"]
    backend.put_object(sandbox.ref("DataBucket"), "runs/x/untracked.bin", b"behind the API")
    sandbox.restore(snapshot)
    assert objects.list_keys("runs/") == ["runs/x/a.bin", "runs/x/untracked.bin"]
    # Any call that is not a read, from any client, makes the next restore a real one.
    sqs, queue = boto3.client("sqs"), sandbox.ref("CampaignQueue")
    for write in (
        lambda: objects.put_bytes("runs/x/b.bin", b"later"),
        lambda: sqs.send_message(
            QueueUrl=queue, MessageBody="{}", MessageGroupId="g", MessageDeduplicationId="1"
        ),
        lambda: sqs.receive_message(QueueUrl=queue),
    ):
        write()
        assert sandbox.changes.any
        sandbox.restore(snapshot)
        assert not sandbox.changes.any and objects.list_keys("runs/") == ["runs/x/a.bin"]


def _everything(sandbox: Sandbox) -> dict[str, object]:
    """What the AWS API shows of a sandbox's data: every version of every object and the
    uploads under way, every item, every table, the messages of every queue, every execution."""
    s3, dynamodb, sqs = boto3.client("s3"), boto3.client("dynamodb"), boto3.client("sqs")
    buckets = sandbox.names("AWS::S3::Bucket")
    versions = {b: s3.list_object_versions(Bucket=b) for b in buckets}
    return {
        "objects": {
            b: sorted((v["Key"], v["ETag"], v["IsLatest"]) for v in listed.get("Versions", []))
            + sorted((m["Key"], "marker") for m in listed.get("DeleteMarkers", []))
            for b, listed in versions.items()
        },
        "uploads": {b: s3.list_multipart_uploads(Bucket=b).get("Uploads", []) for b in buckets},
        "tables": sorted(dynamodb.list_tables()["TableNames"]),
        "items": {
            t: sorted(json.dumps(i, sort_keys=True) for i in dynamodb.scan(TableName=t)["Items"])
            for t in sandbox.names("AWS::DynamoDB::Table")
        },
        "messages": {
            q: sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["All"])["Attributes"][
                "ApproximateNumberOfMessages"
            ]
            for q in sqs.list_queues()["QueueUrls"]
        },
        "executions": {
            m: boto3.client("stepfunctions").list_executions(stateMachineArn=m)["executions"]
            for m in sandbox.names("AWS::Serverless::StateMachine")
        },
    }


def test_after_only_writes_of_data_a_restore_puts_back_exactly_what_a_reset_would(sandbox: Sandbox):
    from moto.s3.models import s3_backends

    from modelops_dev.client import runner

    registry, metadata = sandbox.ref("RegistryTable"), sandbox.ref("MetadataTable")
    objects.put_bytes("runs/x/a.bin", b"kept")
    boto3.resource("dynamodb").Table(registry).put_item(Item={"model": "m", "sk": "v#1.0.0", "n": 3})
    snapshot = sandbox.snapshot()
    sandbox.reset()
    sandbox.restore(snapshot)  # a real restore: what every later one must give again
    reference = _everything(sandbox)
    # Every kind of data write: objects put, overwritten, deleted (the bucket keeps versions)
    # and behind the API's back; an upload left open; items put, updated, deleted, batched and
    # in a transaction; a message on the FIFO queue; an alert; an execution.
    bucket = sandbox.ref("DataBucket")
    objects.put_bytes("runs/x/a.bin", b"overwritten")
    objects.put_bytes("runs/x/new.bin", b"new")
    boto3.client("s3").delete_object(Bucket=bucket, Key="specs/churn.yaml")
    boto3.client("s3").create_multipart_upload(Bucket=bucket, Key="runs/x/open.bin")
    s3_backends[ACCOUNT]["aws"].put_object(bucket, "runs/x/untracked.bin", b"behind the API")
    table = boto3.resource("dynamodb").Table(registry)
    table.update_item(
        Key={"model": "m", "sk": "v#1.0.0"},
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": 4},
    )
    table.put_item(Item={"model": "m", "sk": "v#2.0.0"})
    with boto3.resource("dynamodb").Table(metadata).batch_writer() as batch:
        batch.put_item(Item={"pk": "m#stage", "sk": "x#2025-01-01"})
    boto3.client("dynamodb").transact_write_items(
        TransactItems=[
            {"Delete": {"TableName": registry, "Key": {"model": {"S": "m"}, "sk": {"S": "v#1.0.0"}}}}
        ]
    )
    queue = sandbox.ref("CampaignQueue")
    sent = {"QueueUrl": queue, "MessageBody": "{}", "MessageGroupId": "g", "MessageDeduplicationId": "1"}
    boto3.client("sqs").send_message(**sent)
    boto3.client("sns").publish(TopicArn=sandbox.ref("AlertTopic"), Message="drift")
    started = runner.start(sandbox.ref("ScoringStateMachine"), {"model": "churn", "as_of": "not a date"})
    assert runner.follow(started).status == "FAILED"
    assert not sandbox.changes.resources and sandbox.changes.tables == {registry, metadata}
    assert _everything(sandbox) != reference
    sandbox.restore(snapshot)
    assert _everything(sandbox) == reference
    # The queue forgot its messages as a reset would: the same deduplication id is taken again.
    boto3.client("sqs").send_message(**sent)
    assert _everything(sandbox)["messages"][queue] == "1"


def test_an_index_query_after_a_data_only_restore_sees_only_the_snapshots_items(sandbox: Sandbox):
    # The sandbox groups a table's items for index queries; a restore that empties the table
    # must drop the grouping with them, or the next test reads the last one's rows.
    from boto3.dynamodb.conditions import Key

    snapshot = sandbox.snapshot()  # the scores table empty
    sandbox.restore(snapshot)
    table = boto3.resource("dynamodb").Table(sandbox.ref("ScoresTable"))
    table.put_item(Item={"pk": "churn#c1", "sk": "latest", "top_pk": "churn#0", "score": 1})

    def top() -> list[dict[str, object]]:
        return table.query(IndexName="TopScores", KeyConditionExpression=Key("top_pk").eq("churn#0"))["Items"]

    assert len(top()) == 1
    sandbox.restore(snapshot)
    assert not sandbox.changes.any and top() == []


def test_a_state_another_worker_built_is_read_for_its_value_too(sandbox: Sandbox, tmp_path):
    # build_october asks for the trained run's value: a worker that read scored from the other
    # worker's snapshot never restored trained itself.
    from tests import states as module
    from tests.states import States

    builder = States(sandbox, tmp_path)
    calls: list[str] = []

    def build(states: States) -> str:
        calls.append("built")
        return "the value"

    module.SHARED.add(build)
    try:
        assert builder.restore("made", build) == "the value"
        reader = States(sandbox, tmp_path)
        assert reader.value("made") == "the value" and calls == ["built"]
    finally:
        module.SHARED.discard(build)


def test_a_call_that_changes_a_resource_makes_the_restore_reset(sandbox: Sandbox):
    snapshot = sandbox.snapshot()
    sandbox.restore(snapshot)
    boto3.client("s3").put_bucket_tagging(
        Bucket=sandbox.ref("DataBucket"), Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}
    )
    assert sandbox.changes.resources
    sandbox.restore(snapshot)
    # An object's tags are kept by moto beside the object, not in it: tagging one resets too.
    objects.put_bytes("runs/x/tagged.bin", b"x")
    snapshot = sandbox.snapshot()
    sandbox.restore(snapshot)
    boto3.client("s3").put_object_tagging(
        Bucket=sandbox.ref("DataBucket"),
        Key="runs/x/tagged.bin",
        Tagging={"TagSet": [{"Key": "k", "Value": "v"}]},
    )
    assert sandbox.changes.resources
    sandbox.restore(snapshot)
    found = boto3.client("s3").get_object_tagging(Bucket=sandbox.ref("DataBucket"), Key="runs/x/tagged.bin")
    assert found["TagSet"] == []
    boto3.client("s3").put_bucket_tagging(
        Bucket=sandbox.ref("DataBucket"), Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}
    )
    sandbox.restore(snapshot)
    with pytest.raises(ClientError, match="NoSuchTagSet"):
        boto3.client("s3").get_bucket_tagging(Bucket=sandbox.ref("DataBucket"))


def test_where_changes_are_not_tracked_every_restore_is_a_real_one(sandbox: Sandbox, monkeypatch):
    # A served sandbox cannot see the calls of other processes (the CLI, `modelops serve`), so
    # it never takes "nothing changed" for granted.
    from moto.s3.models import s3_backends

    objects.put_bytes("runs/x/a.bin", b"kept")
    snapshot = sandbox.snapshot()
    sandbox.restore(snapshot)
    monkeypatch.setattr(sandbox, "_tracking", False)
    s3_backends[ACCOUNT]["global"].put_object(
        sandbox.ref("DataBucket"), "runs/x/other.bin", b"another process"
    )
    sandbox.restore(snapshot)
    assert objects.list_keys("runs/") == ["runs/x/a.bin"]


def test_dynamodb_keeps_an_item_just_under_its_size_limit_and_refuses_one_just_over(sandbox: Sandbox):
    # The sandbox sums an item's attribute sizes once (moto re-sums them per attribute): the
    # limit, the error and the stored item must be moto's own.
    dynamodb, table = boto3.client("dynamodb"), sandbox.ref("RegistryTable")
    key = {"model": {"S": "m"}, "sk": {"S": "v#1"}}
    key_bytes = sum(len(name) + len(value["S"]) for name, value in key.items())

    def item(total_bytes: int) -> dict:
        values = {f"a{i}": total_bytes // 10 - len(f"a{i}") for i in range(10)}  # 10 attributes
        values["a0"] += total_bytes - key_bytes - sum(len(n) + size for n, size in values.items())
        return {**key, **{name: {"S": "x" * size} for name, size in values.items()}}

    def refused_by_moto(attributes: dict) -> bool:  # moto's own check, attribute by attribute
        from moto.dynamodb.exceptions import ItemSizeTooLarge
        from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict

        checked = LimitedSizeDict()
        try:
            for name, value in attributes.items():
                checked[name] = DynamoType(value)
        except ItemSizeTooLarge:
            return True
        return False

    assert not refused_by_moto(item(405_000)) and refused_by_moto(item(405_001))
    kept = item(405_000)
    dynamodb.put_item(TableName=table, Item=kept)
    assert dynamodb.get_item(TableName=table, Key=key)["Item"] == kept
    with pytest.raises(ClientError, match="Item size has exceeded the maximum allowed size"):
        dynamodb.put_item(TableName=table, Item=item(405_001))
    assert dynamodb.get_item(TableName=table, Key=key)["Item"] == kept


def test_every_dynamodb_type_comes_back_as_it_was_written(sandbox: Sandbox):
    # The sandbox looks a response's member names up once per shape (moto does it per value):
    # each type, nested or not, must come back under its own name from every read.
    dynamodb, table = boto3.client("dynamodb"), sandbox.ref("RegistryTable")
    values = {
        "s": {"S": "text"},
        "n": {"N": "-1.5"},
        "b": {"B": b"\x00\xff"},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "bs": {"BS": [b"\x01", b"\x02"]},
        "null": {"NULL": True},
        "bool": {"BOOL": False},
        "l": {"L": [{"S": "x"}, {"N": "3"}, {"M": {"deep": {"BOOL": True}}}]},
        "m": {"M": {"inner": {"L": [{"NULL": True}, {"B": b"\x03"}]}, "n": {"N": "0"}}},
    }
    item = {"model": {"S": "m"}, "sk": {"S": "v#1"}, **values}
    dynamodb.put_item(TableName=table, Item=item)

    def normalised(found: dict) -> dict:  # sets come back in any order
        return {
            k: {t: sorted(v) if t in ("SS", "NS", "BS") else v for t, v in x.items()}
            for k, x in found.items()
        }

    key = {"model": {"S": "m"}, "sk": {"S": "v#1"}}
    assert normalised(dynamodb.get_item(TableName=table, Key=key)["Item"]) == normalised(item)
    assert [normalised(i) for i in dynamodb.scan(TableName=table)["Items"]] == [normalised(item)]
    queried = dynamodb.query(
        TableName=table, KeyConditionExpression="model = :m", ExpressionAttributeValues={":m": {"S": "m"}}
    )["Items"]
    assert [normalised(i) for i in queried] == [normalised(item)]
    # ... and from a snapshot: restored as written, and the snapshot never changed by a later
    # write (moto keeps a set's list as given; ADD changes it in place).
    snapshot = sandbox.snapshot()
    for _ in range(2):
        sandbox.reset()
        sandbox.restore(snapshot)
        assert normalised(dynamodb.get_item(TableName=table, Key=key)["Item"]) == normalised(item)
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="ADD ss :more, ns :one",
            ExpressionAttributeValues={":more": {"SS": ["c"]}, ":one": {"NS": ["9"]}},
        )


def test_a_definition_moto_refuses_is_refused_every_time_and_one_it_accepts_always_accepted(
    sandbox: Sandbox,
):
    # The sandbox parses each definition moto accepted only once.
    stepfunctions, role = boto3.client("stepfunctions"), f"arn:aws:iam::{ACCOUNT}:role/modelops-local-role"
    broken = json.dumps({"StartAt": "A", "States": {"A": {"Type": "NoSuchType"}}})
    for name in ("broken-1", "broken-2"):
        with pytest.raises(ClientError, match=r"ASLParserException.*NoSuchType"):
            stepfunctions.create_state_machine(name=name, definition=broken, roleArn=role)
    for name in ("scoring-1", "scoring-2"):
        stepfunctions.create_state_machine(
            name=name, definition=sandbox.definition("ScoringStateMachine"), roleArn=role
        )


def test_call_runs_a_handler_in_process_and_invoke_answers_like_lambda(sandbox: Sandbox):
    from tests.helpers import event, invoke_raw

    body = event("get_data")
    body["request"]["model"] = "nope"
    error, failed = invoke_raw(sandbox, "GetDataFunction", body)
    assert (
        failed and error["errorType"] == "SpecError" and "no spec for model 'nope'" in error["errorMessage"]
    )
    import pytest

    from modelops.domain.spec import SpecError

    with pytest.raises(SpecError, match="no spec for model 'nope'"):
        sandbox.call("GetDataFunction", body)


def test_dynamodb_queries_answer_as_moto_does_reading_only_their_partition(sandbox: Sandbox):
    # The sandbox runs moto's Query over the queried partition's items only (moto sorts and
    # tests every item of the table): every answer, page and LastEvaluatedKey must be moto's.
    from unittest import mock

    from moto.dynamodb.models.table import Table

    dynamodb, table = boto3.client("dynamodb"), sandbox.ref("ScoresTable")
    for i in range(120):
        item = {
            "pk": {"S": f"m#p{i % 3}#{i % 7}"},
            "sk": {"S": f"e{i:03d}"},
            "score": {"N": str((i * 37) % 101 / 100)},
        }
        if i % 4:  # a sparse index: only some rows are in TopScores
            item["top_pk"] = {"S": f"m#p{i % 3}#{i % 2}"}
        dynamodb.put_item(TableName=table, Item=item)

    def pages(**query) -> list:
        answers, start = [], {}
        while True:
            page = dynamodb.query(TableName=table, **query, **start)
            answers.append((page["Items"], page["Count"], page["ScannedCount"], page.get("LastEvaluatedKey")))
            if "LastEvaluatedKey" not in page:
                return answers
            start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}

    def value(name: str, text: str) -> dict:
        return {name: {"S" if not text.replace(".", "").isdigit() else "N": text}}

    queries = [
        {
            "IndexName": "TopScores",
            "KeyConditionExpression": "top_pk = :k",
            "ExpressionAttributeValues": value(":k", "m#p1#0"),
        },
        {
            "IndexName": "TopScores",
            "KeyConditionExpression": "top_pk = :k",
            "ScanIndexForward": False,
            "Limit": 4,
            "ExpressionAttributeValues": value(":k", "m#p2#1"),
        },
        {
            "IndexName": "TopScores",
            "KeyConditionExpression": "top_pk = :k AND score >= :s",
            "ScanIndexForward": False,
            "ExpressionAttributeValues": {**value(":k", "m#p0#1"), **value(":s", "0.5")},
        },
        {
            "IndexName": "TopScores",
            "KeyConditionExpression": "top_pk = :k",
            "FilterExpression": "score < :s",
            "Limit": 3,
            "ExpressionAttributeValues": {**value(":k", "m#p1#1"), **value(":s", "0.4")},
        },
        {
            "IndexName": "TopScores",
            "KeyConditionExpression": "top_pk = :k",
            "ExpressionAttributeValues": value(":k", "none"),
        },
        {"KeyConditionExpression": "pk = :k", "ExpressionAttributeValues": value(":k", "m#p1#4")},
        {
            "KeyConditionExpression": "pk = :k AND begins_with(sk, :e)",
            "Limit": 2,
            "ScanIndexForward": False,
            "ExpressionAttributeValues": {**value(":k", "m#p0#0"), **value(":e", "e0")},
        },
        {"KeyConditionExpression": "pk = :k", "ExpressionAttributeValues": value(":k", "nobody")},
    ]

    def answers() -> tuple[list, list]:
        fast = [pages(**query) for query in queries]
        query, all_items = Table.query.moto
        with mock.patch.object(Table, "query", query), mock.patch.object(Table, "all_items", all_items):
            slow = [pages(**query) for query in queries]
        return fast, slow

    fast, slow = answers()
    assert fast == slow
    assert sum(len(page[0]) for page in fast[0]) > 5 and len(fast[1]) > 1 and fast[4] == [([], 0, 0, None)]
    # The index's grouping of items is kept between queries: every write must renew it. An
    # item moved to another index partition in place, one deleted, one put, one updated into
    # being: each query still answers as moto does.
    moved = {"pk": {"S": "m#p1#1"}, "sk": {"S": "e001"}}
    dynamodb.update_item(
        TableName=table,
        Key=moved,
        UpdateExpression="SET top_pk = :k",
        ExpressionAttributeValues=value(":k", "m#p2#1"),
    )
    dynamodb.delete_item(TableName=table, Key={"pk": {"S": "m#p1#3"}, "sk": {"S": "e010"}})
    dynamodb.put_item(
        TableName=table,
        Item={"pk": {"S": "m#p1#0"}, "sk": {"S": "e999"}, "score": {"N": "0.99"}, "top_pk": {"S": "m#p1#0"}},
    )
    dynamodb.update_item(
        TableName=table,
        Key={"pk": {"S": "m#p0#0"}, "sk": {"S": "e998"}},
        UpdateExpression="SET top_pk = :k, score = :s",
        ExpressionAttributeValues={**value(":k", "m#p1#0"), **value(":s", "0.42")},
    )
    again, slow_again = answers()
    assert again == slow_again and again != fast
    before = [item["sk"]["S"] for page in fast[0] for item in page[0]]
    held = [item["sk"]["S"] for page in again[0] for item in page[0]]
    assert "e010" in before and "e010" not in held and "e999" in held and "e998" in held
    assert "e001" in [item["sk"]["S"] for page in again[1] for item in page[0]]  # moved into m#p2#1
