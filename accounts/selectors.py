from __future__ import annotations

from accounts.models import User


def workspace_summary() -> dict[str, int]:
    return {"active_users": User.objects.filter(is_active=True).count()}
