"""Lambda entry point of the score_data stage: one call into the library, logged and measured."""

from modelops.handler import lambda_entry
from modelops.pipeline import chunks

lambda_handler = lambda_entry(chunks.score_data)
