"""IAM's policy evaluation, for one account: wildcards, the condition operators the
template uses, and the decision (Deny wins, then an Allow of the role)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from modelops_dev.sandbox.iam.actions import Request, Unmapped

Statement = dict[str, Any]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@cache
def _pattern(text: str, case_sensitive: bool) -> re.Pattern[str]:
    """IAM's wildcards: * any run of characters (also /), ? one character."""
    regex = fnmatch.translate(text).replace("[", "\\[")  # IAM has no character classes
    return re.compile(regex, 0 if case_sensitive else re.IGNORECASE)


def matches(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    return bool(_pattern(pattern, case_sensitive).match(value))


_OPERATORS = {
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "ArnEquals",
    "ArnNotEquals",
    "ArnLike",
    "ArnNotLike",
    "Bool",
    "Null",
}


def _condition_holds(operator: str, key: str, wanted: list[Any], request: Request) -> bool:
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    if base not in _OPERATORS:
        raise Unmapped(f"condition operator {operator}")
    value = request.key(key)
    if base == "Null":
        return (value is None) == (str(wanted[0]).lower() == "true")
    negated = "Not" in base
    if value is None:  # an absent key matches no positive operator, and every negated one
        return if_exists or negated
    texts = [str(w).lower() if isinstance(w, bool) else str(w) for w in wanted]
    if base in ("StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals"):
        hit = value in texts
    elif base in ("StringLike", "StringNotLike", "ArnLike", "ArnNotLike"):
        hit = any(matches(t, value) for t in texts)
    else:  # Bool and the IgnoreCase pair
        hit = value.lower() in (t.lower() for t in texts)
    return not hit if negated else hit


def conditions_hold(statement: Statement, request: Request) -> bool:
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, wanted in keys.items():
            if not _condition_holds(operator, key, as_list(wanted), request):
                return False
    return True


def statement_applies(statement: Statement, request: Request) -> bool:
    if "Action" in statement:
        if not any(matches(a, request.action, case_sensitive=False) for a in as_list(statement["Action"])):
            return False
    elif any(
        matches(a, request.action, case_sensitive=False) for a in as_list(statement.get("NotAction", []))
    ):
        return False
    if "Resource" in statement:
        if not any(matches(r, request.resource) for r in as_list(statement["Resource"])):
            return False
    elif any(matches(r, request.resource) for r in as_list(statement.get("NotResource", []))):
        return False
    return conditions_hold(statement, request)


def decide(identity: Sequence[Statement], request: Request, resource: Sequence[Statement] = ()) -> str:
    """'allow', 'explicit deny' or 'implicit deny' for one request (same account: an Allow of
    the role suffices; a Deny of the role or of the resource's policy overrides it)."""
    own = [s for s in identity if statement_applies(s, request)]
    others = [s for s in resource if statement_applies(s, request)]
    if any(s.get("Effect") == "Deny" for s in (*own, *others)):
        return "explicit deny"
    if any(s.get("Effect") == "Allow" for s in own):
        return "allow"
    return "implicit deny"


_S3_BUCKET_ACTIONS = {
    "s3:listbucket",
    "s3:listbucketversions",
    "s3:listbucketmultipartuploads",
    "s3:getbucketlocation",
    "s3:getlifecycleconfiguration",
    "s3:putlifecycleconfiguration",
}


def applicable(action: str, resource: str) -> bool:
    """Whether the action can apply to the resource at all (S3 bucket vs object actions,
    DynamoDB index ARNs, which only Query and Scan use)."""
    name = action.lower()
    if "*" in name or "?" in name:
        return True
    if name.startswith("s3:") and resource.startswith("arn:aws:s3:::"):
        on_bucket = "/" not in resource.removeprefix("arn:aws:s3:::")
        return on_bucket == (name in _S3_BUCKET_ACTIONS)
    if "/index/" in resource:
        return name in ("dynamodb:query", "dynamodb:scan")
    return True
