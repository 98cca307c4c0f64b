"""Model instances from the rows of hand-written statements, read as the ORM reads them.

The per-request path (tenants.host_lookup, accounts.signed_in, accounts.lease_sql) reads
a few rows with fixed statements instead of compiling an ORM query on every request. What comes back must be
what the ORM would have given: the same fields, converted by the same field converters
(JSON decoding, ...), as instances made by `Model.from_db`.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model
from django_tenants.utils import get_public_schema_name

M = TypeVar("M", bound=Model)


def in_public_schema(name: str) -> str:
    """`"public"."name"`: a table or function of the public schema, whatever the search_path."""
    quote = connection.ops.quote_name
    return f"{quote(get_public_schema_name())}.{quote(name)}"


def selected_columns(model: type[Model], alias: str) -> str:
    """`alias."column", ...` for every concrete field of `model`, in `_meta` order."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


def converted(model: type[Model], values: Iterator[Any]) -> tuple[Any, ...] | None:
    """The next len(concrete fields) values of a row, converted as the ORM converts them;
    None when the first (the primary key) is NULL: a LEFT JOIN that found nothing."""
    row = []
    for column, converters in _converters(model):
        value = next(values)
        for converter in converters:
            value = converter(value, column, connection)
        row.append(value)
    return None if row[0] is None else tuple(row)


def instance(model: type[M], values: tuple[Any, ...] | list[Any]) -> M:
    """An instance of `model` as a query would return it, from `converted(...)` values."""
    return model.from_db(connection.alias, _attnames(model), values)


@cache
def _attnames(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


@cache
def _converters(model: type[Model]) -> list[tuple]:
    """What the ORM's compiler applies to each column it reads (JSON decoding, ...)."""
    columns = [field.get_col(model._meta.db_table) for field in model._meta.concrete_fields]
    return [
        (column, [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)])
        for column in columns
    ]
