"""The demo: ``walkthrough`` (`make demo`: train, challenge, score month by month, the online
API and the drift report, on the embedded sandbox) and ``synthetic`` (the demo's customers,
generated with a documented process, and loaded into the lake)."""
