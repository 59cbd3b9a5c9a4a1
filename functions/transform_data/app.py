"""Lambda entry point of the transform_data stage: one call into the library, logged and measured."""

from modelops.handler import lambda_entry
from modelops.pipeline import training

lambda_handler = lambda_entry(training.transform_data)
