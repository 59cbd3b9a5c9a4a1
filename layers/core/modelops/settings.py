"""Settings from environment variables: a typed model, checked when a function starts (its
handler module calls ``check``) and read once per process.

template.yaml's Globals give every function the same variables (the dispatcher also gets the
state machines' ARNs). A variable missing or empty is one ``SettingsError`` naming it, at cold
start, instead of a KeyError in the middle of the first stage that reads it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from modelops.caches import process_cache


class SettingsError(RuntimeError):
    """The function's environment lacks a variable the library needs."""


class Settings(BaseModel):
    """Each field is read from the environment variable of its alias."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    bucket: str = Field(alias="MODELOPS_BUCKET", min_length=1)
    registry_table: str = Field(alias="REGISTRY_TABLE", min_length=1)
    metadata_table: str = Field(alias="METADATA_TABLE", min_length=1)
    scores_table: str = Field(alias="SCORES_TABLE", min_length=1)
    contacts_table: str = Field(alias="CONTACTS_TABLE", min_length=1)
    online_features_table: str = Field(alias="ONLINE_FEATURES_TABLE", min_length=1)
    online_scores_table: str = Field(alias="ONLINE_SCORES_TABLE", min_length=1)
    campaign_queue_url: str = Field(alias="CAMPAIGN_QUEUE_URL", min_length=1)
    alert_topic_arn: str = Field("", alias="ALERT_TOPIC_ARN")
    lake_database: str = Field("", alias="LAKE_DATABASE")
    athena_workgroup: str = Field("", alias="ATHENA_WORKGROUP")
    # A superseded publication table is deleted this long after the pointer moved off it:
    # longer than any reader (a function, at most 900 s) holds the pointer it read.
    reader_grace_seconds: int = Field(900, alias="READER_GRACE_SECONDS", ge=0)
    # Only the dispatcher function has these (the state machines it starts).
    training_state_machine_arn: str = Field("", alias="TRAINING_STATE_MACHINE_ARN")
    scoring_state_machine_arn: str = Field("", alias="SCORING_STATE_MACHINE_ARN")


def load(environment: Mapping[str, str]) -> Settings:
    """The settings an environment holds; a missing or empty variable is a SettingsError
    naming every such variable in one line."""
    try:
        return Settings.model_validate(dict(environment))
    except ValidationError as error:
        kinds: dict[str, list[str]] = {"missing": [], "empty": [], "not a whole number:": []}
        for problem in error.errors():
            name, value = str(problem["loc"][0]), environment.get(str(problem["loc"][0]))
            kind = (
                "missing" if problem["type"] == "missing" else "empty" if not value else "not a whole number:"
            )
            kinds[kind].append(name)
        problems = [
            f"{kind} environment variable {', '.join(sorted(names))}"
            if kind != "not a whole number:"
            else f"environment variable {', '.join(sorted(names))} is not a whole number"
            for kind, names in kinds.items()
            if names
        ]
        raise SettingsError(
            f"modelops settings: {'; '.join(problems)} (template.yaml's Globals give every function these)"
        ) from None


def check() -> None:
    """Fail now, by name, if the environment lacks a setting (a handler's cold start)."""
    load(os.environ)


@process_cache()
def settings() -> Settings:
    return load(os.environ)
