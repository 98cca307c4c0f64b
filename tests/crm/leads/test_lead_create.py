"""lead_create: input cleaning, source data and the follow-up automation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from crm.activities.models import Task
from crm.errors import AccessDenied
from crm.leads.models import Lead, LeadChannel
from crm.leads.services import lead_create
from crm.models import WorkspaceSettings
from crm.notifications.models import Notification
from tests.crm.leads.conftest import make_rep


def codes(error: ValidationError) -> dict[str, list[str]]:
    return {field: [item.code for item in items] for field, items in error.error_dict.items()}


def test_phone_is_stored_in_e164_using_the_workspace_region(alice):
    WorkspaceSettings.objects.filter(pk=1).update(default_phone_region="RU")

    lead = lead_create(actor=alice, name="Ivan", phone="8 (912) 345-67-89")

    assert lead.phone == "+79123456789"


def test_email_is_lowercased(alice):
    lead = lead_create(actor=alice, name="Ivan", email="  Ivan.Petrov@Example.COM ")

    assert lead.email == "ivan.petrov@example.com"


def test_lead_entered_by_hand_belongs_to_its_author_and_is_manual(rita):
    lead = lead_create(actor=rita, name="Walk-in")

    assert lead.owner == rita
    assert lead.channel == LeadChannel.MANUAL
    assert lead.created_by == rita


def test_nameless_lead_is_named_after_its_phone(alice):
    lead = lead_create(actor=alice, name="  ", phone="+1 212 555 0123")

    assert lead.name == "(212) 555-0123"


def test_lead_without_name_phone_or_email_is_refused(alice):
    with pytest.raises(ValidationError) as caught:
        lead_create(actor=alice, name="")

    assert codes(caught.value) == {"name": ["required"]}


def test_invalid_fields_are_reported_together_with_codes(alice):
    with pytest.raises(ValidationError) as caught:
        lead_create(actor=alice, name="n" * 201, phone="12", email="nope", channel="carrier pigeon")

    assert codes(caught.value) == {
        "name": ["max_length"],
        "phone": ["invalid_phone"],
        "email": ["invalid_email"],
        "channel": ["invalid_choice"],
    }


def test_inactive_owner_is_refused(alice):
    gone = make_rep("gone@acme.example", "Gone", active=False)

    with pytest.raises(ValidationError) as caught:
        lead_create(actor=alice, name="Ivan", owner=gone)

    assert codes(caught.value) == {"owner": ["inactive_user"]}


def test_switched_off_user_cannot_create_leads(alice):
    gone = make_rep("gone@acme.example", "Gone", active=False)

    with pytest.raises(AccessDenied):
        lead_create(actor=gone, name="Ivan")


@pytest.mark.parametrize(
    ("referrer", "engine", "keyword"),
    [
        ("https://www.google.com/", "google", ""),
        ("https://www.google.co.uk/search?q=crm", "google", "crm"),
        ("https://yandex.ru/search/?text=%D0%B1%D0%B8%D0%B7%D0%BD%D0%B5%D1%81+crm", "yandex", "бизнес crm"),
        ("https://ya.ru/", "yandex", ""),
        ("https://www.bing.com/search?q=consulting", "bing", "consulting"),
        ("https://duckduckgo.com/", "duckduckgo", ""),
        ("https://search.yahoo.com/search?p=crm+tools", "yahoo", "crm tools"),
        ("https://www.baidu.com/s?wd=crm", "baidu", "crm"),
        ("https://go.mail.ru/search?q=crm", "mail.ru", "crm"),
        ("https://e.mail.ru/inbox/", "", ""),
        ("https://www.facebook.com/", "", ""),
        ("https://notgoogle.com/?q=x", "", ""),
    ],
)
def test_search_engine_and_keyword_come_from_the_referrer(alice, referrer, engine, keyword):
    lead = lead_create(actor=alice, name="Ivan", source={"referrer": referrer})

    assert (lead.search_engine, lead.utm_term) == (engine, keyword)


def test_ad_click_id_names_the_engine_when_the_referrer_is_missing(alice):
    lead = lead_create(actor=alice, name="Ivan", source={"source_url": "https://acme.example/?yclid=123"})

    assert lead.search_engine == "yandex"


def test_utm_source_naming_an_engine_names_it_when_nothing_else_does(alice):
    lead = lead_create(actor=alice, name="Ivan", source={"utm_source": "Google"})

    assert lead.search_engine == "google"


def test_utm_tags_are_read_from_the_landing_page_address(alice):
    lead = lead_create(
        actor=alice,
        name="Ivan",
        source={"source_url": "https://acme.example/p?utm_source=fb&utm_medium=social&utm_campaign=may"},
    )

    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == ("fb", "social", "may")


def test_tags_at_the_end_of_an_over_long_landing_address_are_not_lost(alice):
    url = "https://acme.example/p?padding=" + "x" * 3000 + "&utm_campaign=late"

    lead = lead_create(actor=alice, name="Ivan", source={"source_url": url})

    assert lead.utm_campaign == "late"
    assert len(lead.source_url) == 2000


def test_follow_up_task_is_due_after_the_configured_delay(alice, rita):
    WorkspaceSettings.objects.filter(pk=1).update(lead_followup_minutes=90)

    lead = lead_create(actor=alice, name="Ivan", owner=rita)

    task = Task.objects.get(lead=lead)
    assert task.owner == rita
    assert task.due_at == lead.created_at + timedelta(minutes=90)


def test_owner_creating_their_own_lead_is_not_notified(rita):
    lead_create(actor=rita, name="Own lead")

    assert not Notification.objects.filter(recipient=rita).exists()


def test_lead_assigned_by_someone_else_is_notified(alice, rita):
    lead_create(actor=alice, name="Ivan", owner=rita)

    assert Notification.objects.filter(recipient=rita, kind="lead_assigned").count() == 1


def test_lead_created_by_the_system_goes_to_the_first_admin_for_follow_up(alice):
    lead = lead_create(actor=None, name="Imported")

    assert lead.owner is None
    assert Task.objects.get(lead=lead).owner == alice


def test_lead_is_not_created_when_its_follow_up_task_cannot_be(alice, rita, monkeypatch):
    """Lead, task and notification are one transaction: no lead without its follow-up."""

    def broken_task_create(**kwargs):
        raise RuntimeError("task storage down")

    monkeypatch.setattr("crm.leads.services.task_create", broken_task_create)

    with pytest.raises(RuntimeError):
        lead_create(actor=alice, name="Ivan", owner=rita)

    assert not Lead.objects.exists()
    assert not Notification.objects.exists()
