"""Mail in the web UI: compose from a card (with a template), the message on the timeline,
reading a message safely, the inbound webhook, Settings → Email, unmatched mail."""

from __future__ import annotations

from email.mime.text import MIMEText

import pytest
from django.test import Client

from crm.activities.models import Activity
from crm.clients.services import contact_create
from crm.mail.models import EmailMessage, MailAccount
from crm.mail.services import (
    email_receive,
    email_send,
    email_template_create,
    inbound_address_get_or_create,
)
from tests.conftest import inside
from tests.crm.attachments.conftest import media_root_set
from tests.crm.mail.servers import raw_message, smtp_server
from tests.web.conftest import GLOBEX_HOST

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    return media_root_set(settings, tmp_path / "media")


@pytest.fixture
def anna(alice):
    return contact_create(actor=alice, first_name="Anna", last_name="Lind", emails=["anna@client.example"])


def test_a_contact_card_offers_send_email_and_the_form_is_addressed_to_the_contact(web_alice, anna):
    card = web_alice.get(f"/contacts/{anna.pk}/")
    assert f'href="/mail/compose/contact/{anna.pk}/"' in card.content.decode()

    page = web_alice.get(f"/mail/compose/contact/{anna.pk}/")

    assert page.status_code == 200
    assert 'value="anna@client.example"' in page.content.decode()


def test_use_template_fills_subject_and_text_for_the_contact(web_alice, anna, alice):
    template = email_template_create(
        actor=alice, name="Hello", subject="Hi {{ contact.first_name }}", body="Dear {{ contact.full_name }}"
    )

    page = web_alice.post(
        f"/mail/compose/contact/{anna.pk}/",
        {"action": "template", "template": template.pk, "to": "anna@client.example", "subject": "", "body": ""},
    )

    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="Hi Anna"' in html and "Dear Anna Lind</textarea>" in html
    assert EmailMessage.objects.count() == 0  # nothing is sent by choosing a template


def test_sending_puts_the_email_on_the_cards_timeline(web_alice, anna):
    response = web_alice.post(
        f"/mail/compose/contact/{anna.pk}/",
        {"action": "send", "to": "anna@client.example", "subject": "Our offer", "body": "Hello Anna"},
    )

    assert response.status_code == 302 and response["Location"].startswith(f"/contacts/{anna.pk}/")
    message = EmailMessage.objects.get()
    card = web_alice.get(f"/contacts/{anna.pk}/").content.decode()
    assert "Our offer" in card and "Sending" in card
    assert f'href="/mail/messages/{message.pk}/"' in card and f'href="/mail/messages/{message.pk}/reply/"' in card


def test_invalid_addresses_are_shown_on_the_field_and_nothing_is_sent(web_alice, anna):
    response = web_alice.post(
        f"/mail/compose/contact/{anna.pk}/", {"action": "send", "to": "anna@client.example, wrong@", "body": "x"}
    )

    assert response.status_code == 400
    assert "wrong@" in response.content.decode()
    assert EmailMessage.objects.count() == 0


def test_an_uploaded_file_over_the_cap_is_a_field_error(web_alice, anna, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.ATTACHMENT_MAX_BYTES = 4
    response = web_alice.post(
        f"/mail/compose/contact/{anna.pk}/",
        {
            "action": "send",
            "to": "anna@client.example",
            "body": "x",
            "attachments": SimpleUploadedFile("big.bin", b"12345"),
        },
    )

    assert response.status_code == 400 and "big.bin" in response.content.decode()
    assert EmailMessage.objects.count() == 0


def test_a_card_of_another_workspace_or_an_invisible_one_is_404(web_alice, web_rex, anna, tenant_b):
    with inside(tenant_b):
        globex_contact = contact_create(actor=None, first_name="Hank")

    assert web_alice.get(f"/mail/compose/contact/{globex_contact.pk}/").status_code == 404
    assert web_rex.get(f"/mail/compose/contact/{anna.pk}/").status_code == 404
    assert web_alice.get("/mail/compose/task/1/").status_code == 404


def test_a_message_of_another_workspace_is_404(web_alice, tenant_b, django_assert_max_num_queries):
    with inside(tenant_b):
        hank = contact_create(actor=None, first_name="Hank", emails=["hank@globex-client.example"])
        message = email_send(actor=None, to="hank@globex-client.example", subject="Secret", body="x", record=hank)

    for path in (
        f"/mail/messages/{message.pk}/",
        f"/mail/messages/{message.pk}/body/",
        f"/mail/messages/{message.pk}/reply/",
    ):
        assert web_alice.get(path).status_code == 404, path


def test_a_received_html_email_is_shown_in_a_sandbox_without_remote_images(
    web_alice, anna, django_assert_max_num_queries
):
    html = MIMEText('<p>Hi</p><img src="https://tracker.example/p.gif"><script>alert(1)</script>', "html")
    html["From"] = "anna@client.example"
    html["Subject"] = "HTML"
    message = email_receive(raw=html.as_bytes(), inbound_address=inbound_address_get_or_create(owner=None))

    with django_assert_max_num_queries(20):
        page = web_alice.get(f"/mail/messages/{message.pk}/")
    body = web_alice.get(f"/mail/messages/{message.pk}/body/")
    shown = web_alice.get(f"/mail/messages/{message.pk}/body/?images=1")

    assert page.status_code == 200 and "Show images" in page.content.decode()
    assert 'sandbox="allow-popups' in page.content.decode()
    csp = body["Content-Security-Policy"]
    assert "sandbox" in csp and "img-src data: cid:;" in csp and "script" not in body.content.decode()
    assert "https:" in shown["Content-Security-Policy"]
    assert body["X-Frame-Options"] == "SAMEORIGIN"


def test_the_card_with_emails_stays_within_a_query_bound(web_alice, anna, alice, django_assert_max_num_queries):
    for number in range(5):
        email_send(actor=alice, to="anna@client.example", subject=f"Mail {number}", body="x", record=anna)

    with django_assert_max_num_queries(26):
        page = web_alice.get(f"/contacts/{anna.pk}/")

    assert page.content.decode().count('class="mail-entry"') == 5


# --- the inbound webhook -----------------------------------------------------------


def test_the_inbound_address_stores_a_raw_message_once(client_a, anna):
    token = inbound_address_get_or_create(owner=None).token
    raw = raw_message(sender="anna@client.example", message_id="<hook-1@client.example>")

    first = client_a.post(f"/mail/inbound/{token}/", raw, content_type="message/rfc822")
    again = client_a.post(f"/mail/inbound/{token}/", raw, content_type="message/rfc822")

    assert first.status_code == 201 and first.json()["linked"] is True
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert EmailMessage.objects.get().contact_id == anna.pk


def test_a_mailgun_style_form_with_body_mime_is_accepted(client_a, acme):
    token = inbound_address_get_or_create(owner=None).token

    response = client_a.post(f"/mail/inbound/{token}/", {"body-mime": raw_message().decode()})

    assert response.status_code == 201


def test_an_unknown_token_and_another_workspaces_token_are_404(client_a, acme, tenant_b):
    token = inbound_address_get_or_create(owner=None).token
    globex = Client(HTTP_HOST=GLOBEX_HOST)

    assert client_a.post("/mail/inbound/nope/", raw_message(), content_type="message/rfc822").status_code == 404
    response = globex.post(f"/mail/inbound/{token}/", raw_message(), content_type="message/rfc822")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_a_message_over_the_size_limit_is_413_and_an_empty_one_400(client_a, acme, settings):
    settings.MAIL_INBOUND_MAX_BYTES = 1000
    token = inbound_address_get_or_create(owner=None).token

    big = client_a.post(f"/mail/inbound/{token}/", raw_message(body="x" * 2000), content_type="message/rfc822")
    empty = client_a.post(f"/mail/inbound/{token}/", b"", content_type="message/rfc822")

    assert big.status_code == 413 and big.json()["code"] == "too_large"
    assert empty.status_code == 400 and empty.json()["code"] == "empty"
    assert EmailMessage.objects.count() == 0


def test_garbled_headers_are_stored_with_a_note(client_a, acme):
    token = inbound_address_get_or_create(owner=None).token
    raw = b"From: <<<>>>\r\nSubject: =?x-bogus?Q?=FF?=\r\nContent-Type: multipart/mixed\r\n\r\nno boundary at all"

    response = client_a.post(f"/mail/inbound/{token}/", raw, content_type="message/rfc822")

    assert response.status_code == 201 and response.json()["notes"]


# --- settings and one's own mailbox --------------------------------------------------


def test_settings_email_is_for_administrators(web_alice, web_rex):
    page = web_alice.get("/settings/email/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "off by default for the privacy" in html and "@inbound.localhost" in html
    assert web_rex.get("/settings/email/").status_code == 403


def test_the_workspace_mailbox_is_saved_and_test_connection_shows_the_servers_error(web_alice, acme):
    with smtp_server(username="sales@acme.example", password="right-password") as server:
        saved = web_alice.post(
            "/settings/email/",
            {
                "action": "save",
                "from_address": "sales@acme.example",
                "smtp_host": "127.0.0.1",
                "smtp_port": server.port,
                "smtp_security": "none",
                "smtp_username": "sales@acme.example",
                "smtp_password": "wrong-password",
                "imap_port": 993,
                "imap_security": "ssl",
                "is_active": "on",
            },
        )
        assert saved.status_code == 302, saved.content.decode()[:3000]
        page = web_alice.get("/settings/email/").content.decode()
        assert "Set. Leave empty to keep it." in page and "wrong-password" not in page

        tested = web_alice.post("/settings/email/", {"action": "test"})

    html = tested.content.decode()
    assert "refused the user name or password" in html and "535" in html
    assert "535" in MailAccount.objects.get(owner__isnull=True).last_error


def test_tracking_is_switched_on_in_settings(web_alice, acme):
    from crm.mail.selectors import mail_settings

    response = web_alice.post("/settings/email/", {"action": "tracking", "track_opens": "on"})

    assert response.status_code == 302
    assert (mail_settings().track_opens, mail_settings().track_clicks) == (True, False)


def test_a_template_with_an_unknown_variable_shows_the_error_and_a_good_one_previews(web_alice, acme):
    bad = web_alice.post(
        "/settings/email/templates/new/", {"action": "save", "name": "Bad", "body": "{{ contact.age }}"}
    )
    preview = web_alice.post(
        "/settings/email/templates/new/", {"action": "preview", "name": "Good", "body": "Dear {{ contact.first_name }}"}
    )

    assert bad.status_code == 400 and "contact.age" in bad.content.decode()
    assert "Dear Anna" in preview.content.decode()


def test_a_sales_rep_connects_their_own_mailbox(web_rex, rex):
    response = web_rex.post(
        "/mail/mailbox/",
        {"action": "save", "from_address": "rex@acme.example", "smtp_host": "smtp.acme.example", "smtp_port": 587,
         "smtp_security": "starttls", "imap_port": 993, "imap_security": "ssl", "is_active": "on"},
    )  # fmt: skip

    assert response.status_code == 302
    assert MailAccount.objects.get(owner=rex).from_address == "rex@acme.example"
    page = web_rex.get("/mail/mailbox/").content.decode()
    assert "@inbound.localhost" in page


# --- unmatched mail ----------------------------------------------------------------


def test_unmatched_mail_is_listed_and_becomes_a_lead(web_alice, acme):
    message = email_receive(
        raw=raw_message(sender="Nina <nina@new.example>"), inbound_address=inbound_address_get_or_create(owner=None)
    )

    inbox = web_alice.get("/mail/")
    created = web_alice.post(f"/mail/messages/{message.pk}/lead/")

    assert "nina@new.example" in inbox.content.decode()
    assert created.status_code == 302 and created["Location"].startswith("/leads/")
    message.refresh_from_db()
    assert message.lead_id and Activity.objects.get(pk=message.activity_id).lead_id == message.lead_id


def test_a_sales_rep_does_not_see_the_shared_unmatched_mail(web_rex, acme):
    message = email_receive(
        raw=raw_message(sender="nina@new.example"), inbound_address=inbound_address_get_or_create(owner=None)
    )

    assert "nina@new.example" not in web_rex.get("/mail/").content.decode()
    assert web_rex.get(f"/mail/messages/{message.pk}/").status_code == 404
    assert web_rex.post(f"/mail/messages/{message.pk}/lead/").status_code == 404


def test_the_tracking_pixel_answers_only_for_tracked_mail(client_a, anna, alice):
    from crm.mail.services import mail_settings_update

    mail_settings_update(actor=alice, track_opens=True, track_clicks=False, create_leads=False)
    message = email_send(actor=alice, to="anna@client.example", subject="Hi", body="x", record=anna)

    pixel = client_a.get(f"/mail/t/{message.tracking_token}/o.gif")

    assert pixel.status_code == 200 and pixel["Content-Type"] == "image/gif"
    assert client_a.get("/mail/t/unknown/o.gif").status_code == 404
    message.refresh_from_db()
    assert message.open_count == 1
