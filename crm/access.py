"""The one policy layer for client records: who may see and do what.

Every selector passes its queryset through `visible()` and every service calls
`require()` before writing, so a rule is written once for the web UI, the API, exports,
search, reports and background jobs acting for a user.

The rules here are the baseline of the foundation: the system (actor None) may do
everything; an inactive user nothing; any active member of the workspace may view and
change client records; workspace configuration (pipelines, lead forms, settings,
restoring from the trash) needs the administrator role. The roles-and-seats work
replaces the baseline with per-role permissions and own/team/all scopes, here, without
touching callers.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from crm.errors import AccessDenied

if TYPE_CHECKING:
    from accounts.models import User

M = TypeVar("M", bound=Model)

ADMIN_ROLE = "admin"


class Action(StrEnum):
    VIEW = "view"
    CREATE = "create"
    EDIT = "edit"
    DELETE = "delete"
    EXPORT = "export"
    CONFIGURE = "configure"


def visible(queryset: QuerySet[M], *, actor: User | None, action: Action = Action.VIEW) -> QuerySet[M]:
    """The part of `queryset` that `actor` may act on with `action`."""
    if actor is None:
        return queryset
    if not actor.is_active:
        return queryset.none()
    if action == Action.CONFIGURE and not is_admin(actor):
        return queryset.none()
    return queryset


def require(*, actor: User | None, action: Action, record: Model | None = None) -> None:
    """Raise AccessDenied unless `actor` may perform `action` (on `record`, if given)."""
    if actor is None:
        return
    if not actor.is_active:
        raise AccessDenied(_("Your account is switched off."))
    if action == Action.CONFIGURE and not is_admin(actor):
        raise AccessDenied(_("Only a workspace administrator can change this."))


def is_admin(actor: User | None) -> bool:
    if actor is None:
        return True
    return bool(actor.is_active and actor.role_id and actor.role.code == ADMIN_ROLE)
