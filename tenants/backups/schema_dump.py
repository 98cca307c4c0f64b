"""Dumping one tenant schema from one snapshot, and loading it into a new schema.

This module names schemas and switches between them by hand, which elsewhere is
forbidden: it is the backup machinery (CONVENTIONS.md).

Why not a plain `pg_dump -n <schema>` (ARCHITECTURE.md's trap, measured in decision 8):
with data, pg_dump runs a recursive query over the whole catalog (materialized-view
dependencies) and reads catalog entries of every schema; with 500 tenants it took
54-77 s to dump a 4 MB tenant here, against 0.4 s with a handful of schemas. A
`--schema-only` dump skips that query and costs about a second at 500 schemas. So:

- one connection opens a REPEATABLE READ, READ ONLY transaction and exports its snapshot;
- `pg_dump --schema-only --snapshot=<that snapshot> -Fc` writes the DDL (real pg_dump);
- the same transaction `COPY`s every table out (gzip), so DDL and every row come from
  one consistent point in time (foreign keys all resolve), plus sequence positions.

Loading mirrors `pg_restore`: the pre-data DDL (from `pg_restore --section=pre-data`,
with the schema renamed), `COPY ... FROM` each table, sequence positions, then post-data
(indexes, constraints, foreign keys, validated in bulk) -- all in ONE transaction into a
schema that nobody uses yet. A failure or a killed worker leaves nothing behind.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from tenants.pg_binaries import libpq_environment, pg_binary

SCHEMA_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
COPY_BLOCK = 1024 * 1024
Progress = Callable[[float], None]


@dataclass
class TableDump:
    name: str
    columns: list[str]
    rows: int = 0
    part: str = ""
    bytes: int = 0
    sha256: str = ""


@dataclass
class SchemaDump:
    tables: list[TableDump] = field(default_factory=list)
    sequences: dict[str, list] = field(default_factory=dict)
    migrations: list[list[str]] = field(default_factory=list)


def check_schema_name(name: str) -> str:
    if not SCHEMA_NAME.match(name) or name in {"public", "information_schema"} or name.startswith("pg_"):
        raise ValueError(f"invalid schema name {name!r}")
    return name


def connect() -> psycopg.Connection:
    """A private connection (not Django's): its transaction holds the snapshot or the load."""
    env = libpq_environment()
    return psycopg.connect(
        host=env["PGHOST"],
        port=env["PGPORT"],
        user=env["PGUSER"],
        dbname=env["PGDATABASE"],
        password=env.get("PGPASSWORD"),
        application_name="crm-backups",
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(COPY_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def dump(*, schema: str, folder: Path, progress: Progress) -> SchemaDump:
    """Write `schema.dump` and `data/<table>.copy.gz` into `folder` from one snapshot."""
    check_schema_name(schema)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    result = SchemaDump()
    with connect() as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            subprocess.run(  # noqa: S603 - fixed argv, no shell
                [
                    pg_binary("pg_dump"),
                    "--schema-only",
                    f"--snapshot={snapshot}",
                    "--schema",
                    schema,
                    "--format=custom",
                    "--no-comments",
                    "--file",
                    str(folder / "schema.dump"),
                ],
                env={**os.environ, **libpq_environment()},
                capture_output=True,
                check=True,
            )
            progress(0.05)
            tables = _tables(cursor, schema)
            total = sum(max(estimate, 1.0) for _name, _columns, estimate in tables) or 1.0
            done = 0.0
            for name, columns, estimate in tables:
                table = TableDump(name=name, columns=columns, part=f"data/{name}.copy.gz")
                target = folder / table.part
                statement = sql.SQL("COPY {}.{} ({}) TO STDOUT").format(
                    sql.Identifier(schema), sql.Identifier(name), sql.SQL(", ").join(map(sql.Identifier, columns))
                )
                with gzip.open(target, "wb", compresslevel=1) as out, cursor.copy(statement) as copy:
                    for block in copy:
                        data = bytes(block)
                        table.rows += data.count(b"\n")
                        out.write(data)
                table.bytes = target.stat().st_size
                table.sha256 = _sha256(target)
                result.tables.append(table)
                done += max(estimate, 1.0)
                progress(0.05 + 0.95 * done / total)
            result.sequences = _sequences(cursor, schema)
            cursor.execute(
                sql.SQL("SELECT app, name FROM {}.django_migrations ORDER BY app, name").format(sql.Identifier(schema))
            )
            result.migrations = [[app, name] for app, name in cursor.fetchall()]
        conn.rollback()
    return result


def _tables(cursor: psycopg.Cursor, schema: str) -> list[tuple[str, list[str], float]]:
    # Generated columns cannot be copied in; they are recomputed on load.
    cursor.execute(
        """
        SELECT c.relname, array_agg(a.attname::text ORDER BY a.attnum), max(c.reltuples)
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
        WHERE n.nspname = %s AND c.relkind IN ('r', 'p')
        GROUP BY c.relname
        ORDER BY c.relname
        """,
        [schema],
    )
    return [(name, list(columns), float(estimate)) for name, columns, estimate in cursor.fetchall()]


def _sequences(cursor: psycopg.Cursor, schema: str) -> dict[str, list]:
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind = 'S' ORDER BY c.relname",
        [schema],
    )
    names = [row[0] for row in cursor.fetchall()]
    positions: dict[str, list] = {}
    for name in names:
        cursor.execute(
            sql.SQL("SELECT last_value, is_called FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(name))
        )
        last_value, is_called = cursor.fetchone()
        positions[name] = [int(last_value), bool(is_called)]
    return positions


def restore_sql(dump_file: Path, *, section: str, source_schema: str, target_schema: str) -> str:
    """The DDL of one section of the dump as SQL, the schema renamed (like the template's)."""
    text = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [
            pg_binary("pg_restore"),
            f"--section={section}",
            "--no-owner",
            "--no-privileges",
            "--no-comments",
            "--file=-",
            str(dump_file),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    kept = [line for line in text.splitlines() if not line.startswith(("\\", "--", "CREATE SCHEMA"))]
    script = "\n".join(kept)
    return re.sub(rf'"?\b{re.escape(source_schema)}\b"?', f'"{target_schema}"', script)


def load(
    *,
    folder: Path,
    tables: list[dict],
    sequences: dict[str, list],
    source_schema: str,
    target_schema: str,
    progress: Progress,
) -> dict[str, int]:
    """Create `target_schema` from a dump in one transaction; return rows loaded per table.

    Refuses (ValueError) when a table's row count differs from what the manifest says;
    foreign keys and unique constraints are checked when post-data adds them.
    """
    check_schema_name(target_schema)
    pre = restore_sql(
        folder / "schema.dump", section="pre-data", source_schema=source_schema, target_schema=target_schema
    )
    post = restore_sql(
        folder / "schema.dump", section="post-data", source_schema=source_schema, target_schema=target_schema
    )
    loaded: dict[str, int] = {}
    with connect() as conn, conn.cursor() as cursor:
        # Index builds (post-data) are the slow part of a large restore.
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(target_schema)))
        cursor.execute(pre)
        progress(0.05)
        total = sum(max(table["bytes"], 1) for table in tables) or 1
        done = 0
        for table in tables:
            statement = sql.SQL("COPY {}.{} ({}) FROM STDIN").format(
                sql.Identifier(target_schema),
                sql.Identifier(table["name"]),
                sql.SQL(", ").join(map(sql.Identifier, table["columns"])),
            )
            with gzip.open(folder / table["part"], "rb") as source, cursor.copy(statement) as copy:
                while block := source.read(COPY_BLOCK):
                    copy.write(block)
            loaded[table["name"]] = cursor.rowcount
            if cursor.rowcount != table["rows"]:
                raise ValueError(
                    f"table {table['name']}: {cursor.rowcount} rows loaded, the manifest says {table['rows']}"
                )
            done += max(table["bytes"], 1)
            progress(0.05 + 0.6 * done / total)
        for name, (last_value, is_called) in sequences.items():
            cursor.execute(
                "SELECT setval(%s::regclass, %s, %s)",
                [sql.Identifier(target_schema, name).as_string(conn), last_value, is_called],
            )
        progress(0.7)
        cursor.execute(post)
        conn.commit()
    progress(1.0)
    return loaded


def schema_exists(name: str) -> bool:
    with connect() as conn, conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
        return cursor.fetchone() is not None


def table_rows(schema: str) -> dict[str, list[tuple]]:
    """Every row of every table of `schema`, ordered: for comparing a restore with its source."""
    check_schema_name(schema)
    with connect() as conn, conn.cursor() as cursor:
        names = [name for name, _columns, _estimate in _tables(cursor, schema)]
        contents = {}
        for name in names:
            cursor.execute(
                sql.SQL("SELECT * FROM {}.{} ORDER BY 1").format(sql.Identifier(schema), sql.Identifier(name))
            )
            contents[name] = [tuple(row) for row in cursor.fetchall()]
        return contents
