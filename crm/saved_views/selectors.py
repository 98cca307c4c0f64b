from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from crm.saved_views.models import SavedView


def saved_views_for(*, user: User, list_key: str) -> QuerySet[SavedView]:
    """`user`'s own saved views of one list, by name (nobody sees another person's)."""
    return SavedView.objects.filter(owner=user, list_key=list_key).order_by("name", "id")
