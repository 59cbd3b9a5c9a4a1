"""moto's own costs, cut without changing an answer: each patch does the same work
as moto, once instead of many times, or directly instead of through a generic walker.
``dynamodb`` holds the DynamoDB ones, ``serving`` those of serving any request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from modelops_dev.sandbox.speedups import dynamodb, serving

CUTS = (
    serving.sqs_clock_from_time,
    serving.definitions_parsed_once,
    serving.executions_parse_their_definition_once,
    serving.engine_clients_kept,
    dynamodb.item_sizes_summed_once,
    serving.member_names_looked_up_once,
    dynamodb.attribute_values_written_directly,
    dynamodb.attribute_values_read_directly,
    dynamodb.queries_read_their_keys,
    dynamodb.imports_parsed_by_line,
    serving.s3_urls_loaded_once,
    serving.actions_found_by_name,
)


@contextmanager
def applied() -> Iterator[None]:
    """Every cut of ``CUTS``, while the block runs."""
    with ExitStack() as stack:
        for cut in CUTS:
            stack.enter_context(cut())
        yield
