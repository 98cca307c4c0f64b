"""Plan limits where they bite: contacts, lead forms, pipelines, file storage.

A limit reached raises PlanLimitReached (code `plan_limit_reached`) naming the limit,
the number allowed and how to raise it. Limits come from the tenant's plan (public
schema); None means unlimited.
"""

from __future__ import annotations

from collections.abc import Callable

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.errors import DomainError
from tenants.selectors import tenant_current


class PlanLimitReached(DomainError):
    code = "plan_limit_reached"
    http_status = 403


LIMITS = {
    # resource: (plan field, label)
    "contacts": ("max_contacts", gettext_lazy("contacts")),
    "lead_forms": ("max_lead_forms", gettext_lazy("lead forms")),
    "pipelines": ("max_pipelines", gettext_lazy("pipelines")),
    "storage": ("max_storage_mb", gettext_lazy("MB of file storage")),
}
MB = 1024 * 1024


def plan_limit(resource: str) -> int | None:
    field, _label = LIMITS[resource]
    tenant = tenant_current()
    if tenant is None or tenant.plan is None:
        return None
    return getattr(tenant.plan, field)


def require_plan_room(resource: str, *, in_use: Callable[[], int], adding: int = 1) -> None:
    """Raise PlanLimitReached when `in_use() + adding` would pass the plan's limit.

    `in_use` is only called when the plan has a limit: unlimited plans never count rows.
    """
    limit = plan_limit(resource)
    if limit is None:
        return
    count = in_use()
    if count + adding <= limit:
        return
    _field, label = LIMITS[resource]
    raise PlanLimitReached(
        _(
            "Your plan allows %(limit)d %(what)s and you have %(count)d. Upgrade the plan on the Billing page, "
            "or remove some first."
        )
        % {"limit": limit, "what": label, "count": count}
    )


def require_storage_room(*, in_use_bytes: Callable[[], int], adding_bytes: int) -> None:
    """Raise PlanLimitReached when storing `adding_bytes` more would take the workspace
    over its plan's storage (`max_storage_mb`, in MiB); exactly at the limit is allowed.

    The caller holds the lock that makes `in_use_bytes()` exact until it commits.
    """
    limit = plan_limit("storage")
    if limit is None:
        return
    used = in_use_bytes()
    if used + adding_bytes <= limit * MB:
        return
    raise PlanLimitReached(
        _(
            "Your plan allows %(limit)d MB of file storage; %(used)s are in use and this file needs %(size)s. "
            "Upgrade the plan on the Billing page, or delete some attachments first."
        )
        % {"limit": limit, "used": filesizeformat(used), "size": filesizeformat(adding_bytes)}
    )
