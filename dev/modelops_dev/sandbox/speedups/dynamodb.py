"""moto's DynamoDB costs, cut without changing an answer: each patch does the same work as
moto, once instead of many times, or directly instead of through a generic walker."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock


@contextmanager
def imports_parsed_by_line() -> Iterator[None]:
    """moto's ImportTable parses each source object with a pure-Python JSON parser (about
    2 ms an item here: an hour for a 2,000,000-row publication). DynamoDB JSON as the import
    reads it is one item a line, so each line is parsed with ``json.loads`` instead; moto
    stores, counts and refuses the items exactly as before (a line that does not parse is
    one error, as moto counts an item it cannot store)."""
    import gzip
    import json

    from moto.dynamodb.models.table_import import TableImport

    def process(self: TableImport, s3_backend: Any, bucket: Any) -> None:
        from moto.dynamodb.models import dynamodb_backends

        dynamo = dynamodb_backends[self.account_id][self.region_name]
        self.table = dynamo.create_table(
            name=self.table_name,
            billing_mode=self.billing_mode,
            throughput=self.throughput,
            schema=self.key_schema,
            global_indexes=self.global_indexes,
            indexes=None,
            attr=self.attrs,
            sse_specification=None,
            streams=None,
            tags=[],
            deletion_protection_enabled=False,
            warm_throughput=None,
        )
        keys, _, _, _ = s3_backend.list_objects(
            bucket, prefix=self.s3_source.get("S3KeyPrefix"), delimiter=None, marker=None, max_keys=None
        )
        for key in keys:
            body = gzip.decompress(key.value) if self.compression_type == "GZIP" else key.value
            for line in body.decode("utf-8").splitlines():
                if not line.strip():
                    continue
                self.processed_count += 1
                self.processed_bytes += len(line)
                try:
                    self.table.put_item(item_attrs=json.loads(line)["Item"])
                    self.imported_count += 1
                except Exception as error:  # noqa: BLE001 - counted and reported, as moto does
                    self.failure_message = str(error)
                    self.error_count += 1
        self.status = "COMPLETED" if self.error_count == 0 else "FAILED"

    with mock.patch.object(TableImport, "_process_s3_files", process):
        yield


@contextmanager
def item_sizes_summed_once() -> Iterator[None]:
    """moto checks DynamoDB's 400 KB item limit as it adds each attribute to an item, by
    summing the sizes of all the attributes added before it: quadratic in the attributes, and
    two fifths of moto's PutItem for our items. Here the sizes are summed once, after all of
    them are converted. The same items are refused, with the same error: sizes are never negative, so
    the last of those partial sums is the largest."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    def item(self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]) -> None:
        self.hash_key, self.range_key = hash_key, range_key
        values = {key: DynamoType(value) for key, value in attrs.items()}
        if sum(bytesize(key) + value.size() for key, value in values.items()) > _MAX_ITEM_BYTES:
            raise ItemSizeTooLarge
        self.attrs = LimitedSizeDict(values)  # its __init__ does not check (dict.update)

    with mock.patch.object(Item, "__init__", item):
        yield


_MAX_ITEM_BYTES = 405_000  # moto's limit: between AWS's measured 409 and 410 KB


# The members of a DynamoDB attribute value, in the model's order.
_ATTRIBUTE_KINDS = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")


def _is_attribute_value(shape: Any) -> bool:
    """DynamoDB's (and DynamoDB Streams') attribute value, not another service's shape of that
    name (identitystore's is a free-form document, others have other members)."""
    return bool(
        shape.name == "AttributeValue"
        and not shape.is_document_type
        and set(shape.members) == set(_ATTRIBUTE_KINDS)
    )


class _Unusual(Exception):
    """A value the direct path does not write as moto would: moto writes it."""


def _attribute_wire(value: Any) -> dict[str, Any]:
    """An attribute value of a moto result (binaries as bytes) as DynamoDB JSON, as moto's
    serializer writes it: members without a value left out, binaries in base64. Anything
    else than what moto's DynamoDB results hold (a member not a dict, an empty attribute
    name, a string that is not a str, a set of other things) raises ``_Unusual``."""
    if type(value) is not dict:
        raise _Unusual
    wire: dict[str, Any] = {}
    for kind in _ATTRIBUTE_KINDS:
        item = value.get(kind)
        if item is None:
            continue
        if kind == "M":
            if "" in item:
                raise _Unusual  # moto's serializer loses an empty name's level
            wire[kind] = {name: _attribute_wire(member) for name, member in item.items()}
        elif kind == "L":
            wire[kind] = [_attribute_wire(member) for member in item]
        elif kind == "B":
            wire[kind] = _base64(item)
        elif kind == "BS":
            wire[kind] = [_base64(member) for member in item]
        elif kind in ("SS", "NS"):
            if not all(type(member) is str for member in item):
                raise _Unusual
            wire[kind] = list(item)
        elif kind in ("S", "N"):
            if type(item) is not str:
                raise _Unusual
            wire[kind] = item
        elif type(item) is bool:  # NULL, BOOL
            wire[kind] = item
        else:
            raise _Unusual
    return wire


def _base64(value: Any) -> str:
    if type(value) is str:
        value = value.encode("utf-8")
    elif type(value) is not bytes:
        raise _Unusual
    return base64.b64encode(value).strip().decode("utf-8")


def _attribute_parsed(value: dict[str, Any]) -> dict[str, Any]:
    """An attribute value of a request's DynamoDB JSON as moto's parser reads it: members
    without a value left out, lists read item by item, binaries decoded from base64."""
    parsed: dict[str, Any] = {}
    for kind in _ATTRIBUTE_KINDS:
        item = value.get(kind)
        if item is None:
            continue
        if kind == "M":
            parsed[kind] = {name: _nested_parsed(member) for name, member in item.items()}
        elif kind == "L":
            parsed[kind] = [_nested_parsed(member) for member in item]
        elif kind == "B":
            parsed[kind] = base64.b64decode(item)
        elif kind == "BS":
            parsed[kind] = [base64.b64decode(member) for member in item]
        elif kind in ("SS", "NS"):
            parsed[kind] = list(item)
        else:
            parsed[kind] = item
    return parsed


def _nested_parsed(value: Any) -> Any:
    return None if value is None else _attribute_parsed(value)


@contextmanager
def attribute_values_written_directly() -> Iterator[None]:
    """moto writes a DynamoDB response through its generic shape walker: for every attribute
    of every item, the ten members of an attribute value looked up one by one (about half of
    a Query's time here). An attribute value's wire form is the value itself, binaries in
    base64, so it is written in one pass; every other shape as before."""
    from moto.core.serialize import BaseJSONSerializer

    original = BaseJSONSerializer._serialize_type_structure

    def structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if (
            key
            and _is_attribute_value(shape)
            and not getattr(self._value_picker, "response_transformers", None)
        ):
            try:
                self._default_serialize(serialized, _attribute_wire(value), shape, key)
                return
            except _Unusual:
                pass
        original(self, serialized, value, shape, key)

    with mock.patch.object(BaseJSONSerializer, "_serialize_type_structure", structure):
        yield


@contextmanager
def attribute_values_read_directly() -> Iterator[None]:
    """The same for requests: moto reads each attribute value of a request (an item, a key,
    an expression's values) member by member through its shape walker; here in one pass, to
    the same result."""
    from moto.core.parse import BaseJSONParser

    original = BaseJSONParser._parse_structure

    def structure(self: Any, shape: Any, value: Any) -> Any:
        if type(value) is dict and self.MAP_TYPE is dict and _is_attribute_value(shape):
            return _attribute_parsed(value)
        return original(self, shape, value)  # type: ignore[no-untyped-call]  # moto's parser is untyped

    with mock.patch.object(BaseJSONParser, "_parse_structure", structure):
        yield


@contextmanager
def queries_read_their_keys() -> Iterator[None]:
    """moto answers a DynamoDB Query by sorting every item of the table and testing each
    against the key condition (an index query) or the partition key (a table query): `top`
    took 14 s after one scored month, as long as a Scan. DynamoDB reads only the queried
    partition. Here moto's own query runs on the items that partition can hold (those whose
    key attributes equal the condition's, in moto's order), so it sorts, pages, limits and
    filters exactly as before, over those only. The narrowing is per thread: a Scan of the
    same table in another thread still sees every item.

    An index query finds its partition's items through a grouping of the table's items by
    that key attribute, built once and kept on the table until any item of any table is
    written (PutItem, DeleteItem, UpdateItem: every write path of moto goes through one of
    the three): `top` asks one query per shard, and each walked every item before."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    query, all_items = Table.query, Table.all_items
    writes = (Table.put_item, Table.delete_item, DynamoDBBackend.update_item)
    narrowed = threading.local()
    written = [0]  # writes so far: a grouping made before the latest one is stale
    lock = threading.Lock()

    def counted(write: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return write(*args, **kwargs)
            finally:
                with lock:
                    written[0] += 1

        return wrapper

    def items(self: Table) -> list[Any]:
        found: dict[int, list[Any]] = getattr(narrowed, "tables", {})
        return found[id(self)] if id(self) in found else all_items(self)

    def every_item(self: Table) -> Iterator[Any]:
        for partition in list(self.items.values()):
            yield from (list(partition.values()) if self.range_key_attr else (partition,))

    def grouped(self: Table, name: str) -> dict[tuple[str, Any], list[Any]]:
        """The table's items by the (type, raw value) of attribute ``name``, as of now."""
        with lock:
            generation = written[0]
        kept = getattr(self, "_modelops_groups", None)
        if kept is not None and kept[0] == generation and name in kept[1]:
            groups: dict[tuple[str, Any], list[Any]] = kept[1][name]
            return groups
        groups = {}
        for item in every_item(self):
            if (found := item.attrs.get(name)) is not None and found.type in ("S", "B"):
                groups.setdefault((found.type, found.value), []).append(item)
        by_name = kept[1] if kept is not None and kept[0] == generation else {}
        by_name[name] = groups
        self._modelops_groups = (generation, by_name)  # type: ignore[attr-defined]
        return groups

    def candidates(self: Table, hash_key: Any, index_name: str | None, conditions: Any) -> list[Any] | None:
        if not index_name:
            if hash_key is None or hash_key not in self.items:
                return []
            held = self.items[hash_key]
            return list(held.values()) if self.range_key_attr else [held]
        if not conditions:
            return None  # moto's older interface: let it look at everything
        # Strings and binaries compare as their raw values (moto's cast_value is the value
        # itself): the first such condition picks its group; every item of it is then held
        # to moto's own test of every condition.
        keyed = [(name, value) for name, value in conditions if value.type in ("S", "B")]
        every: Any = (
            grouped(self, keyed[0][0]).get((keyed[0][1].type, keyed[0][1].value), [])
            if keyed
            else every_item(self)
        )
        return [
            item for item in every if all(_holds(item.attrs.get(name), value) for name, value in conditions)
        ]

    def narrowed_query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        conditions = kwargs.get("hash_key_conditions")
        picked = candidates(self, hash_key, index_name, conditions)
        if picked is None:
            return query(self, hash_key, *args, **kwargs)
        picked.sort(
            key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key
        )  # all_items' order
        tables = narrowed.__dict__.setdefault("tables", {})
        tables[id(self)] = picked
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            del tables[id(self)]

    narrowed_query.moto = (query, all_items)  # type: ignore[attr-defined]  # the originals, for tests
    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(Table, "query", narrowed_query))
        stack.enter_context(mock.patch.object(Table, "all_items", items))
        for owner, write in zip((Table, Table, DynamoDBBackend), writes, strict=True):
            stack.enter_context(mock.patch.object(owner, write.__name__, counted(write)))
        yield


def _holds(found: Any, expected: Any) -> bool:
    """moto's own test of an item's key attribute against a Query's hash key condition."""
    return not (not found or found != expected)
