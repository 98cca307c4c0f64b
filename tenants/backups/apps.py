from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackupsConfig(AppConfig):
    """Per-tenant backups, restores and exports. Catalogued in the public schema so the
    catalogue survives restoring a tenant's own schema."""

    name = "tenants.backups"
    label = "backups"
    verbose_name = _("Backups")
