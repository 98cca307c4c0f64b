"""The cards' "More fields": every live custom field with its value, edited in place with
the field's own widget through the record's update service."""

from __future__ import annotations

import pytest

from accounts import roles
from accounts.models import Role, SeatType
from accounts.services import user_create
from crm.clients.models import Contact
from crm.clients.services import company_create, contact_create
from crm.custom_fields.services import custom_field_create, custom_field_remove
from crm.deals.services import deal_create
from crm.leads.services import lead_create
from crm.models import WorkspaceSettings
from tests.conftest import PASSWORD, inside
from tests.web.conftest import ACME_HOST, sign_in

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def fields(alice):
    WorkspaceSettings.objects.update_or_create(pk=1, defaults={"default_phone_region": "RU"})
    make = lambda label, kind, **more: custom_field_create(  # noqa: E731
        actor=alice, entity="contact", label=label, kind=kind, **more
    )
    return {
        "tier": make("Tier", "choice", choices=["Gold", "Silver"], help_text="Our pricing tier"),
        "renewal": make("Renewal", "date", required=True),
        "seats": make("Seats", "number"),
        "vip": make("VIP", "boolean"),
        "site": make("Site", "link"),
        "billing": make("Billing", "email", label_translations={"en": "Billing email"}),
        "hotline": make("Hotline", "phone"),
        "story": make("Story", "long_text"),
        "topics": make("Topics", "multi_choice", choices=["Golf", "Wine"]),
    }


@pytest.fixture
def contact(alice, fields):
    return contact_create(
        actor=alice,
        last_name="Ivanova",
        owner=alice,
        custom_fields={
            "tier": "gold",
            "renewal": "2025-03-01",
            "site": "ivanova.example",
            "billing": "bills@ivanova.example",
            "hotline": "+79123456789",
            "topics": "Golf; Wine",
        },
    )


def _group(body: str) -> str:
    start = body.index('id="group-custom"')
    return body[start : body.index("</section>", start)]


def test_the_card_lists_every_live_field_with_its_formatted_value(web_alice, contact):
    group = _group(web_alice.get(f"/contacts/{contact.pk}/").content.decode())

    assert "More fields" in group
    for label in ("Tier", "Renewal", "Seats", "VIP", "Site", "Billing email", "Hotline", "Story", "Topics"):
        assert f"<dt>{label}</dt>" in group
    assert "<dd>Gold</dd>" in group and "<dd>03/01/2025</dd>" in group and "Golf, Wine" in group
    assert 'href="https://ivanova.example" rel="noopener noreferrer nofollow" target="_blank"' in group
    assert 'href="mailto:bills@ivanova.example"' in group
    assert 'href="tel:+79123456789">8 (912) 345-67-89</a>' in group


def test_a_removed_field_leaves_the_card(web_alice, alice, contact, fields):
    custom_field_remove(actor=alice, field=fields["tier"])

    assert "<dt>Tier</dt>" not in _group(web_alice.get(f"/contacts/{contact.pk}/").content.decode())


def test_the_edit_form_has_each_kinds_widget_help_and_required_marks(web_alice, contact):
    body = web_alice.get(f"/contacts/{contact.pk}/fields/custom/", {"edit": "1"}, **HTMX).content.decode()

    assert '<select name="custom-cf_tier"' in body and '<option value="gold" selected>Gold</option>' in body
    assert 'type="date" name="custom-cf_renewal" value="2025-03-01"' in body
    assert 'type="number" name="custom-cf_seats"' in body and 'step="any"' in body
    assert 'type="checkbox" name="custom-cf_vip"' in body
    assert '<textarea name="custom-cf_story"' in body
    assert 'type="checkbox" name="custom-cf_topics" value="golf"' in body and "checked" in body
    assert 'type="email" name="custom-cf_billing"' in body and 'type="tel" name="custom-cf_hotline"' in body
    assert "Our pricing tier" in body
    assert body.count('class="required-mark"') == 1  # Renewal


def _post(client, contact, values: dict, **extra):
    data = {
        "custom-cf_tier": "gold",
        "custom-cf_renewal": "2025-03-01",
        "custom-cf_site": "https://ivanova.example",
        "custom-cf_billing": "bills@ivanova.example",
        "custom-cf_hotline": "+79123456789",
        "custom-cf_topics": ["golf", "wine"],
        **values,
    }
    return client.post(f"/contacts/{contact.pk}/fields/custom/", data, **extra)


def test_editing_in_place_saves_through_the_update_service(web_alice, contact):
    response = _post(
        web_alice,
        contact,
        {"custom-cf_tier": "silver", "custom-cf_seats": "1 250", "custom-cf_vip": "on", "custom-cf_topics": ["wine"]},
        **HTMX,
    )

    assert response.status_code == 200
    assert "<dd>Silver</dd>" in response.content.decode()
    values = Contact.objects.get(pk=contact.pk).custom_fields
    assert (values["tier"], values["seats"], values["vip"], values["topics"]) == ("silver", 1250, True, ["wine"])
    assert values["renewal"] == "2025-03-01"


def test_without_javascript_a_save_goes_back_to_the_card(web_alice, contact):
    response = _post(web_alice, contact, {"custom-cf_seats": "3"})

    assert response.status_code == 302 and response["Location"] == f"/contacts/{contact.pk}/"


def test_refused_values_are_shown_on_their_fields_and_nothing_is_written(web_alice, contact):
    response = _post(
        web_alice, contact, {"custom-cf_seats": "lots", "custom-cf_renewal": "", "custom-cf_tier": "silver"}, **HTMX
    )

    body = response.content.decode()
    assert "“lots” is not a number." in body
    assert "“Renewal” is required." in body
    assert 'value="lots"' in body  # the typed value stays, to be corrected
    assert Contact.objects.get(pk=contact.pk).custom_fields["tier"] == "gold"


def test_an_older_record_without_a_required_value_can_still_be_edited(web_alice, alice, fields):
    older = contact_create(actor=alice, last_name="Before", owner=alice)  # made before "Renewal" was required

    response = web_alice.post(f"/contacts/{older.pk}/fields/custom/", {"custom-cf_seats": "4"}, **HTMX)

    assert response.status_code == 200
    assert Contact.objects.get(pk=older.pk).custom_fields == {"seats": 4}


def test_without_fields_the_group_says_how_to_add_them(web_alice, alice, rex, web_rex):
    mine = contact_create(actor=alice, last_name="Plain", owner=alice)
    his = contact_create(actor=rex, last_name="Plain too", owner=rex)

    admin = _group(web_alice.get(f"/contacts/{mine.pk}/").content.decode())
    rep = _group(web_rex.get(f"/contacts/{his.pk}/").content.decode())

    assert "No custom fields yet — an administrator can add them in Settings → Custom fields." in admin
    assert 'href="/settings/custom-fields/"' in admin and "Edit" not in admin
    assert "No custom fields yet" in rep and "/settings/custom-fields/" not in rep


def test_a_reader_sees_the_values_but_cannot_edit_them(acme, contact):
    from django.test import Client

    user_create(
        email="rita@acme.example",
        full_name="Rita Reader",
        password=PASSWORD,
        role=Role.objects.get(code=roles.READ_ONLY),
        seat_type=SeatType.CONCURRENT,
    )
    reader = sign_in(Client(HTTP_HOST=ACME_HOST), "rita@acme.example")

    group = _group(reader.get(f"/contacts/{contact.pk}/").content.decode())
    assert "<dd>Gold</dd>" in group and "Edit" not in group
    assert _post(reader, contact, {"custom-cf_tier": "silver"}).status_code in (302, 403)
    assert Contact.objects.get(pk=contact.pk).custom_fields["tier"] == "gold"


def test_another_workspaces_card_is_not_found(tenant_a, contact, web_bob):
    assert web_bob.get(f"/contacts/{contact.pk}/fields/custom/", {"edit": "1"}).status_code == 404
    assert _post(web_bob, contact, {"custom-cf_tier": "silver"}).status_code == 404
    with inside(tenant_a):
        assert Contact.objects.get(pk=contact.pk).custom_fields["tier"] == "gold"


@pytest.mark.parametrize(
    ("kind", "entity", "make"),
    [
        ("companies", "company", lambda alice: company_create(actor=alice, name="Initech", owner=alice)),
        ("leads", "lead", lambda alice: lead_create(actor=alice, name="Milton", owner=alice)),
        ("deals", "deal", lambda alice: deal_create(actor=alice, title="TPS", owner=alice)),
    ],
)
def test_companies_leads_and_deals_cards_edit_their_fields(web_alice, alice, kind, entity, make):
    custom_field_create(actor=alice, entity=entity, label="Budget", kind="money", currency="EUR")
    record = make(alice)

    response = web_alice.post(f"/{kind}/{record.pk}/fields/custom/", {"custom-cf_budget": "1 000,5"}, **HTMX)

    assert "1,000.50 EUR" in response.content.decode()
    record.refresh_from_db()
    assert record.custom_fields == {"budget": 1000.5}


def test_a_card_with_custom_fields_stays_within_its_query_bound(web_alice, contact, django_assert_max_num_queries):
    with django_assert_max_num_queries(24):
        assert web_alice.get(f"/contacts/{contact.pk}/").status_code == 200
