"""Filtering and sorting record lists by custom fields: the web lists and the API read
the same parameters the same way.

Parameters (query string): `cf.<key>=value` equality (every kind; a value in any form
the field accepts: a choice by key or label, `31.12.2024`, `да`; a multiple choice
holds every value listed; yes/no "no" means "not yes", empty included),
`cf.<key>__from` / `cf.<key>__to` (inclusive, number, money and date fields that are
filterable), `cf.<key>__contains` (text-like filterable fields, three characters or
more, any case) and `cf.<key>__empty=true|false`. Sorting: `cf.<key>` / `-cf.<key>` for
filterable fields; records without a value come last in both directions.

Each condition is one an index answers: equality, containment and "has a value" the
GIN index on the whole column; ranges and sorting the field's b-tree; "contains" its
trigram index (crm.custom_fields.indexes). What no index would answer (a range on a
field that is not filterable) is refused with a field error rather than scanning a
million rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from crm.custom_fields.indexes import TEXT_KINDS, has_sort_index, has_text_index
from crm.custom_fields.models import RANGE_KINDS, CustomField, FieldKind
from crm.custom_fields.values import value_clean
from crm.text_values import boolean_from_text

PREFIX = "cf."
EQUALS, FROM, TO, CONTAINS, EMPTY = "", "from", "to", "contains", "empty"
OPERATORS = (FROM, TO, CONTAINS, EMPTY)
CONTAINS_MIN_LENGTH = 3


@dataclass(frozen=True)
class CustomFilter:
    """One condition on one field; `value` is in the stored form (or a bool for `empty`)."""

    field: CustomField
    operator: str
    value: Any
    param: str


@dataclass(frozen=True)
class CustomSort:
    field: CustomField
    descending: bool

    @property
    def alias(self) -> str:
        return sort_alias(self.field)

    @property
    def param(self) -> str:
        return f"{'-' if self.descending else ''}{PREFIX}{self.field.key}"


def sort_alias(field: CustomField) -> str:
    return f"_cf_{field.key}"


def value_expression(field: CustomField) -> KeyTransform:
    """`custom_fields -> 'key'`: the JSON value, as the field's b-tree index holds it."""
    return KeyTransform(field.key, "custom_fields")


def param_name(field: CustomField, operator: str = EQUALS) -> str:
    return f"{PREFIX}{field.key}{f'__{operator}' if operator else ''}"


def is_custom_param(name: str) -> bool:
    return name.startswith(PREFIX)


def _split(name: str) -> tuple[str, str]:
    key = name[len(PREFIX) :]
    for operator in OPERATORS:
        if key.endswith(f"__{operator}"):
            return key[: -len(operator) - 2], operator
    return key, EQUALS


def filters_from_params(
    params: Iterable[tuple[str, str]], *, fields: Sequence[CustomField], region: str = ""
) -> list[CustomFilter]:
    """The custom field conditions among `params` (name, value pairs; other names are
    ignored, empty values too). Raises ValidationError naming each bad parameter."""
    by_key = {field.key: field for field in fields if not field.is_removed}
    found: list[CustomFilter] = []
    errors: dict[str, list[ValidationError]] = {}

    def refuse(name: str, message: str, code: str = "invalid") -> None:
        errors.setdefault(name[:80], []).append(ValidationError(message, code=code))

    for name, raw in params:
        if not is_custom_param(name) or raw is None or str(raw).strip() == "":
            continue
        key, operator = _split(name)
        field = by_key.get(key)
        if field is None:
            known = ", ".join(sorted(by_key)) or _("none yet")
            refuse(
                name,
                _("There is no field “%(key)s” here. Fields: %(known)s.") % {"key": key[:40], "known": known},
                "unknown_field",
            )
            continue
        try:
            value = _operand(field, operator, str(raw), region=region)
        except ValidationError as error:
            for message in error.messages:
                refuse(name, message, getattr(error, "code", None) or "invalid")
            continue
        found.append(CustomFilter(field=field, operator=operator, value=value, param=name))
    if errors:
        raise ValidationError(errors)
    return found


def _operand(field: CustomField, operator: str, raw: str, *, region: str) -> Any:
    if operator == EMPTY:
        try:
            return boolean_from_text(raw)
        except ValueError as error:
            raise ValidationError(_("Answer true or false."), code="invalid") from error
    if operator in (FROM, TO):
        if field.kind not in RANGE_KINDS:
            raise ValidationError(_("Only number, money and date fields have ranges."), code="invalid")
        if not has_sort_index(field):
            raise ValidationError(_not_filterable(field), code="not_filterable")
    if operator == CONTAINS:
        if field.kind not in TEXT_KINDS:
            raise ValidationError(_("Only text fields can be searched for a part."), code="invalid")
        if not has_text_index(field):
            raise ValidationError(_not_filterable(field), code="not_filterable")
        text = " ".join(raw.split()).lower()
        if len(text) < CONTAINS_MIN_LENGTH:
            raise ValidationError(
                _("Type at least %(count)d characters.") % {"count": CONTAINS_MIN_LENGTH}, code="min_length"
            )
        return text
    value = value_clean(field, raw, region=region)
    if value is None:
        raise ValidationError(_("Give a value."), code="required")
    return value


def _not_filterable(field: CustomField) -> str:
    return _(
        "Lists cannot be filtered this way by “%(label)s”: an administrator can make it filterable "
        "in Settings → Custom fields."
    ) % {"label": field.label_in()}


def condition(custom: CustomFilter) -> Q:
    """The filter as a condition on the record's table (an alias may be needed, see filters_apply)."""
    field, key, value = custom.field, custom.field.key, custom.value
    if custom.operator == EMPTY:
        has = Q(custom_fields__has_key=key)
        return ~has if value else has
    if custom.operator == FROM:
        return Q(**{f"{sort_alias(field)}__gte": value})
    if custom.operator == TO:
        return Q(**{f"{sort_alias(field)}__lte": value})
    if custom.operator == CONTAINS:
        return Q(**{f"_cf_text_{key}__contains": value})
    if field.kind == FieldKind.BOOLEAN:
        yes = Q(custom_fields__contains={key: True})
        return yes if value else ~yes
    if field.kind == FieldKind.MULTI_CHOICE:
        return Q(custom_fields__contains={key: list(value)})
    if has_sort_index(field):
        # The b-tree's expression: PostgreSQL then knows how many rows hold the value.
        return Q(**{sort_alias(field): value})
    return Q(custom_fields__contains={key: value})


def filters_apply(queryset: QuerySet, filters: Sequence[CustomFilter]) -> QuerySet:
    for custom in filters:
        if custom.operator == CONTAINS:
            queryset = queryset.alias(
                **{f"_cf_text_{custom.field.key}": Lower(KeyTextTransform(custom.field.key, "custom_fields"))}
            )
        elif custom.operator in (FROM, TO) or (
            custom.operator == EQUALS and custom.field.kind not in (FieldKind.BOOLEAN, FieldKind.MULTI_CHOICE)
        ):
            queryset = queryset.alias(**{sort_alias(custom.field): value_expression(custom.field)})
        queryset = queryset.filter(condition(custom))
    return queryset


def sort_from_param(text: str, *, fields: Sequence[CustomField]) -> CustomSort | None:
    """`cf.<key>` / `-cf.<key>` as a sort, None when `text` names no custom field;
    ValidationError for a field that no index sorts."""
    descending = text.startswith("-")
    name = text.lstrip("-")
    if not is_custom_param(name):
        return None
    key = name[len(PREFIX) :]
    field = next((field for field in fields if field.key == key and not field.is_removed), None)
    if field is None:
        raise ValidationError(_("There is no field “%(key)s” here.") % {"key": key[:40]}, code="unknown_field")
    if not has_sort_index(field):
        raise ValidationError(_not_filterable(field), code="not_filterable")
    return CustomSort(field=field, descending=descending)


def sortable_fields(fields: Iterable[CustomField]) -> list[CustomField]:
    return [field for field in fields if has_sort_index(field)]


# --- pages sorted by a custom field --------------------------------------------------


def sort_annotate(queryset: QuerySet, sort: CustomSort) -> QuerySet:
    """The queryset carrying the sort value on each row (as `sort.alias`)."""
    return queryset.annotate(**{sort.alias: value_expression(sort.field)})


def _plain_ids(queryset: QuerySet, order: tuple[str, ...], limit: int) -> list[Any]:
    return list(queryset.order_by(*order).values_list("pk", flat=True)[:limit])


def sorted_page_ids(
    queryset: QuerySet,
    sort: CustomSort,
    *,
    after: tuple[Any, int] | None,
    limit: int,
    ids: Callable[[QuerySet, tuple[str, ...], int], list[Any]] = _plain_ids,
) -> list[Any]:
    """Up to `limit` ids of `queryset` (annotated by sort_annotate) in the sort's order,
    after the cursor `after` = (the last row's value or None, its id).

    Records with a value come first in either direction, then those without one. The
    two parts are read as two ranges of the field's one b-tree index, `(value, id)`:
    "has a value" in the index's order or backwards, then "no value" (where the index
    holds NULLs, by id). One `ORDER BY value DESC NULLS LAST` would need a second index.
    `ids` reads one part (crm.list_pages passes its few-matches strategy)."""
    alias = sort.alias
    direction = "lt" if sort.descending else "gt"
    order = (f"-{alias}", "-pk") if sort.descending else (alias, "pk")
    found: list[Any] = []
    if after is None or after[0] is not None:
        valued = queryset.filter(**{f"{alias}__isnull": False})
        if after is not None:
            value, last_id = after
            valued = valued.filter(**{f"{alias}__{direction}e": value}).filter(
                Q(**{f"{alias}__{direction}": value}) | Q(**{alias: value, f"pk__{direction}": last_id})
            )
        found = ids(valued, order, limit)
    if len(found) < limit:
        empty = queryset.filter(**{f"{alias}__isnull": True})
        if after is not None and after[0] is None:
            empty = empty.filter(**{f"pk__{direction}": after[1]})
        found += ids(empty, order, limit - len(found))
    return found


def values_by_key(fields: Iterable[CustomField], values: Mapping[str, Any] | None) -> dict[str, Any]:
    """A record's values of the live `fields` only (every key present, None when empty):
    what the API and webhooks show; removed fields' values stay hidden."""
    values = values or {}
    return {field.key: values.get(field.key) for field in fields if not field.is_removed}
