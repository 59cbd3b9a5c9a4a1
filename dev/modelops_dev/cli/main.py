"""``modelops``: parse the command line, run the command, and turn every error into one line
naming the problem (``--debug`` shows the traceback)."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

from modelops_dev.cli.common import CliError
from modelops_dev.cli.parser import build_parser


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _one_line_errors() -> tuple[type[Exception], ...]:
    """Errors whose message says what to fix: printed as they are."""
    from modelops.domain.data.datacheck import ColumnError
    from modelops.domain.spec import SpecError
    from modelops.stores.lake import LoadError
    from modelops.stores.query import NoDataError, QueryError
    from modelops.stores.registry import NotAllowed, RegistryConflict, UnknownVersion
    from modelops_dev.client.inputs import RequestError
    from modelops_dev.client.lifecycle import NothingToRollBack
    from modelops_dev.sandbox import PortInUse

    return (
        CliError, RequestError, SpecError, LoadError, ColumnError, QueryError, NoDataError, PortInUse,
        RegistryConflict, NotAllowed, NothingToRollBack, UnknownVersion,
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    from botocore.exceptions import ClientError, EndpointConnectionError

    one_line_errors = _one_line_errors()
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as done:  # --help, or a usage error argparse already printed on one line
        return int(done.code or 0)
    try:
        code: int = args.handler(args)
    except Exception as error:  # noqa: BLE001 - every error becomes one line (or a traceback with --debug)
        if args.debug:
            traceback.print_exc()
        if isinstance(error, EndpointConnectionError):
            message = f"cannot reach the sandbox at {args.endpoint_url}; start it with `modelops sandbox`"
        elif isinstance(error, one_line_errors):
            message = _one_line(error)
        elif isinstance(error, ClientError):
            message = f"AWS {error.operation_name}: {_one_line(error)}"
        else:
            message = f"{type(error).__name__}: {_one_line(error)}"
        print(f"error: {message}", file=sys.stderr)
        return 2
    return code
