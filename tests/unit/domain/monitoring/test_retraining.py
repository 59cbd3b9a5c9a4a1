"""Whether a drift alert starts a retraining."""


def test_retraining_needs_the_minimum_severity():
    from modelops.domain.monitoring.alerts import should_retrain

    assert should_retrain("high", "medium") and should_retrain("medium", "medium")
    assert not should_retrain("low", "medium") and not should_retrain("high", None)
