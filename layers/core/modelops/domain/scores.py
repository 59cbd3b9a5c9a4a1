"""A set of scores: who was scored, for which period, the score, and the outcome where known."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ScoreSet:
    entity: np.ndarray  # str
    timestamp: np.ndarray  # datetime64[D]
    score: np.ndarray  # float64, P(outcome = 1)
    outcome: np.ndarray | None = None  # float64 0/1, NaN where unknown

    def __post_init__(self) -> None:
        sizes = {self.entity.size, self.timestamp.size, self.score.size}
        if self.outcome is not None:
            sizes.add(self.outcome.size)
        if len(sizes) != 1:
            raise ValueError(f"a score set's columns differ in length: {sorted(sizes)}")

    @property
    def rows(self) -> int:
        return int(self.score.size)

    @classmethod
    def concat(cls, parts: list[ScoreSet]) -> ScoreSet:
        if not parts:
            return cls(np.empty(0, dtype=str), np.empty(0, dtype="datetime64[D]"), np.empty(0))
        outcomes = [part.outcome for part in parts]
        return cls(
            entity=np.concatenate([part.entity for part in parts]),
            timestamp=np.concatenate([part.timestamp for part in parts]),
            score=np.concatenate([part.score for part in parts]),
            outcome=None
            if any(o is None for o in outcomes)
            else np.concatenate([o for o in outcomes if o is not None]),
        )

    def to_bytes(self) -> bytes:
        arrays = {"entity": self.entity, "timestamp": self.timestamp, "score": self.score}
        if self.outcome is not None:
            arrays["outcome"] = self.outcome
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)  # type: ignore[arg-type]
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, body: bytes) -> ScoreSet:
        with np.load(io.BytesIO(body), allow_pickle=False) as archive:
            return cls(
                entity=archive["entity"],
                timestamp=archive["timestamp"],
                score=archive["score"],
                outcome=archive["outcome"] if "outcome" in archive.files else None,
            )
