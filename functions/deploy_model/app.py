"""Lambda entry point of the deploy_model stage: one call into the library, logged and measured."""

from modelops import stages
from modelops.observability import lambda_entry

lambda_handler = lambda_entry(stages.deploy_model)
