"""Attachments live in the tenant's media folder, so a backup packs them and a restore
brings them back: real pg_dump, real archive, real restore, on a workspace of its own."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.db import connection

from accounts.models import User
from crm.attachments.models import Attachment
from crm.attachments.selectors import attachment_get, attachment_open
from crm.attachments.services import attachment_delete, attachment_upload
from crm.clients.services import contact_create
from tenants.backups import services as backups
from tenants.backups.models import BackupKind, BackupStatus, JobStatus
from tests.conftest import inside
from tests.crm.attachments.conftest import media_root_set, upload
from tests.tenants.backups.conftest import discard, scratch_signup

pytestmark = pytest.mark.slow


@pytest.fixture
def scratch(committed_db, settings, tmp_path):
    media_root_set(settings, tmp_path / "media")
    settings.STORAGES = {
        **settings.STORAGES,
        "backups": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "backups")},
        },
    }
    settings.BACKUP_WORK_DIR = str(tmp_path / "work")
    tenant = scratch_signup("att")
    try:
        yield tenant
    finally:
        discard(tenant)


def test_a_restored_backup_brings_back_attachments_byte_for_byte(scratch):
    # given a contact with a document, backed up
    content = b"%PDF-1.7 signed contract " + bytes(range(256)) * 10
    with inside(scratch):
        admin = User.objects.select_related("role").get(email__startswith="sam@")
        contact = contact_create(actor=admin, first_name="Peter", last_name="Gibbons")
        attachment = attachment_upload(actor=admin, record=contact, file=upload(content, "contract.pdf"))
    backup = backups.backup_take(tenant=scratch, kind=BackupKind.MANUAL)
    assert backup.status == BackupStatus.READY, backup.error

    # ... then the document is deleted (row and file)
    with inside(scratch):
        attachment_delete(actor=admin, attachment=Attachment.objects.get(pk=attachment.pk))
        assert not Attachment.objects.exists()
        assert not default_storage.exists(attachment.stored_name)

    # when the backup is restored
    connection.set_schema_to_public()
    job = backups.restore_run(job_id=backups.restore_request(actor=admin, backup=backup, queue=False).pk)

    # then the attachment is listed and downloadable again with the same bytes
    assert job.status == JobStatus.DONE, job.error
    with inside(scratch):
        admin = User.objects.select_related("role").get(email__startswith="sam@")
        restored = attachment_get(actor=admin, attachment_id=attachment.pk)
        with attachment_open(attachment=restored) as stored:
            assert stored.read() == content
        assert restored.original_name == "contract.pdf"
