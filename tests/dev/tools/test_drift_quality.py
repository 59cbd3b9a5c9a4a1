"""The drift monitor's false alarms and power over simulated runs (the tools' simulation,
``modelops_dev.tools.drift_quality``, which `make bench` runs at full size)."""

import numpy as np
import pytest

from modelops_dev.tools.drift_quality import stationary_run


@pytest.mark.slow
def test_false_alarms_and_power_over_simulated_runs():
    """A seeded sample of the benchmark's check (`make bench` runs 200 of each)."""
    rng = np.random.default_rng(2026)
    runs = 40
    false_alarms = sum(stationary_run(rng, 30, None, 0.0)[0] for _ in range(runs))
    assert false_alarms <= 0.05 * runs, f"{false_alarms} of {runs} stationary runs alerted"
    detected = sum(stationary_run(rng, 1, 0, 0.25)[1] for _ in range(runs))
    assert detected >= 0.95 * runs, f"a 0.25-sd shift was flagged in only {detected} of {runs} runs"
