"""The template's roles: template.yaml expanded by the SAM translator (policy templates such
as S3CrudPolicy become statements; ``sam_translate.py``, run with the SAM environment's
Python), their intrinsic functions resolved to the sandbox's names."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from modelops_dev.sandbox.iam.actions import Request
from modelops_dev.sandbox.iam.policy import Statement, as_list, decide
from modelops_dev.sandbox.template import NO_VALUE, Resolver


@dataclass
class Roles:
    """Who acts as which role, what each role allows, and the buckets' policies."""

    statements: dict[str, list[Statement]]  # principal (template logical id) -> statements
    managed: dict[str, list[str]]  # principal -> managed policy ARNs (Lambda's log/X-Ray agents)
    bucket_policies: dict[str, list[Statement]]  # bucket name -> statements
    service_roles: list[str] = field(default_factory=list)  # roles only AWS services assume

    @classmethod
    def from_template(cls, root: Path, resolver: Resolver, sam_python: Path | None = None) -> Roles:
        return cls.from_translated(translated_template(root, sam_python), resolver)

    @classmethod
    def from_translated(cls, template: dict[str, Any], resolver: Resolver) -> Roles:
        resources: dict[str, Any] = template["Resources"]
        role_of: dict[str, str] = {}  # role logical id -> principal
        for logical_id, resource in resources.items():
            properties = resource.get("Properties", {})
            reference = {
                "AWS::Lambda::Function": properties.get("Role"),
                "AWS::StepFunctions::StateMachine": properties.get("RoleArn"),
                "AWS::Scheduler::Schedule": (properties.get("Target") or {}).get("RoleArn"),
                "AWS::Events::Rule": next(iter(properties.get("Targets") or [{}])).get("RoleArn"),
            }.get(resource["Type"])
            if isinstance(reference, dict) and "Fn::GetAtt" in reference:
                role_of[reference["Fn::GetAtt"][0]] = logical_id
        statements: dict[str, list[Statement]] = {}
        managed: dict[str, list[str]] = {}
        for role, principal in role_of.items():
            properties = resources[role]["Properties"]
            # A policy under Fn::If (SAM's conditional policies) is the one its condition picks.
            policies = [
                resolver.resolve(policy) if "Fn::If" in policy else policy
                for policy in properties.get("Policies", [])
            ]
            documents = [policy["PolicyDocument"] for policy in policies if policy is not NO_VALUE]
            statements[principal] = [
                _resolved(statement, resolver, f"{role}.Policies")
                for document in documents
                for statement in as_list(document["Statement"])
            ]
            managed[principal] = [str(arn) for arn in properties.get("ManagedPolicyArns", [])]
        bucket_policies: dict[str, list[Statement]] = {}
        for logical_id, resource in resources.items():
            if resource["Type"] == "AWS::S3::BucketPolicy":
                bucket = resolver.resolve(resource["Properties"]["Bucket"])
                document = resource["Properties"]["PolicyDocument"]
                bucket_policies[bucket] = [
                    _resolved(s, resolver, logical_id) for s in as_list(document["Statement"])
                ]
        service_roles = sorted(
            logical_id
            for logical_id, resource in resources.items()
            if resource["Type"] == "AWS::IAM::Role" and logical_id not in role_of
        )
        return cls(statements, managed, bucket_policies, service_roles)

    def resource_statements(self, request: Request) -> list[Statement]:
        if request.action.startswith("s3:"):
            bucket = request.resource.removeprefix("arn:aws:s3:::").split("/", 1)[0]
            return [
                s for s in self.bucket_policies.get(bucket, []) if s.get("Principal") in ("*", {"AWS": "*"})
            ]
        return []

    def decide(self, principal: str, request: Request) -> str:
        if principal not in self.statements:
            return "implicit deny"
        return decide(self.statements[principal], request, self.resource_statements(request))


def _resolved(statement: Statement, resolver: Resolver, where: str) -> Statement:
    resolved: Statement = resolver.resolve(statement)
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        for value in as_list(resolved.get(key, [])):
            if not isinstance(value, str):
                raise ValueError(f"{where}: cannot resolve {key} {value!r} to a string")
    return resolved


@cache
def translated_template(root: Path, sam_python: Path | None = None) -> dict[str, Any]:
    """template.yaml expanded by the SAM translator (run in the SAM environment)."""
    python = sam_python or root / ".venv-sam" / "bin" / "python"
    if not python.exists():
        raise FileNotFoundError(
            f"{python} is missing: `make .venv-sam/.installed` creates the SAM environment"
        )
    script = Path(__file__).with_name("sam_translate.py")
    done = subprocess.run(  # noqa: S603 - our own script, our own template
        [str(python), str(script), str(root / "template.yaml")],
        capture_output=True,
        text=True,
        check=False,
        env={"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
    )
    if done.returncode != 0:
        raise RuntimeError(f"SAM translation of template.yaml failed: {done.stderr.strip()[-2000:]}")
    document: dict[str, Any] = json.loads(done.stdout)
    return document
