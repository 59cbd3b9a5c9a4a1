"""A tampered model artifact stops batch scoring before anything is published."""

import pytest

from modelops import registry, scores, store
from modelops_local import runner
from modelops_local.sandbox import embedded
from tests.conftest import QUIET
from tests.e2e.test_scoring_pipeline import SCORING, drain, train
from tests.e2e.test_training_pipeline import alert_inbox, received

pytestmark = pytest.mark.e2e


def test_a_tampered_artifact_fails_scoring_with_an_integrity_error(tmp_path):
    with embedded(environment=QUIET) as sandbox:
        train(sandbox, tmp_path)
        inbox = alert_inbox(sandbox)
        record = registry.get_version("churn", "1.0.0")
        artifact = bytearray(store.get_bytes(record.artifact_key))
        artifact[-10] ^= 0x01
        store.put_bytes(record.artifact_key, bytes(artifact))
        result = runner.follow(runner.start(sandbox.ref("ScoringStateMachine"), SCORING), timeout=600)
        assert result.status == "FAILED"
        assert result.error == "IntegrityError"
        assert "does not match the registry" in result.cause
        [alert] = received(inbox)
        assert alert["MessageAttributes"]["error"]["Value"] == "IntegrityError"
        assert scores.pointer("churn") is None
        assert store.list_keys("scores/") == []
        assert drain(sandbox.ref("CampaignQueue")) == []
