"""Lambda entry point of the retire_publications stage: one call into the library, logged and measured."""

from modelops.handler import lambda_entry
from modelops.pipeline import scoring

lambda_handler = lambda_entry(scoring.retire_publications)
