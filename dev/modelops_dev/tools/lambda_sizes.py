"""Unzipped size of each Lambda function as `sam build` lays it out, against Lambda's limit.

Lambda caps a function's code plus all its layers at 250 MB unzipped. For every
AWS::Serverless::Function in the built template this adds up the built CodeUri folder and the
built ContentUri folder of each of its layers (Globals layers + the function's own), e.g.::

    python -m modelops_dev.tools.lambda_sizes [build_dir]     # build_dir defaults to .aws-sam/build

and exits 1 if any function reaches the limit. The template is read with the sandbox's
CloudFormation loader (``modelops_dev.sandbox.template``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelops_dev.sandbox.template import load

MIB = 1024 * 1024
LIMIT_BYTES = 250 * MIB  # 262,144,000 bytes: Lambda's "250 MB" unzipped limit
DEFAULT_BUILD_DIR = Path(".aws-sam") / "build"


def folder_size(path: Path) -> int:
    """Sum of the sizes of the files under path (what the deployment zip unpacks to)."""
    if path.is_file():
        return path.stat().st_size
    if not path.is_dir():
        raise FileNotFoundError(f"built artifact {path} does not exist - run `sam build` first")
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


@dataclass(frozen=True)
class FunctionSize:
    name: str
    code_bytes: int
    layer_bytes: int
    layers: tuple[str, ...]

    @property
    def total_bytes(self) -> int:
        return self.code_bytes + self.layer_bytes

    @property
    def ok(self) -> bool:
        return self.total_bytes < LIMIT_BYTES

    def line(self, width: int = 0) -> str:
        def mb(size: int) -> str:
            return f"{size / MIB:6.1f} MB"

        verdict = "OK" if self.ok else "TOO BIG"
        return (
            f"{self.name:<{width}}  code {mb(self.code_bytes)} + layers {mb(self.layer_bytes)}"
            f" = {mb(self.total_bytes)}  (limit {LIMIT_BYTES // MIB} MB) {verdict}"
        )


def _layer_id(entry: Any, function: str) -> str:
    if isinstance(entry, dict) and set(entry) == {"Ref"} and isinstance(entry["Ref"], str):
        return entry["Ref"]
    raise ValueError(f"{function}: layer {entry!r} is not a Ref to a layer in this template: cannot size it")


def measure(build_dir: Path) -> list[FunctionSize]:
    """Size of every AWS::Serverless::Function in build_dir/template.yaml, in template order."""
    template = load(build_dir / "template.yaml")
    resources: dict[str, Any] = template.get("Resources") or {}
    globals_function: dict[str, Any] = (template.get("Globals") or {}).get("Function") or {}
    sizes: list[FunctionSize] = []
    for name, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties: dict[str, Any] = resource.get("Properties") or {}
        code_uri = properties.get("CodeUri", globals_function.get("CodeUri"))
        if not isinstance(code_uri, str):
            raise ValueError(f"{name}: CodeUri {code_uri!r} is not a built folder")
        # SAM appends a function's Layers to the Globals ones; a layer counts once.
        entries = [*(globals_function.get("Layers") or []), *(properties.get("Layers") or [])]
        layer_ids = tuple(dict.fromkeys(_layer_id(entry, name) for entry in entries))
        layer_bytes = 0
        for layer_id in layer_ids:
            layer = resources.get(layer_id) or {}
            content_uri = (layer.get("Properties") or {}).get("ContentUri")
            if layer.get("Type") != "AWS::Serverless::LayerVersion" or not isinstance(content_uri, str):
                raise ValueError(f"{name}: {layer_id} is not a built AWS::Serverless::LayerVersion")
            layer_bytes += folder_size(build_dir / content_uri)
        sizes.append(FunctionSize(name, folder_size(build_dir / code_uri), layer_bytes, layer_ids))
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) > 1 or any(arg.startswith("-") for arg in args):
        print("usage: python -m modelops_dev.tools.lambda_sizes [build_dir]", file=sys.stderr)
        return 2
    build_dir = Path(args[0]) if args else DEFAULT_BUILD_DIR
    if not (build_dir / "template.yaml").is_file():
        print(f"{build_dir / 'template.yaml'} not found - run `sam build` first", file=sys.stderr)
        return 2
    sizes = measure(build_dir)
    width = max((len(size.name) for size in sizes), default=0)
    for size in sizes:
        print(size.line(width))
    too_big = [size.name for size in sizes if not size.ok]
    if too_big:
        print(f"over Lambda's {LIMIT_BYTES // MIB} MB unzipped limit: {', '.join(too_big)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
