"""Print template.yaml as plain CloudFormation (JSON), expanded by the SAM translator.

Run with the SAM environment's Python (`.venv-sam/bin/python`, where aws-sam-cli installs
the translator; it pins an older pydantic than the layers, so it cannot live in `.venv`).
Local CodeUri/DefinitionUri/ContentUri paths become placeholder S3 URIs, as `sam validate`
does: the translator only accepts S3 locations, and roles and policies do not depend on them.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

LOCAL_PATHS = ("CodeUri", "DefinitionUri", "ContentUri")


class _NoManagedPolicies:
    """The translator looks managed policy names up in IAM; the template names none."""

    def load(self) -> dict[str, str]:
        return {}


def translate(template_path: Path) -> dict[str, Any]:
    from samcli.yamlhelper import yaml_parse
    from samtranslator.translator.transform import transform

    template: dict[str, Any] = yaml_parse(template_path.read_text())
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties") or {}
        for key in LOCAL_PATHS:
            if isinstance(properties.get(key), str) and not properties[key].startswith("s3://"):
                properties[key] = "s3://placeholder/" + properties[key].strip("/")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    translated: dict[str, Any] = transform(template, {}, _NoManagedPolicies())
    return translated


if __name__ == "__main__":
    json.dump(translate(Path(sys.argv[1])), sys.stdout, indent=1, default=str)
