"""The monitor on the seasonal demo scenario and on real data (a month-by-month replay of
what the scoring runs' validate_data does, without AWS): quiet through the seasons, quick on a
change. `make bench` runs the same over many seeds, with targets."""

from datetime import date

import numpy as np
import pytest

from modelops.domain.spec import Drift
from modelops_dev.demo.synthetic import DemoConfig, generate, season_of_usage
from modelops_dev.tools import drift_quality, real_data


def test_the_seasonal_scenario_has_a_yearly_cycle_a_holiday_spike_and_habits():
    months = generate(DemoConfig(customers=3000, months=24, drift_month=None, seasonal=True, seed=1))
    usage = np.array([np.nanmedian(table["data_usage_gb"]) for _, table in months])
    assert usage[6] > 1.25 * usage[0] and usage[11] > 1.15 * usage[10]  # summer peak, December spike
    assert np.corrcoef(usage[:12], usage[12:])[0, 1] > 0.95  # the same shape each year
    assert season_of_usage(date(2025, 12, 1)) > season_of_usage(date(2025, 11, 1))
    first, second = months[0][1], months[1][1]
    stayed = np.isin(first["customer_id"], second["customer_id"])
    a = first["data_usage_gb"][stayed]
    b = second["data_usage_gb"][np.isin(second["customer_id"], first["customer_id"])]
    present = ~np.isnan(a) & ~np.isnan(b)
    assert np.corrcoef(np.log(a[present]), np.log(b[present]))[0, 1] > 0.8  # behaviour carries over


@pytest.mark.slow  # ~3 s
def test_a_seasonal_year_is_quiet_and_a_change_is_flagged_in_its_month():
    profiles = drift_quality.simulate(seed=0, customers=2000, months=48)
    assert drift_quality.monitor(profiles, 36, Drift()) == [set()] * 12
    change = drift_quality.Change("monthly_charges", "level", 0.5, start=40)
    changed = drift_quality.simulate(seed=0, customers=2000, months=41, change=change)
    assert "monthly_charges" in drift_quality.monitor(changed, 36, Drift())[-1]


@pytest.mark.slow  # ~4 s
def test_real_data_quiet_year_is_silent_and_the_station_closure_is_flagged_in_its_month():
    result = real_data.monitor_directly(until=real_data.CHANGE[1])
    assert result.quiet_months == 12 and result.quiet_alerted == 0
    assert result.change_flagged  # Addison's ridership falls in 2016-04
