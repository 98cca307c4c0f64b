"""Writes for "My day": each person arranges their own dashboard, nobody else's.

Every service works on the acting person's own layout row only (there is no way to
name someone else's), locks it for the change, validates the whole result with
`crm.dashboard.widgets.layout_clean` and saves it in the same transaction: a refused
change leaves the stored layout exactly as it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from crm.dashboard.models import DashboardLayout
from crm.dashboard.widgets import WIDGETS_BY_KEY, LayoutEntry, layout_clean, layout_entries
from crm.errors import AccessDenied


def _locked(actor: User) -> DashboardLayout:
    if actor is None or not actor.is_active:
        raise AccessDenied(_("Your account is switched off."))
    layout, _created = DashboardLayout.objects.get_or_create(user=actor)
    return DashboardLayout.objects.select_for_update().get(pk=layout.pk)


def _save(layout: DashboardLayout, items: Sequence[Mapping]) -> list[LayoutEntry]:
    entries = layout_clean(list(items))
    layout.widgets = [entry.stored() for entry in entries]
    layout.save(update_fields=["widgets", "updated_at"])
    return entries


def _known(key: str) -> str:
    if key not in WIDGETS_BY_KEY:
        raise ValidationError(
            {
                "key": [
                    ValidationError(
                        _("There is no widget called “%(key)s”.") % {"key": str(key)[:40]}, code="unknown_widget"
                    )
                ]
            }
        )
    return key


@transaction.atomic
def dashboard_layout_set(*, actor: User, widgets: Sequence[Mapping]) -> list[LayoutEntry]:
    """Replace `actor`'s layout with `widgets` (`{"key", "hidden", "settings"}` in order).

    Widgets left out keep their default place after the listed ones. Raises
    ValidationError (see `layout_clean`: unknown or repeated keys, settings out of
    range) and saves nothing then.
    """
    return _save(_locked(actor), widgets)


@transaction.atomic
def dashboard_widget_move(*, actor: User, key: str, offset: int) -> list[LayoutEntry]:
    """Move widget `key` `offset` places (-1: up, +1: down) in `actor`'s layout.

    A shown widget passes one shown neighbour per place, stepping over hidden ones on the
    way, so every move changes the page; a move past either end stops there. Raises
    ValidationError (`key`: unknown_widget).
    """
    _known(key)
    layout = _locked(actor)
    rest = layout_entries(layout.widgets)
    position = next(index for index, entry in enumerate(rest) if entry.widget.key == key)
    moving = rest.pop(position)
    for _step in range(abs(offset)):
        if offset < 0:
            while position > 0:
                position -= 1
                if moving.hidden or not rest[position].hidden:
                    break
        else:
            while position < len(rest):
                position += 1
                if moving.hidden or not rest[position - 1].hidden:
                    break
    rest.insert(position, moving)
    return _save(layout, [entry.stored() for entry in rest])


@transaction.atomic
def dashboard_widget_set_hidden(*, actor: User, key: str, hidden: bool) -> list[LayoutEntry]:
    """Hide or show widget `key` on `actor`'s dashboard (its place and settings are kept).
    Raises ValidationError (`key`: unknown_widget)."""
    _known(key)
    layout = _locked(actor)
    items = [entry.stored() for entry in layout_entries(layout.widgets)]
    for item in items:
        if item["key"] == key:
            item["hidden"] = bool(hidden)
    return _save(layout, items)


@transaction.atomic
def dashboard_widget_configure(*, actor: User, key: str, settings: Mapping[str, object]) -> list[LayoutEntry]:
    """Set widget `key`'s settings for `actor` (e.g. `{"days": 10}`); settings not given
    keep their value. Raises ValidationError (`key`: unknown_widget; `<key>.<setting>`:
    invalid, min_value, max_value) and saves nothing then."""
    _known(key)
    layout = _locked(actor)
    items = [entry.stored() for entry in layout_entries(layout.widgets)]
    for item in items:
        if item["key"] == key:
            item["settings"] = {**item["settings"], **settings}
    return _save(layout, items)


@transaction.atomic
def dashboard_layout_reset(*, actor: User) -> list[LayoutEntry]:
    """Forget `actor`'s arrangement and settings: the default layout again."""
    if actor is None or not actor.is_active:
        raise AccessDenied(_("Your account is switched off."))
    DashboardLayout.objects.filter(user=actor).delete()
    return layout_entries(None)
