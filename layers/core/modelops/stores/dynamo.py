"""Conversions between Python values and DynamoDB attribute values, and reading every page of
a query."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np


def decimal(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def item_value(value: Any) -> Any:
    """A plain or NumPy value as DynamoDB stores it; NaN (missing) becomes None."""
    if isinstance(value, float):
        return None if value != value else decimal(value)
    if isinstance(value, np.generic):
        return item_value(value.item())
    if isinstance(value, int | bool | str) or value is None:
        return value
    return str(value)


def plain(value: Any) -> Any:
    """A DynamoDB number back as int (when whole and written as such) or float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)
    return value


def query_all(table: Any, **query: Any) -> list[dict[str, Any]]:
    """Every item a DynamoDB query matches, page after page (a boto3 Table resource)."""
    items: list[dict[str, Any]] = []
    while True:
        page = table.query(**query)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
