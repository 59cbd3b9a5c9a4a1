"""The embedded AWS: moto, built from template.yaml (docs/architecture.md, "The sandbox")."""

from modelops_dev.sandbox.core import (
    ACCOUNT,
    DEFAULT_PORT,
    PREFIX,
    PROJECT_ROOT,
    QUIET,
    REGION,
    LambdaContext,
    LocalFunction,
    PortInUse,
    Sandbox,
    Snapshot,
    claim_check,
    client_environment,
    embedded,
    served,
)

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
