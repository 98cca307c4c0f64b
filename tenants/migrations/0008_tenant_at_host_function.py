"""`tenant_at_host(host)`: the function the per-request host check calls (tenants.host_lookup).

A function, not a statement sent each time, because PL/pgSQL keeps the plan of its query
for the connection's life: planning the four-table join cost more than running it. Its
own `search_path` keeps that plan valid whichever workspace the connection served last.
"""

from django.db import migrations
from django_tenants.utils import get_public_schema_name


def _create(apps, schema_editor) -> None:
    public = schema_editor.quote_name(get_public_schema_name())
    # A row's (xmin, ctid) names its version: every UPDATE writes a new version, even
    # twice in one transaction, so a changed domain, workspace, plan or maintenance row
    # shows as a changed `versions` text.
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION {public}.tenant_at_host(host text, public_schema text)
        RETURNS TABLE (search_path text, versions text, tenant_id bigint)
        LANGUAGE plpgsql STABLE SET search_path = pg_catalog, {public} AS $$
        BEGIN
            RETURN QUERY
            SELECT CASE WHEN t.schema_name = public_schema THEN quote_ident(t.schema_name)
                        ELSE quote_ident(t.schema_name) || ',' || quote_ident(public_schema) END,
                   concat_ws(':', d.xmin, d.ctid, t.xmin, t.ctid, p.xmin, p.ctid, m.xmin, m.ctid),
                   t.id::bigint
            FROM tenants_domain d
            JOIN tenants_tenant t ON t.id = d.tenant_id
            LEFT JOIN tenants_plan p ON p.id = t.plan_id
            LEFT JOIN backups_maintenance m ON m.tenant_id = t.id
            WHERE d.domain = host;
        END
        $$
        """
    )


def _drop(apps, schema_editor) -> None:
    public = schema_editor.quote_name(get_public_schema_name())
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {public}.tenant_at_host(text, text)")


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0007_billing_status_and_dunning"),
        ("backups", "0002_maintenance_related_name"),
    ]

    operations = [migrations.RunPython(_create, _drop, elidable=False)]
