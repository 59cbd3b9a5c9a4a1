"""Using a sandbox or a deployed stack from Python: ``notebook`` (``Client``: what modelops
stores, as pandas DataFrames), ``runner`` (store a spec, start executions and follow them),
``gateway`` (the local API Gateway of ``modelops serve``) and ``lifecycle`` (a model's
versions: show, promote, roll back, retire, each audited)."""
