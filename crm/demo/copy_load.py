"""Writing generated rows with PostgreSQL COPY, in the current tenant schema.

Demo and benchmark data skip the services on purpose: they must set creation times in
the past, and a million rows through the ORM would take hours. What the services would
guarantee is the generator's job (E.164 phones, lowercased emails, a stage history for
every deal); what the database guarantees is checked for real: `constraints_check()`
makes deferred foreign keys fire inside the load, and dropped indexes and foreign keys
are recreated (and so validated) before the transaction ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import connection, models
from psycopg.types.json import Jsonb

_REQUIRED = object()


class RowShapeError(ValueError):
    """A generated row lacks a column that has no default (a model gained a field)."""


class TableWriter:
    """COPY rows given as {attname: value} dicts into `model`'s table; missing columns
    take the field default (or NULL); ids come from `IdRange`."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        fields = list(model._meta.concrete_fields)
        self.names = [field.attname for field in fields]
        self.defaults: list[Any] = []
        for field in fields:
            if field.has_default():
                self.defaults.append(field.get_default())
            elif field.null:
                self.defaults.append(None)
            elif field.empty_strings_allowed and isinstance(field, models.CharField | models.TextField):
                self.defaults.append("")  # what a blank text field holds when the ORM saves it
            else:
                self.defaults.append(_REQUIRED)
        # COPY sends JSON columns (custom fields) through psycopg's jsonb dumper.
        self.json_positions = [index for index, field in enumerate(fields) if isinstance(field, models.JSONField)]
        columns = ", ".join(f'"{field.column}"' for field in fields)
        self.statement = f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN'

    def write(self, rows: Iterable[dict[str, Any]]) -> int:
        count = 0
        names, defaults, json_positions = self.names, self.defaults, self.json_positions
        with connection.cursor() as cursor, cursor.copy(self.statement) as copy:
            write_row = copy.write_row
            for row in rows:
                values = [row.get(name, default) for name, default in zip(names, defaults, strict=True)]
                for position in json_positions:
                    if values[position] is not None and values[position] is not _REQUIRED:
                        values[position] = Jsonb(values[position])
                if count == 0 and _REQUIRED in values:
                    missing = [name for name, value in zip(names, values, strict=True) if value is _REQUIRED]
                    raise RowShapeError(f"{self.model._meta.label}: no value for {', '.join(missing)}")
                write_row(values)
                count += 1
        return count


class IdRange:
    """Hands out primary keys after the table's current maximum, then moves the
    sequence past them, so rows can reference each other before they are written.

    Callers hold a lock on the table (`tables_lock`) for the whole load.
    """

    def __init__(self, model: type[models.Model]) -> None:
        self.table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f'SELECT coalesce(max(id), 0), pg_get_serial_sequence(%s, %s) FROM "{self.table}"',  # noqa: S608 - table name from the model
                [self.table, "id"],
            )
            self.last, self.sequence = cursor.fetchone()
            cursor.execute(f"SELECT last_value, is_called FROM {self.sequence}")  # noqa: S608 - from the catalog
            last_value, is_called = cursor.fetchone()
        self.last = max(self.last, last_value if is_called else last_value - 1)
        self.first = self.last + 1

    def take(self) -> int:
        self.last += 1
        return self.last

    def close(self) -> None:
        if self.last >= self.first:
            with connection.cursor() as cursor:
                cursor.execute("SELECT setval(%s, %s)", [self.sequence, self.last])


def tables_lock(model_list: Sequence[type[models.Model]]) -> None:
    """Keep other writers out of the tables while ids are handed out by hand."""
    tables = ", ".join(f'"{model._meta.db_table}"' for model in model_list)
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")


def constraints_check() -> None:
    """Run the deferred foreign-key checks now, so a bad row fails the load, not a later commit."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@contextlib.contextmanager
def secondary_structures_dropped(model_list: Sequence[type[models.Model]]) -> Iterator[None]:
    """Drop the secondary indexes and outgoing foreign keys of the tables, and recreate
    them afterwards (what pg_restore does): building an index once over a million rows
    is many times faster than updating it row by row, and re-adding a foreign key checks
    every row in one join. Must run inside a transaction: if anything fails, the
    rollback brings every index and constraint back.
    """
    tables = [model._meta.db_table for model in model_list]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT ix.relname, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            JOIN pg_class ix ON ix.oid = i.indexrelid
            JOIN pg_class t ON t.oid = i.indrelid
            WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY(%s)
              AND NOT EXISTS (
                  SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x')
              )
            """,
            [tables],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            """
            SELECT t.relname, c.conname, pg_get_constraintdef(c.oid)
            FROM pg_constraint c
            JOIN pg_class t ON t.oid = c.conrelid
            WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY(%s) AND c.contype = 'f'
            """,
            [tables],
        )
        foreign_keys = cursor.fetchall()
        for table, name, _definition in foreign_keys:
            cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    yield
    with connection.cursor() as cursor:
        # Index builds sort in memory up to this much; the default 64 MB spills to disk.
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in foreign_keys:
            cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')


def tables_analyze(model_list: Sequence[type[models.Model]]) -> None:
    """Fresh planner statistics, so the first queries after a load use the indexes."""
    with connection.cursor() as cursor:
        for model in model_list:
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')
