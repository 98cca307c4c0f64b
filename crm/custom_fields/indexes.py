"""The indexes each custom field gets, written by hand and built without locking writes.

Every record table has one GIN index on its whole `custom_fields` column (migrations):
it answers equality and containment (`custom_fields @> {"tier": "gold"}`) and "has a
value" (`custom_fields ? 'tier'`) for any field. On top of that each field gets, while
it is live:

- `cf_<entity>_<id>_sort`: a b-tree on `((custom_fields -> 'key'), id)` over live rows,
  when the field is filterable and its values sort (every kind but long text and
  multiple choice, whose values may be too long for a b-tree entry or are lists). It
  serves range filters, sorting in both directions (the list reads the rows with a
  value and the rows without one as two ranges of this one index, see
  crm.custom_fields.queries) and equality, and gives PostgreSQL statistics on the
  field's values (an expression index is analysed like a column);
- `cf_<entity>_<id>_stats`: with the b-tree, extended statistics on the same
  expression. PostgreSQL takes no statistics from a partial index's expression: without
  these it guessed that any value is held by 0.5% of the rows, and a sales rep's list
  filtered by a common value scanned a quarter of a million rows to sort them (810 ms)
  instead of walking the name index (12 ms);
- `cf_<entity>_<id>_trgm`: a trigram GIN on `lower(custom_fields ->> 'key')` over live
  rows, for text-like fields that quick search finds or lists filter by "contains".

`index_sync` compares what exists with what the field's current state wants and
creates or drops with `CONCURRENTLY` (writes to a million rows go on meanwhile), so it
runs in autocommit, never inside a transaction: from the Celery task
`crm.custom_fields.tasks.custom_field_index_sync`, which the services queue after every
change that matters. Names come from the record type and the field's id, so an index
can be found (and dropped) after its field was purged.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from psycopg import sql

from crm.custom_fields.models import CustomField, Entity, FieldKind
from crm.custom_fields.selectors import record_model

# Kinds whose stored value is one scalar of bounded size (a b-tree entry must stay
# under ~2.7 kB: long text holds up to 10,000 characters, a multiple choice a list).
SORTABLE_KINDS = frozenset(FieldKind) - {FieldKind.LONG_TEXT, FieldKind.MULTI_CHOICE}
TEXT_KINDS = frozenset({FieldKind.TEXT, FieldKind.LONG_TEXT, FieldKind.LINK, FieldKind.EMAIL, FieldKind.PHONE})
SORT, TRIGRAM, STATISTICS = "sort", "trgm", "stats"


@dataclass(frozen=True)
class SyncResult:
    created: list[str]
    dropped: list[str]
    kept: list[str]


def index_prefix(entity: str, field_id: int) -> str:
    return f"cf_{Entity(entity).value}_{int(field_id)}_"


def index_name(entity: str, field_id: int, kind: str) -> str:
    """`cf_contact_12_sort`: at most 36 characters (PostgreSQL allows 63)."""
    return f"{index_prefix(entity, field_id)}{kind}"


def wanted_kinds(field: CustomField | None) -> set[str]:
    """Which of the field's indexes its current state wants (none once removed or purged)."""
    if field is None or field.is_removed:
        return set()
    wanted = set()
    if field.filterable and field.kind in SORTABLE_KINDS:
        wanted |= {SORT, STATISTICS}
    if field.kind in TEXT_KINDS and (field.searchable or field.filterable):
        wanted.add(TRIGRAM)
    return wanted


def has_sort_index(field: CustomField) -> bool:
    return SORT in wanted_kinds(field)


def has_text_index(field: CustomField) -> bool:
    return TRIGRAM in wanted_kinds(field)


def _create_statement(field: CustomField, kind: str) -> sql.Composed:
    table = record_model(field.entity)._meta.db_table
    target = sql.SQL("{schema}.{table}").format(
        schema=sql.Identifier(connection.schema_name), table=sql.Identifier(table)
    )
    key = sql.Literal(field.key)
    if kind == SORT:
        columns = sql.SQL("((custom_fields -> {key}), id)").format(key=key)
        method = sql.SQL("")
    else:
        columns = sql.SQL("(lower(custom_fields ->> {key}) gin_trgm_ops)").format(key=key)
        method = sql.SQL("USING gin ")
    return sql.SQL(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {target} {method}{columns} WHERE deleted_at IS NULL"
    ).format(
        name=sql.Identifier(index_name(field.entity, field.pk, kind)), target=target, method=method, columns=columns
    )


def _statistics_statement(field: CustomField) -> sql.Composed:
    return sql.SQL(
        "CREATE STATISTICS IF NOT EXISTS {schema}.{name} ON ((custom_fields -> {key})) FROM {schema}.{table}"
    ).format(
        schema=sql.Identifier(connection.schema_name),
        name=sql.Identifier(index_name(field.entity, field.pk, STATISTICS)),
        key=sql.Literal(field.key),
        table=sql.Identifier(record_model(field.entity)._meta.db_table),
    )


def _drop_statement(name: str) -> sql.Composed:
    # Qualified with the tenant's schema: never a same-named object elsewhere on the path.
    if name.endswith(f"_{STATISTICS}"):
        statement = "DROP STATISTICS IF EXISTS {schema}.{name}"
    else:
        statement = "DROP INDEX CONCURRENTLY IF EXISTS {schema}.{name}"
    return sql.SQL(statement).format(schema=sql.Identifier(connection.schema_name), name=sql.Identifier(name))


def existing_indexes(entity: str, field_id: int) -> dict[str, bool]:
    """The field's indexes in this tenant's schema: name -> valid (an interrupted
    CONCURRENTLY build leaves an invalid index behind, which answers nothing)."""
    prefix = index_prefix(entity, field_id)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, i.indisvalid FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND starts_with(c.relname, %s)",
            [connection.schema_name, prefix],
        )
        return dict(cursor.fetchall())


def existing_statistics(entity: str, field_id: int) -> list[str]:
    prefix = index_prefix(entity, field_id)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.stxname FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace "
            "WHERE n.nspname = %s AND starts_with(s.stxname, %s)",
            [connection.schema_name, prefix],
        )
        return [name for (name,) in cursor.fetchall()]


def _run(statement: sql.Composed) -> None:
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(connection.connection))


def index_sync(*, field_id: int, entity: str) -> SyncResult:
    """Make the field's indexes match its current state: create the missing ones, drop
    the ones it no longer wants (removed, purged, no longer filterable or searchable)
    and rebuild invalid ones. Idempotent; two syncs of one field wait for each other.

    Must run in autocommit (CONCURRENTLY cannot run inside a transaction)."""
    if connection.in_atomic_block:
        raise RuntimeError("index_sync builds indexes CONCURRENTLY and cannot run inside a transaction")
    lock_key = f"custom_field_index:{connection.schema_name}:{entity}:{field_id}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [lock_key])
    try:
        # Read under the lock: a change made while another sync ran is what counts.
        field = CustomField.all_objects.filter(pk=field_id, entity=entity).first()
        wanted = {index_name(entity, field_id, kind): kind for kind in wanted_kinds(field)}
        existing = {
            **existing_indexes(entity, field_id),
            **dict.fromkeys(existing_statistics(entity, field_id), True),
        }
        created, dropped, kept = [], [], []
        for name, valid in sorted(existing.items()):
            if name not in wanted or not valid:
                _run(_drop_statement(name))
                dropped.append(name)
            else:
                kept.append(name)
        for name, kind in sorted(wanted.items()):
            if name not in kept:
                assert field is not None
                _run(_statistics_statement(field) if kind == STATISTICS else _create_statement(field, kind))
                created.append(name)
        if created:
            with connection.cursor() as cursor:
                # Statistics on the new expressions, so the planner's estimates use them.
                cursor.execute(
                    sql.SQL("ANALYZE {schema}.{table}")
                    .format(
                        schema=sql.Identifier(connection.schema_name),
                        table=sql.Identifier(record_model(entity)._meta.db_table),
                    )
                    .as_string(connection.connection)
                )
        return SyncResult(created=created, dropped=dropped, kept=kept)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [lock_key])
