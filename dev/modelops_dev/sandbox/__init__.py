"""The embedded AWS: moto, built from template.yaml, with what moto lacks (docs/architecture.md,
"The sandbox").

- ``core``: ``Sandbox`` (the template's resources, named deterministically) and ``embedded()``
- ``server``: ``served()``, the sandbox as a local server on 127.0.0.1, and ``client_environment``
- ``provisioning``: names and creates every resource of template.yaml
- ``runtime``: the template's functions, run in this process on Lambda's Invoke
- ``emulation``: EventBridge routing, Scheduler firing, Map failures as on AWS
- ``athena``: Athena's queries, run on DuckDB over the same S3 objects
- ``state``: snapshots, restores, resets and change tracking
- ``speedups``: moto's own costs, cut without changing an answer (``dynamodb``, ``serving``)
- ``template``: the CloudFormation YAML loader and intrinsic-function resolver
- ``hooks``: a handler on every botocore client of the process
- ``iam``: every call of a principal checked against its role in the template
"""

from modelops_dev.sandbox.constants import (
    ACCOUNT,
    DEFAULT_PORT,
    PREFIX,
    PROJECT_ROOT,
    QUIET,
    REGION,
)
from modelops_dev.sandbox.core import Sandbox, embedded
from modelops_dev.sandbox.runtime import LambdaContext, LocalFunction
from modelops_dev.sandbox.server import PortInUse, claim_check, client_environment, served
from modelops_dev.sandbox.state import Snapshot

__all__ = [
    "ACCOUNT",
    "DEFAULT_PORT",
    "PREFIX",
    "PROJECT_ROOT",
    "QUIET",
    "REGION",
    "LambdaContext",
    "LocalFunction",
    "PortInUse",
    "Sandbox",
    "Snapshot",
    "claim_check",
    "client_environment",
    "embedded",
    "served",
]
