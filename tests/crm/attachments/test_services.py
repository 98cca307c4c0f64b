"""Uploading, reading back and deleting attachments: bytes, names, sizes, who may do what."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from accounts import roles
from crm.attachments.models import Attachment
from crm.attachments.selectors import attachment_get, attachment_list_for, attachment_open, storage_used_bytes
from crm.attachments.services import attachment_delete, attachment_upload, filename_clean
from crm.clients.services import company_create, contact_create, contacts_merge
from crm.deals.services import deal_create
from crm.errors import AccessDenied, RecordNotFound
from crm.leads.services import lead_create
from crm.trash import record_restore, record_trash, trash_purge_older_than
from tenants.backups.services import media_folder
from tenants.models import Tenant
from tests.crm.attachments.conftest import member, stored_files, upload


def test_an_uploaded_file_comes_back_byte_for_byte_from_inside_the_tenants_folder(alice, media):
    # given a contact and some bytes that are not valid UTF-8
    contact = contact_create(actor=alice, first_name="Peter", last_name="Gibbons")
    content = bytes(range(256)) * 40

    # when Alice attaches them
    attachment = attachment_upload(actor=alice, record=contact, file=upload(content, "TPS report.pdf"))

    # then the same bytes come back, described truthfully, stored under a random name
    # inside the tenant's own media folder (which backups pack)
    fetched = attachment_get(actor=alice, attachment_id=attachment.pk)
    with attachment_open(attachment=fetched) as stored:
        assert stored.read() == content
    assert fetched.original_name == "TPS report.pdf"
    assert fetched.content_type == "application/pdf"
    assert fetched.size_bytes == len(content)
    assert fetched.sha256 == hashlib.sha256(content).hexdigest()
    assert fetched.uploaded_by == alice
    (path,) = stored_files(media)
    assert path.is_relative_to(media_folder(connection.schema_name))
    assert "TPS" not in str(path) and ".pdf" not in path.name


@pytest.mark.parametrize("make", ["lead", "contact", "company", "deal"])
def test_each_kind_of_client_record_takes_attachments(alice, make):
    record = {
        "lead": lambda: lead_create(actor=alice, name="Milton", phone="+14155550100"),
        "contact": lambda: contact_create(actor=alice, first_name="Peter"),
        "company": lambda: company_create(actor=alice, name="Initech"),
        "deal": lambda: deal_create(actor=alice, title="TPS"),
    }[make]()

    attachment = attachment_upload(actor=alice, record=record, file=upload(b"hello"))

    assert attachment.record_type == make
    assert [a.pk for a in attachment_list_for(actor=alice, record=record)] == [attachment.pk]


def test_an_empty_file_is_a_field_error_and_nothing_is_written(alice, media):
    contact = contact_create(actor=alice, first_name="Peter")

    with pytest.raises(ValidationError) as refused:
        attachment_upload(actor=alice, record=contact, file=upload(b""))

    assert refused.value.error_dict["file"][0].code == "empty"
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_a_file_over_the_size_cap_is_a_field_error_naming_the_cap(alice, media, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    contact = contact_create(actor=alice, first_name="Peter")
    attachment_upload(actor=alice, record=contact, file=upload(b"x" * 1024))  # exactly the cap is fine

    with pytest.raises(ValidationError) as refused:
        attachment_upload(actor=alice, record=contact, file=upload(b"x" * 1025))

    error = refused.value.error_dict["file"][0]
    assert error.code == "file_too_large"
    assert "MB" in error.message
    assert Attachment.objects.count() == 1
    assert len(stored_files(media)) == 1


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("..", "file"),
        ("", "file"),
        ("   .hidden", "hidden"),
        ("отчёт за май.docx", "отчёт за май.docx"),
        ("عرض سعر.pdf", "عرض سعر.pdf"),
        ("evil\u202egnp.exe", "evilgnp.exe"),
        ("a\x00b\nc.txt", "abc.txt"),
        ('what?<is>:this*|".txt', "what__is__this___.txt"),
    ],
)
def test_file_names_lose_paths_controls_and_unsafe_characters(given, kept):
    assert filename_clean(given) == kept


def test_a_very_long_name_is_cut_keeping_its_extension(alice):
    contact = contact_create(actor=alice, first_name="Peter")

    attachment = attachment_upload(actor=alice, record=contact, file=upload(b"x", "я" * 400 + ".xlsx"))

    assert len(attachment.original_name) == 255
    assert attachment.original_name.endswith("я.xlsx")


def test_the_content_type_comes_from_the_name_not_from_the_browser(alice):
    contact = contact_create(actor=alice, first_name="Peter")
    sent = upload(b"<script>alert(1)</script>", "page.html")
    sent.content_type = "image/png"

    attachment = attachment_upload(actor=alice, record=contact, file=sent)
    unknown = attachment_upload(actor=alice, record=contact, file=upload(b"x", "data.weird-ext"))

    assert attachment.content_type == "text/html"
    assert unknown.content_type == "application/octet-stream"


def test_a_rep_cannot_see_or_attach_to_a_colleagues_record(alice, rex, rita):
    # given Rita's contact with a file on it
    contact = contact_create(actor=rita, first_name="Rita's", last_name="Client")
    attachment = attachment_upload(actor=rita, record=contact, file=upload(b"secret"))

    # then Rex, a rep who sees only his own records, finds nothing and can attach nothing
    with pytest.raises(RecordNotFound):
        attachment_get(actor=rex, attachment_id=attachment.pk)
    assert list(attachment_list_for(actor=rex, record=contact)) == []
    with pytest.raises(RecordNotFound):
        attachment_upload(actor=rex, record=contact, file=upload(b"mine"))
    with pytest.raises(RecordNotFound):
        attachment_delete(actor=rex, attachment=attachment)
    assert Attachment.objects.count() == 1


def test_a_reader_may_download_but_not_attach(alice, acme):
    reader = member("olga@acme.example", roles.READ_ONLY)
    contact = contact_create(actor=alice, first_name="Peter")
    attachment = attachment_upload(actor=alice, record=contact, file=upload(b"read me"))

    assert attachment_get(actor=reader, attachment_id=attachment.pk) == attachment
    with pytest.raises(AccessDenied):
        attachment_upload(actor=reader, record=contact, file=upload(b"x"))
    with pytest.raises(AccessDenied):
        attachment_delete(actor=reader, attachment=attachment)


def test_the_uploader_may_delete_their_own_file_but_not_a_colleagues_without_delete_rights(alice, acme, media):
    # given a support agent (edits every contact, may delete none) and two files on a contact
    agent = member("sam@acme.example", roles.SUPPORT)
    contact = contact_create(actor=alice, first_name="Peter")
    alices = attachment_upload(actor=alice, record=contact, file=upload(b"alice's"))
    agents = attachment_upload(actor=agent, record=contact, file=upload(b"agent's"))

    # then the agent may delete their own upload, not Alice's
    with pytest.raises(AccessDenied):
        attachment_delete(actor=agent, attachment=alices)
    attachment_delete(actor=agent, attachment=agents)

    assert list(Attachment.objects.values_list("pk", flat=True)) == [alices.pk]
    assert len(stored_files(media)) == 2  # the file goes when the transaction commits


def test_a_trashed_records_attachments_disappear_and_come_back_with_it(alice):
    contact = contact_create(actor=alice, first_name="Peter")
    attachment = attachment_upload(actor=alice, record=contact, file=upload(b"x"))

    record_trash(actor=alice, record=contact)
    with pytest.raises(RecordNotFound):
        attachment_get(actor=alice, attachment_id=attachment.pk)
    with pytest.raises(RecordNotFound):
        attachment_upload(actor=alice, record=contact, file=upload(b"y"))

    record_restore(actor=alice, record=contact)
    assert attachment_get(actor=alice, attachment_id=attachment.pk) == attachment


def test_uploads_and_deletes_keep_the_workspaces_usage_figure_in_step(alice, tenant_a):
    before = Tenant.objects.get(pk=tenant_a.pk).usage_storage_bytes
    contact = contact_create(actor=alice, first_name="Peter")

    first = attachment_upload(actor=alice, record=contact, file=upload(b"x" * 1000))
    attachment_upload(actor=alice, record=contact, file=upload(b"y" * 500))
    attachment_delete(actor=alice, attachment=first)

    assert Tenant.objects.get(pk=tenant_a.pk).usage_storage_bytes == before + 500
    assert storage_used_bytes() == 500


def test_merging_duplicates_moves_their_attachments_to_the_kept_contact(alice):
    kept = contact_create(actor=alice, first_name="Peter", last_name="Gibbons")
    duplicate = contact_create(actor=alice, first_name="Pete", last_name="Gibbons")
    attachment = attachment_upload(actor=alice, record=duplicate, file=upload(b"contract"))

    contacts_merge(actor=alice, primary=kept, duplicates=[duplicate])

    assert [a.pk for a in attachment_list_for(actor=alice, record=kept)] == [attachment.pk]
    assert attachment_get(actor=alice, attachment_id=attachment.pk).contact_id == kept.pk


def test_purging_a_record_from_the_trash_removes_its_files_and_frees_the_usage(
    alice, tenant_a, media, django_capture_on_commit_callbacks
):
    # given a trashed contact with a file, and a live one with another
    usage_before = Tenant.objects.get(pk=tenant_a.pk).usage_storage_bytes
    gone = contact_create(actor=alice, first_name="Gone")
    kept = contact_create(actor=alice, first_name="Kept")
    attachment_upload(actor=alice, record=gone, file=upload(b"x" * 300))
    attachment_upload(actor=alice, record=kept, file=upload(b"y" * 200))
    record_trash(actor=alice, record=gone)

    # when the trash is purged
    with django_capture_on_commit_callbacks(execute=True):
        trash_purge_older_than(days=0, now=timezone.now() + timedelta(seconds=1))

    # then the purged contact's file is gone from the disk and the usage; the other stays
    assert [path.read_bytes() for path in stored_files(media)] == [b"y" * 200]
    assert storage_used_bytes() == 200
    assert Tenant.objects.get(pk=tenant_a.pk).usage_storage_bytes == usage_before + 200
