"""Recording field changes, from inside the service that makes them.

An update service computes the changes before it applies them (`changes_between`),
writes the row, then calls `field_changes_record` in the same transaction: a change
and its history commit together or not at all. The channel (web, API, import...) and
the batch come from `config.request_context.current_change_source`, bound by the
request middleware, the API and the import job, so services don't pass them around.
Bulk writers build their changes the same way and record them with one insert.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models

from accounts.models import User
from config.request_context import current_change_source
from crm.history.models import FieldChange

LABEL_MAX = FieldChange._meta.get_field("old_label").max_length
CUSTOM_PREFIX = "custom_fields."


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


def custom_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[Change]:
    """One change per custom field key whose value differs."""
    old, new = old or {}, new or {}
    return [
        Change(field=f"{CUSTOM_PREFIX}{key}", old=old.get(key), new=new.get(key))
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    ]


def changes_between(record: models.Model, new_values: Mapping[str, Any]) -> list[Change]:
    """What setting `new_values` on `record` (before it is set) would change.

    Keys are model field names (`owner`, not `owner_id`) or `custom_fields` (the whole
    new dict, compared key by key). Equal values make no change.
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
            old_object = getattr(record, name) if old_id is not None else None
            changes.append(
                Change(
                    field=name,
                    old=old_id,
                    new=new_id,
                    old_label=reference_label(old_object),
                    new_label=reference_label(new if isinstance(new, models.Model) else None),
                )
            )
            continue
        old = getattr(record, field.attname)
        if json_value(old) == json_value(new):
            continue
        changes.append(Change(field=name, old=json_value(old), new=json_value(new)))
    return changes


def tag_change(old_names: Iterable[str], new_names: Iterable[str]) -> list[Change]:
    """The tags as one field ("VIP, Partner → VIP"), when the set changed."""
    old_sorted = sorted(old_names, key=str.casefold)
    new_sorted = sorted(new_names, key=str.casefold)
    if [name.casefold() for name in old_sorted] == [name.casefold() for name in new_sorted]:
        return []
    return [Change(field="tags", old=old_sorted, new=new_sorted)]


def field_change_rows(
    *, record_type: str, record_id: int, changes: Sequence[Change], actor: User | None
) -> list[FieldChange]:
    """Unsaved history rows for `changes`, stamped with the current channel and batch
    (for bulk writers, who insert many records' rows at once)."""
    channel, batch = current_change_source()
    actor_label = actor.email if actor is not None else ""
    return [
        FieldChange(
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


def field_changes_record(*, record: models.Model, changes: Sequence[Change], actor: User | None) -> list[FieldChange]:
    """Write the history of one record's change (nothing when nothing changed)."""
    if not changes:
        return []
    rows = field_change_rows(
        record_type=record._meta.model_name or "", record_id=record.pk, changes=changes, actor=actor
    )
    return FieldChange.objects.bulk_create(rows)


def record_save_with_history(
    record: models.Model, values: Mapping[str, Any], *, actor: User | None, also_save: Sequence[str] = ()
) -> list[Change]:
    """Set `values` on the locked `record`, save them (with `also_save`, `updated_by`
    and `updated_at`) and write the history of what changed; returns the changes.

    For the update services: call it inside their transaction, after validation.
    """
    changes = changes_between(record, values)
    for name, value in values.items():
        setattr(record, name, value)
    record.updated_by = actor
    record.save(update_fields=[*values, *also_save, "updated_by", "updated_at"])
    field_changes_record(record=record, changes=changes, actor=actor)
    return changes
