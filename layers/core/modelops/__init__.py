"""modelops: the shared library of the pipeline stages (runs in a Lambda layer)."""

__version__ = "0.1.0"
