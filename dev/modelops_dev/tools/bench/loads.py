"""`make bench` (load): `data load --dry-run` of a wide and a large CSV file against DuckDB's
bare ``read_csv`` of the same file, in the same run (issue 23's targets).

- 600 columns x 10,000 rows: the load in at most 3x the bare read's time;
- about 1 GB (10 M rows x 12 columns): the load's throughput at least 0.5x the bare read's;
- peak memory of each load at most 2 GB;
- the notebook client's ``load`` of a 10 M-row DataFrame (a dry run: the engine and every
  check, nothing written): peak memory at most 2 GB above the frame's own.

Each read runs in a process of its own (its peak resident memory read from ``wait4``); a load
that runs past ``limit`` times the bare read is stopped and its figure is the time it had. The
client's load is measured inside its process: the peak resident memory (Linux's VmHWM, reset
once the frame is made) less the resident memory with the frame made.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from modelops_dev.tools.bench.figures import Figure

WIDE_COLUMNS, WIDE_ROWS = 600, 10_000
LARGE_ROWS = 10_000_000
FRAME_ROWS = 10_000_000
MEMORY_MB = 2048

_BARE = """
import sys, duckdb
connection = duckdb.connect()
connection.execute("SET TimeZone = 'UTC'")
connection.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{sys.argv[1]}')")
"""
_LOAD = """
import sys
from pathlib import Path
from modelops.stores import lake
lake.inspect_file("bench", Path(sys.argv[1]), lake.LoadOptions(), write=False)
"""

# The large file's columns as a DataFrame (numbers, dates, a flag and two columns of text), the
# client's load of it timed and its memory above the frame measured in the same process.
_CLIENT = """
import json, sys, time
import numpy as np, pandas as pd

def status(field):
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) / 1024 for line in lines if line.startswith(field + ":"))

rows = int(sys.argv[1])
rng, i = np.random.default_rng(0), np.arange(rows)
frame = pd.DataFrame({
    "id": i, "day": (np.datetime64("2015-01-01") + i % 1500).astype("datetime64[ns]"),
    "a": np.round(rng.random(rows) * 1000, 4), "b": np.round(rng.random(rows) * 1000, 4),
    "c": np.round(rng.random(rows) * 1e6, 2), "d": rng.integers(0, 100000, rows),
    "e": rng.integers(0, 100, rows),
    "colour": pd.Series(np.array(["red", "green", "blue", "amber"])[rng.integers(0, 4, rows)], dtype="str"),
    "flag": rng.random(rows) < 0.5, "g": np.round(rng.random(rows), 6),
    "h": np.round(rng.random(rows) * 50, 3),
    "name": pd.Series(["customer-" + str(k % 99991) for k in range(rows)], dtype="str"),
})
from modelops_dev.client.notebook import Client
with_frame = status("VmRSS")
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # the peak (VmHWM) starts again from here
started = time.perf_counter()
Client(environment={}).load(frame, "bench", dry_run=True)
seconds = time.perf_counter() - started
above, size = status("VmHWM") - with_frame, frame.memory_usage(deep=True).sum() / 1e6
print(json.dumps({"frame_mb": size, "above_mb": above, "seconds": seconds}))
"""


def write_wide(path: Path, columns: int = WIDE_COLUMNS, rows: int = WIDE_ROWS) -> Path:
    import duckdb

    values = ", ".join(f"round(random() * 100, 3) AS f{i}" for i in range(columns - 1))
    duckdb.sql(
        f"COPY (SELECT DATE '2020-01-01' + CAST(i % 365 AS INTEGER) AS day, {values} "  # nosec B608  # numbers and a temporary path of our own
        f"FROM range({rows}) t(i)) TO '{path}' (HEADER)"
    )
    return path


def write_large(path: Path, rows: int = LARGE_ROWS) -> Path:
    """About 96 bytes a row: ids, a date, numbers, a category, a flag and a name."""
    import duckdb

    duckdb.sql(
        f"""COPY (SELECT i AS id, DATE '2015-01-01' + CAST(i % 1500 AS INTEGER) AS day,
        round(random() * 1000, 4) AS a, round(random() * 1000, 4) AS b, round(random() * 1e6, 2) AS c,
        CAST(random() * 100000 AS BIGINT) AS d, CAST(random() * 100 AS BIGINT) AS e,
        ['red', 'green', 'blue', 'amber'][1 + CAST(floor(random() * 4) AS INTEGER)] AS colour,
        random() < 0.5 AS flag, round(random(), 6) AS g, round(random() * 50, 3) AS h,
        'customer-' || CAST(i % 99991 AS VARCHAR) AS name
        FROM range({rows}) t(i)) TO '{path}' (HEADER)"""  # nosec B608  # numbers and our own temporary path
    )
    return path


def measured(script: str, path: Path, timeout: float) -> tuple[float, float, bool]:
    """(seconds, peak resident MB, finished) of ``script`` reading ``path`` in a new process
    (not finished: stopped at ``timeout``, or failed)."""
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - this interpreter, a script of this module
        [sys.executable, "-c", script, str(path)], start_new_session=True
    )
    deadline = started + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            _, status, usage = os.wait4(process.pid, 0)
            return time.perf_counter() - started, usage.ru_maxrss / 1024, False
        time.sleep(0.05)
    # A read that failed (e.g. out of memory) counts as not finished.
    finished = os.waitstatus_to_exitcode(status) == 0
    return time.perf_counter() - started, usage.ru_maxrss / 1024, finished


def client_load(rows: int = FRAME_ROWS, timeout: float = 3600) -> dict[str, float]:
    """The notebook client's dry-run load of a DataFrame of ``rows`` rows, in a process of its
    own: the frame's size (MB), the peak resident memory above the frame (MB) and seconds."""
    done = subprocess.run(  # noqa: S603 - this interpreter, a script of this module
        [sys.executable, "-c", _CLIENT, str(rows)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    found: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def loads(large_rows: int = LARGE_ROWS, limit: float = 20.0, frame_rows: int = FRAME_ROWS) -> list[Figure]:
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as scratch:
        wide = write_wide(Path(scratch) / "wide.csv")
        bare, _, _ = measured(_BARE, wide, 3600)
        seconds, memory, done = measured(_LOAD, wide, max(60.0, bare * limit))
        name = f"load {WIDE_COLUMNS} columns x {WIDE_ROWS:,} rows (dry run) vs bare read_csv"
        figures.append(
            Figure.judged(name + ("" if done else " (stopped or failed)"), seconds, "s", bare, 3.0)
        )
        figures.append(Figure.limited(f"load {WIDE_COLUMNS} columns: peak memory", memory, "MB", MEMORY_MB))
        wide.unlink()
        large = write_large(Path(scratch) / "large.csv", large_rows)
        megabytes = large.stat().st_size / 1e6
        bare, _, _ = measured(_BARE, large, 3600)
        seconds, memory, done = measured(_LOAD, large, max(60.0, bare * limit))
        name = f"load {megabytes:,.0f} MB CSV ({large_rows:,} rows x 12) throughput vs bare read_csv"
        figures.append(
            Figure.judged(
                name + ("" if done else " (stopped or failed)"),
                megabytes / seconds,
                "MB/s",
                megabytes / bare,
                0.5,
                at_least=True,
            )
        )
        figures.append(Figure.limited(f"load {megabytes:,.0f} MB CSV: peak memory", memory, "MB", MEMORY_MB))
    client = client_load(frame_rows)
    name = f"client load of a {frame_rows:,}-row DataFrame (dry run)"
    figures.append(Figure.reported(f"{name}: the frame's own size", client["frame_mb"], "MB"))
    figures.append(Figure.reported(f"{name}: seconds", client["seconds"], "s"))
    figures.append(
        Figure.limited(f"{name}: peak memory above the frame", client["above_mb"], "MB", MEMORY_MB)
    )
    return figures
