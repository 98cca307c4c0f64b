"""Writes for users and roles. Everything here runs inside the current tenant schema."""

from __future__ import annotations

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext

from accounts import roles
from accounts.models import Role, SeatType, User
from accounts.seats import seat_assign


@transaction.atomic
def roles_create_defaults(*, language: str) -> dict[str, Role]:
    """Create the built-in roles (names in `language`); existing ones are left as they are."""
    created: dict[str, Role] = {}
    with translation.override(language):
        for code, name, description in roles.DEFAULT_ROLES:
            role, _ = Role.objects.get_or_create(
                code=code,
                defaults={"name": gettext(name), "description": gettext(description), "is_system": True},
            )
            created[code] = role
    return created


@transaction.atomic
def user_create(
    *,
    email: str,
    full_name: str,
    password: str | None,
    role: Role | None,
    language: str = "",
    seat_type: str = SeatType.NONE,
) -> User:
    """Create a user of the current workspace. Emails are unique case-insensitively.

    A named seat is checked against what the workspace has (SeatLimitReached).
    """
    user = User.objects.create_user(
        email=email, password=password, full_name=full_name.strip(), role=role, language=language
    )
    if seat_type != SeatType.NONE:
        seat_assign(actor=None, user=user, seat_type=seat_type)
    return user
