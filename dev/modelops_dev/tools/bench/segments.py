"""Drift by segment (modelops_dev.tools.segment_quality): the seasonal demo scenario over 20
stores; with nothing changed, the share of months that alert (pooled and 20 segments' tests in
one Benjamini-Hochberg family); one store's feature moved by 0.5 SD, found in that store's
segment in its month or the next, and (for contrast) by the pooled metric."""

from __future__ import annotations

from modelops_dev.tools.bench.figures import Figure


def segments(seeds: int = 40, customers: int = 4000) -> list[Figure]:
    from modelops_dev.tools import segment_quality as quality

    alerted, by_segment = quality.quiet_alerted(range(seeds), customers)
    found, pooled = quality.found_within_two(range(seeds), 0.5, customers)
    return [
        Figure.limited(
            f"segments.quiet_months_alerted_share (20 stores, {seeds} seeds x 12 months)",
            alerted,
            "share",
            0.04,
        ),
        Figure.reported("segments.quiet_months_alerted_by_a_segment_share", by_segment, "share"),
        Figure.at_least(
            f"segments.one_store_0.5sd_found_in_its_segment_within_2_share ({seeds} seeds)",
            found,
            "share",
            0.90,
        ),
        Figure.reported("segments.one_store_0.5sd_found_by_the_pooled_metric_share", pooled, "share"),
    ]
