"""Settings from environment variables, read once per process."""

from __future__ import annotations

import os
from dataclasses import dataclass

from modelops.caches import process_cache


@dataclass(frozen=True)
class Settings:
    bucket: str
    registry_table: str
    metadata_table: str
    scores_table: str
    contacts_table: str
    online_features_table: str
    online_scores_table: str
    campaign_queue_url: str
    alert_topic_arn: str
    lake_database: str
    athena_workgroup: str
    # Only the dispatcher function has these (the state machines it starts).
    training_state_machine_arn: str = ""
    scoring_state_machine_arn: str = ""


@process_cache()
def settings() -> Settings:
    return Settings(
        bucket=os.environ["MODELOPS_BUCKET"],
        registry_table=os.environ["REGISTRY_TABLE"],
        metadata_table=os.environ["METADATA_TABLE"],
        scores_table=os.environ["SCORES_TABLE"],
        contacts_table=os.environ["CONTACTS_TABLE"],
        online_features_table=os.environ["ONLINE_FEATURES_TABLE"],
        online_scores_table=os.environ["ONLINE_SCORES_TABLE"],
        campaign_queue_url=os.environ["CAMPAIGN_QUEUE_URL"],
        alert_topic_arn=os.environ.get("ALERT_TOPIC_ARN", ""),
        lake_database=os.environ.get("LAKE_DATABASE", ""),
        athena_workgroup=os.environ.get("ATHENA_WORKGROUP", ""),
        training_state_machine_arn=os.environ.get("TRAINING_STATE_MACHINE_ARN", ""),
        scoring_state_machine_arn=os.environ.get("SCORING_STATE_MACHINE_ARN", ""),
    )
