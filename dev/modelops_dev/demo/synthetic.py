"""Synthetic customer data for the demo churn model, with a documented data generating process.

Each month every active customer gets a snapshot row. Customers who churn leave after the
month they churn in and are replaced by new customers, so the panel keeps its size; 240
months are simulated before the first snapshot so that the panel (tenure, plan and
contract mix) starts in its steady state.

Per customer (fixed): region (north/south/east/west, 30/25/25/20%), age (normal 45±13,
18-90, 3% missing), plan (basic/standard/premium, 50/35/15%), contract (monthly/annual,
60/40%), base usage u0 ~ lognormal(1.6, 0.6) GB, price sensitivity s = 1.0.
Per month: monthly_charges = plan price (30/55/85) + 0.8·usage + N(0, 4); data_usage_gb =
u0 · lognormal(0, 0.25) (5% missing); support_calls ~ Poisson(0.3 + 0.4·[usage > 8]);
late_payments ~ Poisson(0.15); tenure_months grows by one each month.

Outcome: churned_next_month ~ Bernoulli(sigmoid(z)) with
  z = -3.2 + 0.9·[monthly] + 0.45·support_calls + 0.6·late_payments
      + s·(monthly_charges - 55)/25 - 0.025·min(tenure_months, 60)
      - 0.35·[premium] + 0.01·(age - 45)        (age missing: treated as 45)

Drift scenario (from ``drift_month``, months counted from 0):
  model drift: price sensitivity of the south region goes from 1.0 to 2.5;
  data drift: data_usage_gb of every customer is multiplied by 2.

Seasonal scenario (``seasonal=True``; use ``months`` >= 36): the world has a calendar and
customers have habits.
  usage: u0 · exp(a_t) · season(month) with a_t = 0.7·a_(t-1) + N(0, 0.18) per customer
    (a heavy user this month is likely one next month: behaviour carries over), season =
    1 + 0.18·cos(2π(month - 7)/12) (a summer peak) × 1.30 in December (the holiday spike);
  monthly_charges: also + 6 in December (holiday extras) and + 0.06·price·cos(2π(month-1)/12)
    (winter roaming and bundles);
  everything downstream of usage (support calls, charges, churn) follows the seasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from modelops.domain.periods import add_months

REGIONS = np.array(["north", "south", "east", "west"])
PLANS = np.array(["basic", "standard", "premium"])
PLAN_PRICE = np.array([30.0, 55.0, 85.0])
CONTRACTS = np.array(["monthly", "annual"])


# The customers of the tests' lake (tests/states.py), which the sample events and make
# bench's online figures are also made from: events/online_*.json name customers in it.
SAMPLE_CUSTOMERS = 1_000


@dataclass(frozen=True)
class DemoConfig:
    customers: int = 10_000
    months: int = 12
    start: date = date(2025, 1, 1)
    drift_month: int | None = 9
    seed: int = 7
    burn_in: int = 240  # months simulated before the first snapshot, so the panel starts stationary
    seasonal: bool = False  # a yearly cycle, a holiday spike and customer habits (see above)


def season_of_usage(month: date) -> float:
    """The seasonal scenario's usage multiplier of a calendar month."""
    cycle = 1 + 0.18 * np.cos(2 * np.pi * (month.month - 7) / 12)
    return float(cycle * (1.30 if month.month == 12 else 1.0))


def season_of_charges(month: date, price: np.ndarray) -> np.ndarray:
    """The seasonal scenario's extra charges of a calendar month (per customer's plan price)."""
    extras: np.ndarray = 0.06 * price * np.cos(2 * np.pi * (month.month - 1) / 12) + (
        6.0 if month.month == 12 else 0.0
    )
    return extras


def _new_customers(
    rng: np.random.Generator, count: int, first_id: int, seasonal: bool = False
) -> dict[str, np.ndarray]:
    age = np.clip(rng.normal(45, 13, count), 18, 90).round()
    return {
        "customer_id": np.arange(first_id, first_id + count).astype(str),
        "region": rng.choice(4, count, p=[0.30, 0.25, 0.25, 0.20]),
        "age": np.where(rng.random(count) < 0.03, np.nan, age),
        "plan": rng.choice(3, count, p=[0.50, 0.35, 0.15]),
        "monthly": rng.random(count) < 0.6,
        "base_usage": rng.lognormal(1.6, 0.6, count),
        "tenure": np.zeros(count),
        # log-usage deviation that carries over; drawn only by the seasonal scenario, so the
        # step-change scenario's random stream (and its data) stays what it was
        "habit": rng.normal(0, 0.25, count) if seasonal else np.zeros(count),
    }


def generate(config: DemoConfig = DemoConfig()) -> list[tuple[date, dict[str, np.ndarray]]]:
    """One table of columns per month: [(month, {column: values})]."""
    rng = np.random.default_rng(config.seed)
    people = _new_customers(rng, config.customers, 1, config.seasonal)
    next_id = config.customers + 1
    months = []
    for index in range(-config.burn_in, config.months):
        month = add_months(config.start, index)
        drifted = config.drift_month is not None and index >= config.drift_month
        n = people["customer_id"].size
        price = PLAN_PRICE[people["plan"]]
        if config.seasonal:
            people["habit"] = 0.7 * people["habit"] + rng.normal(0, 0.18, n)
            usage = people["base_usage"] * np.exp(people["habit"]) * season_of_usage(month)
            usage = usage * (2.0 if drifted else 1.0)
            charges = price + 0.8 * usage + season_of_charges(month, price) + rng.normal(0, 4, n)
        else:
            usage = people["base_usage"] * rng.lognormal(0, 0.25, n) * (2.0 if drifted else 1.0)
            charges = price + 0.8 * usage + rng.normal(0, 4, n)
        support_calls = rng.poisson(0.3 + 0.4 * (usage > 8))
        late_payments = rng.poisson(0.15, n)
        sensitivity = np.where(drifted & (people["region"] == 1), 2.5, 1.0)
        age_effect = np.nan_to_num(people["age"] - 45, nan=0.0)
        z = (
            -3.2
            + 0.9 * people["monthly"]
            + 0.45 * support_calls
            + 0.6 * late_payments
            + sensitivity * (charges - 55) / 25
            - 0.025 * np.minimum(people["tenure"], 60)
            - 0.35 * (people["plan"] == 2)
            + 0.01 * age_effect
        )
        churned = rng.random(n) < 1 / (1 + np.exp(-z))
        usage_seen = np.where(rng.random(n) < 0.05, np.nan, usage.round(2))
        if index >= 0:
            months.append(
                (
                    month,
                    {
                        "customer_id": people["customer_id"],
                        "snapshot_month": np.full(n, np.datetime64(month, "D")),
                        "tenure_months": people["tenure"].astype(np.int64),
                        "age": people["age"],
                        "region": REGIONS[people["region"]],
                        "plan": PLANS[people["plan"]],
                        "contract": CONTRACTS[(~people["monthly"]).astype(int)],
                        "monthly_charges": charges.round(2),
                        "data_usage_gb": usage_seen,
                        "support_calls": support_calls.astype(np.int64),
                        "late_payments": late_payments.astype(np.int64),
                        "churned_next_month": churned,
                    },
                )
            )
        stay = ~churned
        people = {key: values[stay] for key, values in people.items()}
        people["tenure"] = people["tenure"] + 1
        newcomers = _new_customers(rng, int(churned.sum()), next_id, config.seasonal)
        next_id += newcomers["customer_id"].size
        people = {key: np.concatenate([people[key], newcomers[key]]) for key in people}
    return months


def load_demo_data(config: DemoConfig, table: str = "customers") -> dict[str, int]:
    """Generate the months and write each as a lake partition of ``table`` (in the sandbox or
    stack the process points at); rows per month, by its ISO date."""
    from modelops.stores import lake

    loaded = {}
    for month, columns in generate(config):
        lake.write_partition(table, month, columns)
        loaded[month.isoformat()] = int(columns["customer_id"].size)
    return loaded
