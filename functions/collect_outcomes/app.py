"""Lambda entry point of the collect_outcomes stage: one call into the library, logged and measured."""

from modelops.handler import lambda_entry
from modelops.pipeline import outcomes

lambda_handler = lambda_entry(outcomes.collect_outcomes)
