"""Host → workspace in one database round trip, the search_path switched in the same one.

django-tenants' own middleware pays three round trips and an ORM compilation per
request (`SET search_path` to public, the domain query, `SET search_path` to the
tenant). Here each web process remembers what it last read for a host (the workspace,
its plan, a restore's maintenance) with the version of each of those rows, and a request
asks the database only one small question, through the `tenant_at_host()` function
(tenants migration 0008, whose plan PostgreSQL keeps): are these still the versions? The
same statement points the connection's search_path at the workspace's schema. Any change
to those rows (a status, a plan, maintenance beginning or ending, a domain moving) is
seen by the very next request on every web node, which then reads the rows afresh.

Every request gets its own model instances: nothing a request does to `request.tenant`
reaches another one.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Model
from django_tenants.utils import get_public_schema_name

from config import model_rows
from tenants.backups.models import Maintenance
from tenants.models import Plan, Tenant

# The models read with the domain, in the order of their columns in the row.
_PARTS: tuple[tuple[type[Model], str], ...] = (
    (Tenant, "t"),
    (Plan, "p"),
    (Maintenance, "m"),
)
# Hosts remembered per process; past this many the memory starts over (it is only a cache).
MAX_KNOWN_HOSTS = 10_000


@dataclass(frozen=True)
class _Known:
    versions: str
    # Per model of _PARTS: its column values as the ORM converts them, None when absent.
    rows: tuple[tuple[Any, ...] | None, ...]


_known: dict[str, _Known] = {}


def tenant_for_host(hostname: str) -> Tenant | None:
    """The workspace served at `hostname` with its plan and maintenance (if any) loaded,
    the connection already switched to its schema; None (schema untouched) when no
    workspace answers there."""
    public = get_public_schema_name()
    known = _known.get(hostname)
    if known is not None:
        with connection.cursor() as cursor:
            cursor.execute(_check_statement(), [hostname, public])
            row = cursor.fetchone()
        if row is None:
            _known.pop(hostname, None)
            return None
        if row[1] == known.versions:
            return _workspace(known.rows)
    fresh = _read(hostname, public)
    if fresh is None:
        _known.pop(hostname, None)
        return None
    if len(_known) >= MAX_KNOWN_HOSTS:
        _known.clear()
    _known[hostname] = fresh
    return _workspace(fresh.rows)


def _read(hostname: str, public: str) -> _Known | None:
    with connection.cursor() as cursor:
        cursor.execute(_read_statement(), [hostname, public])
        row = cursor.fetchone()
    if row is None:
        return None
    values = iter(row[2:])
    return _Known(versions=row[1], rows=tuple(model_rows.converted(model, values) for model, _alias in _PARTS))


def forget_hosts() -> None:
    """Drop what this process remembers, as a newly started process has nothing (tests)."""
    _known.clear()


def _workspace(rows: tuple[tuple[Any, ...] | None, ...]) -> Tenant:
    tenant, plan, maintenance = (
        None if values is None else model_rows.instance(model, _own_copy(values))
        for (model, _alias), values in zip(_PARTS, rows, strict=True)
    )
    Tenant.plan.field.set_cached_value(tenant, plan)
    Tenant.maintenance.related.set_cached_value(tenant, maintenance)
    connection.set_tenant(tenant)
    # The statement already set the search_path set_tenant() asks for: telling the
    # backend spares the next cursor a second `SET`. Extra search paths (a setting we
    # don't use) would differ from it, so then the backend issues its own.
    public = get_public_schema_name()
    wanted = connection._get_cursor_search_paths()
    if wanted in ([public], [tenant.schema_name, public]):
        connection.search_path_set_schemas = wanted
    return tenant


def _own_copy(values: tuple[Any, ...]) -> list[Any]:
    # JSON fields decode to dicts and lists: a request changing one in place must not
    # change what the next request is given.
    return [deepcopy(value) if isinstance(value, dict | list) else value for value in values]


@cache
def _check_statement() -> str:
    return (
        "SELECT set_config('search_path', w.search_path, false), w.versions "  # noqa: S608
        f"FROM {model_rows.in_public_schema('tenant_at_host')}(%s, %s) w"
    )


@cache
def _read_statement() -> str:
    # Only identifiers from the models' metadata are formatted in; values are parameters.
    selected = ", ".join(model_rows.selected_columns(model, alias) for model, alias in _PARTS)
    return (
        f"SELECT set_config('search_path', w.search_path, false), w.versions, {selected} "  # noqa: S608
        f"FROM {model_rows.in_public_schema('tenant_at_host')}(%s, %s) w "
        f"JOIN {model_rows.in_public_schema(Tenant._meta.db_table)} t ON t.id = w.tenant_id "
        f"LEFT JOIN {model_rows.in_public_schema(Plan._meta.db_table)} p ON p.id = t.plan_id "
        f"LEFT JOIN {model_rows.in_public_schema(Maintenance._meta.db_table)} m ON m.tenant_id = t.id"
    )
