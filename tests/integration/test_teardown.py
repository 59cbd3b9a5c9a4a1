"""`modelops teardown`: a stack whose versioned bucket holds objects, versions and delete
markers is deleted whole; a bucket its template retains is left, and named."""

import json

import boto3
import pytest

from modelops_dev.cli.main import main
from modelops_dev.client.teardown import empty_bucket, teardown

TEMPLATE = {
    "Resources": {
        "DataBucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketName": "teardown-data", "VersioningConfiguration": {"Status": "Enabled"}},
        },
        "LogBucket": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",
            "Properties": {"BucketName": "teardown-logs"},
        },
        "ScoresTable": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": "teardown-scores",
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            },
        },
    }
}


def make_table(name: str) -> None:
    boto3.client("dynamodb").create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )


def test_teardown_empties_every_version_then_deletes_the_stack(sandbox, capsys):
    cloudformation, s3 = boto3.client("cloudformation"), boto3.client("s3")
    cloudformation.create_stack(StackName="first-deploy", TemplateBody=json.dumps(TEMPLATE))
    # (moto's CloudFormation leaves VersioningConfiguration out)
    s3.put_bucket_versioning(Bucket="teardown-data", VersioningConfiguration={"Status": "Enabled"})
    for body in (b"one", b"two"):
        s3.put_object(Bucket="teardown-data", Key="models/churn/1.0.0/model.joblib", Body=body)
    s3.put_object(Bucket="teardown-data", Key="specs/churn.yaml", Body=b"spec")
    s3.delete_object(Bucket="teardown-data", Key="specs/churn.yaml")  # a delete marker
    s3.put_object(Bucket="teardown-logs", Key="data-bucket/log", Body=b"log")
    make_table("teardown-scores-p-churn-0123456789abcdef")  # a bulk publication's own table
    make_table("teardown-scoresheet")  # another table, not the stack's: left alone

    assert main(["teardown", "--stack", "first-deploy"]) == 2  # without --yes: nothing happens
    assert "add --yes to go on" in capsys.readouterr().err
    assert s3.list_object_versions(Bucket="teardown-data")["Versions"]

    result = teardown("first-deploy")
    assert result.deleted and result.emptied == {"teardown-data": 4} and result.retained == ["teardown-logs"]
    assert result.tables == ["teardown-scores-p-churn-0123456789abcdef"]
    left = boto3.client("dynamodb").list_tables()["TableNames"]
    assert "teardown-scoresheet" in left and "teardown-scores-p-churn-0123456789abcdef" not in left
    boto3.client("dynamodb").delete_table(TableName="teardown-scoresheet")
    stacks = cloudformation.list_stacks()["StackSummaries"]
    assert [s["StackStatus"] for s in stacks if s["StackName"] == "first-deploy"] == ["DELETE_COMPLETE"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="teardown-logs")["Contents"]] == ["data-bucket/log"]
    empty_bucket(s3, "teardown-logs")


def test_empty_bucket_deletes_in_batches_of_a_thousand(sandbox):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="teardown-many")
    s3.put_bucket_versioning(Bucket="teardown-many", VersioningConfiguration={"Status": "Enabled"})
    for i in range(1_005):
        s3.put_object(Bucket="teardown-many", Key=f"k{i % 400}", Body=b"x")
    assert empty_bucket(s3, "teardown-many") == 1_005
    assert "Versions" not in s3.list_object_versions(Bucket="teardown-many")
    s3.delete_bucket(Bucket="teardown-many")


@pytest.fixture(autouse=True)
def _no_wait(monkeypatch):
    """moto deletes a stack at once: the waiter need not sleep between its checks."""
    import botocore.waiter

    monkeypatch.setattr(botocore.waiter.time, "sleep", lambda seconds: None)
