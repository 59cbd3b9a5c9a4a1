"""A benchmark's figure: a value, next to a baseline measured in the same run where it has one,
and the target it is judged by."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    baseline: float | None
    ratio: float | None
    target: float | None  # bound on ratio, or on value without a baseline (None: not judged)
    ok: bool | None

    @classmethod
    def judged(
        cls,
        name: str,
        value: float,
        unit: str,
        baseline: float,
        target: float | None,
        *,
        at_least: bool = False,
    ) -> Figure:
        """ratio = value / baseline; ok when ratio <= target (or >= target with at_least)."""
        ratio = value / baseline if baseline else None
        ok = (
            None
            if target is None or ratio is None
            else bool(ratio >= target if at_least else ratio <= target)
        )
        rounded = None if ratio is None else round(float(ratio), 4)
        return cls(name, round(float(value), 6), unit, round(float(baseline), 6), rounded, target, ok)

    @classmethod
    def reported(cls, name: str, value: float, unit: str) -> Figure:
        """A figure shown for context, with no baseline and no target."""
        return cls(name, round(float(value), 6), unit, None, None, None, None)

    @classmethod
    def limited(cls, name: str, value: float, unit: str, limit: float) -> Figure:
        """An absolute target (value <= limit); no baseline."""
        return cls(name, round(float(value), 6), unit, None, None, limit, bool(value <= limit))

    @classmethod
    def at_least(cls, name: str, value: float, unit: str, limit: float) -> Figure:
        """An absolute target (value >= limit); no baseline."""
        return cls(name, round(float(value), 6), unit, None, None, limit, bool(value >= limit))
