"""The developer side of modelops: everything that never goes into a Lambda.

- ``sandbox``: the embedded AWS (moto, built from template.yaml) and its IAM check
- ``client``: the notebook client, the runner of executions, the local API gateway, the
  model lifecycle operations
- ``demo``: the demo and its synthetic customers
- ``cli``: the ``modelops`` command line
- ``tools``: benchmarks, scale run, mutation testing, fuzzing, drift quality, real data,
  Lambda sizes, layer check, sample events

Each package uses only those listed before it (tests/unit/test_architecture.py).
"""
