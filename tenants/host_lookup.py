"""Host → workspace in one database round trip, the search_path switched in the same one.

django-tenants' own middleware pays three round trips and an ORM compilation per
request (`SET search_path` to public, the domain query, `SET search_path` to the
tenant): about 2 ms of the per-request budget (bench seats). Here one hand-written
statement reads the domain, its tenant, the plan and a restore's maintenance row, and
`set_config()` points the connection's search_path at the tenant's schema as part of the
same statement. Nothing is cached between requests: a status, plan or maintenance change
applies to the very next request on every web node.
"""

from __future__ import annotations

from functools import cache

from django.db import connection
from django.db.models import Model
from django_tenants.utils import get_public_schema_name

from tenants.backups.models import Maintenance
from tenants.models import Domain, Plan, Tenant

# The models read with the domain, in the order of their columns in the row.
_PARTS: tuple[tuple[type[Model], str], ...] = (
    (Tenant, "t"),
    (Plan, "p"),
    (Maintenance, "m"),
)


def _columns(model: type[Model]) -> list[str]:
    return [field.column for field in model._meta.concrete_fields]


@cache
def _statement() -> str:
    public = connection.ops.quote_name(get_public_schema_name())

    def table(model: type[Model]) -> str:
        return f"{public}.{connection.ops.quote_name(model._meta.db_table)}"

    selected = ", ".join(
        f"{alias}.{connection.ops.quote_name(column)}" for model, alias in _PARTS for column in _columns(model)
    )
    # The schema names are validated identifiers (django-tenants refuses others), and
    # quote_ident() quotes them the way django-tenants' own SET does.
    # Only identifiers from the models' metadata are formatted in; values are parameters.
    return (
        "SELECT set_config('search_path', CASE WHEN t.schema_name = %s THEN quote_ident(t.schema_name) "  # noqa: S608
        "ELSE quote_ident(t.schema_name) || ',' || quote_ident(%s) END, false), "
        f"{selected} "
        f"FROM {table(Domain)} d "
        f"JOIN {table(Tenant)} t ON t.id = d.tenant_id "
        f"LEFT JOIN {table(Plan)} p ON p.id = t.plan_id "
        f"LEFT JOIN {table(Maintenance)} m ON m.tenant_id = t.id "
        "WHERE d.domain = %s"
    )


def tenant_for_host(hostname: str) -> Tenant | None:
    """The workspace served at `hostname` with its plan and maintenance (if any) loaded,
    the connection already switched to its schema; None (schema untouched) when no
    workspace answers there."""
    public = get_public_schema_name()
    with connection.cursor() as cursor:
        cursor.execute(_statement(), [public, public, hostname])
        row = cursor.fetchone()
    if row is None:
        return None
    values = iter(row[1:])
    tenant, plan, maintenance = (_instance(model, values) for model, _alias in _PARTS)
    Tenant.plan.field.set_cached_value(tenant, plan)
    Tenant.maintenance.related.set_cached_value(tenant, maintenance)
    connection.set_tenant(tenant)
    # The statement above already set the search_path set_tenant() asks for: telling the
    # backend spares the next cursor a second `SET`. Extra search paths (a setting we
    # don't use) would differ from it, so then the backend issues its own.
    wanted = connection._get_cursor_search_paths()
    if wanted in ([public], [tenant.schema_name, public]):
        connection.search_path_set_schemas = wanted
    return tenant


def _instance(model: type[Model], values) -> Model | None:
    row = []
    for column, converters in _converters(model):
        value = next(values)
        for converter in converters:
            value = converter(value, column, connection)
        row.append(value)
    if row[0] is None:  # a LEFT JOIN that found nothing
        return None
    return model.from_db(connection.alias, _attnames(model), row)


@cache
def _attnames(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


@cache
def _converters(model: type[Model]) -> list[tuple]:
    """What the ORM's compiler applies to each column it reads (JSON decoding, ...)."""
    columns = [field.get_col(model._meta.db_table) for field in model._meta.concrete_fields]
    return [
        (column, [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)])
        for column in columns
    ]
