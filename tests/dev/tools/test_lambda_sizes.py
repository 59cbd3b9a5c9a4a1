"""lambda_sizes: code + Globals layers + function layers, against 250 MiB (>= is too big)."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelops_dev.tools import lambda_sizes
from modelops_dev.tools.lambda_sizes import LIMIT_BYTES, MIB

# Short tags on purpose: the loader must turn them into plain {"Ref": ...} dicts.
TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Layers:
      - !Ref BaseLayer
Resources:
  BaseLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: BaseLayer
  HeavyLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: HeavyLayer
  Bucket:
    Type: AWS::S3::Bucket
  ScoreFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ScoreFunction
      Layers:
        - !Ref HeavyLayer
      Environment:
        Variables:
          BUCKET: !Ref Bucket
          ARN: !GetAtt Bucket.Arn
"""


def _file(path: Path, size: int) -> None:
    """A file of exactly `size` bytes (sparse, so 250 MiB costs no disk)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.truncate(size)


def _build_dir(tmp_path: Path, code: tuple[int, int], base: int, heavy: int) -> Path:
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    _file(tmp_path / "ScoreFunction" / "app.py", code[0])
    _file(tmp_path / "ScoreFunction" / "pkg" / "deep" / "model.bin", code[1])
    _file(tmp_path / "BaseLayer" / "python" / "base.py", base)
    _file(tmp_path / "HeavyLayer" / "python" / "heavy.so", heavy)
    # Built, but used by no function: must not be counted.
    _file(tmp_path / "UnusedLayer" / "python" / "unused.so", 7_000_000)
    return tmp_path


def test_code_and_both_layers_are_summed(tmp_path: Path) -> None:
    build = _build_dir(tmp_path, code=(1_000, 2_500), base=30_000, heavy=400_000)

    (size,) = lambda_sizes.measure(build)

    assert size.name == "ScoreFunction"
    assert size.layers == ("BaseLayer", "HeavyLayer")  # Globals layer first, then the function's
    assert size.code_bytes == 3_500
    assert size.layer_bytes == 430_000
    assert size.total_bytes == 433_500
    assert size.ok


def test_just_under_the_limit_is_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert LIMIT_BYTES == 262_144_000  # 250 MiB, not 250 * 10**6
    build = _build_dir(tmp_path, code=(1_000, 0), base=MIB, heavy=LIMIT_BYTES - MIB - 1_000 - 1)

    (size,) = lambda_sizes.measure(build)

    assert size.total_bytes == LIMIT_BYTES - 1  # above 250 * 10**6: a decimal limit would fail it
    assert size.ok
    assert lambda_sizes.main([str(build)]) == 0
    line = " ".join(capsys.readouterr().out.split())  # columns are padded; compare words
    assert line == "ScoreFunction code 0.0 MB + layers 250.0 MB = 250.0 MB (limit 250 MB) OK"


def test_at_the_limit_is_too_big(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build = _build_dir(tmp_path, code=(1_000, 0), base=MIB, heavy=LIMIT_BYTES - MIB - 1_000)

    (size,) = lambda_sizes.measure(build)

    assert size.total_bytes == LIMIT_BYTES
    assert not size.ok
    assert lambda_sizes.main([str(build)]) == 1
    line = " ".join(capsys.readouterr().out.split())
    assert line == "ScoreFunction code 0.0 MB + layers 250.0 MB = 250.0 MB (limit 250 MB) TOO BIG"


def test_missing_build_is_an_error(tmp_path: Path) -> None:
    assert lambda_sizes.main([str(tmp_path / "nowhere")]) == 2
