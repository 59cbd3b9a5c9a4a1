"""The offline IAM evaluator of the sandbox: API calls as IAM requests, and the decision of a
role's statements (wildcards, Deny over Allow, conditions), without AWS."""

import pytest

from modelops_dev.sandbox.iam import Request, Roles, Unmapped, decide, matches, requests_for
from modelops_dev.sandbox.template import Resolver

REGION, ACCOUNT = "us-east-1", "123456789012"
BUCKET = "arn:aws:s3:::b"


def allow(action, resource, **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource, **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("arn:aws:s3:::b/runs/*", "arn:aws:s3:::b/runs/r1/features/part-0.npz", True),
        ("arn:aws:s3:::b/runs/*", "arn:aws:s3:::b/models/m/1.0.0/model.joblib", False),
        ("arn:aws:s3:::b/runs/*", "arn:aws:s3:::b/runs", False),
        (
            "arn:aws:s3:::b/runs/*/features/manifest.json",
            "arn:aws:s3:::b/runs/r/features/manifest.json",
            True,
        ),
        ("arn:aws:s3:::b/runs/*/features/manifest.json", "arn:aws:s3:::b/runs/r/features/part.npz", False),
        ("arn:aws:s3:::b/v?", "arn:aws:s3:::b/v1", True),
        ("arn:aws:s3:::b/v?", "arn:aws:s3:::b/v12", False),
        ("arn:aws:s3:::b/[x]", "arn:aws:s3:::b/x", False),  # no character classes in IAM
        ("arn:aws:s3:::B/*", "arn:aws:s3:::b/k", False),  # resources are case-sensitive
    ],
)
def test_resource_wildcards(pattern, value, expected):
    assert matches(pattern, value) is expected


def test_actions_match_case_insensitively_with_wildcards():
    statements = [allow("S3:get*", f"{BUCKET}/*")]
    assert decide(statements, Request("s3:GetObject", f"{BUCKET}/k")) == "allow"
    assert decide(statements, Request("s3:PutObject", f"{BUCKET}/k")) == "implicit deny"


def test_deny_wins_over_allow_and_nothing_is_allowed_by_default():
    statements = [allow("s3:*", f"{BUCKET}/*"), deny("s3:PutObject", f"{BUCKET}/specs/*")]
    assert decide(statements, Request("s3:PutObject", f"{BUCKET}/runs/x")) == "allow"
    assert decide(statements, Request("s3:PutObject", f"{BUCKET}/specs/churn.yaml")) == "explicit deny"
    assert decide([], Request("s3:GetObject", f"{BUCKET}/k")) == "implicit deny"


def test_a_resource_policy_can_deny_but_not_allow_on_its_own():
    secure_only = deny("s3:*", f"{BUCKET}/*", Condition={"Bool": {"aws:SecureTransport": "false"}})
    request = Request("s3:GetObject", f"{BUCKET}/k", (("aws:SecureTransport", "false"),))
    assert decide([allow("s3:GetObject", f"{BUCKET}/*")], request, [secure_only]) == "explicit deny"
    secure = Request("s3:GetObject", f"{BUCKET}/k", (("aws:SecureTransport", "true"),))
    assert decide([allow("s3:GetObject", f"{BUCKET}/*")], secure, [secure_only]) == "allow"
    assert decide([], secure, [allow("s3:GetObject", f"{BUCKET}/*")]) == "implicit deny"


def test_not_action_and_not_resource():
    statements = [
        {"Effect": "Allow", "NotAction": "s3:DeleteObject", "Resource": f"{BUCKET}/*"},
        {"Effect": "Deny", "Action": "s3:PutObject", "NotResource": f"{BUCKET}/runs/*"},
    ]
    assert decide(statements, Request("s3:DeleteObject", f"{BUCKET}/runs/x")) == "implicit deny"
    assert decide(statements, Request("s3:PutObject", f"{BUCKET}/runs/x")) == "allow"
    assert decide(statements, Request("s3:PutObject", f"{BUCKET}/models/x")) == "explicit deny"


@pytest.mark.parametrize(
    ("condition", "context", "expected"),
    [
        ({"StringLike": {"s3:prefix": ["data/*", "specs/*"]}}, {"s3:prefix": "data/customers/"}, "allow"),
        ({"StringLike": {"s3:prefix": ["data/*"]}}, {"s3:prefix": "models/"}, "implicit deny"),
        ({"StringLike": {"s3:prefix": ["data/*"]}}, {}, "implicit deny"),  # key absent: no match
        ({"StringLikeIfExists": {"s3:prefix": ["data/*"]}}, {}, "allow"),
        ({"StringNotEquals": {"s3:prefix": "models/"}}, {}, "allow"),  # negated, key absent: true
        ({"StringNotEquals": {"s3:prefix": "models/"}}, {"s3:prefix": "models/"}, "implicit deny"),
        ({"StringEquals": {"s3:prefix": "data/"}}, {"s3:prefix": "data/"}, "allow"),
        ({"Null": {"s3:prefix": "true"}}, {}, "allow"),
        ({"Null": {"s3:prefix": "true"}}, {"s3:prefix": "x"}, "implicit deny"),
    ],
)
def test_conditions(condition, context, expected):
    statements = [allow("s3:ListBucket", BUCKET, Condition=condition)]
    request = Request("s3:ListBucket", BUCKET, tuple(context.items()))
    assert decide(statements, request) == expected


def test_an_unknown_condition_operator_is_refused_rather_than_ignored():
    statements = [allow("s3:ListBucket", BUCKET, Condition={"DateGreaterThan": {"aws:CurrentTime": "x"}})]
    with pytest.raises(Unmapped, match="DateGreaterThan"):
        decide(statements, Request("s3:ListBucket", BUCKET))


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected"),
    [
        ("s3", "GetObject", {"Bucket": "b", "Key": "runs/r/x"}, [("s3:GetObject", f"{BUCKET}/runs/r/x")]),
        ("s3", "HeadObject", {"Bucket": "b", "Key": "k"}, [("s3:GetObject", f"{BUCKET}/k")]),
        (
            "s3",
            "GetObject",
            {"Bucket": "b", "Key": "k", "VersionId": "1"},
            [("s3:GetObjectVersion", f"{BUCKET}/k")],
        ),
        ("s3", "UploadPart", {"Bucket": "b", "Key": "k"}, [("s3:PutObject", f"{BUCKET}/k")]),
        ("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "data/"}, [("s3:ListBucket", BUCKET)]),
        (
            "s3",
            "CopyObject",
            {"Bucket": "b", "Key": "to", "CopySource": {"Bucket": "a", "Key": "from"}},
            [("s3:GetObject", "arn:aws:s3:::a/from"), ("s3:PutObject", f"{BUCKET}/to")],
        ),
        (
            "s3",
            "DeleteObjects",
            {"Bucket": "b", "Delete": {"Objects": [{"Key": "x"}, {"Key": "y"}]}},
            [("s3:DeleteObject", f"{BUCKET}/x"), ("s3:DeleteObject", f"{BUCKET}/y")],
        ),
        (
            "dynamodb",
            "Query",
            {"TableName": "t", "IndexName": "TopScores"},
            [("dynamodb:Query", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t/index/TopScores")],
        ),
        (
            "dynamodb",
            "TransactWriteItems",
            {"TransactItems": [{"Put": {"TableName": "t"}}, {"ConditionCheck": {"TableName": "u"}}]},
            [
                ("dynamodb:PutItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t"),
                ("dynamodb:ConditionCheckItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/u"),
            ],
        ),
        (
            "dynamodb",
            "BatchWriteItem",
            {"RequestItems": {"t": [], "u": []}},
            [
                ("dynamodb:BatchWriteItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t"),
                ("dynamodb:BatchWriteItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/u"),
            ],
        ),
        (
            "sqs",
            "SendMessageBatch",
            {"QueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/q.fifo"},
            [("sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:q.fifo")],
        ),
        (
            "events",
            "PutEvents",
            {"Entries": [{"Source": "modelops"}]},
            [("events:PutEvents", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default")],
        ),
        (
            "lambda",
            "Invoke",
            {"FunctionName": "f"},
            [("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f")],
        ),
        ("sns", "Publish", {"TopicArn": "arn:t"}, [("sns:Publish", "arn:t")]),
        ("states", "StartExecution", {"stateMachineArn": "arn:sm"}, [("states:StartExecution", "arn:sm")]),
    ],
)
def test_api_calls_as_iam_requests(service, operation, params, expected):
    requests = requests_for(service, operation, params, REGION, ACCOUNT)
    assert [(r.action, r.resource) for r in requests] == expected


def test_a_listing_carries_its_prefix_and_an_unknown_operation_is_unmapped():
    [listing] = requests_for("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "data/"}, REGION, ACCOUNT)
    assert listing.key("s3:prefix") == "data/"
    with pytest.raises(Unmapped, match="athena:CreateNamedQuery"):
        requests_for("athena", "CreateNamedQuery", {}, REGION, ACCOUNT)
    with pytest.raises(Unmapped, match="kinesis:PutRecord"):
        requests_for("kinesis", "PutRecord", {}, REGION, ACCOUNT)


def test_athena_and_glue_calls_as_iam_requests():
    [start] = requests_for(
        "athena", "StartQueryExecution", {"WorkGroup": "lake", "QueryString": "q"}, REGION, ACCOUNT
    )
    assert (start.action, start.resource) == (
        "athena:StartQueryExecution",
        f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/lake",
    )
    table = requests_for("glue", "GetTable", {"DatabaseName": "db", "Name": "t"}, REGION, ACCOUNT)
    assert [r.resource for r in table] == [
        f"arn:aws:glue:{REGION}:{ACCOUNT}:catalog",
        f"arn:aws:glue:{REGION}:{ACCOUNT}:database/db",
        f"arn:aws:glue:{REGION}:{ACCOUNT}:table/db/t",
    ]


def translated(policy_statements):
    """A SAM-translated template in miniature: one function, its role, a bucket policy."""
    return {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Role": {"Fn::GetAtt": ["FnRole", "Arn"]}},
            },
            "FnRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "ManagedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
                    "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": policy_statements}}],
                },
            },
            "LoggingRole": {"Type": "AWS::IAM::Role", "Properties": {}},
            "Policy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": {"Ref": "Bucket"},
                    "PolicyDocument": {
                        "Statement": [
                            {
                                "Effect": "Deny",
                                "Principal": "*",
                                "Action": "s3:*",
                                "Resource": {"Fn::Sub": "arn:aws:s3:::${Bucket}/specs/*"},
                            }
                        ]
                    },
                },
            },
        }
    }


def test_roles_come_from_the_translated_template_with_intrinsics_resolved():
    resolver = Resolver({"Bucket": "b"}, REGION, ACCOUNT)
    statement = {
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${name}/*", {"name": {"Ref": "Bucket"}}]},
    }
    roles = Roles.from_translated(translated([statement]), resolver)
    assert roles.decide("Fn", Request("s3:PutObject", f"{BUCKET}/runs/x")) == "allow"
    assert roles.decide("Fn", Request("s3:PutObject", f"{BUCKET}/specs/x")) == "explicit deny"
    assert roles.decide("Other", Request("s3:GetObject", f"{BUCKET}/runs/x")) == "implicit deny"
    assert roles.managed["Fn"] == ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]
    assert roles.service_roles == ["LoggingRole"]


def test_an_unresolvable_resource_is_an_error_not_a_silent_mismatch():
    resolver = Resolver({"Bucket": "b"}, REGION, ACCOUNT)
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": {"Fn::If": ["c", "a", "b"]}}
    with pytest.raises(ValueError, match="cannot resolve Resource"):
        Roles.from_translated(translated([statement]), resolver)
