"""Least privilege, verified: every AWS call that a function, a state machine or a schedule
makes in the sandbox is checked against the IAM role template.yaml gives it.

The roles come from the template expanded by the SAM translator (policy templates such as
S3CrudPolicy become statements; `sam_translate.py`, run with the SAM environment's Python),
their intrinsic functions resolved to the sandbox's names. Each call is mapped to the IAM
action(s) and resource ARN(s) AWS authorizes it as, and evaluated here (Deny wins, then an
Allow of the role; bucket policies' Deny statements apply too). A call the role would deny
fails the way AWS fails it: a ClientError `AccessDenied`.

Who is calling:
- a function: the sandbox runs its handler in-process under `acting_as(logical_id)` (a
  context variable, carried into the thread pools boto3's transfers use);
- a state machine: moto's Step Functions engine makes its calls (Lambda invoke, SNS publish,
  the Map's ItemReader) from inside an evaluation `Environment`, found on the call stack.
  moto runs a Distributed Map's children in-process, so the `states:StartExecution` that AWS
  makes for each child under the state machine's role is recorded here, per item;
- a schedule: `Sandbox.fire_schedule` starts the target as the schedule's role would.
Calls from anyone else (tests, the CLI, the sandbox itself) are not checked.

The parts: ``actions`` (an API call as IAM requests), ``policy`` (evaluation), ``roles``
(the template's roles), ``authorizer`` (who is calling; every check recorded) and
``report`` (`make least-privilege`'s printout).
"""

from modelops_dev.sandbox.iam.actions import Request, Unmapped, requests_for
from modelops_dev.sandbox.iam.authorizer import Authorizer, Call, acting_as
from modelops_dev.sandbox.iam.policy import Statement, decide, matches, statement_applies
from modelops_dev.sandbox.iam.roles import Roles, translated_template

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
