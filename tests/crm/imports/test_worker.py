"""The import job in a real `celery worker` process: queued on commit, progress after each
batch, and a worker killed mid-file (SIGKILL, as the OOM killer or a deploy would) is
taken over by another that continues after the last committed batch — no row imported
twice, none lost, counts that add up."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from config.celery import app as celery_app
from crm.clients.models import Contact
from crm.imports.models import ImportedRecord, ImportJob, ImportStatus
from crm.imports.services import import_start, import_upload
from tenants.models import Tenant
from tests.conftest import ALICE_EMAIL, inside
from tests.crm.attachments.conftest import media_root_set
from tests.processes import celery_worker, wait_for

pytestmark = pytest.mark.slow
ROWS = 12_000


def job_state(tenant, job_id: int) -> ImportJob:
    with inside(tenant):
        return ImportJob.objects.get(pk=job_id)


def test_a_killed_worker_is_taken_over_and_no_row_is_imported_twice(committed_db, settings, tmp_path):
    media = media_root_set(settings, tmp_path / "media")
    acme = Tenant.objects.get(slug="acme")
    env = {"MEDIA_ROOT": str(media), "IMPORT_BATCH_ROWS": "100", "IMPORT_STALE_SECONDS": "3"}
    content = "Name,Email\n" + "".join(f"Worker Person {n},worker{n}@example.com\n" for n in range(ROWS))
    with inside(acme):
        alice = User.objects.select_related("role").get(email=ALICE_EMAIL)
        job = import_upload(actor=alice, entity="contact", file=SimpleUploadedFile("big.csv", content.encode()))
    try:
        with celery_worker(tmp_path / "first.log", **env) as first:
            with inside(acme):
                import_start(actor=alice, job=job)  # queued when this commits (autocommit: now)
            assert wait_for(lambda: job_state(acme, job.pk).processed_rows >= 300, timeout=90), (
                tmp_path / "first.log"
            ).read_text()[-3000:]
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=30)
        stopped = job_state(acme, job.pk)
        assert stopped.status == ImportStatus.RUNNING and 0 < stopped.processed_rows < ROWS
        assert stopped.created_count == stopped.processed_rows  # counts and position committed together

        with celery_worker(tmp_path / "second.log", **env):
            # Beat runs the sweep every two minutes; here it is sent once the job has been
            # silent for IMPORT_STALE_SECONDS.
            wait_for(lambda: False, timeout=3.5)
            celery_app.send_task("crm.imports.tasks.imports_recover_dispatch")
            assert wait_for(lambda: job_state(acme, job.pk).status == ImportStatus.DONE, timeout=180), (
                tmp_path / "second.log"
            ).read_text()[-3000:]

        done = job_state(acme, job.pk)
        assert done.created_count == done.processed_rows == done.total_rows == ROWS
        with inside(acme):
            emails = [f"worker{n}@example.com" for n in range(ROWS)]
            assert Contact.objects.filter(emails__overlap=emails).count() == ROWS
            assert ImportedRecord.objects.filter(job_id=job.pk).count() == ROWS
        assert "taken over" in (tmp_path / "second.log").read_text()
    finally:
        with inside(acme):
            ids = list(ImportedRecord.objects.filter(job_id=job.pk).values_list("record_id", flat=True))
            Contact.all_objects.filter(pk__in=ids).delete()
            Contact.all_objects.filter(full_name__startswith="Worker Person ").delete()
            ImportJob.objects.filter(pk=job.pk).delete()


def test_the_worker_runs_an_import_queued_on_commit_to_its_end(committed_db, settings, tmp_path):
    media = media_root_set(settings, tmp_path / "media")
    acme = Tenant.objects.get(slug="acme")
    files = Path(__file__).parent / "files"
    with inside(acme):
        alice = User.objects.select_related("role").get(email=ALICE_EMAIL)
        job = import_upload(
            actor=alice,
            entity="contact",
            file=SimpleUploadedFile("iphone.vcf", (files / "iphone.vcf").read_bytes()),
        )
    try:
        with celery_worker(tmp_path / "worker.log", MEDIA_ROOT=str(media)):
            with inside(acme):
                import_start(actor=alice, job=job)
            assert wait_for(lambda: job_state(acme, job.pk).status == ImportStatus.DONE, timeout=90), (
                tmp_path / "worker.log"
            ).read_text()[-3000:]
        assert job_state(acme, job.pk).created_count == 2
    finally:
        with inside(acme):
            for record in ImportedRecord.objects.filter(job_id=job.pk):
                from crm.imports.entities import MODELS

                MODELS[record.record_type].all_objects.filter(pk=record.record_id).delete()
            ImportJob.objects.filter(pk=job.pk).delete()
