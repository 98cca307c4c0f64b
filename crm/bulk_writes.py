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

_COPY_PLANS: dict[type[models.Model], tuple[str, list[tuple[str, str, Any, bool, bool]]]] = {}
_NO_DEFAULT = object()


def _copy_plan(model: type[models.Model]) -> tuple[str, list[tuple[str, str, Any, bool, bool]]]:
    """The COPY statement of `model` and, per column: (name, attname, default, is JSON, is a timestamp)."""
    if model not in _COPY_PLANS:
        from django.db import connection
        from django.db.models.expressions import DatabaseDefault, Value

        columns = []
        for field in model._meta.concrete_fields:
            if field.primary_key:
                continue
            if field.has_default():
                default = field.get_default()
            elif field.has_db_default():
                db_default = field.db_default
                default = db_default.value if isinstance(db_default, Value) else _NO_DEFAULT
            elif field.null:
                default = None
            elif isinstance(field, models.CharField | models.TextField):
                default = ""
            else:
                default = _NO_DEFAULT
            timestamp = bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))
            if timestamp or isinstance(default, DatabaseDefault):
                default = _NO_DEFAULT
            columns.append((field.name, field.attname, default, isinstance(field, models.JSONField), timestamp))
        names = ", ".join(["id", *(connection.ops.quote_name(model._meta.get_field(n).column) for n, *_ in columns)])
        _COPY_PLANS[model] = (f"COPY {connection.ops.quote_name(model._meta.db_table)} ({names}) FROM STDIN", columns)
    return _COPY_PLANS[model]


def values_insert(model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert rows given as {field name or attname: value} (references as objects or
    ids; missing fields take their defaults; timestamps now) with one COPY, ids taken
    from the table's sequence first; returns the ids in the rows' order.

    What `bulk_create` does for the import's batches, without building model objects
    and a statement of tens of thousands of parameters (which cost more than the insert).
    """
    if not rows:
        return []
    from django.db import connection
    from django.utils import timezone
    from psycopg.types.json import Jsonb

    statement, columns = _copy_plan(model)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    now = timezone.now()
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for pk, row in zip(ids, rows, strict=True):
            values: list[Any] = [pk]
            for name, attname, default, is_json, timestamp in columns:
                if timestamp and row.get(name) is None:
                    values.append(now)
                    continue
                value = row[name] if name in row else row.get(attname, default)
                if value is _NO_DEFAULT:
                    raise ValueError(f"{model._meta.label}: no value for {name}")
                if isinstance(value, models.Model):
                    value = value.pk
                elif is_json and value is not None:
                    value = Jsonb(value)
                values.append(value)
            copy.write_row(values)
    return ids


def values_update(model: type[models.Model], records: Sequence[models.Model], field_names: Sequence[str]) -> None:
    """Save `field_names` of `records` with one `UPDATE … FROM (VALUES …)` per thousand
    records. `bulk_update` builds a CASE of a thousand branches per column, which
    PostgreSQL evaluates for every row (measured: ~110 rows/s for an update-mode import)."""
    from django.db import connection

    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in field_names]
    table = quote(model._meta.db_table)
    casts = ["bigint", *(field.rel_db_type(connection) if field.is_relation else field.db_type(connection)
                         for field in fields)]  # fmt: skip
    columns = [quote(field.column) for field in fields]
    assignments = ", ".join(f"{column} = v.{column}" for column in columns)
    placeholders = "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")"
    for start in range(0, len(records), 1000):
        chunk = records[start : start + 1000]
        params: list[Any] = []
        for record in chunk:
            params.append(record.pk)
            for field in fields:
                params.append(field.get_db_prep_save(getattr(record, field.attname), connection))
        values = ", ".join([placeholders] * len(chunk))
        statement = (
            f"UPDATE {table} AS t SET {assignments} FROM (VALUES {values}) AS v(id, {', '.join(columns)}) "  # noqa: S608 - names from the model
            "WHERE t.id = v.id"
        )
        with connection.cursor() as cursor:
            cursor.execute(statement, params)


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


def tags_bulk_add(
    *, model: type[models.Model], tags_by_record: Mapping[int, Sequence[str]], new: bool = False
) -> dict[int, list[str]]:
    """Give each record (by id) the named tags on top of those it has; returns each
    record's tag names before. One insert for the whole batch (`new`: records just
    created, which have no tags yet)."""
    names = [name for record_names in tags_by_record.values() for name in record_names]
    resolved = tags_resolve(names)
    through = model._meta.get_field("tags").remote_field.through
    own = model._meta.get_field("tags").m2m_field_name() + "_id"
    before: dict[int, list[str]] = {pk: [] for pk in tags_by_record}
    if not new:
        pairs = through.objects.filter(**{f"{own}__in": list(tags_by_record)}).values_list(own, "tag__name")
        for record_id, name in pairs:
            before[record_id].append(name)
    rows = []
    for record_id, record_names in tags_by_record.items():
        had = {name.casefold() for name in before[record_id]}
        for name in tag_names_clean(record_names):
            if name.casefold() not in had and name.casefold() in resolved:
                rows.append({own: record_id, "tag_id": resolved[name.casefold()].pk})
                had.add(name.casefold())
    if new:
        values_insert(through, rows)
    else:
        through.objects.bulk_create([through(**row) for row in rows], ignore_conflicts=True)
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
        # Only the columns that changed somewhere in the batch are written.
        fields.update(change.field.split(".", 1)[0] for change in changes)
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
        values_update(model, rows, sorted(fields))
    if history_rows:
        instances_insert(FieldChange, history_rows)
    return changed


def instances_insert(model: type[models.Model], instances: Sequence[models.Model]) -> list[int]:
    """`values_insert` for unsaved model instances (their ids are set)."""
    names = [field.attname for field in model._meta.concrete_fields if not field.primary_key]
    ids = values_insert(model, [{name: getattr(instance, name) for name in names} for instance in instances])
    for instance, pk in zip(instances, ids, strict=True):
        instance.pk = pk
    return ids


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
    """What a bulk service wrote: the ids of the created records (in the order given)
    and each updated record's changes (as the field history recorded them)."""

    def __init__(self, created: list[int], changes: dict[int, list[Change]]) -> None:
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
    new_rows: list[dict[str, Any]] = []
    tags_of_new: list[list[str]] = []
    for values in creates:
        fields = dict(values)
        tags_of_new.append(list(fields.pop("tags", []) or []))
        fields.setdefault("created_by", actor)
        fields.setdefault("updated_by", actor)
        new_rows.append(fields)
    created = values_insert(model, new_rows)
    if has_tags:
        new_tags = {pk: names for pk, names in zip(created, tags_of_new, strict=True) if names}
        if new_tags:
            tags_bulk_add(model=model, tags_by_record=new_tags, new=True)
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
        instances_insert(FieldChange, rows)
        touched = []
        for record_id, change in tag_changes.items():
            changes.setdefault(record_id, []).append(change)
            touched.append(record_id)
        if touched:
            # A tag change moves updated_at too (the API's ETag), as record_tags_set's callers do.
            from django.utils import timezone

            model._base_manager.filter(pk__in=touched).update(updated_at=timezone.now(), updated_by=actor)
    return BulkOutcome(created=created, changes=changes)
