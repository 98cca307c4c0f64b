"""The Attachments section of the client cards: upload (plain form and HTMX), list,
download as a safe attachment, delete; who may; another workspace's file is a 404."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from crm.attachments.models import Attachment
from crm.attachments.services import attachment_upload
from crm.clients.services import company_create, contact_create
from crm.deals.services import deal_create
from crm.leads.services import lead_create
from crm.trash import record_trash
from tenants.models import Plan
from tests.conftest import inside
from tests.crm.attachments.conftest import media_root_set, stored_files


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    return media_root_set(settings, tmp_path / "media")


def file(content: bytes, name: str = "offer.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@pytest.mark.parametrize("kind", ["contacts", "companies", "leads", "deals"])
def test_every_card_has_an_attachments_section_with_an_empty_state(alice, web_alice, kind):
    record = {
        "contacts": lambda: contact_create(actor=alice, first_name="Peter"),
        "companies": lambda: company_create(actor=alice, name="Initech"),
        "leads": lambda: lead_create(actor=alice, name="Milton", phone="+14155550100"),
        "deals": lambda: deal_create(actor=alice, title="TPS"),
    }[kind]()

    page = web_alice.get(f"/{kind}/{record.pk}/").content.decode()

    assert 'id="card-attachments"' in page
    assert "No documents attached yet." in page
    assert 'enctype="multipart/form-data"' in page


def test_a_file_uploaded_with_the_plain_form_is_listed_and_downloads_byte_for_byte(alice, web_alice):
    contact = contact_create(actor=alice, first_name="Peter")
    content = b"%PDF-1.4 " + bytes(range(256)) * 6

    response = web_alice.post(f"/attachments/contact/{contact.pk}/upload/", {"file": file(content, "Отчёт.pdf")})

    assert response.status_code == 302 and response["Location"] == f"/contacts/{contact.pk}/"
    page = web_alice.get(response["Location"]).content.decode()
    attachment = Attachment.objects.get()
    assert "Отчёт.pdf" in page and "1.5\xa0KB" in page and "Alice Adams" in page
    download = web_alice.get(f"/attachments/{attachment.pk}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%D0%9E%D1%82%D1%87%D1%91%D1%82.pdf" in download["Content-Disposition"]


def test_an_uploaded_html_page_is_only_ever_downloaded_never_rendered(alice, web_alice):
    contact = contact_create(actor=alice, first_name="Peter")
    attachment = attachment_upload(
        actor=alice, record=contact, file=file(b"<script>steal(document.cookie)</script>", "x.html")
    )

    download = web_alice.get(f"/attachments/{attachment.pk}/download/")

    assert download["Content-Disposition"] == 'attachment; filename="x.html"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Security-Policy"].startswith("sandbox")


def test_htmx_upload_swaps_the_section_and_shows_a_refusal_on_the_file_field(alice, web_alice, media):
    contact = contact_create(actor=alice, first_name="Peter")
    url = f"/attachments/contact/{contact.pk}/upload/"

    empty = web_alice.post(url, {"file": file(b"")}, HTTP_HX_REQUEST="true")
    stored = web_alice.post(url, {"file": file(b"hello", "notes.txt")}, HTTP_HX_REQUEST="true")

    assert empty.status_code == 400
    assert "This file is empty." in empty.content.decode() and 'class="field has-error"' in empty.content.decode()
    assert stored.status_code == 200
    body = stored.content.decode()
    assert body.startswith('<section id="card-attachments"') and "notes.txt" in body and "File attached." in body
    assert len(stored_files(media)) == 1


def test_the_plans_storage_limit_is_shown_to_the_person_uploading(alice, web_alice, tenant_a, media):
    Plan.objects.filter(pk=tenant_a.plan_id).update(max_storage_mb=1)
    contact = contact_create(actor=alice, first_name="Peter")

    response = web_alice.post(
        f"/attachments/contact/{contact.pk}/upload/", {"file": file(b"x" * (1024 * 1024 + 1))}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 400
    assert "Your plan allows 1 MB of file storage" in response.content.decode()
    assert stored_files(media) == []


def test_deleting_after_confirmation_removes_the_file_from_the_card(alice, web_alice):
    contact = contact_create(actor=alice, first_name="Peter")
    attachment = attachment_upload(actor=alice, record=contact, file=file(b"old", "old.txt"))
    page = web_alice.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Delete “old.txt” for good?" in page

    response = web_alice.post(f"/attachments/{attachment.pk}/delete/")

    assert response.status_code == 302
    assert not Attachment.objects.exists()
    assert web_alice.get(f"/attachments/{attachment.pk}/download/").status_code == 404


def test_deleting_is_post_only(alice, web_alice):
    contact = contact_create(actor=alice, first_name="Peter")
    attachment = attachment_upload(actor=alice, record=contact, file=file(b"x"))

    assert web_alice.get(f"/attachments/{attachment.pk}/delete/").status_code == 405
    assert Attachment.objects.exists()


def test_a_rep_gets_404_for_files_of_records_they_cannot_see(alice, rex, web_rex):
    contact = contact_create(actor=alice, first_name="Alice's", last_name="Client", owner=alice)
    attachment = attachment_upload(actor=alice, record=contact, file=file(b"secret"))

    assert web_rex.get(f"/attachments/{attachment.pk}/download/").status_code == 404
    assert web_rex.post(f"/attachments/contact/{contact.pk}/upload/", {"file": file(b"x")}).status_code == 404
    assert web_rex.post(f"/attachments/{attachment.pk}/delete/").status_code == 404
    assert Attachment.objects.count() == 1


def test_a_trashed_records_files_cannot_be_downloaded(alice, web_alice):
    contact = contact_create(actor=alice, first_name="Peter")
    attachment = attachment_upload(actor=alice, record=contact, file=file(b"x"))
    record_trash(actor=alice, record=contact)

    assert web_alice.get(f"/attachments/{attachment.pk}/download/").status_code == 404


def test_another_workspace_cannot_download_by_id(alice, tenant_a, tenant_b, web_bob):
    with inside(tenant_a):
        contact = contact_create(actor=alice, first_name="Peter")
        attachment = attachment_upload(actor=alice, record=contact, file=file(b"acme only"))

    assert web_bob.get(f"/attachments/{attachment.pk}/download/").status_code == 404
    assert web_bob.post(f"/attachments/contact/{contact.pk}/upload/", {"file": file(b"x")}).status_code == 404
    assert web_bob.post(f"/attachments/{attachment.pk}/delete/").status_code == 404
    with inside(tenant_b):
        assert not Attachment.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in(alice, acme):
    contact = contact_create(actor=alice, first_name="Peter")
    attachment = attachment_upload(actor=alice, record=contact, file=file(b"x"))

    response = Client(HTTP_HOST="acme.localhost:8000").get(f"/attachments/{attachment.pk}/download/")

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_sizes_are_written_the_readers_way(alice, web_alice):
    alice.language = "ru"
    alice.save(update_fields=["language"])
    contact = contact_create(actor=alice, first_name="Peter")
    attachment_upload(actor=alice, record=contact, file=file(b"x" * 1536))

    page = web_alice.get(f"/contacts/{contact.pk}/").content.decode()

    assert "1,5\xa0КБ" in page  # noqa: RUF001 - Russian for KB


def test_a_card_with_many_files_renders_within_a_query_bound(alice, web_alice, django_assert_max_num_queries):
    contact = contact_create(actor=alice, first_name="Peter")
    for number in range(20):
        attachment_upload(actor=alice, record=contact, file=file(b"x", f"file-{number}.txt"))

    with django_assert_max_num_queries(27):
        response = web_alice.get(f"/contacts/{contact.pk}/")

    assert response.content.decode().count("/download/") == 20


def test_without_javascript_a_refused_upload_comes_back_to_the_card_saying_why(alice, web_alice, media):
    contact = contact_create(actor=alice, first_name="Peter")

    response = web_alice.post(f"/attachments/contact/{contact.pk}/upload/", {"file": file(b"")}, follow=True)

    assert response.redirect_chain == [(f"/contacts/{contact.pk}/", 302)]
    assert "This file is empty." in response.content.decode()
    assert stored_files(media) == []
