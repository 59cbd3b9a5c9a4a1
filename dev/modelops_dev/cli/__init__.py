"""The ``modelops`` command line.

``modelops demo`` runs everything in an embedded sandbox. ``modelops sandbox`` serves one on
127.0.0.1; the other commands talk to it (``--endpoint-url``, default
``$MODELOPS_ENDPOINT_URL`` or http://127.0.0.1:4566). Every error is one line naming the
problem (``--debug`` shows the traceback).

``main`` (errors) and ``parser`` (the arguments) dispatch to one module per group of
commands: ``data``, ``spec``, ``runs`` (train, score, dispatch), ``scores`` (top, history,
metadata export, the drift report), ``models``, ``serve`` (sandbox, serve, invoke) and
``demo``; ``common`` holds what they share.
"""

from modelops_dev.cli.main import main

__all__ = ["main"]
