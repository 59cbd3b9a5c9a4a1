"""Whether a scoring run may be published (every chunk's work is there and every count adds
up) and whether its publication becomes the latest scores (time moves forward). Pure: the
stages after the Map (pipeline/scoring.py) read what the chunks wrote and act on these."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from modelops.domain.contract import Chunk, PublishChunkResult


class ScoreCountError(RuntimeError):
    """A scoring chunk's work is missing, or the published rows do not match the rows that
    were extracted for scoring."""


@dataclass(frozen=True)
class Decision:
    accept: bool
    reason: str
    flip: bool = False  # the latest pointer moves to the run's publication


def require_all(chunks: Sequence[Chunk], done: Collection[int], what: str) -> None:
    """A ScoreCountError naming the first chunk without ``what`` (and how many lack it)."""
    missing = [chunk.index for chunk in chunks if chunk.index not in done]
    if missing:
        raise ScoreCountError(
            f"chunk {missing[0]} has no {what} ({len(missing)} of {len(chunks)} chunks missing)"
        )


def published_rows(
    chunks: Sequence[Chunk],
    receipts: Sequence[PublishChunkResult | None],
    *,
    shadow: bool,
    online: bool = True,
) -> int:
    """The rows the chunks published, once each chunk's receipt accounts for each of its rows in
    the history, the latest scores and the online features (none when the model has no online
    API; and the shadow's history, when the run has one); else a ScoreCountError naming the
    first chunk that does not."""
    for chunk, receipt in zip(chunks, receipts, strict=True):
        if receipt is None:
            raise ScoreCountError(f"chunk {chunk.index} has a receipt without its publication")
        features = chunk.rows if online else 0
        if not (
            receipt.history_rows == receipt.latest_rows == chunk.rows
            and receipt.online_feature_rows == features
        ):
            raise ScoreCountError(f"chunk {chunk.index} published {receipt} for {chunk.rows} rows")
        if shadow and receipt.shadow_rows != chunk.rows:
            raise ScoreCountError(
                f"the shadow challenger scored {receipt.shadow_rows} of chunk {chunk.index}'s "
                f"{chunk.rows} rows"
            )
    return sum(receipt.latest_rows for receipt in receipts if receipt is not None)


def require_counts(*, extracted: int, published: int, validated: int) -> None:
    """Every extracted row was published and validated, no more and no fewer."""
    if not extracted == published == validated:
        raise ScoreCountError(f"{published} rows published, {validated} validated, {extracted} extracted")


def becomes_latest(current_as_of: date | None, run_as_of: date, *, force: bool = False) -> Decision:
    """Whether a scoring run's publication replaces the latest one: time only moves forward,
    so an older period goes to the history only, unless forced."""
    if current_as_of is None:
        return Decision(True, "first publication", flip=True)
    if run_as_of >= current_as_of:
        return Decision(True, f"{run_as_of} is not older than the latest {current_as_of}", flip=True)
    if force:
        return Decision(True, f"forced: {run_as_of} replaces the newer {current_as_of}", flip=True)
    return Decision(False, f"{run_as_of} is older than the latest {current_as_of}: history only")


def latest_decision(
    current: tuple[str, date] | None, publication: str, run_as_of: date, *, force: bool = False
) -> Decision:
    """What deploy_scores does with the latest pointer, given the current one (publication,
    as_of): nothing when it already points at this run's publication (a re-run), else
    ``becomes_latest``."""
    if current is not None and current[0] == publication:
        return Decision(True, "already the latest publication")
    return becomes_latest(None if current is None else current[1], run_as_of, force=force)


# ---------------------------------------------------------------- bulk publication
def by_import(rows: int, import_from_rows: int | None) -> bool:
    """Whether a run of ``rows`` publishes by bulk import into a table of its own rather than
    item by item into the shared tables (spec ``scoring.import_from_rows``; None: never). An
    import costs about a 25th of the writes it replaces at any size, but takes minutes however
    small the run: docs/scaling.md has the arithmetic behind the default."""
    return import_from_rows is not None and rows >= import_from_rows


class PublicationImportError(RuntimeError):
    """The bulk import of a publication failed, or did not import exactly the run's rows."""


def check_import(table: str, status: str, imported: int, errors: int, rows: int, message: str = "") -> bool:
    """Whether a publication's import is done (True) or still running (False); a failed
    import, or one that did not import each of the run's rows exactly once, is a
    PublicationImportError naming the table."""
    if status == "IN_PROGRESS":
        return False
    if status != "COMPLETED":
        raise PublicationImportError(f"the import of {table} ended {status}: {message or 'no message'}")
    if errors or imported != rows:
        raise PublicationImportError(
            f"the import of {table} imported {imported} of {rows} rows ({errors} items refused)"
        )
    return True


def retired_tables(superseded: dict[str, int], now: int, grace_seconds: int) -> list[str]:
    """The superseded publication tables no reader can still hold: each was replaced as the
    latest at least ``grace_seconds`` ago (epoch seconds), longer than any reader keeps the
    pointer it read."""
    return sorted(table for table, since in superseded.items() if now - since >= grace_seconds)
