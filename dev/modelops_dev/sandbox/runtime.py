"""The Lambda runtime of the sandbox: moto's docker-less Lambda only echoes, so ``Invoke`` is
answered here. The function's CodeUri + Handler from the template is imported by file path
and called in this process; an exception becomes a Lambda error whose errorType Step
Functions' Retry/Catch can match."""

from __future__ import annotations

import importlib.util
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

from modelops_dev.sandbox.iam import acting_as


@dataclass(frozen=True)
class LocalFunction:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    timeout: int
    memory: int


@dataclass(frozen=True)
class LambdaContext:
    """What a Lambda handler gets as ``context``."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    deadline: float
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def context_of(function: LocalFunction) -> LambdaContext:
    """A Lambda context for one invocation of the function."""
    return LambdaContext(
        function_name=function.name,
        invoked_function_arn=function.arn,
        memory_limit_in_mb=function.memory,
        aws_request_id=str(uuid.uuid4()),
        deadline=time.monotonic() + function.timeout,
    )


class LambdaRuntime:
    """Runs the template's functions (by physical name) in this process; each handler module
    is imported once."""

    def __init__(self, functions: dict[str, LocalFunction]) -> None:
        self.functions = functions
        self._modules: dict[str, ModuleType] = {}
        self._import_lock = threading.Lock()

    def handler(self, function: LocalFunction) -> Callable[[Any, Any], Any]:
        """The handler of a template function, imported from its CodeUri by file path."""
        module_file, attribute = function.handler.rsplit(".", 1)
        with self._import_lock:
            module = self._modules.get(function.name)
            if module is None:
                path = function.code_dir / f"{module_file}.py"
                spec = importlib.util.spec_from_file_location(f"modelops_fn_{function.logical_id}", path)
                assert spec is not None and spec.loader is not None
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                self._modules[function.name] = module
        handler: Callable[[Any, Any], Any] = getattr(module, attribute)
        return handler

    def invoke(self, function_name: str, body: str | bytes | None, response_headers: dict[str, str]) -> bytes:
        """Run a function's handler here and now, the way Lambda would answer."""
        name = function_name.rsplit(":", 1)[-1] if function_name.startswith("arn:") else function_name
        function = self.functions[name]
        event = json.loads(body) if body else {}
        try:
            with acting_as(function.logical_id):
                result = self.handler(function)(event, context_of(function))
        except Exception as error:  # noqa: BLE001 - every failure becomes a Lambda error
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(
                {
                    "errorType": type(error).__name__,
                    "errorMessage": str(error),
                    "stackTrace": traceback.format_exception(error),
                }
            ).encode()
        return json.dumps(result).encode()

    @contextmanager
    def answering_invoke(self) -> Iterator[None]:
        """moto's Lambda Invoke runs the function here (``invoke``) while the block runs."""
        from moto.awslambda_simple.models import LambdaSimpleBackend

        runtime = self

        def invoke(
            backend: Any,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: dict[str, str],
        ) -> bytes:
            return runtime.invoke(function_name, body, response_headers)

        with mock.patch.object(LambdaSimpleBackend, "invoke", invoke):
            yield
