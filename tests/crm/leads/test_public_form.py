"""`POST /forms/<key>/` end to end: a visitor's form post becomes a lead with a follow-up call."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from crm.activities.models import Task, TaskKind, TaskPriority, TaskStatus
from crm.leads.models import Lead, LeadChannel, LeadStatus
from crm.leads.services import lead_form_create, lead_form_deactivate
from crm.models import WorkspaceSettings
from crm.notifications.models import Notification, NotificationKind
from tests.conftest import inside
from tests.crm.leads.conftest import SITE

LANDING = (
    "https://www.acme-landing.example/consulting?utm_source=yandex&utm_medium=cpc"
    "&utm_campaign=spring_consulting&utm_content=ad_2&utm_term=%D0%B1%D0%B8%D0%B7%D0%BD%D0%B5%D1%81"
)


def visitor_post(client, form, data, *, json_answer=True, origin=SITE, **extra):
    """A visitor's browser sending the form from `origin` with fetch (JSON answer) or plainly."""
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    if json_answer:
        headers["HTTP_ACCEPT"] = "application/json"
    return client.post(f"/forms/{form.key}/", data, **headers, **extra)


def test_form_post_creates_a_lead_with_its_source_data(web, lead_form, rita):
    WorkspaceSettings.objects.filter(pk=1).update(default_phone_region="RU")

    response = visitor_post(
        web,
        lead_form,
        {
            "name": "Ivan Petrov",
            "phone": "8 (912) 345-67-89",
            "email": "Ivan@Example.RU",
            "company": "Romashka LLC",
            "message": "Need a consultation",
            "source_url": LANDING,
            "referrer": "https://yandex.ru/search/?text=business+consultant",
        },
    )

    assert response.status_code == 201
    lead = Lead.objects.get(pk=response.json()["lead"]["id"])
    assert (lead.name, lead.email, lead.company_name, lead.message) == (
        "Ivan Petrov",
        "ivan@example.ru",
        "Romashka LLC",
        "Need a consultation",
    )
    assert lead.phone == "+79123456789"  # a Russian local format, read with the workspace's region
    assert lead.status == LeadStatus.NEW
    assert lead.channel == LeadChannel.WEB_FORM
    assert lead.form == lead_form
    assert lead.owner == rita
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign, lead.utm_content) == (
        "yandex",
        "cpc",
        "spring_consulting",
        "ad_2",
    )
    assert lead.utm_term == "бизнес"
    assert lead.search_engine == "yandex"
    assert lead.source_url == LANDING
    assert lead.referrer == "https://yandex.ru/search/?text=business+consultant"


def test_explicit_hidden_fields_win_over_the_landing_page_tags(web, lead_form):
    response = visitor_post(
        web,
        lead_form,
        {
            "name": "Ana",
            "email": "ana@example.com",
            "utm_source": "google",
            "utm_term": "crm consulting",
            "source_url": LANDING,
            "referrer": "https://www.google.com/",
        },
    )

    lead = Lead.objects.get(pk=response.json()["lead"]["id"])
    assert lead.utm_source == "google"
    assert lead.utm_term == "crm consulting"
    assert lead.utm_campaign == "spring_consulting"  # not given, so read from the landing page
    assert lead.search_engine == "google"


def test_json_body_is_accepted(web, lead_form):
    response = web.post(
        f"/forms/{lead_form.key}/",
        data=json.dumps({"name": "Jo", "phone": 2125550123, "utm_source": "newsletter"}),
        content_type="application/json",
        HTTP_ORIGIN=SITE,
    )

    assert response.status_code == 201
    assert response.json()["message"] == "Thanks! We will call you soon."
    lead = Lead.objects.get(pk=response.json()["lead"]["id"])
    assert (lead.phone, lead.utm_source) == ("+12125550123", "newsletter")


def test_new_lead_gets_a_call_task_due_one_hour_after_arrival(web, lead_form, rita):
    response = visitor_post(web, lead_form, {"name": "Ivan Petrov", "phone": "+7 912 345-67-89"})

    lead = Lead.objects.get(pk=response.json()["lead"]["id"])
    task = Task.objects.get(lead=lead)
    assert task.title == "Call Ivan Petrov"
    assert task.owner == rita
    assert task.kind == TaskKind.CALL
    assert task.priority == TaskPriority.HIGH
    assert task.status == TaskStatus.OPEN
    assert task.due_at == lead.created_at + timedelta(hours=1)
    assert "+7 912 345-67-89" in task.description


def test_follow_up_delay_is_the_workspace_setting(web, lead_form):
    WorkspaceSettings.objects.filter(pk=1).update(lead_followup_minutes=15)

    response = visitor_post(web, lead_form, {"name": "Quick", "phone": "+12125550100"})

    lead = Lead.objects.get(pk=response.json()["lead"]["id"])
    assert Task.objects.get(lead=lead).due_at == lead.created_at + timedelta(minutes=15)


def test_owner_is_notified_of_the_new_lead(web, lead_form, rita):
    visitor_post(web, lead_form, {"name": "Ivan Petrov", "phone": "+12125550100"})

    notification = Notification.objects.get(recipient=rita)
    assert notification.kind == NotificationKind.LEAD_ASSIGNED
    assert notification.title == "New lead: Ivan Petrov"
    assert "Landing page" in notification.body


def test_lead_without_owner_gets_its_task_with_the_first_admin(web, alice, rita):
    form = lead_form_create(actor=alice, name="Unowned", owner=rita)
    rita.is_active = False
    rita.save(update_fields=["is_active"])

    response = visitor_post(web, form, {"name": "Nobody's", "phone": "+12125550100"})

    lead = Lead.objects.get(pk=response.json()["lead"]["id"])
    assert lead.owner is None
    assert Task.objects.get(lead=lead).owner == alice
    assert Notification.objects.filter(recipient=alice, kind=NotificationKind.LEAD_ASSIGNED).count() == 1


# --- answers: JSON or redirect ------------------------------------------------------------


def test_plain_post_is_redirected_to_the_thank_you_page(web, lead_form):
    response = visitor_post(web, lead_form, {"name": "Ivan", "phone": "+12125550100"}, json_answer=False)

    assert response.status_code == 303
    assert response["Location"] == f"/forms/{lead_form.key}/thanks/"
    assert Lead.objects.filter(form=lead_form).count() == 1


def test_thank_you_page_shows_the_forms_text(web, lead_form):
    response = web.get(f"/forms/{lead_form.key}/thanks/")

    assert response.status_code == 200
    assert "Thanks! We will call you soon." in response.content.decode()


def test_thank_you_page_has_a_translated_default(web, alice):
    form = lead_form_create(actor=alice, name="No text")

    response = web.get(f"/forms/{form.key}/thanks/", HTTP_ACCEPT_LANGUAGE="en")

    assert "Thank you! We will get back to you shortly." in response.content.decode()


def test_plain_post_goes_to_the_forms_own_redirect_address(web, alice):
    form = lead_form_create(actor=alice, name="Redirecting", redirect_url="https://www.example.com/thanks")

    response = visitor_post(web, form, {"name": "Ivan", "phone": "+12125550100"}, json_answer=False, origin="")

    assert response.status_code == 303
    assert response["Location"] == "https://www.example.com/thanks"


def test_post_without_trailing_slash_is_taken_too(web, lead_form):
    response = web.post(f"/forms/{lead_form.key}", {"name": "Ivan", "phone": "+12125550100"}, HTTP_ORIGIN=SITE)

    assert response.status_code == 303


def test_browser_without_javascript_sees_field_errors_as_a_page(web, lead_form):
    response = web.post(f"/forms/{lead_form.key}/", {"name": "Ivan"}, HTTP_ACCEPT="text/html,*/*;q=0.8")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "Leave a phone number or an email" in response.content.decode()


# --- CORS ---------------------------------------------------------------------------------


def test_allowed_origin_gets_cors_headers(web, lead_form):
    response = visitor_post(web, lead_form, {"name": "Ivan", "phone": "+12125550100"}, origin=SITE)

    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == SITE
    assert "Origin" in response["Vary"]


def test_post_from_a_disallowed_origin_is_refused(web, lead_form):
    response = visitor_post(web, lead_form, {"name": "Ivan", "phone": "+12125550100"}, origin="https://evil.example")

    assert response.status_code == 403
    assert response.json()["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response
    assert not Lead.objects.exists()


def test_origin_is_compared_without_default_port_and_case(web, lead_form):
    response = visitor_post(web, lead_form, {"name": "Ivan", "phone": "+12125550100"}, origin=SITE.upper() + ":443")

    assert response.status_code == 201


def test_preflight_from_an_allowed_origin_is_answered(web, lead_form):
    response = web.options(
        f"/forms/{lead_form.key}/",
        HTTP_ORIGIN=SITE,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SITE
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Content-Type" in response["Access-Control-Allow-Headers"]


def test_preflight_from_a_disallowed_origin_is_refused(web, lead_form):
    response = web.options(
        f"/forms/{lead_form.key}/", HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )

    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response


def test_form_without_listed_origins_accepts_any_site(web, alice):
    form = lead_form_create(actor=alice, name="Open")

    response = visitor_post(web, form, {"name": "Ivan", "phone": "+12125550100"}, origin="https://partner.example")

    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == "https://partner.example"


def test_null_origin_is_not_an_allowed_site(web, lead_form):
    response = visitor_post(web, lead_form, {"name": "Ivan", "phone": "+12125550100"}, origin="null")

    assert response.status_code == 403


# --- honeypot -----------------------------------------------------------------------------


def test_filled_honeypot_pretends_success_and_creates_nothing(web, lead_form):
    response = visitor_post(web, lead_form, {"name": "Bot", "phone": "+12125550100", "website": "http://spam.example"})

    assert response.status_code == 201
    assert response.json() == {"lead": {"id": None}, "message": "Thanks! We will call you soon."}
    assert not Lead.objects.exists()
    assert not Task.objects.exists()


def test_filled_honeypot_without_javascript_is_redirected_like_a_person(web, lead_form):
    response = visitor_post(web, lead_form, {"name": "Bot", "website": "x"}, json_answer=False)

    assert response.status_code == 303
    assert not Lead.objects.exists()


# --- rate limits ---------------------------------------------------------------------------


@pytest.fixture
def tight_limits(settings):
    settings.LEAD_FORM_RATE_PER_IP = (3, 60)
    settings.LEAD_FORM_RATE_PER_FORM = (5, 3600)


def test_one_address_is_throttled_after_its_limit(web, lead_form, tight_limits):
    answers = [
        visitor_post(web, lead_form, {"name": f"Lead {n}", "phone": "+12125550100"}, REMOTE_ADDR="203.0.113.7")
        for n in range(4)
    ]

    assert [answer.status_code for answer in answers] == [201, 201, 201, 429]
    assert answers[-1].json()["code"] == "throttled"
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60
    assert answers[-1]["Access-Control-Allow-Origin"] == SITE
    assert Lead.objects.count() == 3


def test_another_address_still_gets_through(web, lead_form, tight_limits):
    for n in range(4):
        visitor_post(web, lead_form, {"name": f"Lead {n}", "phone": "+12125550100"}, REMOTE_ADDR="203.0.113.7")

    response = visitor_post(web, lead_form, {"name": "Other", "phone": "+12125550100"}, REMOTE_ADDR="198.51.100.1")

    assert response.status_code == 201


def test_addresses_of_one_ipv6_network_share_a_budget(web, lead_form, tight_limits):
    answers = [
        visitor_post(web, lead_form, {"name": "V6", "phone": "+12125550100"}, REMOTE_ADDR=f"2001:db8:1:2::{n}")
        for n in range(1, 5)
    ]

    assert answers[-1].status_code == 429


def test_form_is_throttled_after_its_own_limit(web, lead_form, tight_limits):
    answers = [
        visitor_post(web, lead_form, {"name": "Many", "phone": "+12125550100"}, REMOTE_ADDR=f"198.51.100.{n}")
        for n in range(1, 7)
    ]

    assert [answer.status_code for answer in answers] == [201] * 5 + [429]
    assert int(answers[-1]["Retry-After"]) <= 3600


def test_invalid_posts_count_towards_the_limit(web, lead_form, tight_limits):
    for _ in range(3):
        visitor_post(web, lead_form, {"name": ""}, REMOTE_ADDR="203.0.113.9")

    response = visitor_post(web, lead_form, {"name": "Real", "phone": "+12125550100"}, REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 429


def test_another_workspaces_traffic_does_not_use_this_workspaces_budget(
    web, web_b, tenant_a, tenant_b, lead_form, tight_limits
):
    with inside(tenant_b):
        # Globex's form likely has the same primary key as Acme's: only the tenant in the
        # cache key keeps the two budgets apart.
        form_b = lead_form_create(actor=None, name="Globex form")

    for n in range(4):
        visitor_post(web_b, form_b, {"name": f"B{n}", "phone": "+12125550100"}, origin="", REMOTE_ADDR="203.0.113.7")

    response = visitor_post(web, lead_form, {"name": "A", "phone": "+12125550100"}, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 201
    with inside(tenant_b):
        assert Lead.objects.count() == 3
    with inside(tenant_a):
        assert Lead.objects.count() == 1


# --- validation -----------------------------------------------------------------------------


def test_missing_contact_details_are_a_field_error(web, lead_form):
    response = visitor_post(web, lead_form, {"name": "Ivan"})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert "phone" in body["errors"]
    assert response["Access-Control-Allow-Origin"] == SITE


def test_bad_phone_and_email_are_field_errors(web, lead_form):
    response = visitor_post(web, lead_form, {"name": "Ivan", "phone": "call me maybe", "email": "not-an-email"})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"phone", "email"}
    assert not Lead.objects.exists()


def test_over_long_name_is_a_field_error(web, lead_form):
    response = visitor_post(web, lead_form, {"name": "x" * 201, "phone": "+12125550100", "company": "c" * 300})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"name", "company"}


def test_name_is_taken_from_the_email_when_left_empty(web, lead_form):
    response = visitor_post(web, lead_form, {"email": "ivan@example.com"})

    assert response.status_code == 201
    assert Lead.objects.get().name == "ivan@example.com"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("[1, 2, 3]", "application/json"),
        ('"just a string"', "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        ("[" * 5000, "application/json"),
        ("--boundary\r\ngarbage", "multipart/form-data; boundary=boundary"),
    ],
)
def test_unreadable_body_is_a_400_not_a_500(web, lead_form, body, content_type):
    response = web.post(f"/forms/{lead_form.key}/", data=body, content_type=content_type, HTTP_ORIGIN=SITE)

    assert response.status_code == 400
    assert response.json()["code"] in {"parse_error", "validation_error"}


@pytest.mark.parametrize(
    "payload",
    [
        {"name": ["a", "b"], "phone": "+12125550100"},
        {"name": {"first": "Ivan"}, "phone": "+12125550100"},
        {"name": True, "phone": "+12125550100"},
        {"name": "Ivan", "phone": None, "email": None},
        {"name": "Ivan\x00Petrov", "phone": "+1\x00212"},
        {"name": "Ivan", "phone": "9" * 300},
        {"name": "Ivan", "email": ("a" * 250) + "@example.com"},
    ],
)
def test_wrong_types_and_odd_values_are_field_errors(web, lead_form, payload):
    response = web.post(
        f"/forms/{lead_form.key}/", data=json.dumps(payload), content_type="application/json", HTTP_ORIGIN=SITE
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_odd_hidden_fields_never_lose_the_lead(web, lead_form):
    payload = {
        "name": "Ivan\x00",
        "phone": "+12125550100",
        "utm_source": "s" * 5000,
        "utm_medium": ["cpc"],
        "utm_campaign": {"x": 1},
        "utm_term": "\x00term\x01",
        "source_url": "javascript:alert(1)",
        "referrer": "https://www.bing.com/search?q=" + "k" * 3000,
    }

    response = web.post(
        f"/forms/{lead_form.key}/", data=json.dumps(payload), content_type="application/json", HTTP_ORIGIN=SITE
    )

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert lead.name == "Ivan"
    assert lead.utm_source == "s" * 255
    assert (lead.utm_medium, lead.utm_campaign, lead.utm_term) == ("", "", "term")
    assert lead.source_url == ""
    assert len(lead.referrer) == 2000
    assert lead.search_engine == "bing"


def test_oversized_body_is_refused_politely(web, lead_form):
    response = visitor_post(web, lead_form, {"name": "Ivan", "phone": "+12125550100", "message": "m" * 200_000})

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_get_is_not_a_submission(web, lead_form):
    response = web.get(f"/forms/{lead_form.key}/", HTTP_ACCEPT="application/json")

    assert response.status_code == 405
    assert "POST" in response["Allow"]


# --- which form, which workspace --------------------------------------------------------------


def test_unknown_key_is_404(web, acme):
    response = web.post("/forms/no-such-key/", {"name": "Ivan"}, HTTP_ACCEPT="application/json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_switched_off_form_is_404(web, alice, lead_form):
    lead_form_deactivate(actor=alice, form=lead_form)

    response = visitor_post(web, lead_form, {"name": "Ivan", "phone": "+12125550100"})

    assert response.status_code == 404
    assert web.get(f"/forms/{lead_form.key}/thanks/").status_code == 404


def test_form_key_of_one_workspace_posted_to_another_is_404(web_b, lead_form, tenant_a):
    response = visitor_post(web_b, lead_form, {"name": "Ivan", "phone": "+12125550100"})

    assert response.status_code == 404
    with inside(tenant_a):
        assert not Lead.objects.exists()


def test_endpoint_needs_no_login_and_no_csrf_token(acme, lead_form):
    from django.test import Client

    strict = Client(HTTP_HOST="acme.localhost:8000", enforce_csrf_checks=True)

    response = strict.post(f"/forms/{lead_form.key}/", {"name": "Ivan", "phone": "+12125550100"}, HTTP_ORIGIN=SITE)

    assert response.status_code == 303


def test_submission_costs_a_bounded_number_of_queries(web, lead_form, django_assert_max_num_queries):
    with django_assert_max_num_queries(30):
        response = visitor_post(web, lead_form, {"name": "Ivan", "phone": "+12125550100"})
    assert response.status_code == 201
