"""Twelve of moto's own costs, cut without changing an answer: each patch does the same work
as moto, once instead of many times, or directly instead of through a generic walker.
``dynamodb`` holds the DynamoDB ones, ``serving`` those of serving any request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from modelops_dev.sandbox.speedups import dynamodb, serving


@contextmanager
def applied() -> Iterator[None]:
    """Every cut below, while the block runs."""
    with ExitStack() as stack:
        stack.enter_context(serving.sqs_clock_from_time())
        stack.enter_context(serving.definitions_parsed_once())
        stack.enter_context(serving.executions_parse_their_definition_once())
        stack.enter_context(serving.engine_clients_kept())
        stack.enter_context(dynamodb.item_sizes_summed_once())
        stack.enter_context(serving.member_names_looked_up_once())
        stack.enter_context(dynamodb.attribute_values_written_directly())
        stack.enter_context(dynamodb.attribute_values_read_directly())
        stack.enter_context(dynamodb.queries_read_their_keys())
        stack.enter_context(dynamodb.imports_parsed_by_line())
        stack.enter_context(serving.s3_urls_loaded_once())
        stack.enter_context(serving.actions_found_by_name())
        yield
