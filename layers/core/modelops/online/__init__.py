"""Online scoring: domain + stores, never the batch pipeline."""
