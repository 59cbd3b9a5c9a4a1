import numpy as np

from modelops_dev.demo.synthetic import DemoConfig, generate


def test_panel_size_types_and_missing_values():
    months = generate(DemoConfig(customers=3000, months=3, drift_month=None))
    assert [m.isoformat() for m, _ in months] == ["2025-01-01", "2025-02-01", "2025-03-01"]
    for _, table in months:
        assert table["customer_id"].size == 3000
        assert 0.02 < np.isnan(table["data_usage_gb"]).mean() < 0.08
        assert set(table["plan"]) == {"basic", "standard", "premium"}
        assert 0.015 < table["churned_next_month"].mean() < 0.15
    first, second = months[0][1], months[1][1]
    churned = set(first["customer_id"][first["churned_next_month"]])
    assert churned and churned.isdisjoint(second["customer_id"])  # churners leave, newcomers replace them


def test_the_drift_scenario_shifts_usage_and_southern_churn_from_the_drift_month():
    stable = generate(DemoConfig(customers=20000, months=3, drift_month=None, seed=3))
    drifted = generate(DemoConfig(customers=20000, months=3, drift_month=2, seed=3))
    usage = [np.nanmean(t["data_usage_gb"]) for _, t in drifted]
    assert usage[2] > 1.3 * usage[1]
    assert np.nanmean(stable[2][1]["data_usage_gb"]) < 1.1 * np.nanmean(stable[1][1]["data_usage_gb"])
    south = drifted[2][1]["region"] == "south"
    stable_south = stable[2][1]["region"] == "south"
    assert (
        drifted[2][1]["churned_next_month"][south].mean()
        > 1.3 * stable[2][1]["churned_next_month"][stable_south].mean()
    )
