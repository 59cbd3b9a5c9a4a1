"""Lambda entry point of the get_data stage: one call into the library, logged and measured."""

from modelops.handler import lambda_entry
from modelops.pipeline import common

lambda_handler = lambda_entry(common.get_data)
