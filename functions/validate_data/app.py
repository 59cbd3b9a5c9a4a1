"""Lambda entry point of the validate_data stage, which both flows run: one call into the
library (each flow's own validation), logged and measured."""

from modelops.handler import by_flow, lambda_entry
from modelops.pipeline import scoring, training

lambda_handler = lambda_entry(by_flow(training=training.validate_data, scoring=scoring.validate_data))
