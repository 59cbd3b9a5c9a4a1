"""Lambda entry point of the validate_model stage: one call into the library, logged and measured."""

from modelops.handler import lambda_entry
from modelops.pipeline import training

lambda_handler = lambda_entry(training.validate_model)
