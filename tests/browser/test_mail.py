"""In a real browser: an email written from a contact's card with a template reaches a
real SMTP server with the contact's details filled in, and shows on the card as sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from crm.activities.models import Activity
from crm.clients.models import Contact
from crm.clients.services import contact_create
from crm.mail.models import EmailMessage, EmailTemplate, EmailThread, MailAccount
from crm.mail.services import email_template_create, mail_account_save
from tests.browser.conftest import sign_in
from tests.crm.mail.servers import smtp_server
from tests.processes import celery_worker, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture
def worker(live_site, tmp_path) -> Path:
    log_file = tmp_path / "worker.log"
    with celery_worker(log_file, MAIL_ALLOW_PRIVATE_HOSTS="true"):
        yield log_file


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


@pytest.fixture
def mail_world(inside_browser_tenant, smtp):
    mail_account_save(
        actor=None, owner=None, from_address="sales@browser.example", from_name="Browser Sales",
        smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none",
    )  # fmt: skip
    template = email_template_create(
        actor=None,
        name="Follow-up",
        subject="Next steps for {{ company.name }}",
        body="Dear {{ contact.first_name }},\nthank you.",
    )
    from crm.clients.services import company_create

    company = company_create(actor=None, name="Lindqvist Tools")
    anna = contact_create(
        actor=None, first_name="Anna", last_name="Lindqvist", emails=["anna@client.example"], company=company
    )
    yield anna, template
    EmailMessage.objects.all().delete()
    EmailThread.objects.all().delete()
    Activity.all_objects.filter(kind="email").delete()
    EmailTemplate.objects.all().delete()
    MailAccount.objects.all().delete()
    Contact.all_objects.filter(pk=anna.pk).delete()
    company.delete()


def test_an_email_written_with_a_template_is_sent_and_shows_on_the_timeline(page, live_site, mail_world, smtp, worker):
    anna, template = mail_world
    # The first message a web process sends to the broker opens its connection pool.
    page.set_default_navigation_timeout(60_000)
    sign_in(page, live_site)

    # given Anna's card, Ada opens "Send email" and picks the template
    page.goto(live_site.url(f"/contacts/{anna.pk}/"))
    page.get_by_role("link", name="Send email").click()
    expect(page.get_by_label("To")).to_have_value("anna@client.example")
    page.get_by_label("Template").select_option(str(template.pk))
    page.get_by_role("button", name="Use template").click()
    expect(page.get_by_label("Subject")).to_have_value("Next steps for Lindqvist Tools")
    expect(page.get_by_label("Text")).to_have_value("Dear Anna,\nthank you.")

    # when she sends it
    page.get_by_role("button", name="Send").click()

    # then she is back on the card, the real SMTP server got it with the details filled in
    page.wait_for_url(live_site.url(f"/contacts/{anna.pk}/") + "**")
    (received,) = smtp.wait_for_messages(1, timeout=60)
    assert received.message["Subject"] == "Next steps for Lindqvist Tools"
    # (SMTP carries CRLF line ends; what was stored has plain newlines)
    assert received.message.get_body(("plain",)).get_content().strip().replace("\r\n", "\n") == "Dear Anna,\nthank you."
    assert EmailMessage.objects.get().text_body == "Dear Anna,\nthank you."
    assert received.rcpt_tos == ["anna@client.example"]
    # and once the job has run, the timeline says it was sent
    assert wait_for(lambda: EmailMessage.objects.filter(status="sent").exists(), timeout=30), worker.read_text()[-2000:]
    page.reload()
    entry = page.locator(".timeline-entry.kind-email").first
    expect(entry).to_contain_text("Next steps for Lindqvist Tools")
    expect(entry.locator(".mail-status")).to_have_text("Sent")
    expect(entry.get_by_role("link", name="Reply")).to_be_visible()
