"""The drift monitor on real, seasonal data (Chicago)."""

from __future__ import annotations

from modelops_dev.tools.bench.figures import Figure


def real_data() -> list[Figure]:
    """The monitor on real, seasonal data (modelops_dev.tools.real_data: Chicago weather and
    ridership, daily rows, monthly runs): alerted months in the quiet year, as a share."""
    from modelops_dev.tools import real_data

    result = real_data.monitor_directly()
    return [
        Figure.limited(
            f"drift.real_quiet_year_alerted_months_share ({result.quiet_alerted} of {result.quiet_months})",
            result.quiet_alerted / result.quiet_months,
            "share",
            0.1,
        ),
        Figure.at_least(
            "drift.real_change_flagged_in_its_month (Addison, 2016-04)",
            float(result.change_flagged),
            "bool",
            1.0,
        ),
    ]
