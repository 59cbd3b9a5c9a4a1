"""A load's progress bar (issue 23): rows and MB/s on a terminal, off with --json or off one."""

import io
from pathlib import Path

from modelops.stores import lake
from modelops.stores.lake import LoadOptions
from modelops_dev.cli import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_bar_shows_the_share_rows_and_throughput():
    assert progress.line(0.5, 10_000_000, 100.0, 2.0, width=10) == "[#####.....]  50%  50,000 rows  2.5 MB/s"


def test_the_bar_is_off_with_json_or_off_a_terminal(tmp_path: Path):
    data = tmp_path / "d.csv"
    data.write_text("day,x\n" + "".join(f"2020-01-{1 + i % 28:02d},{i}\n" for i in range(2000)))
    assert progress.bar_for(data, json=False, stream=io.StringIO()) is None
    assert progress.bar_for(data, json=True, stream=Terminal()) is None
    terminal = Terminal()
    bar = progress.bar_for(data, json=False, stream=terminal)
    assert bar is not None and 10 <= bar.row_bytes <= 20
    summary = lake.inspect_file("t", data, LoadOptions(), write=False, progress=bar)
    bar.close()
    assert summary.rows == 2000
    shown = terminal.getvalue()
    assert "100%" in shown and "rows" in shown and "MB/s" in shown and shown.endswith("\r\033[K")
