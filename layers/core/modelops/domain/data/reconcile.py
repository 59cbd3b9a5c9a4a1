"""Does an extract hold every row of its window? The rows the spec's SQL returned for each
period, against the rows the source table holds for that period (counted on the table's own
date column, independently of the SQL).

A period that came out short is a warning naming the period, both counts and the likely
cause; past the spec's tolerance it fails the run (``IncompleteExtractError``). A spec whose
SQL drops rows on purpose (a WHERE beyond the window, an inner join, an aggregation) says so
(``source.rows.filtered``): its counts are reported, not judged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


class IncompleteExtractError(ValueError):
    """The extract holds fewer (or more) rows of a period than the source does, past the
    spec's tolerance: the run would train or score on something other than the window."""


@dataclass(frozen=True)
class PeriodCount:
    period: date
    source: int  # rows the source table holds for the period
    extracted: int  # rows the spec's SQL returned for it

    @property
    def missing(self) -> int:
        return self.source - self.extracted

    @property
    def share(self) -> float:
        """The share of the source's rows that went missing (negative: rows came out extra)."""
        return self.missing / self.source if self.source else (0.0 if not self.extracted else -1.0)


@dataclass(frozen=True)
class Reconciliation:
    table: str
    counts: list[PeriodCount]
    warnings: list[str] = field(default_factory=list)
    error: str | None = None  # set when a period is off by more than the tolerance

    @property
    def source_rows(self) -> int:
        return sum(c.source for c in self.counts)

    @property
    def extracted_rows(self) -> int:
        return sum(c.extracted for c in self.counts)


def _cause(count: PeriodCount, counts: list[PeriodCount], column: str) -> str:
    """The likely reason a period is off, from the pattern across the window."""
    index = counts.index(count)
    off = [c for c in counts if c.missing != 0]
    neighbours = counts[max(index - 1, 0) : index + 2]
    if count.missing > 0 and any(c.missing < 0 for c in neighbours):
        return (
            f"rows moved into a neighbouring period: the SQL's {column} is not the table's date "
            "(a time zone, or a date computed another way)"
        )
    if count.missing < 0:
        return "the SQL returns more rows than the table holds: a join that repeats rows?"
    if len(off) == len(counts) > 1:
        return (
            "every period lost rows: a filter beyond the window or an inner join (if on purpose, "
            "declare source.rows.filtered: true)"
        )
    if count is counts[-1] or count is counts[0]:
        return (
            "rows at the window's edge: compare the time column with $start and $end (bound as "
            "timestamps) or $end_exclusive, not with dates of your own"
        )
    return "a filter or join that drops some rows of this period"


def reconcile(
    table: str,
    source: dict[date, int],
    extracted: dict[date, int],
    periods: list[date],
    *,
    tolerance: float,
    filtered: bool,
    column: str = "timestamp",
) -> Reconciliation:
    """Each period of the window: the source's rows against the extract's; warnings for every
    period that is off, an error when one is off by more than ``tolerance`` (a share of the
    source's rows) and the spec does not declare that its SQL filters rows."""
    counts = [PeriodCount(p, source.get(p, 0), extracted.get(p, 0)) for p in periods]
    warnings, worst = [], None
    for count in counts:
        if count.missing == 0 or (filtered and count.missing > 0):
            continue
        what = "missing" if count.missing > 0 else "extra"
        warnings.append(
            f"{count.period}: the query returned {count.extracted:,} of the {count.source:,} rows "
            f"table {table!r} holds ({abs(count.missing):,} {what}, {abs(count.share):.1%}); "
            f"likely cause: {_cause(count, counts, column)}"
        )
        if abs(count.share) > tolerance and (worst is None or abs(count.share) > abs(worst.share)):
            worst = count
    error = None
    if worst is not None:
        error = (
            f"the extract of {worst.period} is {'short' if worst.missing > 0 else 'over'} by "
            f"{abs(worst.missing):,} of table {table!r}'s {worst.source:,} rows "
            f"({abs(worst.share):.2%} > tolerance {tolerance:.2%}); "
            f"{len(warnings)} period{'s' if len(warnings) != 1 else ''} off in all: "
            + "; ".join(warnings[:3])
            + (" …" if len(warnings) > 3 else "")
        )
    return Reconciliation(table, counts, warnings, error)
