"""The sandbox as a local server on 127.0.0.1 (``modelops sandbox``), and what a process
that talks to it needs."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from unittest import mock

from modelops_dev.sandbox.constants import DEFAULT_PORT, FAKE_CREDENTIALS, MOTO_CONFIG, PROJECT_ROOT
from modelops_dev.sandbox.core import Sandbox, moto_extended, quiet_engine


class PortInUse(Exception):
    """The port asked for is taken: a clear one-line message instead of a server that never starts."""

    def __init__(self, port: int) -> None:
        super().__init__(
            f"port {port} on 127.0.0.1 is already in use (another sandbox?); choose another with --port"
        )
        self.port = port


def claim_check(port: int) -> None:
    """Raise PortInUse if nothing could listen on 127.0.0.1:port now (bound the way the servers
    bind, so a port in TIME_WAIT still counts as free)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise PortInUse(port) from None


@contextmanager
def served(
    port: int = DEFAULT_PORT, root: Path = PROJECT_ROOT, environment: dict[str, str] | None = None
) -> Iterator[Sandbox]:
    """The sandbox as a local server on 127.0.0.1:port (stops when the block ends)."""
    from moto.core.config import default_user_config
    from moto.server import ThreadedMotoServer

    # moto's server binds in a thread and waits for it forever when the bind fails.
    claim_check(port)
    quiet_engine()
    sandbox = Sandbox(root)
    endpoint = f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        # Handlers run inside the server process and call it back over HTTP, as does the
        # Step Functions engine (it reads MOTO_PORT).
        stack.enter_context(
            mock.patch.dict(
                os.environ, {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint, "MOTO_PORT": str(port)}
            )
        )
        stack.enter_context(mock.patch.dict(default_user_config, MOTO_CONFIG))
        stack.enter_context(moto_extended(sandbox))
        sandbox.apply_environment(stack, environment or {})
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        stack.callback(server.stop)
        sandbox.provision()
        yield sandbox


def client_environment(endpoint: str) -> dict[str, str]:
    """Environment for a process that talks to a served sandbox (CLI, aws CLI, tests)."""
    return {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}
