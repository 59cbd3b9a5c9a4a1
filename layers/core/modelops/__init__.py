"""modelops: the shared library of the pipeline stages and the online API (a Lambda layer).

Layers, inner to outer (docs/architecture.md):
- ``domain``   pure code: spec, stage contract, features, profiles, drift tests, decisions,
               estimators, the NumPy scorer, the report. No AWS, no I/O.
- ``stores``   one module per store and one for the bucket key layout; the only code that
               touches boto3.
- ``pipeline`` the stages of the training and scoring flows (domain + stores).
- ``online``   the online scoring service (domain + stores; never the pipeline).
"""

__version__ = "0.2.0"
