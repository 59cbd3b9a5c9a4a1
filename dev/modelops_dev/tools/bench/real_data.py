"""The monitor on real, seasonal data: Chicago (drift alone, then the whole monitor replayed) and
us_employment (the whole monitor with a segment)."""

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
        *_replayed(),
    ]


def _replayed() -> list[Figure]:
    """The whole monitor (features, segments, scores, performance) replayed on both panels: the
    quiet year's alerted months, performance alerts counted, and the known change's first flag."""
    from modelops_dev.tools import employment, real_data

    chicago = [m for m in real_data.replayed() if real_data.QUIET_YEAR[0] <= m.day <= real_data.QUIET_YEAR[1]]
    months = employment.run()
    quiet = [m for m in months if employment.QUIET[0] <= m.day <= employment.QUIET[1]]
    # The change's first flag: the first month after the quiet year (whose false alarms are
    # counted above) with the government segment flagged.
    census = next(
        (m for m in months if m.day > employment.QUIET[1] and "growth[supersector=government]" in m.features),
        None,
    )
    return [
        Figure.limited(
            "replay.chicago_quiet_year_alerted_months (of 12)", sum(m.alerted for m in chicago), "months", 1
        ),
        Figure.limited(
            "replay.us_employment_quiet_year_alerted_months (of 12)",
            sum(m.alerted for m in quiet),
            "months",
            1,
        ),
        Figure.at_least(
            "replay.us_employment_census_flagged_in_its_first_month (government, 2000-03)",
            float(census is not None and census.day == employment.CHANGE[1]),
            "bool",
            1.0,
        ),
    ]
