"""The `modelops` CLI in a process of its own per command, forked from one that imported it once.

Starting Python and importing what a command needs (boto3, pandas, DuckDB, pydantic, and moto
for the sandbox's resource names) costs about 1.5 s of CPU, more than most commands' own work.
``python -m tests.forked_cli`` imports it all once, then reads one request a line on stdin
(``{"argv", "cwd", "env", "stdout", "stderr"}``, JSON) and forks a child for each: the child
takes the working directory and the environment it is given, sends its output to the two files,
runs ``modelops_dev.cli.main.main(argv)`` (the console script's function) and exits with its
status, which the server writes back as one JSON line (``{"code"}``). Each command is a new
process, as on a terminal: nothing one command sets is seen by the next.
"""

from __future__ import annotations

import importlib
import json
import os
import select
import signal
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# What the commands import when they run (each handler imports its own modules).
PRELOADED = (
    "botocore.exceptions",
    "duckdb",
    "pandas",
    "modelops.domain.data.datacheck",
    "modelops.pipeline.common",
    "modelops.pipeline.monitoring",
    "modelops.stores.history",
    "modelops.stores.lake",
    "modelops.stores.latest",
    "modelops.stores.metadata",
    "modelops.stores.query.duckdb_engine",
    "modelops.stores.registry",
    "modelops.stores.specs",
    "modelops_dev.client.lifecycle",
    "modelops_dev.client.runner",
    "modelops_dev.demo.synthetic",
)


def _child(main: Callable[[Sequence[str]], int], request: dict[str, Any]) -> None:
    """In the forked child: run one command and exit with its status (never returns)."""
    code = 3
    try:
        os.chdir(str(request["cwd"]))
        os.environ.clear()
        os.environ.update(request["env"])
        nothing = os.open(os.devnull, os.O_RDONLY)  # the requests are the server's, not the command's
        os.dup2(nothing, 0)
        os.close(nothing)
        for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
            out = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(out, fd)
            os.close(out)
        code = main(list(request["argv"]))
    except BaseException:  # noqa: BLE001 - whatever it is, the test reads it in stderr
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    from modelops_dev.cli.main import main

    for name in PRELOADED:
        importlib.import_module(name)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        pid = os.fork()
        if pid == 0:
            _child(main, json.loads(line))
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"code": os.waitstatus_to_exitcode(status)}), flush=True)


@contextmanager
def forked_cli(
    env: dict[str, str], scratch: Path, timeout: float = 600
) -> Iterator[Callable[[Sequence[str], Path], subprocess.CompletedProcess[str]]]:
    """A function that runs one `modelops` command (argv after `modelops`, in a folder) as a
    forked child of a server started here, and returns what it printed and its status."""
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.forked_cli"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        start_new_session=True,  # its own process group: the server and the command it runs
    )
    assert server.stdin is not None and server.stdout is not None
    stdin, stdout = server.stdin, server.stdout

    def reply() -> dict[str, int]:
        if not select.select([stdout], [], [], timeout)[0]:
            raise TimeoutError(f"no answer from the forked CLI in {timeout:.0f} s")
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"the forked CLI server exited ({server.wait()})")
        answer: dict[str, int] = json.loads(line)
        return answer

    def run(argv: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        out, err = scratch / "command.out", scratch / "command.err"
        request = {"argv": list(argv), "cwd": str(cwd), "env": env, "stdout": str(out), "stderr": str(err)}
        stdin.write(json.dumps(request) + "\n")
        stdin.flush()
        code = reply()["code"]
        return subprocess.CompletedProcess(list(argv), code, out.read_text(), err.read_text())

    try:
        reply()  # imported and ready
        yield run
    finally:
        stdin.close()  # the server ends when its input does
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a command hung, and the server waits for it: both go
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


if __name__ == "__main__":
    serve()
