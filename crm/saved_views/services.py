"""Writes for saved views: each person keeps their own."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from crm.errors import RecordNotFound
from crm.saved_views.models import SavedView

MAX_VIEWS_PER_LIST = 50


@transaction.atomic
def saved_view_save(*, actor: User, list_key: str, name: str, query: str) -> SavedView:
    """Save the filters `query` of list `list_key` under `name` for `actor`.

    The same name (any case) replaces that view's filters. Raises ValidationError on
    `name` (`required`, `max_length`, `too_many`) and on `query` (`max_length`).
    """
    name = " ".join((name or "").split())
    errors: dict[str, list[ValidationError]] = {}
    if not name:
        errors["name"] = [ValidationError(_("Give the view a name."), code="required")]
    elif len(name) > SavedView._meta.get_field("name").max_length:
        errors["name"] = [ValidationError(_("Use at most 60 characters."), code="max_length")]
    if len(query) > SavedView._meta.get_field("query").max_length:
        errors["query"] = [ValidationError(_("These filters are too long to save."), code="max_length")]
    if errors:
        raise ValidationError(errors)
    existing = SavedView.objects.select_for_update().filter(owner=actor, list_key=list_key, name__iexact=name).first()
    if existing is not None:
        existing.query = query
        existing.save(update_fields=["query", "updated_at"])
        return existing
    if SavedView.objects.filter(owner=actor, list_key=list_key).count() >= MAX_VIEWS_PER_LIST:
        raise ValidationError(
            {"name": [ValidationError(_("You have 50 saved views here; delete one first."), code="too_many")]}
        )
    return SavedView.objects.create(owner=actor, list_key=list_key, name=name, query=query)


@transaction.atomic
def saved_view_delete(*, actor: User, saved_view_id: int) -> None:
    """Delete one of `actor`'s saved views; RecordNotFound for anyone else's or a missing one."""
    deleted, _details = SavedView.objects.filter(pk=saved_view_id, owner=actor).delete()
    if not deleted:
        raise RecordNotFound(_("This saved view does not exist."))
