"""Pages of API lists: `{"next", "previous", "results"}` (API.md).

Lists of the tenant API are paged by keyset ("cursor"): the link to the next page
carries the sort values of the last row, so a page costs the same on page 1 and page
10 000 of a million rows, and rows added or removed meanwhile never shift a row into
two pages or out of both. The order comes from the selector's queryset (every ordering
ends with `id`, so it is total); the cursor is opaque to clients.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Model, OrderBy, Q, QuerySet
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class StablePageNumberPagination(PageNumberPagination):
    """Small, bounded lists (plans): numbered pages with a count."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "count": {"type": "integer"},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }


@dataclass(frozen=True)
class _Key:
    """One sort key: a field path, its direction, where NULLs go and whether there are any."""

    path: str
    descending: bool
    nulls_last: bool
    nullable: bool = True

    def reversed(self) -> _Key:
        return _Key(self.path, not self.descending, not self.nulls_last, self.nullable)

    def order_by(self) -> OrderBy | str:
        if self.nulls_last != self.descending:
            # PostgreSQL's default NULL placement: plain names keep matching the indexes.
            return f"{'-' if self.descending else ''}{self.path}"
        nulls = {"nulls_last": True} if self.nulls_last else {"nulls_first": True}
        return F(self.path).desc(**nulls) if self.descending else F(self.path).asc(**nulls)

    def after(self, value: Any) -> Q:
        """Rows that come after `value` in this key's order."""
        if not self.nullable and value is not None:
            return Q(**{f"{self.path}__{'lt' if self.descending else 'gt'}": value})
        if value is None:
            # In the NULL block: only the other side (non-NULLs) can follow, when NULLs lead.
            return Q(**{f"{self.path}__isnull": False}) if not self.nulls_last else Q(pk__in=[])
        beyond = Q(**{f"{self.path}__{'lt' if self.descending else 'gt'}": value})
        return beyond | Q(**{f"{self.path}__isnull": True}) if self.nulls_last else beyond

    def equal(self, value: Any) -> Q:
        return Q(**{f"{self.path}__isnull": True}) if value is None else Q(**{self.path: value})

    def from_(self, value: Any) -> Q | None:
        """A range on this key alone that holds every row at or after `value`: lets
        PostgreSQL start the index scan there instead of filtering from the first row."""
        if value is None or (self.nullable and self.nulls_last):
            return None
        return Q(**{f"{self.path}__{'lte' if self.descending else 'gte'}": value})


def _nullable(model: type[Model], path: str) -> bool:
    """Whether the column at `path` can be NULL (a nullable relation on the way counts)."""
    if path == "pk":
        return False
    for part in path.split("__"):
        field = model._meta.get_field(part)
        if field.null:
            return True
        if field.is_relation and field.related_model is not None:
            model = field.related_model
    return False


def _keys_of(queryset: QuerySet) -> list[_Key]:
    model = queryset.model
    keys: list[_Key] = []
    for item in queryset.query.order_by or model._meta.ordering or ["pk"]:
        if isinstance(item, str):
            descending = item.startswith("-")
            path = "pk" if item.lstrip("-") == "id" else item.lstrip("-")
            # PostgreSQL's defaults: NULLS LAST ascending, NULLS FIRST descending.
            keys.append(_Key(path, descending, not descending, _nullable(model, path)))
        elif isinstance(item, OrderBy) and isinstance(item.expression, F):
            nulls_last = bool(item.nulls_last) if (item.nulls_last or item.nulls_first) else not item.descending
            path = item.expression.name
            keys.append(_Key(path, item.descending, nulls_last, _nullable(model, path)))
        else:
            raise TypeError(f"Keyset pagination cannot order by {item!r}")
    if keys[-1].path not in ("pk", "id"):
        keys.append(_Key("pk", keys[-1].descending, True, False))
    return keys


def _value_of(record: Any, path: str) -> Any:
    value = record
    for part in path.split("__"):
        value = getattr(value, "pk" if part == "pk" else part, None)
        if value is None:
            return None
    return value


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date | Decimal):
        return value.isoformat() if not isinstance(value, Decimal) else str(value)
    return value


class InvalidCursor(serializers.ValidationError):
    def __init__(self) -> None:
        super().__init__({"cursor": [_("This page link is not valid. Start again from the first page.")]})


class KeysetPagination(BasePagination):
    """Cursor pages over any selector's ordering; `page_size` up to 200."""

    page_size_query_param = "page_size"
    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list:
        self.request = request
        self.page_size = self._page_size(request)
        keys = _keys_of(queryset)
        backwards, values = self._decode(request.query_params.get(self.cursor_query_param), len(keys))
        if backwards:
            keys = [key.reversed() for key in keys]
        if values is not None:
            try:
                queryset = queryset.filter(self._after(keys, values))
            except (DjangoValidationError, ValueError, TypeError) as invalid:
                raise InvalidCursor() from invalid
        # Deferred join: sort and cut narrow rows (ids) first, then load the page's records
        # with their joins and prefetches. A search matching thousands of rows then sorts
        # ids, not thousands of joined rows.
        ids = self.page_ids(queryset, keys, self.page_size + 1)
        more = len(ids) > self.page_size
        ids = ids[: self.page_size]
        by_id = queryset.order_by().in_bulk(ids) if ids else {}
        rows = [by_id[pk] for pk in ids if pk in by_id]
        if backwards:
            rows.reverse()
            keys = [key.reversed() for key in keys]
        self.keys = keys
        self.next_values = [_value_of(rows[-1], key.path) for key in keys] if rows and (more or backwards) else None
        self.previous_values = (
            [_value_of(rows[0], key.path) for key in keys]
            if rows and (values is not None) and (more or not backwards)
            else None
        )
        return rows

    def page_ids(self, queryset: QuerySet, keys: list[_Key], limit: int) -> list[Any]:
        """The first `limit` ids in the keys' order (a subclass may read them another way)."""
        return list(queryset.order_by(*(key.order_by() for key in keys)).values_list("pk", flat=True)[:limit])

    @staticmethod
    def _after(keys: list[_Key], values: list[Any]) -> Q:
        condition = Q(pk__in=[])
        for index, key in enumerate(keys):
            same_before = Q()
            for earlier, value in zip(keys[:index], values[:index], strict=True):
                same_before &= earlier.equal(value)
            condition |= same_before & key.after(values[index])
        start = keys[0].from_(values[0])
        return condition if start is None else start & condition

    def _page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return DEFAULT_PAGE_SIZE
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise serializers.ValidationError(
                {"page_size": [_("Ask for between 1 and %(max)d rows a page.") % {"max": MAX_PAGE_SIZE}]}
            )
        return size

    def _decode(self, cursor: str | None, expected: int) -> tuple[bool, list[Any] | None]:
        if not cursor:
            return False, None
        try:
            payload = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
            backwards, values = bool(payload["b"]), payload["v"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as invalid:
            raise InvalidCursor() from invalid
        if not isinstance(values, list) or len(values) != expected:
            raise InvalidCursor()
        if any(not isinstance(value, str | int | float | bool | type(None)) for value in values):
            raise InvalidCursor()
        return backwards, values

    def _link(self, values: list[Any] | None, *, backwards: bool) -> str | None:
        if values is None:
            return None
        payload = json.dumps({"b": int(backwards), "v": [_encode(value) for value in values]}, separators=(",", ":"))
        cursor = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        return replace_query_param(self.request.build_absolute_uri(), self.cursor_query_param, cursor)

    def get_next_link(self) -> str | None:
        return self._link(self.next_values, backwards=False)

    def get_previous_link(self) -> str | None:
        if self.previous_values is None:
            return None
        link = self._link(self.previous_values, backwards=True)
        return link

    def get_paginated_response(self, data) -> Response:
        return Response({"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_first_page_link(self) -> str:
        return remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque position from a `next` or `previous` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]
