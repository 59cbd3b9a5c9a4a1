"""After `sam build`: import every function's handler with Python 3.12 and nothing on the
path but its own code, its layers and boto3 (which the Lambda runtime provides), the way
Lambda will, with the environment variables the template gives it (stand-in values: a
handler checks its settings when it loads). A layer a function forgot, or a variable the
template does not give, is an import error here, not in production.

Run as ``python -m modelops_dev.tools.layer_check [build_dir]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from modelops_dev.sandbox.template import load
from modelops_dev.tools.lambda_sizes import measure

# What each stage imports lazily, inside the call, on top of its handler module.
LAZY_IMPORTS = {
    "TrainModelFunction": "joblib, sklearn.ensemble, sklearn.linear_model, modelops.domain.model.estimators",
    "VerifyModelFunction": "joblib, sklearn.ensemble, modelops.domain.model.estimators",
    "ScoreDataFunction": "joblib, sklearn.ensemble, modelops.domain.model.estimators",
    "ValidateDataFunction": "scipy.stats",
    "ValidateModelFunction": "scipy.stats",
    "ValidateScoresFunction": "scipy.stats",
    "GetDataFunction": "duckdb",
    "TransformDataFunction": "duckdb",
    "DeployModelFunction": "modelops.domain.model.fastscore",
    "CampaignFunction": "modelops.pipeline.campaign",
    "OnlineScoreFunction": "modelops.domain.model.fastscore",
}


def python312() -> str:
    candidates = sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))
    return str(candidates[-1]) if candidates else "python3.12"


def _stand_in(value: Any, template: dict[str, Any]) -> str:
    if isinstance(value, str | int | float):
        return str(value)
    parameter = template.get("Parameters", {}).get(value.get("Ref")) if isinstance(value, dict) else None
    return str(parameter["Default"]) if parameter and "Default" in parameter else "layer-check"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    build = Path(args[0] if args else ".aws-sam/build").resolve()
    template = load(build / "template.yaml")
    interpreter = python312()
    failures = 0
    with tempfile.TemporaryDirectory() as runtime:
        subprocess.run(  # noqa: S603 - pip of our own interpreter
            [interpreter, "-m", "pip", "install", "--quiet", "--target", runtime, "boto3"], check=True
        )
        resources = template["Resources"]
        shared = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        for function in measure(build):
            name, layers = function.name, function.layers
            code_uri = resources[name]["Properties"]["CodeUri"]
            layer_paths = [
                str(build / resources[layer]["Properties"]["ContentUri"] / "python") for layer in layers
            ]
            path = [str(build / code_uri), *layer_paths, runtime]
            imports = ", ".join(filter(None, ["app", LAZY_IMPORTS.get(name, "")]))
            own = resources[name]["Properties"].get("Environment", {}).get("Variables", {})
            # The template's own values where it spells them (POWERTOOLS_LOG_LEVEL: INFO, which
            # the logger checks at import), a parameter's default where it refers to one (a
            # number the settings check as such), a stand-in where CloudFormation resolves them.
            variables = {key: _stand_in(value, template) for key, value in {**shared, **own}.items()}
            result = subprocess.run(  # noqa: S603 - our own interpreter and modules
                [interpreter, "-c", f"import {imports}"],
                cwd=tempfile.gettempdir(),
                capture_output=True,
                text=True,
                env={
                    **variables,
                    "PATH": os.environ.get("PATH", ""),
                    "PYTHONPATH": os.pathsep.join(path),
                    "PYTHONDONTWRITEBYTECODE": "1",
                },
                check=False,
            )
            verdict = "OK" if result.returncode == 0 else result.stderr.strip().splitlines()[-1]
            failures += result.returncode != 0
            print(f"{name:<24} imports with {', '.join(layers)}: {verdict}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
