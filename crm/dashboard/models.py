"""A person's own "My day" page: which widgets show, in what order, with what settings."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.records import Timestamped


class DashboardLayout(Timestamped):
    """One row per person who changed their dashboard (no row: the default layout).

    `widgets` is a list of `{"key": str, "hidden": bool, "settings": {name: value}}` in the
    order the person chose. It is written only by `crm.dashboard.services`, which refuses
    unknown keys; reading (`crm.dashboard.selectors.dashboard_layout`) skips keys that no
    longer exist, so removing a widget from the code never breaks anyone's page.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE, related_name="dashboard_layout"
    )
    widgets = models.JSONField(_("widgets"), default=list, blank=True)

    class Meta:
        ordering = ["user_id"]
        verbose_name = _("dashboard layout")
        verbose_name_plural = _("dashboard layouts")

    def __str__(self) -> str:
        return f"dashboard of {self.user_id}"
