"""The access audit log: every change of role, seat, permission or user is written here."""

from __future__ import annotations

from django.db import models

from accounts.models import AuditEntry, User
from config.request_context import current_client


def audit_record(
    *, actor: User | None, action: str, target: models.Model | None, changes: dict | None = None
) -> AuditEntry:
    """Write who did `action` to `target`, from which IP and browser (when in a request)."""
    ip_address, user_agent = current_client()
    return AuditEntry.objects.create(
        actor=actor,
        actor_label=actor.email if actor is not None else "system",
        action=action,
        target_type=target._meta.model_name if target is not None else "",
        target_id=target.pk if target is not None else None,
        target_label=str(target)[:254] if target is not None else "",
        changes=changes or {},
        ip_address=ip_address,
        user_agent=user_agent,
    )
