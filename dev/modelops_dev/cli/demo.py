"""`modelops demo`: the whole demo in an embedded sandbox."""

from __future__ import annotations

import argparse


def cmd_demo(args: argparse.Namespace) -> int:
    from modelops_dev.demo import walkthrough

    return walkthrough.run(
        walkthrough.DemoOptions(customers=args.customers, months=args.months, drift=not args.no_drift),
        as_json=args.json,
    )
