"""The sandbox's cuts of moto's costs answer exactly as moto does."""

from contextlib import ExitStack
from typing import Any
from unittest import mock

import boto3
from moto import mock_aws

from modelops_dev.sandbox.speedups import dynamodb, serving

TABLE = "kinds"
# Every kind of attribute value, nested in each other, with the edge cases of each.
RAW = bytes(range(256))
ITEMS: list[dict[str, Any]] = [
    {
        "pk": {"S": "a"},
        "sk": {"N": "1"},
        "text": {"S": "héllo ✓"},
        "empty": {"S": ""},
        "number": {"N": "-1.50E+5"},
        "bin_attr": {"B": RAW},
        "str_set": {"SS": ["b", "a", "ç"]},
        "numbers": {"NS": ["3", "1.25", "-7"]},
        "binaries": {"BS": [b"\x00\xff", b"plain"]},
        "nothing": {"NULL": True},
        "yes": {"BOOL": True},
        "no": {"BOOL": False},
    },
    {
        "pk": {"S": "a"},
        "sk": {"N": "2"},
        "map": {
            "M": {
                "inner": {"M": {"deep": {"L": [{"N": "1"}, {"B": b"\x01"}, {"NULL": True}]}}},
                "list": {"L": [{"S": "x"}, {"M": {}}, {"L": []}, {"BOOL": False}, {"SS": ["z"]}]},
                "empty_map": {"M": {}},
                "bytes": {"BS": [b"\x02"]},
            }
        },
        "list": {"L": [{"M": {"k": {"S": ""}}}, {"NS": ["0"]}]},
    },
    {"pk": {"S": "b"}, "sk": {"N": "1"}, "bin_attr": {"B": b""}},
]


def _answers() -> list[Any]:
    """What a client is answered by every call that sends or returns attribute values."""
    client = boto3.client("dynamodb", region_name="eu-west-1")
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName=TABLE, Item=ITEMS[0])
    client.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": item}} for item in ITEMS[1:]]})
    key = {"pk": {"S": "a"}, "sk": {"N": "2"}}
    answers: list[Any] = [
        client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"N": "1"}})["Item"],
        client.query(
            TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}}
        )["Items"],
        client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :p",
            ProjectionExpression="#m.inner, bin_attr, str_set",
            ExpressionAttributeNames={"#m": "map"},
            ExpressionAttributeValues={":p": {"S": "a"}},
        )["Items"],
        client.scan(TableName=TABLE, FilterExpression="attribute_exists(bin_attr)")["Items"],
        client.batch_get_item(RequestItems={TABLE: {"Keys": [key, {"pk": {"S": "b"}, "sk": {"N": "1"}}]}})[
            "Responses"
        ],
        client.update_item(
            TableName=TABLE,
            Key=key,
            UpdateExpression="SET added = :v, #m.extra = :b",
            ExpressionAttributeNames={"#m": "map"},
            ExpressionAttributeValues={":v": {"L": [{"B": b"\x03"}, {"NS": ["9"]}]}, ":b": {"BS": [b"\x04"]}},
            ReturnValues="ALL_NEW",
        )["Attributes"],
        client.put_item(
            TableName=TABLE, Item={**ITEMS[2], "bin_attr": {"B": b"\x05"}}, ReturnValues="ALL_OLD"
        )["Attributes"],
    ]
    answers.append(client.scan(TableName=TABLE)["Items"])  # after the writes above
    return answers


def test_attribute_values_are_read_and_written_as_moto_does():
    with mock_aws():
        slow = _answers()
    with (
        mock_aws(),
        dynamodb.attribute_values_read_directly(),
        dynamodb.attribute_values_written_directly(),
        mock.patch.object(dynamodb, "_attribute_wire", wraps=dynamodb._attribute_wire) as written,
        mock.patch.object(dynamodb, "_attribute_parsed", wraps=dynamodb._attribute_parsed) as read,
    ):
        fast = _answers()
    assert written.call_count > 50 and read.call_count > 30  # the direct paths did the work
    assert fast == slow
    assert (
        fast[0]["bin_attr"] == {"B": RAW}
        and fast[0]["empty"] == {"S": ""}
        and fast[0]["no"] == {"BOOL": False}
    )


def test_a_raw_request_with_nulls_inside_is_read_as_moto_reads_it():
    # boto3 never sends a null inside a map or list, but another client of the served sandbox
    # may: moto reads it as None, and so must the direct path.
    import json

    from moto.core.parse import JSONParser
    from moto.core.utils import get_service_model

    operation = get_service_model("dynamodb").operation_model("PutItem")
    body = json.dumps(
        {
            "TableName": TABLE,
            "Item": {
                "pk": {"S": "a"},
                "map": {"M": {"gone": None, "kept": {"B": "AAE="}}},
                "list": {"L": [None, {"N": "1"}]},
                "odd": {"S": "x", "N": None, "unknown": "y"},
                "letters": {"SS": "abc"},  # moto reads a string where a list belongs letter by letter
            },
        }
    ).encode()

    def parsed() -> dict[str, Any]:
        return JSONParser(operation).parse({"body": body})  # type: ignore[no-any-return]

    moto_reads = parsed()
    with (
        dynamodb.attribute_values_read_directly(),
        mock.patch.object(dynamodb, "_attribute_parsed", wraps=dynamodb._attribute_parsed) as read,
    ):
        direct = parsed()
    assert read.call_count >= 5  # every attribute value, nested ones too, read directly
    assert direct == moto_reads
    assert direct["Item"]["map"]["M"] == {"gone": None, "kept": {"B": b"\x00\x01"}}


def test_the_s3_urls_follow_a_changed_custom_endpoint_and_are_not_reloaded_otherwise(monkeypatch):
    import importlib

    from moto.s3.models import s3_backends

    monkeypatch.delenv("MOTO_S3_CUSTOM_ENDPOINTS", raising=False)
    custom = "https://storage.example.test"
    with (
        serving.s3_urls_loaded_once(),
        mock.patch.object(importlib, "reload", wraps=importlib.reload) as reload,
    ):
        backend = s3_backends["123456789012"]["global"]
        before = list(backend.url_bases)
        for _ in range(5):
            assert backend.url_bases == before and backend.urls
        assert reload.call_count == 1  # the first read only
        monkeypatch.setenv("MOTO_S3_CUSTOM_ENDPOINTS", custom)
        assert backend.url_bases == [*before, custom]  # as moto reads it: the setting now
        assert any(url.startswith(custom) for url in backend.urls)
        monkeypatch.delenv("MOTO_S3_CUSTOM_ENDPOINTS")
        assert backend.url_bases == before and reload.call_count == 3


def test_an_action_is_found_as_moto_finds_it():
    from moto.core.utils import method_names_from_class
    from moto.dynamodb.responses import DynamoHandler

    class Patched(DynamoHandler):
        later = staticmethod(lambda: None)  # a plain function too, as getmembers sees it
        flag = True
        described = property(lambda self: 1)

        @classmethod
        def built(cls) -> None: ...

    listed = set(method_names_from_class(Patched))
    asked = ["later", "flag", "described", "built", "mro", "__class__", "no_such_action", "", "query"]
    names = [*listed, *asked]
    direct = serving._FunctionNames(Patched)
    assert [name in direct for name in names] == [name in listed for name in names]
    assert "query" in direct and "later" in direct and "built" not in direct and "flag" not in direct
    Patched.added = lambda self: None  # a method patched in later is found, as moto finds it
    assert "added" in direct and "added" in method_names_from_class(Patched)
    import moto.core.responses

    with serving.actions_found_by_name():
        assert moto.core.responses.method_names_from_class is serving._FunctionNames  # where moto calls it


def test_executions_of_one_definition_run_as_moto_runs_them_and_parse_it_once():
    import json
    import time

    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    from modelops_dev.sandbox.constants import MOTO_CONFIG

    definition = {
        "StartAt": "Split",
        "States": {
            "Split": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "StartAt": "Double",
                    "States": {
                        "Double": {
                            "Type": "Pass",
                            "Parameters": {"twice.$": "States.MathAdd($, $)"},
                            "End": True,
                        }
                    },
                },
                "ResultPath": "$.doubled",
                "Next": "Enough",
            },
            "Enough": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.items[0]", "NumericGreaterThan": 10, "Next": "TooMany"}],
                "Default": "Done",
            },
            "TooMany": {"Type": "Fail", "Error": "TooMany", "Cause": "the first item is over 10"},
            "Done": {"Type": "Succeed"},
        },
    }

    def run() -> list[tuple[str, Any, list[str]]]:
        client = boto3.client("stepfunctions", region_name="us-east-1")
        machine = client.create_state_machine(
            name="m", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/r"
        )["stateMachineArn"]
        runs = [
            client.start_execution(
                stateMachineArn=machine, name=f"run{i}", input=json.dumps({"items": items})
            )["executionArn"]
            for i, items in enumerate(([1, 2, 3], [11], [4]))
        ]
        done = []
        for arn in runs:
            while (described := client.describe_execution(executionArn=arn))["status"] == "RUNNING":
                time.sleep(0.02)
            events = client.get_execution_history(executionArn=arn)["events"]
            # A Map's iterations run in threads: their events interleave in any order.
            done.append(
                (described["status"], described.get("output"), sorted(event["type"] for event in events))
            )
        return done

    with mock_aws(config=MOTO_CONFIG):
        slow = run()
    programs: list[Any] = []
    with (
        mock_aws(config=MOTO_CONFIG),
        mock.patch.object(
            AmazonStateLanguageParser, "parse", side_effect=AmazonStateLanguageParser.parse
        ) as antlr,
        serving.executions_parse_their_definition_once(),
    ):
        kept = AmazonStateLanguageParser.parse

        def recorded(definition: str) -> Any:
            program, tree = kept(definition)
            programs.append(program)
            return program, tree

        with mock.patch.object(AmazonStateLanguageParser, "parse", staticmethod(recorded)):
            fast = run()
    assert fast == slow
    assert [status for status, _, _ in fast] == ["SUCCEEDED", "FAILED", "SUCCEEDED"]
    assert json.loads(fast[0][1])["doubled"] == [{"twice": 2}, {"twice": 4}, {"twice": 6}]
    # One parse for the state machine's check and its three executions (moto: four), and
    # still a program of its own for each.
    assert antlr.call_count == 1
    assert len(programs) == 4 and len({id(program) for program in programs}) == 4


def test_the_engine_keeps_its_clients_while_the_handlers_every_client_gets_stay_the_same():
    import json
    import time

    from modelops_dev.sandbox import hooks
    from modelops_dev.sandbox.constants import MOTO_CONFIG

    definition = {
        "StartAt": "Put",
        "States": {
            "Put": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {"TableName": TABLE, "Item": {"pk": {"S.$": "$.id"}, "sk": {"N": "1"}}},
                "ResultPath": None,
                "Next": "Get",
            },
            "Get": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {"TableName": TABLE, "Key": {"pk": {"S.$": "$.id"}, "sk": {"N": "1"}}},
                "End": True,
            },
        },
    }

    def run(machine: str, ids: list[str]) -> list[tuple[str, Any]]:
        client = boto3.client("stepfunctions", region_name="us-east-1")
        done = []
        for entity in ids:
            arn = client.start_execution(
                stateMachineArn=machine, name=entity, input=json.dumps({"id": entity})
            )["executionArn"]
            while (described := client.describe_execution(executionArn=arn))["status"] == "RUNNING":
                time.sleep(0.02)
            done.append((described["status"], json.loads(described.get("output", "null"))))
        return done

    def session(*patches: Any) -> tuple[list[Any], int, list[str]]:
        seen: list[str] = []
        with mock_aws(config=MOTO_CONFIG), ExitStack() as stack:
            for patch in patches:
                stack.enter_context(patch())
            dynamodb = boto3.client("dynamodb", region_name="us-east-1")
            dynamodb.create_table(
                TableName=TABLE,
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "N"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
            machine = boto3.client("stepfunctions", region_name="us-east-1").create_state_machine(
                name="m", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/r"
            )["stateMachineArn"]
            with mock.patch.object(boto3, "client", wraps=boto3.client) as made:
                answers = run(machine, ["a", "b", "c"])

                def watch(model: Any, **_: Any) -> None:
                    if model.service_model.service_name == "dynamodb":  # the engine's calls
                        seen.append(model.name)

                with hooks.every_client_hooked("before-parameter-build", watch, "test-watch"):
                    answers += run(machine, ["d"])
                engine = sum(
                    1 for call in made.call_args_list if call.kwargs.get("service_name") == "dynamodb"
                )
        return answers, engine, seen

    slow, moto_made, moto_seen = session()
    fast, kept_made, kept_seen = session(serving.engine_clients_kept)
    assert fast == slow
    assert [output["Item"]["pk"]["S"] for _, output in fast] == ["a", "b", "c", "d"]
    assert moto_made == 8  # a client for each task of each execution
    assert kept_made == 2  # one, and one more once another handler is on every client
    assert kept_seen == moto_seen == ["PutItem", "GetItem"]  # the new handler saw the engine's calls


def test_values_moto_s_results_never_hold_are_written_by_moto_itself():
    # The direct path writes what DynamoDB results hold; anything else goes to moto's walker,
    # so the answer stays moto's, odd as it may be.
    import enum

    from moto.core.serialize import JSONSerializer, XFormedAttributePicker
    from moto.core.utils import get_service_model

    class Kind(enum.Enum):
        A = "a"

    operation = get_service_model("dynamodb").operation_model("GetItem")
    results = [
        {"Item": {"kind": {"S": Kind.A}}},
        {"Item": {"labels": {"SS": ["a", None]}}},
        {"Item": {"list": {"L": [None, {"N": "1"}]}}},
        {"Item": {"map": {"M": {"gone": None, "kept": {"S": "x"}}}}},
        {"Item": {"map": {"M": {"": {"S": "x"}}}}},
        {"Item": {"flag": {"BOOL": "yes"}}},
        {"Item": {"plain": {"S": "x", "N": "1", "BS": [b"\x01"], "M": {"a": {"NULL": True}}}}},
    ]

    def written() -> list[str]:
        serializer = JSONSerializer(operation_model=operation, value_picker=XFormedAttributePicker())
        return [serializer.serialize(result)["body"] for result in results]

    by_moto = written()
    with dynamodb.attribute_values_written_directly():
        direct = written()
    assert direct == by_moto
    assert '"kind": {"S": "a"}' in by_moto[0]  # an Enum's value, as moto writes it
