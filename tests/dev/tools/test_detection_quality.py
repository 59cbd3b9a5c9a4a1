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


@pytest.mark.slow  # ~20 s
def test_performance_is_quiet_through_a_seasonal_year_and_a_real_drop_is_found():
    from modelops_dev.tools import performance_quality

    prepared = performance_quality.prepare(seed=0, customers=20_000)
    quiet = performance_quality.monitor(prepared)
    assert not any(month.alerted for month in quiet)
    estimate_error = [abs(m.estimated["roc_auc"].value - m.realized["roc_auc"]["value"]) for m in quiet]
    assert np.mean(estimate_error) < 0.02
    dropped = performance_quality.monitor(prepared, drop_start=3, share=0.17)
    assert any("realized:roc_auc" in month.flagged for month in dropped[3:5])


@pytest.mark.slow  # ~30 s
def test_real_panel_the_census_hiring_is_flagged_in_the_government_segment_only():
    from modelops_dev.tools import employment

    months = employment.run()
    quiet = [m for m in months if employment.QUIET[0] <= m.day <= employment.QUIET[1]]
    assert len(quiet) == 12 and sum(m.alerted for m in quiet) <= 1
    census = {m.day: m.features for m in months if m.day >= employment.CHANGE[1]}
    assert "growth[supersector=government]" in census[date(2000, 3, 1)] | census[date(2000, 5, 1)]
    assert not any("growth" in census[day] for day in census)  # the pooled growth never saw it
