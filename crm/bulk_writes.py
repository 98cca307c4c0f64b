"""Writes of many records at once, for the bulk services (imports): tags and field history.

A service call per row costs ~10 queries; an import of 100,000 rows must cost a few
queries per batch of a thousand. These helpers do what `record_tags_set` and
`record_save_with_history` do, for a whole batch, inside the caller's transaction:
the history rows carry the channel and batch bound by the caller (an import binds
`change_source_bound("import", "import:<id>")`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import models
from django.db.models.functions import Lower

from accounts.models import User
from crm.history.models import FieldChange
from crm.history.services import Change, changes_between, field_change_rows, tag_change
from crm.models import Tag
from crm.tags import DEFAULT_COLOR, NAME_MAX_LENGTH


def tag_names_clean(names: Iterable[str]) -> list[str]:
    """Names as `record_tags_set` keeps them: whitespace collapsed, blanks and repeats
    (whatever the case) dropped; names too long are cut to the column's length."""
    kept: list[str] = []
    seen: set[str] = set()
    for name in names:
        cleaned = " ".join((name or "").split())[:NAME_MAX_LENGTH]
        if cleaned and cleaned.casefold() not in seen:
            seen.add(cleaned.casefold())
            kept.append(cleaned)
    return kept


def tags_resolve(names: Iterable[str]) -> dict[str, Tag]:
    """casefolded name → Tag for every name, creating the missing ones (two queries, and
    an insert that loses a race quietly to the case-insensitive unique constraint)."""
    wanted = {name.casefold(): name for name in tag_names_clean(names)}
    if not wanted:
        return {}

    def existing() -> dict[str, Tag]:
        rows = Tag.objects.annotate(folded=Lower("name")).filter(folded__in=[name.lower() for name in wanted.values()])
        return {tag.name.casefold(): tag for tag in rows}

    found = existing()
    missing = [name for folded, name in wanted.items() if folded not in found]
    if missing:
        Tag.objects.bulk_create([Tag(name=name, color=DEFAULT_COLOR) for name in missing], ignore_conflicts=True)
        found = existing()
    return found


def tags_bulk_add(*, model: type[models.Model], tags_by_record: Mapping[int, Sequence[str]]) -> dict[int, list[str]]:
    """Give each record (by id) the named tags on top of those it has; returns each
    record's tag names before. One insert for the whole batch."""
    names = [name for record_names in tags_by_record.values() for name in record_names]
    resolved = tags_resolve(names)
    through = model._meta.get_field("tags").remote_field.through
    own = model._meta.get_field("tags").m2m_field_name() + "_id"
    before: dict[int, list[str]] = {pk: [] for pk in tags_by_record}
    for record_id, name in through.objects.filter(**{f"{own}__in": list(tags_by_record)}).values_list(own, "tag__name"):
        before[record_id].append(name)
    rows = []
    for record_id, record_names in tags_by_record.items():
        had = {name.casefold() for name in before[record_id]}
        for name in tag_names_clean(record_names):
            if name.casefold() not in had and name.casefold() in resolved:
                rows.append(through(**{own: record_id, "tag_id": resolved[name.casefold()].pk}))
                had.add(name.casefold())
    through.objects.bulk_create(rows, ignore_conflicts=True)
    return before


def records_bulk_save_with_history(
    *,
    model: type[models.Model],
    updates: Sequence[tuple[models.Model, Mapping[str, Any]]],
    actor: User | None,
    also_save: Sequence[str] = (),
    history: bool = True,
) -> dict[int, list[Change]]:
    """Set each record's new values (records locked by the caller), save them all with
    one UPDATE per batch, and write the history of every change with one INSERT.

    `updates` holds (record, values) as `record_save_with_history` takes them; returns
    each record's changes (records whose values changed nothing are not saved).
    """
    changed: dict[int, list[Change]] = {}
    fields: set[str] = set(also_save)
    rows: list[models.Model] = []
    history_rows: list[FieldChange] = []
    record_type = model._meta.model_name or ""
    for record, values in updates:
        changes = changes_between(record, values)
        if not changes:
            continue
        for name, value in values.items():
            setattr(record, name, value)
        record.updated_by = actor
        fields.update(values)
        rows.append(record)
        changed[record.pk] = changes
        if history:
            history_rows.extend(
                field_change_rows(record_type=record_type, record_id=record.pk, changes=changes, actor=actor)
            )
    if rows:
        fields.update({"updated_by", "updated_at"})
        # auto_now is not applied by bulk_update: stamp it like save() would.
        from django.utils import timezone

        now = timezone.now()
        for record in rows:
            record.updated_at = now
        model._base_manager.bulk_update(rows, sorted(fields), batch_size=1000)
    if history_rows:
        FieldChange.objects.bulk_create(history_rows, batch_size=1000)
    return changed


def tag_history_rows(
    *, record_type: str, before: Mapping[int, Sequence[str]], added: Mapping[int, Sequence[str]], actor: User | None
) -> tuple[list[FieldChange], dict[int, Change]]:
    """History rows (and the change itself) for tags added to records that had `before`."""
    rows: list[FieldChange] = []
    changes: dict[int, Change] = {}
    for record_id, names in added.items():
        old = list(before.get(record_id, []))
        new = old + [name for name in tag_names_clean(names) if name.casefold() not in {n.casefold() for n in old}]
        for change in tag_change(old, new):
            changes[record_id] = change
            rows.extend(field_change_rows(record_type=record_type, record_id=record_id, changes=[change], actor=actor))
    return rows, changes


class BulkOutcome:
    """What a bulk service wrote: the created records (with ids, in the order given)
    and each updated record's changes (as the field history recorded them)."""

    def __init__(self, created: list[models.Model], changes: dict[int, list[Change]]) -> None:
        self.created = created
        self.changes = changes


def records_bulk_write(
    *,
    model: type[models.Model],
    actor: User | None,
    creates: Sequence[Mapping[str, Any]],
    updates: Sequence[tuple[models.Model, Mapping[str, Any]]],
    also_save: Sequence[str] = (),
) -> BulkOutcome:
    """Insert `creates` (cleaned values; `tags`: names) with one INSERT, apply `updates`
    (locked records and their cleaned new values; `tags`: names to add) with one UPDATE,
    and record the updates' history. Inside the caller's transaction."""
    has_tags = any(field.name == "tags" for field in model._meta.many_to_many)
    new_records: list[models.Model] = []
    new_tags: dict[int, list[str]] = {}
    tags_of_new: list[list[str]] = []
    for values in creates:
        fields = dict(values)
        tags_of_new.append(list(fields.pop("tags", []) or []))
        new_records.append(model(**fields, created_by=actor, updated_by=actor))
    created = model._base_manager.bulk_create(new_records, batch_size=1000) if new_records else []
    if has_tags:
        new_tags = {record.pk: names for record, names in zip(created, tags_of_new, strict=True) if names}
        if new_tags:
            tags_bulk_add(model=model, tags_by_record=new_tags)
    plain: list[tuple[models.Model, dict[str, Any]]] = []
    added_tags: dict[int, list[str]] = {}
    for record, values in updates:
        fields = dict(values)
        names = fields.pop("tags", None)
        if names and has_tags:
            added_tags[record.pk] = list(names)
        plain.append((record, fields))
    changes = records_bulk_save_with_history(model=model, updates=plain, actor=actor, also_save=also_save)
    if added_tags:
        before = tags_bulk_add(model=model, tags_by_record=added_tags)
        rows, tag_changes = tag_history_rows(
            record_type=model._meta.model_name or "", before=before, added=added_tags, actor=actor
        )
        FieldChange.objects.bulk_create(rows)
        touched = []
        for record_id, change in tag_changes.items():
            changes.setdefault(record_id, []).append(change)
            touched.append(record_id)
        if touched:
            # A tag change moves updated_at too (the API's ETag), as record_tags_set's callers do.
            from django.utils import timezone

            model._base_manager.filter(pk__in=touched).update(updated_at=timezone.now(), updated_by=actor)
    return BulkOutcome(created=list(created), changes=changes)
