"""Where the project is and how the sandbox names its AWS: region, account, ports, moto's
settings and the environment of a process that talks to it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from moto.core.config import DefaultConfig

PROJECT_ROOT = Path(__file__).resolve().parents[3]
REGION = "us-east-1"
ACCOUNT = "123456789012"
PREFIX = "modelops-local"
DEFAULT_PORT = 4566
MOTO_CONFIG: DefaultConfig = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}
# Template parameters the sandbox deploys with unless told otherwise: its readers run in this
# process and never hold a publication pointer for minutes, so a superseded publication
# table is deleted without waiting (tests of the grace set it).
LOCAL_PARAMETERS = {"ReaderGraceSeconds": "0"}
# For demos, tests and benchmarks: warnings only, no metric lines on stdout.
QUIET = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
ROLE = f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-role"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
