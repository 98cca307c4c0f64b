"""Email over the API: send (202, queued), list and read within what the caller sees,
templates with field errors, mailboxes with write-only passwords, another workspace's
ids answering 404."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.attachments.services import attachment_upload
from crm.clients.services import contact_create
from crm.mail.models import EmailMessage, MailAccount
from crm.mail.services import email_send, email_template_create, mail_account_save
from tests.api.people import alice as alice_user
from tests.api.people import signed_in
from tests.conftest import inside
from tests.crm.attachments.conftest import media_root_set


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    return media_root_set(settings, tmp_path / "media")


@pytest.fixture
def anna(tenant_a):
    with inside(tenant_a):
        return contact_create(actor=None, first_name="Anna", last_name="Lind", emails=["anna@client.example"])


def test_sending_queues_the_email_on_the_contacts_card(api_a, anna, tenant_a):
    response = api_a.post(
        "/api/v1/emails/",
        {
            "to": ["anna@client.example"],
            "subject": "Offer",
            "body": "Hello",
            "record_type": "contact",
            "record_id": anna.pk,
        },
    )

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["to"], body["contact_id"], body["direction"]) == (
        "queued",
        ["anna@client.example"],
        anna.pk,
        "outbound",
    )
    assert body["activity_id"] and body["message_id"].startswith("<")


def test_invalid_addresses_are_named_in_field_errors(api_a, anna):
    response = api_a.post("/api/v1/emails/", {"to": ["anna@client.example", "nope"], "cc": ["x@@y"], "body": "x"})

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "nope" in errors["to"][0] and "x@@y" in errors["cc"][0]
    assert response.json()["code"] == "validation_error"


def test_an_empty_email_is_a_field_error(api_a):
    response = api_a.post("/api/v1/emails/", {"to": ["anna@client.example"], "subject": "", "body": ""})

    assert response.status_code == 400 and "body" in response.json()["errors"]


def test_a_template_and_a_cards_document_are_used(api_a, anna, tenant_a):
    with inside(tenant_a):
        template = email_template_create(
            actor=None, name="Hello", subject="Hi {{ contact.first_name }}", body="Dear {{ contact.full_name }}"
        )
        document = attachment_upload(actor=None, record=anna, file=SimpleUploadedFile("terms.pdf", b"%PDF terms"))

    response = api_a.post(
        "/api/v1/emails/",
        {
            "to": ["anna@client.example"],
            "template": template.pk,
            "record_type": "contact",
            "record_id": anna.pk,
            "attachment_ids": [document.pk],
        },
    )

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["subject"], body["text"]) == ("Hi Anna", "Dear Anna Lind")
    assert [file["name"] for file in body["files"]] == ["terms.pdf"]
    file_id = body["files"][0]["id"]
    download = api_a.get(f"/api/v1/emails/{body['id']}/files/{file_id}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF terms"


def test_the_list_of_a_record_stays_within_a_query_bound(api_a, anna, tenant_a, django_assert_max_num_queries):
    with inside(tenant_a):
        for number in range(3):
            email_send(actor=alice_user(), to="anna@client.example", subject=f"Hi {number}", body="x", record=anna)

    with django_assert_max_num_queries(14):
        response = api_a.get(f"/api/v1/emails/?record_type=contact&record_id={anna.pk}")

    assert response.status_code == 200
    assert [item["subject"] for item in response.json()["results"]] == ["Hi 2", "Hi 1", "Hi 0"]


def test_another_workspaces_email_template_and_mailbox_are_404(api_a, api_b, tenant_b):
    with inside(tenant_b):
        hank = contact_create(actor=None, first_name="Hank", emails=["hank@globex-client.example"])
        message = email_send(
            actor=None, to="hank@globex-client.example", subject="Globex secret", body="x", record=hank
        )
        template = email_template_create(actor=None, name="Globex", body="secret")
        account = mail_account_save(
            actor=None, owner=None, from_address="s@globex.example", smtp_host="smtp.globex.example"
        )

    for path in (
        f"/api/v1/emails/{message.pk}/",
        f"/api/v1/email-templates/{template.pk}/",
        f"/api/v1/mail-accounts/{account.pk}/",
    ):
        assert api_a.get(path).status_code == 404, path
        assert api_b.get(path).status_code == 200, path
    assert api_a.patch(f"/api/v1/mail-accounts/{account.pk}/", {"from_address": "x@acme.example"}).status_code == 404


def test_a_template_with_an_unknown_variable_is_refused_per_field(api_a):
    response = api_a.post("/api/v1/email-templates/", {"name": "Bad", "body": "Hi {{ contact.nickname }}"})

    assert response.status_code == 400
    assert "contact.nickname" in response.json()["errors"]["body"][0]


def test_a_sales_rep_reads_templates_but_cannot_change_them(tenant_a):
    with inside(tenant_a):
        email_template_create(actor=None, name="Shared", body="Hello")
    rex = signed_in(tenant_a, "rex.mail@acme.example")

    assert rex.get("/api/v1/email-templates/").json()["results"][0]["name"] == "Shared"
    refused = rex.post("/api/v1/email-templates/", {"name": "Mine", "body": "x"})
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"


def test_rendering_a_template_for_a_record(api_a, anna, tenant_a):
    with inside(tenant_a):
        template = email_template_create(actor=None, name="R", subject="For {{ contact.first_name }}", body="x")

    response = api_a.post(
        f"/api/v1/email-templates/{template.pk}/render/", {"record_type": "contact", "record_id": anna.pk}
    )

    assert response.status_code == 200 and response.json()["subject"] == "For Anna"


def test_mailbox_passwords_are_write_only(api_a, tenant_a):
    response = api_a.post(
        "/api/v1/mail-accounts/",
        {
            "from_address": "sales@acme.example",
            "smtp_host": "smtp.acme.example",
            "smtp_password": "s3cret-smtp-pass",
            "imap_host": "imap.acme.example",
            "imap_password": "s3cret-imap-pass",
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["smtp_password_set"] is True and body["imap_password_set"] is True
    assert "s3cret" not in response.content.decode()
    listed = api_a.get("/api/v1/mail-accounts/")
    assert "s3cret" not in listed.content.decode() and "sealed" not in listed.content.decode()
    # a change without passwords keeps them
    changed = api_a.patch(f"/api/v1/mail-accounts/{body['id']}/", {"from_name": "Acme Sales"})
    assert changed.status_code == 200 and changed.json()["smtp_password_set"] is True
    with inside(tenant_a):
        from crm.mail.services import mail_account_password

        assert mail_account_password(MailAccount.objects.get(pk=body["id"]), "smtp") == "s3cret-smtp-pass"


def test_a_sales_rep_connects_only_their_own_mailbox(tenant_a):
    rex = signed_in(tenant_a, "rex.box@acme.example")

    shared = rex.post(
        "/api/v1/mail-accounts/", {"from_address": "sales@acme.example", "smtp_host": "smtp.acme.example"}
    )
    with inside(tenant_a):
        from accounts.models import User

        rex_id = User.objects.get(email="rex.box@acme.example").pk
    own = rex.post(
        "/api/v1/mail-accounts/",
        {"owner": rex_id, "from_address": "rex@acme.example", "smtp_host": "smtp.acme.example"},
    )

    assert shared.status_code == 403
    assert own.status_code == 201 and own.json()["owner"]["id"] == rex_id
    assert [item["id"] for item in rex.get("/api/v1/mail-accounts/").json()["results"]] == [own.json()["id"]]


def test_a_mailbox_with_a_bad_server_name_is_a_field_error(api_a):
    response = api_a.post("/api/v1/mail-accounts/", {"from_address": "sales@acme.example", "smtp_host": "not a host!"})

    assert response.status_code == 400 and "smtp_host" in response.json()["errors"]


def test_retrying_an_email_that_was_not_failed_is_refused(api_a, tenant_a):
    with inside(tenant_a):
        message = email_send(actor=alice_user(), to="x@client.example", subject="Hi", body="x")

    response = api_a.post(f"/api/v1/emails/{message.pk}/retry/")

    assert response.status_code == 400 and response.json()["code"] == "email_not_failed"
    with inside(tenant_a):
        assert EmailMessage.objects.get(pk=message.pk).status == "queued"
