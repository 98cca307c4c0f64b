"""What a user's role lets them do: scopes on record types and administrative powers.

`crm.access` asks these questions for client records; the accounts services ask
`require_capability` for users, roles, seats and the other administrative areas.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts import roles
from accounts.errors import PermissionRefused
from accounts.models import User


def scope_for(user: User, record_type: str, action: str) -> str:
    """`none`, `own`, `team` or `all` for `user` doing `action` on `record_type`."""
    if not user.is_active or user.role_id is None or record_type not in roles.RECORD_TYPES:
        return roles.NONE
    # What roles.normalized_permissions() keeps of this one entry, without normalizing the
    # whole role on every check (every list and count of the request asks).
    permissions = user.role.permissions
    actions = permissions.get(record_type) if isinstance(permissions, dict) else None
    scope = actions.get(action) if isinstance(actions, dict) and action in roles.ACTIONS else None
    return scope if scope in roles.SCOPES else roles.NONE


def has_capability(user: User | None, capability: str) -> bool:
    if user is None:
        return True
    return bool(user.is_active and user.role_id and capability in (user.role.capabilities or []))


def require_capability(user: User | None, capability: str) -> None:
    """Raise PermissionRefused unless `user` (None: the system) holds `capability`."""
    if not has_capability(user, capability):
        raise PermissionRefused(
            _("Your role doesn't allow this (%(power)s). Ask a workspace administrator.")
            % {"power": roles.CAPABILITY_LABELS[capability]}
        )
