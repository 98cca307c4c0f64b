"""Provisioning by DDL replay (ARCHITECTURE.md, decision 3).

Running every migration for each signup takes many seconds; cloning with PL/pgSQL is
slower than replaying plain DDL and breaks on Citus. So we migrate one template schema,
capture its DDL and seed rows once with `pg_dump`, store the script in the public schema
keyed by the migration graph's fingerprint, and replay it (schema name substituted) for
every new tenant inside the signup transaction.

This module switches schemas by hand, which elsewhere is forbidden: it is provisioning.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import re
import subprocess
from functools import cache

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import schema_exists

from tenants.models import SchemaTemplate
from tenants.pg_binaries import libpq_environment, pg_binary

SCHEMA_PLACEHOLDER = "__tenant_schema__"
_SCHEMA_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class TemplateMissing(RuntimeError):
    """No captured template matches the code's migrations: run `manage.py platform_setup`."""


def tenant_app_labels() -> set[str]:
    from django.apps import apps

    return {apps.get_app_config(app.rsplit(".", 1)[-1]).label for app in settings.TENANT_APPS}


@cache
def migrations_fingerprint() -> str:
    """A hash of every tenant-app migration's name and source code."""
    loader = MigrationLoader(None, ignore_no_migrations=True, load=True)
    labels = tenant_app_labels()
    digest = hashlib.sha256()
    for (app_label, name), migration in sorted(loader.disk_migrations.items()):
        if app_label not in labels:
            continue
        digest.update(f"{app_label}.{name}\n".encode())
        source_file = inspect.getsourcefile(type(migration))
        if source_file:
            with open(source_file, "rb") as handle:
                digest.update(handle.read())
    return digest.hexdigest()


def template_is_current() -> bool:
    return SchemaTemplate.objects.filter(fingerprint=migrations_fingerprint()).exists()


def template_build() -> SchemaTemplate:
    """Migrate the template schema from scratch and capture its DDL and seed rows."""
    template_schema = settings.TENANT_TEMPLATE_SCHEMA
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{template_schema}" CASCADE')
        cursor.execute(f'CREATE SCHEMA "{template_schema}"')
    call_command("migrate_schemas", tenant=True, schema_name=template_schema, interactive=False, verbosity=0)
    connection.set_schema_to_public()
    sql = _capture(template_schema)
    statement_count = sql.count(";\n")
    with transaction.atomic():
        SchemaTemplate.objects.all().delete()
        template = SchemaTemplate.objects.create(
            fingerprint=migrations_fingerprint(),
            source_schema=template_schema,
            sql=sql,
            statement_count=statement_count,
        )
    return template


def _capture(template_schema: str) -> str:
    dump = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [
            pg_binary("pg_dump"),
            "--schema",
            template_schema,
            "--no-owner",
            "--no-privileges",
            "--no-comments",
            "--inserts",
            "--rows-per-insert=1000",
        ],
        env={**os.environ, **libpq_environment()},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    kept: list[str] = []
    for line in dump.splitlines():
        # Session settings and psql meta-commands would change the connection's state
        # (search_path!) or fail outside psql; the schema itself is created by the caller.
        if line.startswith(("SET ", "SELECT pg_catalog.set_config", "\\", "CREATE SCHEMA", "--")):
            continue
        kept.append(line)
    script = "\n".join(kept)
    script = re.sub(rf'"?\b{re.escape(template_schema)}\b"?', SCHEMA_PLACEHOLDER, script)
    return re.sub(r"\n{3,}", "\n\n", script).strip() + "\n"


def schema_create_from_template(schema_name: str) -> None:
    """Create `schema_name` as a copy of the template. Call inside the caller's transaction."""
    if not _SCHEMA_NAME.match(schema_name):
        raise ValueError(f"invalid schema name {schema_name!r}")
    template = SchemaTemplate.objects.filter(fingerprint=migrations_fingerprint()).first()
    if template is None:
        raise TemplateMissing("The tenant template is missing or stale: run `manage.py platform_setup`.")
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema_name}"')
        cursor.execute(template.sql.replace(SCHEMA_PLACEHOLDER, f'"{schema_name}"'))


def schema_create_by_migrations(schema_name: str) -> None:
    """The slow path, kept for the benchmark and for the equality test."""
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema_name}"')
    call_command("migrate_schemas", tenant=True, schema_name=schema_name, interactive=False, verbosity=0)
    connection.set_schema_to_public()


def schema_drop(schema_name: str) -> None:
    if not _SCHEMA_NAME.match(schema_name) or schema_name == "public":
        raise ValueError(f"refusing to drop schema {schema_name!r}")
    connection.set_schema_to_public()
    if schema_exists(schema_name):
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA "{schema_name}" CASCADE')
