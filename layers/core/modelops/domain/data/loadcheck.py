"""What a load decides about a file before it is typed, and how its problems are told: plain
names and values in, one-line problems and the flags that fix them all out.

A load reports every problem of a file at once (a user should not need a pass per flag): each
problem names its column, line and value, and carries the flags that fix it; ``fix_flags``
merges them into one command line.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# Missing in a text file unless --no-default-na: the markers spreadsheets, R, pandas and
# databases write for "no value" ('' is always missing).
DEFAULT_NA = ("", "NA", "N/A", "n/a", "null", "NULL", "NaN", "nan", "-")
# The formats a date column is tried with when it does not hold YYYY-MM-DD (or ISO-8601)
# values, most common first; ambiguous pairs (day/month) are both named.
DATE_FORMATS = (
    "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%Y%m%d", "%d-%m-%Y", "%m-%d-%Y", "%Y.%m.%d",
    "%d/%m/%y", "%m/%d/%y", "%d.%m.%y", "%d-%b-%Y", "%d %b %Y", "%b %d, %Y", "%d %B %Y", "%B %d, %Y",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%Y/%m/%d %H:%M:%S",
    "%Y%m%d%H%M%S", "%Y-%m", "%Y%m", "%Y",
)  # fmt: skip


@dataclass(frozen=True)
class Fix:
    """Flags that fix one problem: markers to read as missing, column types to force, the
    date column and its format, lines before the header."""

    na_values: tuple[str, ...] = ()
    types: tuple[tuple[str, str], ...] = ()
    date_column: str | None = None
    date_format: str | None = None
    skip_rows: int | None = None


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, on one line, and what fixes it (None: the file must change)."""

    message: str
    fix: Fix | None = None


@dataclass(frozen=True)
class Flags:
    """The reading flags a command was given (the ones a fix may change)."""

    na_values: tuple[str, ...] = ()
    types: dict[str, str] = field(default_factory=dict)
    date_column: str | None = None
    date_format: str | None = None
    skip_rows: int = 0


def header_problems(names: Sequence[str]) -> list[Problem]:
    """Column names a table cannot hold: the same name twice, or names that differ only in
    case (Glue, Athena and DuckDB read names without case). No name is reserved."""
    problems, seen = [], dict[str, tuple[int, str]]()
    for index, name in enumerate(names, start=1):
        earlier = seen.get(name.lower())
        if earlier is None:
            seen[name.lower()] = (index, name)
        elif earlier[1] == name:
            problems.append(
                Problem(f"column {name!r} appears twice (columns {earlier[0]} and {index}): rename one")
            )
        else:
            problems.append(
                Problem(
                    f"columns {earlier[1]!r} and {name!r} differ only in case (columns {earlier[0]} and "
                    f"{index}; Athena and Glue do not tell them apart): rename one"
                )
            )
    return problems


def date_format_advice(reading: Sequence[str]) -> str:
    """What to say about a column of dates given the formats that read every value of it."""
    if not reading:
        return "give its format with --date-format (none of the common formats reads every value)"
    if len(reading) == 1:
        return f"--date-format {reading[0]} reads every value"
    return (
        f"--date-format {reading[0]} reads every value (so does {', '.join(reading[1:3])}: "
        "check which one the file means)"
    )


def fix_flags(flags: Flags, problems: Iterable[Problem]) -> Flags:
    """The flags with every problem's fix applied (markers and types added, the rest set)."""
    na_values, types = list(flags.na_values), dict(flags.types)
    date_column, date_format, skip_rows = flags.date_column, flags.date_format, flags.skip_rows
    for problem in problems:
        fix = problem.fix
        if fix is None:
            continue
        na_values += [value for value in fix.na_values if value not in na_values]
        types.update(fix.types)
        date_column = fix.date_column or date_column
        date_format = fix.date_format or date_format
        skip_rows = fix.skip_rows if fix.skip_rows is not None else skip_rows
    return Flags(tuple(na_values), types, date_column, date_format, skip_rows)


def render(flags: Flags) -> list[str]:
    """The flags as command-line arguments (unquoted; ``command_line`` quotes them)."""
    words: list[str] = []
    if flags.date_column is not None:
        words += ["--date-column", flags.date_column]
    if flags.date_format is not None:
        words += ["--date-format", flags.date_format]
    if flags.na_values:
        words += ["--na-values", ",".join(flags.na_values)]
    for column, type_name in flags.types.items():
        words += ["--types", f"{column}={type_name}"]
    if flags.skip_rows:
        words += ["--skip-rows", str(flags.skip_rows)]
    return words


def command_line(words: Sequence[str]) -> str:
    return shlex.join(words)


def report(source: str, problems: Sequence[Problem], fixed: Flags | None, command: Sequence[str]) -> str:
    """One problem: its line. Several: a line each under a heading, and the command line that
    fixes every problem a flag can fix (``command``: the words before the reading flags)."""
    if len(problems) == 1:
        return problems[0].message
    lines = [f"{source}: {len(problems)} problems", *(f"  {p.message}" for p in problems)]
    fixable = [p for p in problems if p.fix is not None]
    if fixed is not None and fixable:
        which = "them all" if len(fixable) == len(problems) else f"the {len(fixable)} that flags can fix"
        lines.append(f"fix {which}: {command_line([*command, *render(fixed)])}")
    return "\n".join(lines)
