"""The stores: one module per store, one (``layout``) for the bucket's key layout. This is the
only package that talks to AWS (boto3); everything above it gets and gives plain data."""
