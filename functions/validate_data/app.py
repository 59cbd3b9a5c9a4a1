"""Lambda entry point of the validate_data stage: one call into the library, logged and measured."""

from modelops import stages
from modelops.observability import lambda_entry

lambda_handler = lambda_entry(stages.validate_data)
