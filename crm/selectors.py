from __future__ import annotations

from crm.models import WorkspaceSettings


def workspace_settings() -> WorkspaceSettings:
    """The current tenant's CRM settings (created with defaults on first use)."""
    settings, _ = WorkspaceSettings.objects.get_or_create(pk=1)
    return settings
