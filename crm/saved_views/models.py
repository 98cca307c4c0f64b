"""A person's named filter sets for a list page ("My hot leads", "Deals closing in May")."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from crm.records import Timestamped


class SavedView(Timestamped):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="saved_views"
    )
    list_key = models.CharField(_("list"), max_length=30)
    name = models.CharField(_("name"), max_length=60)
    # The list's filters and sort as a query string; applied through the list's own filter form.
    query = models.CharField(_("filters"), max_length=2000, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        constraints = [
            models.UniqueConstraint("owner", "list_key", Lower("name"), name="saved_view_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name
