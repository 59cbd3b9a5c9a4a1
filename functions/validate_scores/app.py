"""Lambda entry point of the validate_scores stage: one call into the library, logged and measured."""

from modelops.handler import lambda_entry
from modelops.pipeline import scoring

lambda_handler = lambda_entry(scoring.validate_scores)
