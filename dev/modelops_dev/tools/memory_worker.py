"""One Lambda invocation in this fresh interpreter, its memory measured (``make memory``).

``python -m modelops_dev.tools.memory_worker INPUT OUTPUT``: INPUT is a JSON file naming the
handler (its file, attribute, the function's name, ARN, memory and timeout) and the event;
OUTPUT receives the handler's result (or its error) and three resident-set figures of this
process, in MB:

- ``interpreter``: RSS before the handler's module is imported (Python and this module,
  standard library only: what Lambda's own Python runtime holds before the function's code);
- ``imported``: RSS once the handler's module and its libraries are imported (a cold start);
- ``peak``: the process's peak RSS at the end of the invocation (Linux's ``VmHWM``);
- ``after``: RSS once the handler has returned (the libraries it imported on its way and what
  it caches for a warm start stay; its working memory is mostly gone).

and the invocation's wall and CPU seconds (every thread's), which tell a stage that waits on
AWS from one that computes.

The peak is read from ``/proc/self/status``, not ``getrusage``: Linux carries ``ru_maxrss``
over ``execve`` from the process that forked (here the sandbox server, GBs of moto), and
``VmHWM`` belongs to the new address space alone. RSS, not tracemalloc: NumPy, scikit-learn,
DuckDB and Arrow allocate natively, out of tracemalloc's sight. Only the standard library is
imported here, so nothing but the handler adds to the figures.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
import traceback
import uuid
from pathlib import Path
from typing import Any


def status_mb(field: str) -> float:
    """A ``VmRSS``/``VmHWM`` line of /proc/self/status, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"/proc/self/status has no {field} (Linux only)")


class Context:
    """What a Lambda handler gets as ``context`` (as the sandbox's runtime gives it)."""

    def __init__(self, name: str, arn: str, memory: int, timeout: int) -> None:
        self.function_name = name
        self.invoked_function_arn = arn
        self.memory_limit_in_mb = memory
        self.aws_request_id = str(uuid.uuid4())
        self.function_version = "$LATEST"
        self.log_group_name = ""
        self.log_stream_name = ""
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main(argv: list[str]) -> int:
    interpreter = status_mb("VmRSS")
    job: dict[str, Any] = json.loads(Path(argv[0]).read_text())
    started = time.perf_counter()
    spec = importlib.util.spec_from_file_location(f"modelops_fn_{job['logical_id']}", job["file"])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    imported, import_seconds = status_mb("VmRSS"), time.perf_counter() - started
    context = Context(job["name"], job["arn"], job["memory"], job["timeout"])
    outcome: dict[str, Any]
    started, cpu = time.perf_counter(), time.process_time()
    try:
        outcome = {"result": getattr(module, job["attribute"])(job["event"], context)}
    except Exception as error:  # noqa: BLE001 - every failure becomes a Lambda error
        outcome = {
            "error": {
                "errorType": type(error).__name__,
                "errorMessage": str(error),
                "stackTrace": traceback.format_exception(error),
            }
        }
    outcome["memory"] = {
        "interpreter": round(interpreter, 1),
        "imported": round(imported, 1),
        "peak": round(status_mb("VmHWM"), 1),
        "after": round(status_mb("VmRSS"), 1),
        "import_seconds": round(import_seconds, 3),
        "seconds": round(time.perf_counter() - started, 3),
        "cpu_seconds": round(time.process_time() - cpu, 3),
    }
    Path(argv[1]).write_text(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
