"""`make mutation`'s fork server: importing NumPy, scikit-learn, pydantic and moto takes
seconds, much longer than a module's unit tests, so one process imports the third-party
libraries once, then forks a child per mutant that imports the project's code fresh from
disk (the mutant: no compiled copy is read) and runs pytest. mutmut's runner command is this
module's ``test`` client, which asks the server and exits 0 (tests pass: survived) or 1
(killed). Only the standard library: the client starts once per mutant.

    python -m modelops_dev.tools.mutation_server serve ADDRESS TEST_FILE ...
    python -m modelops_dev.tools.mutation_server test ADDRESS TEST_FILE ...
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]
RESULTS = Path(".mutation")  # per-module results and the last test output (git-ignored)
MODULE = "modelops_dev.tools.mutation_server"  # as `python -m` runs it
# -x: the first failure kills the mutant. The server imported pytest's plugins already, so
# pytest cannot rewrite their asserts; it would warn about that in every run.
PYTEST_ARGS = (
    "-x",
    "-q",
    "-p",
    "no:cacheprovider",
    "-m",
    "not slow",
    "-W",
    "ignore::pytest.PytestAssertRewriteWarning",
)
# The packages that are this repository's code: imported fresh in each forked test run.
PROJECT_PACKAGES = frozenset({"modelops", "modelops_dev", "tests", "conftest", "__main__", "__mp_main__"})


def _project_module(name: str, module: object) -> bool:
    if name.split(".")[0] in PROJECT_PACKAGES:
        return True
    path = getattr(module, "__file__", None)
    if not path:
        return False
    resolved = Path(path).resolve()
    return resolved.is_relative_to(PROJECT_ROOT) and not resolved.is_relative_to(Path(sys.prefix).resolve())


def _silence(log: Path) -> None:
    """Send this process's output to ``log`` (the last test run's output, for debugging)."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _pytest_child(tests: Sequence[str], log: Path, report: int | None = None) -> None:
    """In a forked child: run pytest on ``tests`` with the project's modules read from their
    source files, and exit with pytest's code. ``report`` gets the third-party modules used."""
    status = 3
    try:
        _silence(log)
        # Never read a compiled copy (it could be of another mutant): the cache goes to a
        # folder that does not exist, and nothing is written.
        sys.dont_write_bytecode = True
        sys.pycache_prefix = str(log.parent / "no-bytecode")
        import pytest

        status = int(pytest.main([*PYTEST_ARGS, *tests]))
        if report is not None:
            names = [name for name, module in list(sys.modules.items()) if not _project_module(name, module)]
            with os.fdopen(report, "w") as pipe:
                pipe.write("\n".join(names))
    except BaseException:  # noqa: BLE001 - whatever the mutant does, the child must exit
        status = 3
    finally:
        os._exit(status)


def _warm_up(tests: Sequence[str], log: Path) -> None:
    """Run the tests once in a child and import here every third-party module they used."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _pytest_child(tests, log, report=write_end)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        names = pipe.read().split()
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the unit tests fail without any mutant (output in {log}): {' '.join(tests)}")
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 - a module that only imports in context; the child will
            continue


def _run_forked(connection: socket.socket, tests: Sequence[str], log: Path) -> int:
    """pytest's exit code for ``tests`` in a forked child; the child is killed if the client
    goes away (mutmut's timeout)."""
    pid = os.fork()
    if pid == 0:
        connection.close()
        _pytest_child(tests, log)
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        readable, _, _ = select.select([connection], [], [], 0.01)
        if readable and not connection.recv(1, socket.MSG_PEEK):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return -signal.SIGKILL


def serve(address: str, tests: Sequence[str]) -> None:
    """Answer each connection's list of test files with pytest's exit code."""
    log = PROJECT_ROOT / RESULTS / "last-test-run.log"
    _warm_up(tests, log)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(address)
    server.listen(4)
    print("ready", flush=True)
    while True:
        connection, _ = server.accept()
        with connection:
            request = json.loads(connection.makefile().readline())
            if request == "stop":
                return
            code = _run_forked(connection, request, log)
            with contextlib.suppress(OSError):  # the client is gone (mutmut's timeout)
                connection.sendall(f"{code}\n".encode())


def run_tests(address: str, tests: Sequence[str], timeout: float | None = None) -> int:
    """The runner mutmut calls: 0 when the tests pass (the mutant survived), 1 when they fail
    or crash (killed), 2 when they could not run (never counted as a kill)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(timeout)
            client.connect(address)
            client.sendall(json.dumps(list(tests)).encode() + b"\n")
            reply = client.makefile().readline().strip()
    except TimeoutError:
        return 124
    except OSError as error:
        print(f"mutation: no test server at {address}: {error}", file=sys.stderr)
        return 2
    if not reply:
        print("mutation: the test server closed the connection", file=sys.stderr)
        return 2
    # The same tests passed without the mutant, so any other outcome is the mutant's doing:
    # 1 failed tests, 2 a test module that no longer imports, 4 a conftest that no longer
    # imports (a mutant that breaks a class definition), a negative code a crash.
    return 0 if int(reply) == 0 else 1


class Server:
    """The fork server as a subprocess, for one `make mutation` run."""

    def __init__(self, tests: Sequence[str]) -> None:
        self.directory = tempfile.mkdtemp(prefix="modelops-mutation-")
        self.address = str(Path(self.directory) / "tests.sock")
        self.process = subprocess.Popen(  # noqa: S603 - this module, this interpreter
            [sys.executable, "-m", MODULE, "serve", self.address, *tests],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            text=True,
            # One test run at a time: scikit-learn's OpenMP threads would only spin against
            # each other and everything else on the machine (several times slower when busy).
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            self.process.wait()
            raise SystemExit("mutation: the test server did not start (see the message above)")

    def check(self) -> None:
        if self.process.poll() is not None:
            raise SystemExit(f"mutation: the test server died (exit {self.process.returncode})")

    def stop(self) -> None:
        if self.process.poll() is None:
            self._send_stop()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _send_stop(self) -> None:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.connect(self.address)
                client.sendall(b'"stop"\n')
        except OSError:
            self.process.kill()


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], sys.argv[3:])
    elif sys.argv[1:2] == ["test"]:
        sys.exit(run_tests(sys.argv[2], sys.argv[3:]))
    else:
        sys.exit(f"usage: python -m {MODULE} serve|test ADDRESS TEST_FILE ...")
