"""Lambda entry point of the transform_chunk stage (a scoring Map child): one call into the library."""

from modelops.handler import lambda_entry
from modelops.pipeline import chunks

lambda_handler = lambda_entry(chunks.transform_chunk)
