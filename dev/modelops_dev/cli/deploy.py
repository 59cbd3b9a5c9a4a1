"""`modelops teardown`: delete a deployed stack, emptying first what `sam delete` cannot."""

from __future__ import annotations

import argparse

from modelops_dev.cli.common import CliError, print_json


def cmd_teardown(args: argparse.Namespace) -> int:
    from modelops_dev.client.teardown import TeardownError, teardown

    if not args.yes:
        raise CliError(
            f"this deletes stack {args.stack!r} with its data bucket's every object version and its tables; "
            "add --yes to go on"
        )
    try:
        result = teardown(args.stack, args.region)
    except TeardownError as error:
        raise CliError(str(error)) from None
    if args.json:
        print_json(result.__dict__)
        return 0
    for bucket, count in result.emptied.items():
        print(f"emptied s3://{bucket} ({count:,} object versions and delete markers)")
    print(f"deleted stack {args.stack!r}")
    for table in result.tables:
        print(f"deleted the publication table {table}")
    for bucket in result.retained:
        print(f"kept s3://{bucket} (DeletionPolicy: Retain); delete it by hand when no longer needed")
    return 0
