"""A load's progress bar on a terminal: the share read, the rows (estimated from the first
lines' length) and MB/s. Off with --json or when stderr is not a terminal."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO


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
