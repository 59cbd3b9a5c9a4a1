"""Lambda entry point of the campaign stage: one call into the library, logged and measured."""

from modelops import stages
from modelops.observability import lambda_entry

lambda_handler = lambda_entry(stages.campaign)
