"""Progress on a terminal, redrawn on one line of stderr: a load's bar (the share read, the
rows, estimated from the first lines' length, and MB/s) and a run's Distributed Map (chunks
done of all, rows/s). Off with --json or when stderr is not a terminal."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from modelops_dev.client.runner import MapProgress


def line(share: float, size: int, row_bytes: float, seconds: float, width: int = 24) -> str:
    """The bar's text for ``share`` (0 to 1) of ``size`` bytes read in ``seconds``."""
    done = share * size
    filled = int(share * width)
    rows = done / row_bytes if row_bytes else 0
    rate = done / seconds / 1e6 if seconds > 0 else 0.0
    return f"[{'#' * filled}{'.' * (width - filled)}] {share:4.0%}  {rows:,.0f} rows  {rate:,.1f} MB/s"


def _row_bytes(path: Path, lines: int = 1000) -> float:
    """Average bytes a line of the first ``lines`` (the header left out)."""
    with path.open("rb") as handle:
        handle.readline()
        sample = [len(handle.readline()) for _ in range(lines)]
    sample = [n for n in sample if n]
    return sum(sample) / len(sample) if sample else 0.0


class Bar:
    """Called with the share read; redraws one line of ``stream``; ``close`` clears it."""

    def __init__(self, path: Path, stream: TextIO) -> None:
        self.size = path.stat().st_size
        self.row_bytes = _row_bytes(path) if path.is_file() and path.suffix.lower() != ".parquet" else 0.0
        self.stream, self.started = stream, time.monotonic()

    def __call__(self, share: float) -> None:
        self.stream.write("\r" + line(share, self.size, self.row_bytes, time.monotonic() - self.started))
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\r\033[K")
        self.stream.flush()


def bar_for(path: Path, *, json: bool, stream: TextIO | None = None) -> Bar | None:
    """A bar for loading ``path``, or None with --json or off a terminal."""
    out = stream or sys.stderr
    return None if json or not out.isatty() or not path.exists() else Bar(path, out)


def map_line(done: int, failed: int, total: int, rows: int | None, seconds: float) -> str:
    """A Map run's chunks: done of all, the failed ones, and rows/s when the rows all chunks
    hold are known (``rows``), else chunks/s. DescribeMapRun counts chunks, not rows, so the
    rows done are those of the average chunk times the chunks done: an estimate ('~') until
    every chunk is done."""
    text = f"chunks {done}/{total}" + (f", {failed} failed" if failed else "")
    if done == 0 or seconds <= 0:
        return text
    if rows is not None and total:
        estimate = "" if done == total else "~"
        return f"{text}  {estimate}{rows * done / total / seconds:,.0f} rows/s"
    return f"{text}  {done / seconds:,.1f} chunks/s"


class MapLine:
    """Called with a Map run's progress; redraws one line of ``stream`` under the Map state's
    line, and leaves the run's last counts on it."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, progress: MapProgress) -> None:
        text = map_line(progress.done, progress.failed, progress.total, progress.rows, progress.seconds)
        self.stream.write(f"\r\033[K    {text}" + ("\n" if progress.finished else ""))
        self.stream.flush()


def map_line_for(*, json: bool, stream: TextIO | None = None) -> MapLine | None:
    """A redrawn line for a run's Map, or None with --json or off a terminal."""
    out = stream or sys.stderr
    return None if json or not out.isatty() else MapLine(out)
