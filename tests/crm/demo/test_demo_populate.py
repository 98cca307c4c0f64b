"""The small demo set `make run` shows in the demo workspace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Min

from accounts.models import User
from crm.activities.models import Activity, Task
from crm.catalog.models import Product
from crm.clients.models import Company, Contact
from crm.deals.models import Deal, DealStageChange, StageKind
from crm.demo.services import demo_populate
from crm.errors import Conflict
from crm.leads.models import Lead, LeadStatus
from tests.crm.deals.factories import user_with_role

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def populated(acme):
    user_with_role("carlos@acme.example", "sales_rep")
    return demo_populate(size="small", seed=7, now=NOW)


def test_populate_creates_the_stated_counts(populated):
    assert Company.objects.count() == 60
    assert Contact.objects.count() == 150
    assert Lead.objects.count() == 80
    assert Deal.objects.count() == 60
    assert Product.objects.count() == 8
    assert Task.objects.count() == 40
    assert Activity.objects.exclude(kind="stage_change").count() == 260
    assert populated.counts["deal"] == 60


def test_deals_spread_over_the_last_twelve_months(populated):
    span = Deal.objects.aggregate(first=Min("created_at"), last=Max("created_at"))

    assert span["first"] >= NOW - timedelta(days=366)
    assert span["last"] <= NOW
    months = {created.strftime("%Y-%m") for created in Deal.objects.values_list("created_at", flat=True)}
    assert len(months) >= 8


def test_deals_sit_in_several_stages_with_some_won_and_lost(populated):
    kinds = dict(Deal.objects.values_list("stage__kind").annotate(n=Count("id")))

    assert kinds.get(StageKind.WON, 0) >= 3
    assert kinds.get(StageKind.LOST, 0) >= 3
    assert kinds.get(StageKind.OPEN, 0) >= 5
    assert Deal.objects.values("stage").distinct().count() >= 5


def test_every_deal_has_a_history_ending_in_its_stage(populated):
    for deal in Deal.objects.all():
        moves = list(DealStageChange.objects.filter(deal=deal).order_by("changed_at", "id"))
        assert moves[0].from_stage_id is None
        assert moves[0].changed_at == deal.created_at
        assert moves[-1].to_stage_id == deal.stage_id
        assert all(move.seconds_in_previous_stage >= 0 for move in moves[1:])


def test_phones_are_valid_e164_and_emails_lowercase(populated):
    for phones, emails in Contact.objects.values_list("phones", "emails"):
        for phone in phones:
            assert phonenumbers.is_valid_number(phonenumbers.parse(phone)), phone
            assert phone == phonenumbers.format_number(phonenumbers.parse(phone), phonenumbers.PhoneNumberFormat.E164)
        assert emails and all(email == email.lower() for email in emails)


def test_names_mix_several_scripts(populated):
    names = " ".join(Contact.objects.values_list("full_name", flat=True))

    assert any("а" <= letter <= "я" for letter in names)  # noqa: RUF001 - Cyrillic on purpose
    assert any("\u0600" <= letter <= "\u06ff" for letter in names)
    assert any(letter in "áéíóúñ" for letter in names)


def test_leads_carry_utm_data_from_several_channels(populated):
    assert Lead.objects.filter(utm_source="google", utm_medium="cpc").exclude(utm_term="").exists()
    assert Lead.objects.filter(utm_source="yandex", search_engine="yandex").exists()
    assert Lead.objects.filter(utm_medium="email").exists()
    assert Lead.objects.values("channel").distinct().count() >= 3


def test_converted_leads_point_at_their_contact_and_deal(populated):
    converted = Lead.objects.filter(status=LeadStatus.CONVERTED).select_related("converted_contact")

    assert converted.count() >= 10
    for lead in converted:
        assert lead.converted_contact.full_name == lead.name
        assert lead.email in lead.converted_contact.emails
    with_deal = converted.exclude(converted_deal=None).select_related("converted_deal")
    assert with_deal.exists()
    for lead in with_deal:
        assert lead.converted_deal.utm_source == lead.utm_source
        assert lead.converted_deal.contact_id == lead.converted_contact_id


def test_some_open_tasks_are_overdue(populated):
    overdue = Task.objects.filter(status="open", due_at__lt=NOW).count()

    assert 0 < overdue < 40


def test_records_are_owned_by_the_workspace_users(populated):
    owners = set(Deal.objects.values_list("owner", flat=True)) | set(Contact.objects.values_list("owner", flat=True))

    assert owners == set(User.objects.values_list("pk", flat=True))


def test_same_seed_gives_same_data(acme):
    demo_populate(size="small", seed=3, now=NOW)
    first = list(Contact.objects.order_by("pk").values_list("full_name", "phones")[:20])
    Contact.objects.all().delete()
    Deal.all_objects.all().delete()
    Lead.all_objects.all().delete()
    Company.all_objects.all().delete()
    Product.all_objects.all().delete()

    demo_populate(size="small", seed=3, now=NOW)

    assert list(Contact.objects.order_by("pk").values_list("full_name", "phones")[:20]) == first


def test_second_run_is_refused(populated):
    with pytest.raises(Conflict) as caught:
        demo_populate(size="small", seed=7, now=NOW)

    assert caught.value.code == "demo_data_present"
    assert Contact.objects.count() == 150


def test_unknown_size_is_a_field_error(acme):
    with pytest.raises(ValidationError) as caught:
        demo_populate(size="huge")

    assert caught.value.error_dict["size"][0].code == "invalid_choice"


def test_new_records_after_demo_get_fresh_ids(populated):
    from crm.clients.services import contact_create

    contact = contact_create(actor=None, first_name="After", last_name="Demo")

    assert contact.pk > Contact.objects.exclude(pk=contact.pk).aggregate(top=Max("pk"))["top"]
