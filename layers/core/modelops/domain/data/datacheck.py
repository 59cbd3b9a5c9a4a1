"""What data says about itself, and whether it fits a spec: plain column profiles in, decisions
and one-line findings out (the stores compute the profiles with DuckDB).

Two users: ``data load`` decides each text column's type from its profile before anything is
written (``column_type``), and ``spec check`` compares the query result's columns with what
the spec declares (``check_spec``), saying what to declare instead.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Literal

from modelops.domain.data.features import MAX_CATEGORIES
from modelops.domain.data.repeats import Repeats, most_repeated, refusal
from modelops.domain.spec import FeatureType, ModelSpec

# A text column is taken for numbers (or dates) with a stray marker, and refused, when at
# least this share of its values are numbers (dates) and the others take at most FEW values.
MOSTLY = 0.5
FEW = 3
# A numeric column declared categorical with more distinct values than this is probably a
# measurement, not a code.
MANY_CODES = 20
NUMERIC_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                 "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "REAL"}  # fmt: skip
TEXT_TYPES = {"VARCHAR", "TEXT", "STRING"}
TIME_TYPES = {"DATE", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "TIMESTAMP WITH TIME ZONE"}

LoadType = Literal["BIGINT", "DOUBLE", "BOOLEAN", "DATE", "TIMESTAMP", "VARCHAR"]


@dataclass(frozen=True)
class Example:
    """One value of a column and where it is (a 1-based line of a file, or a row of a result)."""

    where: str
    value: str


@dataclass(frozen=True)
class ColumnProfile:
    """Counts over one column's non-missing values. For text columns, how many look like each
    type (``integers``, ``numbers``, ...) and the first value that does not look like a number
    or a date."""

    name: str
    type: str  # the DuckDB type
    rows: int
    missing: int
    distinct: int = 0
    integers: int = 0  # text: whole numbers without a leading zero; numbers: whole values
    numbers: int = 0  # text: any number; numbers: every value
    booleans: int = 0
    dates: int = 0  # YYYY-MM-DD
    timestamps: int = 0  # ISO-8601: YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|+HH:MM]
    negatives: int = 0
    first_non_number: Example | None = None
    first_non_date: Example | None = None
    non_numbers: int = 0  # distinct values that are not numbers
    non_dates: int = 0  # distinct values that are not dates
    padded: int = 0  # whole numbers with a leading zero ('007') or past 64 bits: codes, so text
    examples: list[str] = field(default_factory=list)  # a few distinct values, for messages
    zoned: int = 0  # timestamps with a timezone (Z or an offset)

    @property
    def present(self) -> int:
        return self.rows - self.missing

    @property
    def is_numeric(self) -> bool:
        return self.type.upper() in NUMERIC_TYPES or self.type.upper().startswith("DECIMAL")

    @property
    def is_text(self) -> bool:
        return self.type.upper() in TEXT_TYPES

    @property
    def is_time(self) -> bool:
        return self.type.upper() in TIME_TYPES


class ColumnError(ValueError):
    """A column's values do not fit one type; the message names the column, a row and a value;
    ``kind`` says which values the column mostly holds ("numbers" or "dates")."""

    def __init__(self, message: str, kind: str = "") -> None:
        super().__init__(message)
        self.kind = kind


def column_type(profile: ColumnProfile) -> LoadType:
    """The type to load a text column as: the narrowest that fits every value. A column of
    numbers (or dates) with a few values that are not is refused, naming the first one, rather
    than silently loaded as text (training would fail later without naming the row)."""
    present = profile.present
    if present == 0:
        return "VARCHAR"
    for count, kind in (
        (profile.integers, "BIGINT"),
        (profile.numbers, "DOUBLE"),
        (profile.booleans, "BOOLEAN"),
        (profile.dates, "DATE"),
        (profile.dates + profile.timestamps, "TIMESTAMP"),
    ):
        if count == present:
            return kind  # type: ignore[return-value]

    def refuse(kind: str, count: int, bad: Example) -> ColumnError:
        return ColumnError(
            f"column {profile.name!r}: {count:,} of {present:,} values are {kind}, but {bad.where} holds "
            f"{bad.value!r}: pass --na-values {bad.value!r} if it marks a missing value, or "
            f"--types '{profile.name}=text' to load the column as text",
            kind,
        )

    if profile.padded:
        return "VARCHAR"
    if 0 < profile.numbers >= MOSTLY * present and profile.non_numbers <= FEW and profile.first_non_number:
        raise refuse("numbers", profile.numbers, profile.first_non_number)
    dates = profile.dates + profile.timestamps
    if 0 < dates >= MOSTLY * present and profile.non_dates <= FEW and profile.first_non_date:
        raise refuse("dates", dates, profile.first_non_date)
    return "VARCHAR"


@dataclass(frozen=True)
class Finding:
    """One problem (``error``) or doubt (``warning``) about a spec against its data."""

    field: str
    message: str
    level: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _examples(profile: ColumnProfile) -> str:
    return ", ".join(repr(v) for v in profile.examples[:3]) + (", …" if len(profile.examples) > 3 else "")


def _missing_column(field_name: str, column: str, columns: list[str], feature: str | None) -> Finding:
    close = difflib.get_close_matches(column, columns, n=1, cutoff=0.6)
    if close and feature is not None:
        hint = f"; the column {close[0]!r} looks like it: read it with `column: {close[0]!r}`"
    elif close:
        hint = f"; did you mean {close[0]!r}?"
    else:
        hint = f" (columns: {', '.join(columns)})"
    return Finding(field_name, f"no column {column!r} in the query result{hint}")


def _check_feature(name: str, declared: FeatureType, profile: ColumnProfile) -> list[Finding]:
    where = f"features.{name}"
    column = f"column {profile.name!r}" if profile.name != name else "the column"
    if profile.present == 0:
        return [Finding(where, f"{column} has no values in the query result")]
    if declared in (FeatureType.numeric, FeatureType.count):
        if profile.is_text:
            if 0 < profile.numbers >= MOSTLY * profile.present and profile.first_non_number:
                bad = profile.first_non_number
                return [
                    Finding(
                        where,
                        f"declared {declared.value}: {column} holds numbers, but {bad.where} holds "
                        f"{bad.value!r} (load the data with --na-values {bad.value!r} if it marks a "
                        "missing value)",
                    )
                ]
            return [
                Finding(
                    where,
                    f"declared {declared.value}, but {column} holds text ({_examples(profile)}): "
                    "declare it categorical",
                )
            ]
        if profile.is_time:
            return [
                Finding(
                    where, f"declared {declared.value}, but {column} holds dates: derive a number in the SQL"
                )
            ]
        if declared is FeatureType.count and profile.integers < profile.present:
            return [Finding(where, f"declared count, but {column} holds fractions: declare it numeric")]
        if declared is FeatureType.count and profile.negatives:
            return [Finding(where, f"declared count, but {column} holds negative values: declare it numeric")]
        return []
    if declared is FeatureType.categorical:
        if profile.distinct > MAX_CATEGORIES:
            return [
                Finding(
                    where,
                    f"declared categorical, but {column} has {profile.distinct:,} distinct values "
                    f"(at most {MAX_CATEGORIES}): declare it numeric",
                )
            ]
        if profile.is_numeric and profile.distinct > MANY_CODES:
            return [
                Finding(
                    where,
                    f"declared categorical, but {column} holds {profile.distinct} distinct numbers: "
                    "declare it numeric unless they are codes",
                    "warning",
                )
            ]
        return []
    if profile.type.upper() == "BOOLEAN" or profile.booleans == profile.present:
        return []
    if profile.is_numeric and profile.distinct <= 2 and profile.integers == profile.present:
        return []  # 0/1
    return [
        Finding(
            where,
            f"declared boolean, but {column} holds {_examples(profile)}: declare it categorical",
        )
    ]


def check_spec(
    spec: ModelSpec, profiles: dict[str, ColumnProfile], *, with_outcome: bool = True
) -> list[Finding]:
    """Every way the query result (its columns' profiles) does not fit the spec, errors first."""
    columns = list(profiles)
    findings: list[Finding] = []
    if not profiles or next(iter(profiles.values())).rows == 0:
        return [Finding("source.sql", "the query returned no rows")]
    for index, column in enumerate(spec.entity_columns):
        where = "entity" if isinstance(spec.entity, str) else f"entity[{index}]"
        if column not in profiles:
            findings.append(_missing_column(where, column, columns, None))
        elif profiles[column].missing:
            findings.append(Finding(where, f"{profiles[column].missing:,} rows have no {column!r}"))
    timestamp = profiles.get(spec.timestamp)
    if timestamp is None:
        findings.append(_missing_column("timestamp", spec.timestamp, columns, None))
    elif not timestamp.is_time and timestamp.dates + timestamp.timestamps < timestamp.present:
        findings.append(
            Finding(
                "timestamp",
                f"column {spec.timestamp!r} is {timestamp.type}, not a DATE or TIMESTAMP "
                f"({_examples(timestamp)}): load the file with --date-column, or convert it in the SQL",
            )
        )
    elif timestamp.missing:
        findings.append(Finding("timestamp", f"{timestamp.missing:,} rows have no {spec.timestamp!r}"))
    for name, feature in spec.features.items():
        column = spec.column_of(name)
        if column not in profiles:
            findings.append(_missing_column(f"features.{name}", column, columns, name))
        else:
            findings += _check_feature(name, feature.type, profiles[column])
    outcome = profiles.get(spec.outcome)
    if with_outcome and outcome is None:
        findings.append(_missing_column("outcome", spec.outcome, columns, None))
    elif with_outcome and outcome is not None:
        binary = outcome.type.upper() == "BOOLEAN" or (
            outcome.is_numeric and outcome.integers == outcome.present and outcome.distinct <= 2
        )
        if not binary:
            findings.append(
                Finding(
                    "outcome", f"column {spec.outcome!r} must hold 0/1 or true/false ({_examples(outcome)})"
                )
            )
        elif outcome.distinct < 2:
            findings.append(Finding("outcome", f"column {spec.outcome!r} holds a single class"))
    return sorted(findings, key=lambda finding: finding.level != "error")


def check_repeats(spec: ModelSpec, repeats: Repeats | None) -> list[Finding]:
    """The entity key as a run checks it (``repeats.refusal``): an error under the spec's fail
    policy, else a warning counting the rows a run would drop."""
    if repeats is None:
        return []
    key = spec.entity_key
    refused = refusal(key, repeats, spec.duplicates)
    if refused is not None:
        return [Finding("duplicates", refused)]
    dropped = f"{repeats.rows:,} {'row' if repeats.rows == 1 else 'rows'}"
    return [
        Finding(
            "duplicates",
            f"{most_repeated(key, repeats)}: a run keeps the {spec.duplicates} row of each entity and "
            f"period and drops {dropped}",
            "warning",
        )
    ]
