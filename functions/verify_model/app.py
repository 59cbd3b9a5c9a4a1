"""Lambda entry point of the verify_model stage: one call into the library, logged and measured."""

from modelops.handler import lambda_entry
from modelops.pipeline import scoring

lambda_handler = lambda_entry(scoring.verify_model)
