"""Lambda entry point of the campaign stage: one call into the library, logged and measured."""

from modelops.handler import lambda_entry
from modelops.pipeline import campaign

lambda_handler = lambda_entry(campaign.campaign)
