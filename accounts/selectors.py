from __future__ import annotations

from accounts.models import Team, User


def workspace_summary() -> dict[str, int]:
    return {"active_users": User.objects.filter(is_active=True).count()}


def member_get(*, user_id: int) -> User | None:
    """An active person of this workspace (not an integration's stand-in), or None."""
    return User.objects.filter(pk=user_id, is_active=True, is_integration=False).first()


def team_get(*, team_id: int) -> Team | None:
    return Team.objects.filter(pk=team_id).first()
