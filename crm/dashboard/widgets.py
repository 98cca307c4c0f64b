"""The widgets of "My day" and what a saved layout of them means.

A widget is a small declared unit: a key (stored in layouts, used in URLs and element
ids), a label, the function that reads its data (from `crm.dashboard.selectors`), its
template, a "see all" link to the matching list page and the settings a person may
change. Adding a widget is one entry in WIDGETS and one template.

A layout is a list of `{"key", "hidden", "settings"}` in the order the person chose.
Reading is forgiving (`layout_entries`: unknown keys and bad settings are skipped,
widgets the person never placed are added at the end); writing is strict
(`layout_clean`: unknown keys, duplicates and out-of-range settings are field errors).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language_bidi, gettext_lazy
from django.utils.translation import gettext as _

from accounts.models import User
from crm.charts import row_chart
from crm.dashboard import selectors
from crm.dashboard.selectors import STALE_DAYS_MAX, STALE_DAYS_MIN, Day
from crm.deals.models import StageKind
from crm.leads.models import LeadStatus


@dataclass(frozen=True)
class NumberSetting:
    """A whole number a person chooses for a widget, within [minimum, maximum]."""

    name: str
    label: str
    minimum: int
    maximum: int
    default: Callable[[Day], int]

    def clean(self, raw: object) -> int:
        """The value as an int; ValidationError (`invalid`, `min_value`, `max_value`) otherwise."""
        if isinstance(raw, bool):
            raw = None
        try:
            value = int(str(raw).strip())
        except (TypeError, ValueError):
            raise ValidationError(_("Enter a whole number."), code="invalid") from None
        if not self.minimum <= value <= self.maximum:
            raise ValidationError(
                _("Enter a number from %(minimum)d to %(maximum)d.")
                % {"minimum": self.minimum, "maximum": self.maximum},
                code="min_value" if value < self.minimum else "max_value",
            )
        return value


@dataclass(frozen=True)
class Widget:
    key: str
    label: str
    template: str
    data: Callable[[User, dict[str, int], Day], dict[str, Any]]  # (actor, settings, day) -> template context
    see_all: Callable[[User, dict[str, Any], Day], str] | None = None  # (actor, data, day) -> the matching list
    settings: tuple[NumberSetting, ...] = ()

    def settings_for(self, stored: Mapping[str, object], day: Day) -> dict[str, int]:
        """The stored settings that are still valid, the defaults for the rest."""
        values = {}
        for setting in self.settings:
            try:
                values[setting.name] = setting.clean(stored[setting.name])
            except (KeyError, ValidationError):
                values[setting.name] = setting.default(day)
        return values


def _funnel_data(actor: User, day: Day) -> dict[str, Any]:
    funnel = selectors.my_open_deals_by_stage(actor=actor, day=day)
    rtl = get_language_bidi()
    charts = [
        (pipeline, row_chart([(row.stage.name, row.count) for row in pipeline.stages], rtl=rtl))
        for pipeline in funnel.pipelines
    ]
    return {"funnel": funnel, "charts": charts}


def _list_url(name: str, **params: object) -> str:
    return f"{reverse(name)}?{urlencode(params)}"


WIDGETS: tuple[Widget, ...] = (
    Widget(
        key="tasks",
        label=gettext_lazy("My tasks: overdue and today"),
        template="dashboard/widgets/tasks.html",
        data=lambda actor, settings, day: {"due": selectors.my_tasks_due(actor=actor, day=day)},
        see_all=lambda actor, data, day: _list_url(
            "tasks:list", owner=actor.pk, status="open", due_to=day.today.isoformat(), sort="due"
        ),
    ),
    Widget(
        key="new_leads",
        label=gettext_lazy("New leads assigned to me"),
        template="dashboard/widgets/new_leads.html",
        data=lambda actor, settings, day: {"new": selectors.my_new_leads(actor=actor)},
        see_all=lambda actor, data, day: _list_url("leads:list", owner=actor.pk, status=LeadStatus.NEW),
    ),
    Widget(
        key="stale_deals",
        label=gettext_lazy("Deals needing attention"),
        template="dashboard/widgets/stale_deals.html",
        data=lambda actor, settings, day: {
            "stale": selectors.my_deals_needing_attention(actor=actor, day=day, days=settings["days"])
        },
        see_all=lambda actor, data, day: _list_url("deals:list", owner=actor.pk, status=StageKind.OPEN),
        settings=(
            NumberSetting(
                name="days",
                label=gettext_lazy("Days without activity"),
                minimum=STALE_DAYS_MIN,
                maximum=STALE_DAYS_MAX,
                default=lambda day: day.stale_deal_days,
            ),
        ),
    ),
    Widget(
        key="funnel",
        label=gettext_lazy("My funnel"),
        template="dashboard/widgets/funnel.html",
        data=lambda actor, settings, day: _funnel_data(actor, day),
        see_all=lambda actor, data, day: (
            _list_url("deals:board", pipeline=data["funnel"].pipelines[0].pipeline_id, owner=actor.pk)
            if data["funnel"].pipelines
            else ""
        ),
    ),
    Widget(
        key="notifications",
        label=gettext_lazy("Unread notifications"),
        template="dashboard/widgets/notifications.html",
        data=lambda actor, settings, day: {"unread": selectors.my_unread_notifications(actor=actor)},
        see_all=lambda actor, data, day: reverse("notifications:inbox"),
    ),
)
WIDGETS_BY_KEY = {widget.key: widget for widget in WIDGETS}
MAX_LAYOUT_ITEMS = 50


@dataclass(frozen=True)
class LayoutEntry:
    widget: Widget
    hidden: bool
    settings: dict[str, object]  # as stored (checked when read through `Widget.settings_for`)

    def stored(self) -> dict[str, object]:
        return {"key": self.widget.key, "hidden": self.hidden, "settings": dict(self.settings)}


def default_layout() -> list[LayoutEntry]:
    return [LayoutEntry(widget=widget, hidden=False, settings={}) for widget in WIDGETS]


def layout_entries(stored: object) -> list[LayoutEntry]:
    """Every known widget once, in the stored order; unknown keys, repeated keys and
    malformed items are skipped; widgets never placed follow, shown, in default order."""
    entries: list[LayoutEntry] = []
    seen: set[str] = set()
    for item in stored if isinstance(stored, list) else []:
        if not isinstance(item, dict):
            continue
        widget = WIDGETS_BY_KEY.get(item.get("key"))  # type: ignore[arg-type]
        if widget is None or widget.key in seen:
            continue
        entries.append(
            LayoutEntry(widget=widget, hidden=item.get("hidden") is True, settings=_valid_settings(widget, item))
        )
        seen.add(widget.key)
    entries.extend(entry for entry in default_layout() if entry.widget.key not in seen)
    return entries


def _valid_settings(widget: Widget, item: dict) -> dict[str, object]:
    stored = item.get("settings")
    valid: dict[str, object] = {}
    for setting in widget.settings:
        if isinstance(stored, dict) and setting.name in stored:
            try:
                valid[setting.name] = setting.clean(stored[setting.name])
            except ValidationError:
                continue
    return valid


def layout_clean(items: object) -> list[LayoutEntry]:
    """A layout to save, checked strictly. Raises ValidationError with every problem:
    `widgets` (`invalid`, `unknown_widget`, `duplicate_widget`, `too_many`) and
    `<key>.<setting>` for a setting out of range. Widgets not listed keep their default
    place after the listed ones (shown)."""
    errors: dict[str, list[ValidationError]] = {}

    def refuse(field: str, message: str, code: str) -> None:
        errors.setdefault(field, []).append(ValidationError(message, code=code))

    if not isinstance(items, list | tuple):
        raise ValidationError(
            {"widgets": [ValidationError(_("The layout must be a list of widgets."), code="invalid")]}
        )
    if len(items) > MAX_LAYOUT_ITEMS:
        raise ValidationError({"widgets": [ValidationError(_("Too many widgets in this layout."), code="too_many")]})
    entries: list[LayoutEntry] = []
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, Mapping) or not isinstance(item.get("key"), str):
            refuse("widgets", _("Each widget needs a key."), "invalid")
            continue
        key = item["key"]
        widget = WIDGETS_BY_KEY.get(key)
        if widget is None:
            refuse("widgets", _("There is no widget called “%(key)s”.") % {"key": key[:40]}, "unknown_widget")
            continue
        if key in seen:
            refuse(
                "widgets", _("The widget “%(label)s” is listed twice.") % {"label": widget.label}, "duplicate_widget"
            )
            continue
        seen.add(key)
        hidden = item.get("hidden", False)
        if not isinstance(hidden, bool):
            refuse("widgets", _("Say whether “%(label)s” is hidden.") % {"label": widget.label}, "invalid")
        raw_settings = item.get("settings") or {}
        if not isinstance(raw_settings, Mapping):
            refuse(f"{key}.settings", _("These settings are not valid."), "invalid")
            continue
        known = {setting.name: setting for setting in widget.settings}
        settings: dict[str, object] = {}
        for name, raw in raw_settings.items():
            setting = known.get(name)
            if setting is None:
                refuse(f"{key}.settings", _("“%(label)s” has no such setting.") % {"label": widget.label}, "invalid")
                continue
            try:
                settings[name] = setting.clean(raw)
            except ValidationError as problem:
                errors.setdefault(f"{key}.{name}", []).extend(problem.error_list)
        entries.append(LayoutEntry(widget=widget, hidden=hidden is True, settings=settings))
    if errors:
        raise ValidationError(errors)
    entries.extend(entry for entry in default_layout() if entry.widget.key not in seen)
    return entries
