from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from tenants.models import Plan, Tenant


def plan_list_public() -> QuerySet[Plan]:
    return Plan.objects.filter(is_public=True).order_by("sort_order", "code")


def tenant_current() -> Tenant | None:
    """The tenant whose schema the connection is on, with its plan; None on public.

    `schema_context()` installs a stand-in without the tenant's fields, so the row is
    read when the connection does not already hold the real one.
    """
    tenant = getattr(connection, "tenant", None)
    if not isinstance(tenant, Tenant):
        tenant = Tenant.objects.select_related("plan").filter(schema_name=connection.schema_name).first()
    if tenant is None or tenant.is_public:
        return None
    return tenant
