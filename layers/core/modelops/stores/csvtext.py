"""A CSV file's text as a load sees it before DuckDB types it: the delimiter, the header, the
rows DuckDB's reader set aside, and (only for a message) the line each row starts on."""

from __future__ import annotations

import csv
from array import array
from pathlib import Path
from typing import Any

from modelops.domain.data.loadcheck import Problem


class LoadError(ValueError):
    """A file that cannot be loaded as it is; the message names the line, column and value of
    each problem (one line each) and, for several, the command line that fixes them all."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [Problem(message)]


class Lines:
    """Maps a data row (0-based) of a CSV file to the line it starts on, for messages. The
    lines are counted (in Python, a row at a time) only when a message needs one."""

    def __init__(self, path: Path | None = None, delimiter: str = ",", skip_rows: int = 0) -> None:
        self.path, self.delimiter, self.skip_rows = path, delimiter, skip_rows
        self.starts: array[int] | None = None

    def __call__(self, row: int) -> str:
        if self.path is None:
            return f"row {row + 1}"
        if self.starts is None:
            self.starts = line_starts(self.path, self.delimiter, self.skip_rows)
        return f"line {self.starts[row]}" if row < len(self.starts) else f"row {row + 1}"


def not_utf8(path: Path, error: UnicodeDecodeError) -> LoadError:
    return LoadError(f"{path.name}: not UTF-8 text ({error.reason} at byte {error.start}); save it as UTF-8")


def delimiter(path: Path, skip_rows: int) -> str:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            lines = [handle.readline() for _ in range(skip_rows + 20)][skip_rows:]
    except UnicodeDecodeError as error:
        raise not_utf8(path, error) from None
    sample = "".join(lines)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def header(path: Path, delimiter: str, skip_rows: int) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            for _ in range(skip_rows):
                handle.readline()
            header = next(csv.reader([handle.readline()], delimiter=delimiter), None)
    except UnicodeDecodeError as error:
        raise not_utf8(path, error) from None
    if not header:
        raise LoadError(f"{path.name}: no header line (the file is empty)")
    return header


def line_starts(path: Path, delimiter: str, skip_rows: int) -> array[int]:
    """The line each data row starts on (blank lines and quoted line breaks counted)."""
    starts = array("L")
    with path.open(newline="", encoding="utf-8") as handle:
        for _ in range(skip_rows):
            handle.readline()
        reader = csv.reader(handle, delimiter=delimiter)
        next(reader, None)
        line = reader.line_num
        for row in reader:
            first, line = line + 1, reader.line_num
            if row:
                starts.append(first + skip_rows)
    return starts


def refuse_rejected(connection: Any, path: Path, delimiter: str, width: int, skip_rows: int) -> None:
    """The rows DuckDB's reader set aside (store_rejects): wrong number of fields, not UTF-8,
    a quote never closed; a LoadError names their lines."""
    rejected = connection.execute(
        "SELECT line, error_type, csv_line, byte_position FROM reject_errors ORDER BY line"
    ).fetchall()
    if not rejected:
        return
    ragged = [
        (int(line), len(next(csv.reader([text.strip("\r\n")], delimiter=delimiter), [])))
        for line, kind, text, _ in rejected
        if kind in ("TOO MANY COLUMNS", "MISSING COLUMNS")
    ]
    if not ragged:
        line, kind, _, byte = rejected[0]
        if kind == "INVALID ENCODING":
            raise LoadError(f"{path.name}: not UTF-8 text (line {line}, byte {byte}); save it as UTF-8")
        raise LoadError(f"{path.name}: line {line}: {kind.lower()}")
    shown = ", ".join(f"line {number} has {count}" for number, count in ragged[:3])
    more = f" and {len(ragged) - 3} more" if len(ragged) > 3 else ""
    hint = " (if the header is not the first line, pass --skip-rows)" if ragged[0][0] == 2 + skip_rows else ""
    rows = "1 row does" if len(ragged) == 1 else f"{len(ragged)} rows do"
    raise LoadError(f"{path.name}: {rows} not have the header's {width} fields: {shown}{more}{hint}")
