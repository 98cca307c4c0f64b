"""Recording field changes, from inside the service that makes them.

An update service computes the changes before it applies them (`changes_between`),
writes the row, then calls `field_changes_record` in the same transaction: a change
and its history commit together or not at all. The channel (web, API, import...) and
the batch come from `config.request_context.current_change_source`, bound by the
request middleware, the API and the import job, so services don't pass them around.
Bulk writers build their changes the same way and insert many records' rows at once
(`field_change_rows`, then `FieldChange.objects.bulk_create`, or `field_changes_copy`:
one COPY, five times faster at import volume).

What is stored is what the value *was* (JSON, references by id with the name they had
then, amounts with their currency); how it reads ("CEO → CFO", a status's name in the
reader's language, a date in their format) is decided when it is read
(crm.history.selectors). See docs/decisions/0021-field-history.md.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models
from django.utils import timezone
from psycopg.types.json import Jsonb

from accounts.models import User
from config.request_context import change_source_bound, current_change_source
from crm.history.models import FieldChange

LABEL_MAX = FieldChange._meta.get_field("old_label").max_length
CUSTOM_PREFIX = "custom_fields."

# The record types whose changes are recorded (their crm.access record type, which is
# also their model's name).
HISTORY_RECORD_TYPES = frozenset({"contact", "company", "lead", "deal", "product", "quote"})

# Changes that are not one field's: the tags as a whole, and what happened to the record.
TAGS = "tags"
TRASHED = "trashed"  # False → True: moved to the trash; True → False: restored
MERGED_FROM = "merged_from"  # on the record kept: a duplicate (id, its name) folded into it
MERGED_INTO = "merged_into"  # on a duplicate: the record it was folded into
EVENT_FIELDS = frozenset({TRASHED, MERGED_FROM, MERGED_INTO})

# Amounts whose history carries their currency (in the labels), so "100 → 120" reads
# "100.00 EUR → 120.00 EUR" even after the record's currency changed: field → currency field.
MONEY_FIELDS = {"amount": "currency", "price": "currency"}


@dataclass(frozen=True)
class Change:
    """One field's change: values in JSON form, references with what they were called."""

    field: str
    old: Any
    new: Any
    old_label: str = ""
    new_label: str = ""


def json_value(value: Any) -> Any:
    """A field's value as stored in the history (JSON): references by id, dates in ISO."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    return value


def reference_label(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, User):
        return (value.full_name or value.email)[:LABEL_MAX]
    return str(value)[:LABEL_MAX]


def _stored(field: models.Field, value: Any) -> Any:
    """`value` of `field` in the history's JSON form; decimals with the column's places
    ("100" typed, "100.00" stored: one form, so equal amounts compare equal)."""
    if isinstance(field, models.DecimalField) and value is not None:
        with contextlib.suppress(ArithmeticError, TypeError, ValueError):
            value = Decimal(value).quantize(Decimal(1).scaleb(-field.decimal_places))
    return json_value(value)


def _same(field: models.Field, old: Any, new: Any) -> bool:
    # `==` first: Decimal("1.0") == Decimal("1"), and two aware datetimes of one instant
    # in different time zones, are no change although their text differs.
    try:
        if old == new:
            return True
    except (ArithmeticError, TypeError):
        pass
    return _stored(field, old) == _stored(field, new)


def custom_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[Change]:
    """One change per custom field key whose value differs."""
    old, new = old or {}, new or {}
    return [
        Change(field=f"{CUSTOM_PREFIX}{key}", old=old.get(key), new=new.get(key))
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    ]


def _currency_labels(record: models.Model, field: models.Field, new_values: Mapping[str, Any]) -> tuple[str, str]:
    currency_field = MONEY_FIELDS.get(field.name)
    if currency_field is None or not _has_field(type(record), currency_field):
        return "", ""
    old_currency = getattr(record, currency_field) or ""
    return old_currency, new_values.get(currency_field, old_currency) or ""


def changes_between(record: models.Model, new_values: Mapping[str, Any]) -> list[Change]:
    """What setting `new_values` on `record` (before it is set) would change.

    Keys are model field names (`owner`; `owner_id` is read as `owner`) or
    `custom_fields` (the whole new dict, compared key by key). Equal values make no
    change (100 and 100.00 are equal). References are recorded by id with the name they
    have now; amounts (MONEY_FIELDS) with their currency.
    """
    changes: list[Change] = []
    for name, new in new_values.items():
        if name == "custom_fields":
            changes.extend(custom_changes(getattr(record, "custom_fields", None), new))
            continue
        field = record._meta.get_field(name)
        if field.is_relation and field.many_to_one:
            old_id = getattr(record, field.attname)
            new_id = new.pk if isinstance(new, models.Model) else new
            if old_id == new_id:
                continue
            old_object = getattr(record, field.name) if old_id is not None else None
            changes.append(
                Change(
                    field=field.name,
                    old=old_id,
                    new=new_id,
                    old_label=reference_label(old_object),
                    new_label=reference_label(new if isinstance(new, models.Model) else None),
                )
            )
            continue
        old = getattr(record, field.attname)
        if _same(field, old, new):
            continue
        old_label, new_label = _currency_labels(record, field, new_values)
        changes.append(
            Change(
                field=field.name,
                old=_stored(field, old),
                new=_stored(field, new),
                old_label=old_label,
                new_label=new_label,
            )
        )
    return changes


def record_changes(before: models.Model, after: models.Model, fields: Iterable[str]) -> list[Change]:
    """What changed in `fields` between two versions of one record (`before` a copy
    taken before the in-memory edits of `after`), for writers that edit in place (merges)."""
    values = {}
    for name in fields:
        field = after._meta.get_field(name)
        values[field.name] = getattr(after, field.name) if field.is_relation else getattr(after, field.attname)
    return changes_between(before, values)


def tag_change(old_names: Iterable[str], new_names: Iterable[str]) -> list[Change]:
    """The tags as one field ("VIP, Partner → VIP"), when the set changed."""
    old_sorted = sorted(old_names, key=str.casefold)
    new_sorted = sorted(new_names, key=str.casefold)
    if [name.casefold() for name in old_sorted] == [name.casefold() for name in new_sorted]:
        return []
    return [Change(field=TAGS, old=old_sorted, new=new_sorted)]


def field_change_rows(
    *,
    record_type: str,
    record_id: int,
    changes: Sequence[Change],
    actor: User | None,
    at: datetime | None = None,
) -> list[FieldChange]:
    """Unsaved history rows for `changes`, stamped with the current channel and batch
    and one time for all of them (`at`, default now), for bulk writers, who insert many
    records' rows at once."""
    channel, batch = current_change_source()
    actor_label = actor.email if actor is not None else ""
    stamp = at or timezone.now()
    return [
        FieldChange(
            created_at=stamp,
            updated_at=stamp,
            record_type=record_type,
            record_id=record_id,
            field=change.field,
            old_value=change.old,
            new_value=change.new,
            old_label=change.old_label[:LABEL_MAX],
            new_label=change.new_label[:LABEL_MAX],
            actor=actor,
            actor_label=actor_label,
            channel=channel,
            batch=batch,
        )
        for change in changes
    ]


def field_changes_record(
    *, record: models.Model, changes: Sequence[Change], actor: User | None, at: datetime | None = None
) -> list[FieldChange]:
    """Write the history of one record's change (nothing when nothing changed), all
    rows at one time (`at`, default now: a service that also logs an activity for the
    change passes the activity's time, so the timeline can tell they belong together)."""
    if not changes:
        return []
    rows = field_change_rows(
        record_type=record._meta.model_name or "", record_id=record.pk, changes=changes, actor=actor, at=at
    )
    return rows_insert(rows)


def _columns() -> tuple[list[str], set[str], str, str]:
    fields = [field for field in FieldChange._meta.concrete_fields if not field.primary_key]
    names = [field.attname for field in fields]
    json_names = {field.attname for field in fields if isinstance(field, models.JSONField)}
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    return names, json_names, columns, connection.ops.quote_name(FieldChange._meta.db_table)


def _values(row: FieldChange, names: list[str], json_names: set[str]) -> list[Any]:
    if row.created_at is None:  # rows not made by field_change_rows
        row.created_at = timezone.now()
    if row.updated_at is None:
        row.updated_at = row.created_at
    return [
        Jsonb(value) if name in json_names and value is not None else value
        for name, value in ((name, getattr(row, name)) for name in names)
    ]


INSERT_BATCH = 1000


def rows_insert(rows: Sequence[FieldChange]) -> list[FieldChange]:
    """Insert unsaved history rows with one multi-row INSERT per thousand, setting their
    ids: what `bulk_create` does, without its per-call machinery, which cost 1.2 ms of the
    1.7 ms a two-field save's history took (docs/benchmarks.md) — on every update."""
    names, json_names, columns, table = _columns()
    one = "(" + ", ".join(["%s"] * len(names)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_BATCH):
            batch = rows[start : start + INSERT_BATCH]
            params = [value for row in batch for value in _values(row, names, json_names)]
            # Only the model's own table and column names and placeholders: the values are parameters.
            sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(batch))} RETURNING id"  # noqa: S608
            cursor.execute(sql, params)
            for row, (pk,) in zip(batch, cursor.fetchall(), strict=True):
                row.pk = pk
                row._state.adding = False
                row._state.db = connection.alias
    return list(rows)


@cache
def _has_field(model: type[models.Model], name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def record_save_with_history(
    record: models.Model,
    values: Mapping[str, Any],
    *,
    actor: User | None,
    also_save: Sequence[str] = (),
    at: datetime | None = None,
) -> list[Change]:
    """Set `values` on the locked `record`, save them (with `also_save`, `updated_by`
    where the model has one, and `updated_at`) and write the history of what changed
    (at `at`, default now); returns the changes.

    For the update services: call it inside their transaction, after validation.
    """
    changes = changes_between(record, values)
    for name, value in values.items():
        setattr(record, name, value)
    stamps = ["updated_at"]
    if _has_field(type(record), "updated_by"):
        record.updated_by = actor
        stamps.append("updated_by")
    record.save(update_fields=[*values, *also_save, *stamps])
    field_changes_record(record=record, changes=changes, actor=actor, at=at)
    return changes


def event_change(field: str, *, old: Any = None, new: Any = None, old_label: str = "", new_label: str = "") -> Change:
    """A change of one of EVENT_FIELDS (moved to the trash, merged...)."""
    if field not in EVENT_FIELDS:
        raise ValueError(f"{field} is not a history event")
    return Change(field=field, old=old, new=new, old_label=old_label[:LABEL_MAX], new_label=new_label[:LABEL_MAX])


def records_changes_record(
    *, record_type: str, changes_by_id: Mapping[int, Sequence[Change]], actor: User | None
) -> list[FieldChange]:
    """Write the history of many records of one type at once (one insert): for services
    that change many rows with one statement (a merge moving references, a stage removed)."""
    stamp = timezone.now()
    rows = [
        row
        for record_id, changes in changes_by_id.items()
        for row in field_change_rows(
            record_type=record_type, record_id=record_id, changes=changes, actor=actor, at=stamp
        )
    ]
    return rows_insert(rows) if rows else []


def field_changes_copy(rows: Iterable[FieldChange]) -> int:
    """Insert unsaved history rows (from `field_change_rows`) with one COPY, in the
    caller's transaction: for bulk writers at import volume, about five times faster
    than `bulk_create` (docs/benchmarks.md). The ids come from the table's sequence and
    are not set on the rows given. Returns how many rows were written."""
    names, json_names, columns, table = _columns()
    count = 0
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(_values(row, names, json_names))
            count += 1
    return count


@contextlib.contextmanager
def history_batch(kind: str) -> Iterator[str]:
    """Changes made inside share one batch, `<kind>:<32 hex digits>` (a bulk action on a
    list page: "bulk:…"), in the current channel; yields the batch. A batch bound
    already is kept: a merge inside an import stays in the import's batch."""
    channel, batch = current_change_source()
    if batch:
        yield batch
        return
    batch = f"{kind}:{uuid.uuid4().hex}"
    with change_source_bound(channel, batch):
        yield batch


def history_forget(*, record_type: str, record_ids: Sequence[int]) -> int:
    """Delete the history of records deleted for good (the trash's purge): old values are
    personal data, and nobody can open the record to read them any more. Returns rows deleted."""
    if record_type not in HISTORY_RECORD_TYPES or not record_ids:
        return 0
    deleted, _by_model = FieldChange.objects.filter(record_type=record_type, record_id__in=list(record_ids)).delete()
    return deleted
