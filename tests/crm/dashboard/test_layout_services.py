"""crm.dashboard.services and the layout rules of crm.dashboard.widgets: each person's
own arrangement, strict on writing, forgiving on reading."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from crm.dashboard.models import DashboardLayout
from crm.dashboard.selectors import dashboard_layout_stored, my_day
from crm.dashboard.services import (
    dashboard_layout_reset,
    dashboard_layout_set,
    dashboard_widget_configure,
    dashboard_widget_move,
    dashboard_widget_set_hidden,
)
from crm.dashboard.widgets import WIDGETS, WIDGETS_BY_KEY, layout_entries
from crm.errors import AccessDenied

DEFAULT_ORDER = [widget.key for widget in WIDGETS]


def keys(entries) -> list[str]:
    return [entry.widget.key for entry in entries]


def stored_keys(user) -> list[str]:
    return keys(layout_entries(dashboard_layout_stored(user=user)))


def test_without_a_saved_layout_everyone_gets_every_widget_in_the_default_order(rex):
    assert dashboard_layout_stored(user=rex) is None
    entries = layout_entries(None)
    assert keys(entries) == DEFAULT_ORDER and not any(entry.hidden for entry in entries)


def test_reading_skips_unknown_and_repeated_keys_and_appends_widgets_never_placed():
    entries = layout_entries(
        [
            {"key": "funnel", "hidden": True},
            "not a widget",
            {"key": "gone_widget"},
            {"key": "funnel", "hidden": False},
            {"key": "stale_deals", "settings": {"days": 0, "colour": "red"}},
            {"key": "tasks", "hidden": "yes"},
        ]
    )
    assert keys(entries)[:3] == ["funnel", "stale_deals", "tasks"]
    assert sorted(keys(entries)) == sorted(DEFAULT_ORDER)
    assert entries[0].hidden is True
    assert entries[1].settings == {}  # out of range and unknown settings are dropped
    assert entries[2].hidden is False  # only a real true hides


def test_moving_down_then_up_persists_and_stops_at_the_ends(rex):
    assert keys(dashboard_widget_move(actor=rex, key="tasks", offset=+1))[:2] == ["new_leads", "tasks"]
    assert stored_keys(rex)[:2] == ["new_leads", "tasks"]
    dashboard_widget_move(actor=rex, key="tasks", offset=-1)
    assert keys(dashboard_widget_move(actor=rex, key="tasks", offset=-1)) == DEFAULT_ORDER
    last = DEFAULT_ORDER[-1]
    assert keys(dashboard_widget_move(actor=rex, key=last, offset=+1))[-1] == last


def test_hiding_keeps_the_widgets_place_and_settings(rex):
    dashboard_widget_configure(actor=rex, key="stale_deals", settings={"days": "9"})
    entries = dashboard_widget_set_hidden(actor=rex, key="stale_deals", hidden=True)
    stale = next(entry for entry in entries if entry.widget.key == "stale_deals")
    assert stale.hidden and stale.settings == {"days": 9}
    assert keys(entries) == DEFAULT_ORDER
    shown = dashboard_widget_set_hidden(actor=rex, key="stale_deals", hidden=False)
    assert not any(entry.hidden for entry in shown)


@pytest.mark.parametrize(
    ("days", "code"), [("0", "min_value"), ("366", "max_value"), ("a week", "invalid"), ("", "invalid")]
)
def test_a_setting_out_of_range_is_a_field_error_and_nothing_changes(rex, days, code):
    dashboard_widget_configure(actor=rex, key="stale_deals", settings={"days": 20})
    with pytest.raises(ValidationError) as refused:
        dashboard_widget_configure(actor=rex, key="stale_deals", settings={"days": days})
    assert refused.value.error_dict["stale_deals.days"][0].code == code
    entries = layout_entries(dashboard_layout_stored(user=rex))
    assert WIDGETS_BY_KEY["stale_deals"].settings_for(entries[2].settings, my_day()) == {"days": 20}


def test_the_days_setting_defaults_to_the_workspaces_stale_deal_days(rex):
    from crm.models import WorkspaceSettings

    WorkspaceSettings.objects.update_or_create(pk=1, defaults={"stale_deal_days": 10})
    assert WIDGETS_BY_KEY["stale_deals"].settings_for({}, my_day()) == {"days": 10}


@pytest.mark.parametrize(
    ("widgets", "field", "code"),
    [
        ([{"key": "weather"}], "widgets", "unknown_widget"),
        ([{"key": "tasks"}, {"key": "tasks"}], "widgets", "duplicate_widget"),
        ([{"key": "tasks", "hidden": "no"}], "widgets", "invalid"),
        ([{"hidden": True}], "widgets", "invalid"),
        ([{"key": "tasks", "settings": {"days": 3}}], "tasks.settings", "invalid"),
        ([{"key": "stale_deals", "settings": {"days": 400}}], "stale_deals.days", "max_value"),
        ([{"key": "stale_deals", "settings": ["days"]}], "stale_deals.settings", "invalid"),
        ("tasks", "widgets", "invalid"),
        ([{"key": "tasks"}] * 51, "widgets", "too_many"),
    ],
)
def test_writing_a_bad_layout_is_refused_with_a_field_error_and_the_old_one_stays(rex, widgets, field, code):
    dashboard_widget_set_hidden(actor=rex, key="funnel", hidden=True)
    before = DashboardLayout.objects.get(user=rex).widgets
    with pytest.raises(ValidationError) as refused:
        dashboard_layout_set(actor=rex, widgets=widgets)
    assert code in [error.code for error in refused.value.error_dict[field]]
    assert DashboardLayout.objects.get(user=rex).widgets == before


def test_a_partial_layout_puts_the_widgets_left_out_after_the_listed_ones(rex):
    entries = dashboard_layout_set(actor=rex, widgets=[{"key": "funnel"}, {"key": "tasks", "hidden": True}])
    assert keys(entries)[:2] == ["funnel", "tasks"] and sorted(keys(entries)) == sorted(DEFAULT_ORDER)
    assert DashboardLayout.objects.get(user=rex).widgets[1] == {"key": "tasks", "hidden": True, "settings": {}}


def test_each_person_has_their_own_layout(alice, rex):
    dashboard_widget_set_hidden(actor=rex, key="tasks", hidden=True)
    dashboard_widget_move(actor=alice, key="funnel", offset=-1)
    assert layout_entries(dashboard_layout_stored(user=rex))[0].hidden
    assert not layout_entries(dashboard_layout_stored(user=alice))[0].hidden
    assert stored_keys(alice).index("funnel") == DEFAULT_ORDER.index("funnel") - 1
    dashboard_layout_reset(actor=rex)
    assert dashboard_layout_stored(user=rex) is None
    assert dashboard_layout_stored(user=alice) is not None


def test_an_unknown_widget_cannot_be_moved_hidden_or_configured(rex):
    for change in (
        lambda: dashboard_widget_move(actor=rex, key="weather", offset=1),
        lambda: dashboard_widget_set_hidden(actor=rex, key="weather", hidden=True),
        lambda: dashboard_widget_configure(actor=rex, key="weather", settings={}),
    ):
        with pytest.raises(ValidationError) as refused:
            change()
        assert refused.value.error_dict["key"][0].code == "unknown_widget"
    assert not DashboardLayout.objects.filter(user=rex).exists()


def test_a_switched_off_account_changes_nothing(rex):
    rex.is_active = False
    rex.save(update_fields=["is_active"])
    with pytest.raises(AccessDenied):
        dashboard_widget_set_hidden(actor=rex, key="tasks", hidden=True)
    with pytest.raises(AccessDenied):
        dashboard_layout_reset(actor=rex)
    assert not DashboardLayout.objects.filter(user=rex).exists()


def test_a_shown_widget_moves_past_hidden_ones_so_every_move_changes_the_page(rex):
    dashboard_widget_set_hidden(actor=rex, key="new_leads", hidden=True)
    entries = dashboard_widget_move(actor=rex, key="stale_deals", offset=-1)
    assert keys(entries)[:3] == ["stale_deals", "tasks", "new_leads"]
    entries = dashboard_widget_move(actor=rex, key="tasks", offset=+1)
    assert keys(entries)[:4] == ["stale_deals", "new_leads", "funnel", "tasks"]


def test_a_hidden_widget_moves_one_place_at_a_time(rex):
    dashboard_widget_set_hidden(actor=rex, key="funnel", hidden=True)
    entries = dashboard_widget_move(actor=rex, key="funnel", offset=-1)
    assert keys(entries)[:4] == ["tasks", "new_leads", "funnel", "stale_deals"]
