"""The ``modelops`` command line (``main``)."""

from modelops_dev.cli.main import main

__all__ = ["main"]
