"""The access audit log: every change of role, seat, permission or user is written here."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy

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


# What each action is called on the audit log page, and the groups it can be filtered by
# (the part of the action's code before the dot).
ACTION_LABELS = {
    "user.create": gettext_lazy("Person added"),
    "user.role": gettext_lazy("Role changed"),
    "user.activate": gettext_lazy("Person switched on or off"),
    "role.create": gettext_lazy("Role created"),
    "role.update": gettext_lazy("Role changed (permissions)"),
    "role.delete": gettext_lazy("Role deleted"),
    "seat.assign": gettext_lazy("Seat assigned"),
    "seat.force_release": gettext_lazy("Seat freed by an administrator"),
    "seats.settings": gettext_lazy("Seat settings changed"),
    "team.create": gettext_lazy("Team created"),
    "team.update": gettext_lazy("Team changed"),
    "team.delete": gettext_lazy("Team deleted"),
    "invitation.create": gettext_lazy("Invitation sent"),
    "invitation.revoke": gettext_lazy("Invitation cancelled"),
    "invitation.accept": gettext_lazy("Invitation accepted"),
    "api_token.revoke": gettext_lazy("API token revoked"),
    "integration_token.create": gettext_lazy("Integration token created"),
    "integration_token.revoke": gettext_lazy("Integration token revoked"),
    "webhook.create": gettext_lazy("Webhook created"),
    "webhook.update": gettext_lazy("Webhook changed"),
    "webhook.delete": gettext_lazy("Webhook deleted"),
    "backup.delete": gettext_lazy("Backup deleted"),
    "backup.download": gettext_lazy("Backup downloaded"),
    "backup.restored": gettext_lazy("Backup restored"),
    "export.download": gettext_lazy("Export downloaded"),
    "workspace.language": gettext_lazy("Workspace language changed"),
    "custom_field.create": gettext_lazy("Custom field added"),
    "custom_field.update": gettext_lazy("Custom field changed"),
    "custom_field.reorder": gettext_lazy("Custom fields reordered"),
    "custom_field.remove": gettext_lazy("Custom field removed"),
    "custom_field.restore": gettext_lazy("Custom field restored"),
    "custom_field.purge": gettext_lazy("Custom field deleted for good"),
    "mail.settings": gettext_lazy("Mail tracking or automatic leads changed"),
    "mail_account.create": gettext_lazy("Mailbox connected"),
    "mail_account.update": gettext_lazy("Mailbox changed"),
    "mail_account.delete": gettext_lazy("Mailbox disconnected"),
    "mail_inbound.rotate": gettext_lazy("Inbound address changed"),
    "email_template.create": gettext_lazy("Email template added"),
    "email_template.update": gettext_lazy("Email template changed"),
    "email_template.delete": gettext_lazy("Email template deleted"),
    "import.undo": gettext_lazy("Import undone"),
}
ACTION_GROUPS = {
    "user": gettext_lazy("People"),
    "role": gettext_lazy("Roles"),
    "seat": gettext_lazy("Seats"),
    "team": gettext_lazy("Teams"),
    "invitation": gettext_lazy("Invitations"),
    "token": gettext_lazy("API and integration tokens"),
    "webhook": gettext_lazy("Webhooks"),
    "backup": gettext_lazy("Backups and exports"),
    "workspace": gettext_lazy("Workspace"),
    "custom_field": gettext_lazy("Custom fields"),
    "mail": gettext_lazy("Email"),
    "import": gettext_lazy("Imports"),
}
# Action codes of each group (a group may span several prefixes).
_GROUP_PREFIXES = {
    "user": ("user.",),
    "role": ("role.",),
    "seat": ("seat.", "seats."),
    "team": ("team.",),
    "invitation": ("invitation.",),
    "token": ("api_token.", "integration_token."),
    "webhook": ("webhook.",),
    "backup": ("backup.", "export."),
    "workspace": ("workspace.",),
    "custom_field": ("custom_field.",),
    "mail": ("mail.", "mail_account.", "mail_inbound.", "email_template."),
    "import": ("import.",),
}


def action_label(action: str) -> str:
    """The action in words; an action without a label yet shows its code rather than nothing."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def group_prefixes(group: str) -> tuple[str, ...]:
    return _GROUP_PREFIXES.get(group, ())
