"""moto's costs in serving any request (finding the handler, the S3 URLs, writing a
response), in Step Functions and in SQS, cut without changing an answer."""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock


@contextmanager
def definitions_parsed_once() -> Iterator[None]:
    """moto checks a definition by parsing it with its ANTLR grammar on every
    CreateStateMachine (0.4 s for ours), and every reset creates the state machines again. A
    definition it accepted once is accepted without parsing it again; one it refused is
    parsed, and refused, every time."""
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    validate = StepFunctionsParserBackend._validate_definition
    accepted: set[str] = set()

    def validate_once(definition: str) -> None:
        if definition not in accepted:
            validate(definition=definition)
            accepted.add(definition)

    with mock.patch.object(StepFunctionsParserBackend, "_validate_definition", staticmethod(validate_once)):
        yield


@contextmanager
def executions_parse_their_definition_once() -> Iterator[None]:
    """moto parses a state machine's definition with its ANTLR grammar on every execution it
    starts (about 0.1 s for ours; most of what starting an execution costs), then builds the
    execution's program from the syntax tree. The tree of a definition that parsed is kept;
    each execution still gets a program of its own, built from it as before. A definition
    that does not parse is parsed, and refused, every time."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    parse = AmazonStateLanguageParser.parse
    trees: dict[str, Any] = {}

    def parse_once(definition: str) -> tuple[Any, Any]:
        tree = trees.get(definition)
        if tree is None:
            program, tree = parse(definition)
            trees[definition] = tree
            return program, tree
        return Preprocessor().visit(tree), tree

    with mock.patch.object(AmazonStateLanguageParser, "parse", staticmethod(parse_once)):
        yield


@contextmanager
def engine_clients_kept() -> Iterator[None]:
    """moto's Step Functions engine makes a new boto3 client for every task it runs (to invoke
    a Lambda function, say): about 6.5 ms each here. Here a
    client is made once per region and service and kept, as long as the handlers every client
    gets (``hooks.every_client_hooked``: the role check, the change tracking) and the default
    session are the ones it was made with. moto's client does not use the task's credentials
    (a role it is given; its keys are fixed), so they do not tell clients apart."""
    import sys

    import boto3
    import botocore.handlers
    import moto.stepfunctions.parser.models  # noqa: F401 - imports every module of the engine that makes clients
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port
    from moto.stepfunctions.parser.asl.utils import boto_client

    make = boto_client.boto_client_for
    # (region, service, what the client is made with) -> (the default session then, the client).
    # A kept client holds its handlers, so their ids cannot be another handler's.
    kept: dict[tuple[Any, ...], tuple[Any, Any]] = {}

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        handlers = tuple(id(handler) for _, handler, *_ in botocore.handlers.BUILTIN_HANDLERS)
        key = (region, service, botocore_stubber.enabled, moto_server_port(), handlers)
        session, client = kept.get(key, (None, None))
        if client is None or session is not boto3.DEFAULT_SESSION:
            client = make(region, service, state_credentials)
            kept[key] = (boto3.DEFAULT_SESSION, client)
        return client

    # The engine's modules import the function by name: each one's reference is replaced.
    users = [
        module
        for name, module in list(sys.modules.items())
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "boto_client_for", None) is make
    ]
    with ExitStack() as stack:
        for module in users:
            stack.enter_context(mock.patch.object(module, "boto_client_for", client_for))
        yield


@contextmanager
def member_names_looked_up_once() -> Iterator[None]:
    """moto writes a response by looking each member of each shape up in its result under
    every name the member may go by (its own, snake_case, aliases from the model), worked out
    afresh each time: for DynamoDB, the ten members of an attribute value for every attribute
    of every item, 2 ms an item of a Query or Scan. For a result held in a dict (every DynamoDB
    item is), those names depend only on the member's shape and its parent, so they are worked
    out once per shape. Values in other kinds of objects, and responses with moto's own
    transformers, are looked up as before."""
    from moto.core.constants import MISSING
    from moto.core.serialize import AttributePickerContext, ResponseSerializer, XFormedAttributePicker
    from moto.core.utils import get_value as value_of

    original = ResponseSerializer.get_value
    # botocore's shapes are compared by identity; each member shape has one parent.
    names: dict[tuple[Any, Any, str, tuple[type, ...]], tuple[str, ...]] = {}

    def get_value(self: Any, value: Any, key: str, shape: Any) -> Any:
        picker = self._value_picker
        if (
            type(value) is not dict
            or type(picker) is not XFormedAttributePicker
            or picker.response_transformers
        ):
            return original(self, value, key, shape)
        cache_key = (shape, getattr(shape, "parent", None), key, tuple(picker.alias_providers))
        known = names.get(cache_key)
        if known is None:
            context = AttributePickerContext(
                obj=value,
                key=key,
                shape=shape,
                operation_model=self.operation_model,
                service_model=self.operation_model.service_model,
            )
            known = names[cache_key] = tuple(picker.get_possible_keys(context))
        for name in known:
            found = value_of(value, name, MISSING)
            if found is not MISSING:
                return found
        return None

    with mock.patch.object(ResponseSerializer, "get_value", get_value):
        yield


@contextmanager
def s3_urls_loaded_once() -> Iterator[None]:
    """moto reloads its S3 URL module on every S3 request, twice (for the URL bases and the
    paths), because one setting it reads, MOTO_S3_CUSTOM_ENDPOINTS, may have changed since.
    Here it is reloaded only when that setting has changed."""
    import importlib
    import os

    import moto.s3.urls as urls
    from moto.s3.models import S3Backend

    loaded_with: list[object] = [object()]  # the setting at the last reload

    def url_module(self: S3Backend) -> Any:
        setting = os.environ.get("MOTO_S3_CUSTOM_ENDPOINTS")
        if loaded_with[0] != setting:
            importlib.reload(urls)
            loaded_with[0] = setting
        return urls

    with mock.patch.object(S3Backend, "_url_module", property(url_module)):
        yield


class _FunctionNames:
    """The names of a class's plain functions, as ``inspect.getmembers(cls, isfunction)``
    lists them, for ``in``: each name asked about is looked up on its own, as it is now.
    Unlike getmembers, an attribute that raises when read fails only the action of that
    name (moto's response classes have none)."""

    def __init__(self, owner: type) -> None:
        self.owner = owner

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and inspect.isfunction(getattr(self.owner, name, None))


@contextmanager
def actions_found_by_name() -> Iterator[None]:
    """moto finds a request's handler method by listing every function of the response class
    (``inspect.getmembers``: a getattr of each of its few hundred attributes) on every request,
    then asking whether the action's name is in that list. Here only that one name is looked
    up, with the same test."""
    import moto.core.responses as responses

    with mock.patch.object(responses, "method_names_from_class", _FunctionNames):
        yield


@contextmanager
def sqs_clock_from_time() -> Iterator[None]:
    """moto's SQS works out every message's visibility and delay afresh on each send and
    receive (walking the whole queue), from a clock built of datetime objects at 6.5 µs a
    read: 300 FIFO sends took 11 s, 900 receives 53 s. The same clock read from time.time()
    makes it about 50 times faster; what moto answers is unchanged."""
    import moto.sqs.models as sqs_models
    from moto.core.utils import unix_time as original

    def unix_time(dt: Any = None) -> float:
        return time.time() if dt is None else original(dt)

    def unix_time_millis(dt: Any = None) -> float:
        return unix_time(dt) * 1000.0

    with (
        mock.patch.object(sqs_models, "unix_time", unix_time),
        mock.patch.object(sqs_models, "unix_time_millis", unix_time_millis),
    ):
        yield
