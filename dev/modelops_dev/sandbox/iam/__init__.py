"""Least privilege, verified: every AWS call of a principal checked against its role in
template.yaml (``authorizer``)."""

from modelops_dev.sandbox.iam.authorizer import (
    Authorizer,
    Call,
    Request,
    Roles,
    Statement,
    Unmapped,
    acting_as,
    decide,
    matches,
    requests_for,
    statement_applies,
    translated_template,
)

__all__ = [
    "Authorizer",
    "Call",
    "Request",
    "Roles",
    "Statement",
    "Unmapped",
    "acting_as",
    "decide",
    "matches",
    "requests_for",
    "statement_applies",
    "translated_template",
]
