"""The training state machine's wall time against the bare fit."""

from __future__ import annotations

import time

from modelops_dev.sandbox import PROJECT_ROOT
from modelops_dev.tools.bench.figures import Figure


def training_pipeline(customers: int = 10_000) -> list[Figure]:
    """Wall time of the training state machine on the demo data, per stage, against the bare
    fit (the same search on the same in-memory matrix, no AWS, no serialisation)."""
    from modelops.domain.contract import StageDoc
    from modelops.domain.model import estimators
    from modelops.pipeline.training import load_features
    from modelops.stores.specs import load_spec
    from modelops_dev.client import runner
    from modelops_dev.demo import synthetic
    from modelops_dev.sandbox import QUIET, embedded

    with embedded(environment=QUIET) as sandbox:
        runner.put_spec(PROJECT_ROOT / "models" / "churn.yaml")
        synthetic.load_demo_data(synthetic.DemoConfig(customers=customers))
        arn = runner.start(sandbox.ref("TrainingStateMachine"), {"model": "churn", "as_of": "2025-08-01"})
        result = runner.follow(arn, poll=0.05)
        if result.status != "SUCCEEDED" or result.output is None:
            raise RuntimeError(f"training failed: {result.error}: {result.cause}")
        matrix, schema = load_features(StageDoc.model_validate(result.output))
        spec = load_spec("churn")
        started = time.perf_counter()
        estimators.fit(matrix, spec.estimator, spec.split, schema.categorical_mask)
        bare_fit = time.perf_counter() - started
    total = sum(seconds for _, seconds in result.states)
    # 4x: besides the fit, the pipeline now runs drift tests (~0.5 s) and checks the NumPy scorer
    # (~0.2 s), and the sandbox engine adds ~0.3 s per state.
    figures = [Figure.judged("training.pipeline_seconds_vs_bare_fit", total, "s", bare_fit, target=4.0)]
    figures += [
        Figure.judged(f"training.stage.{state}_seconds_share", seconds, "s", total, target=None)
        for state, seconds in result.states
    ]
    return figures
