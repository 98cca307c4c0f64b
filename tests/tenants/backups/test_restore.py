"""Backup → change → restore, on committed data in workspaces of the tests' own.

The restore steps run for real: pg_dump of the schema, the data copied out of one
snapshot, pg_restore's DDL replayed into a scratch schema, the swap by schema rename.
Tests that depend on the worker (a restore queued from a request, a worker killed
mid-way) use the real Celery worker process of conftest.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEntry, SeatLease, User
from crm.activities.services import activity_log
from crm.clients.selectors import company_list, contact_list
from crm.clients.services import company_create, contact_create, contact_update
from crm.deals.selectors import pipeline_default
from crm.deals.services import deal_create
from crm.demo.services import demo_bulk_load
from tenants.backups import archive, schema_dump, services
from tenants.backups.models import Backup, BackupKind, BackupStatus, Job, JobStatus, Maintenance, RetiredSchema
from tests.conftest import PASSWORD, inside
from tests.tenants.backups.conftest import CHANGED_BY_RESTORE, discard, scratch_signup, table_contents, wait_for

pytestmark = pytest.mark.slow


def admin_of(tenant) -> User:
    with inside(tenant):
        return User.objects.select_related("role").get(email__startswith="sam@")


def fill(tenant, *, name: str = "Initech") -> None:
    """A company, a contact in it, a deal and a call: rows in several related tables."""
    with inside(tenant):
        admin = User.objects.select_related("role").get(email__startswith="sam@")
        company = company_create(actor=admin, name=name)
        contact = contact_create(actor=admin, first_name="Peter", last_name="Gibbons", company=company)
        contact_update(actor=admin, contact=contact, job_title="Engineer")  # a field history row
        deal_create(
            actor=admin, title=f"{name} deal", pipeline=pipeline_default(), contact=contact, amount=Decimal("1200")
        )
        activity_log(actor=admin, kind="call", contact=contact, subject="First call")


def signed_in(tenant) -> Client:
    client = Client(HTTP_HOST=f"{tenant.slug}.localhost:8000")
    response = client.post("/login/", {"username": f"sam@{tenant.slug}.example", "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def test_restore_brings_back_every_row_while_another_workspace_keeps_its_writes(scratch, worker):
    # given a workspace with data, backed up by the worker, and someone signed in
    fill(scratch)
    admin = admin_of(scratch)
    backup = services.backup_request(actor=admin, tenant=scratch)
    assert wait_for(lambda: Backup.objects.get(pk=backup.pk).status == BackupStatus.READY), worker.text()
    backed_up = table_contents(scratch.schema_name, skip=CHANGED_BY_RESTORE)
    browser = signed_in(scratch)
    # ... then data changed, added and deleted after the backup
    with inside(scratch):
        actor = User.objects.select_related("role").get(pk=admin.pk)
        contact = contact_list(actor=actor).first()
        contact_update(actor=actor, contact=contact, first_name="Changed")
        contact_create(actor=actor, first_name="Added", last_name="Later")
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM activities_activity")
    assert table_contents(scratch.schema_name, skip=CHANGED_BY_RESTORE) != backed_up
    history_backed_up = backed_up["history_fieldchange"]
    assert [row for row in history_backed_up if "job_title" in row and "Engineer" in row]
    other = scratch_signup("bk-other")
    try:
        written: list[str] = []

        # when the restore runs while another workspace is being written to
        job = services.restore_request(actor=admin, backup=Backup.objects.get(pk=backup.pk))
        while Job.objects.get(pk=job.pk).status in (JobStatus.QUEUED, JobStatus.RUNNING):
            fill(other, name=f"Other {len(written)}")
            written.append(f"Other {len(written)}")
        job = Job.objects.get(pk=job.pk)

        # then the workspace holds exactly the backed-up rows again, field history included
        # (the change made after the backup is gone from it)
        assert job.status == JobStatus.DONE, (job.error, worker.text())
        restored = table_contents(scratch.schema_name, skip=CHANGED_BY_RESTORE)
        assert restored == backed_up
        assert restored["history_fieldchange"] == history_backed_up
        # ... everyone signs in again, the restore is in the audit log
        with inside(scratch):
            assert not Session.objects.exists()
            assert not SeatLease.objects.filter(released_at__isnull=True).exists()
            assert AuditEntry.objects.filter(action="backup.restored").exists()
        assert browser.get("/").status_code == 302
        # ... a safety backup of the replaced data was taken, the old schema is kept for a while
        assert Backup.objects.get(pk=job.safety_backup_id).status == BackupStatus.READY
        assert RetiredSchema.objects.filter(job=job, schema_name=f"{scratch.schema_name}_old{job.pk}").exists()
        assert not Maintenance.objects.filter(tenant=scratch).exists()
        # ... the other workspace kept every write made during the restore
        assert written
        other_admin = admin_of(other)
        with inside(other):
            names = set(company_list(actor=other_admin).values_list("name", flat=True))
        assert set(written) <= names
        # ... and the person who asked was told by email
        assert wait_for(lambda: "was restored from a backup" in worker.emails(), 10)
    finally:
        discard(other)


def test_a_flipped_byte_is_refused_before_anything_changes(scratch):
    # given a stored backup with one byte flipped in the middle
    fill(scratch)
    backup = services.backup_take(tenant=scratch, kind=BackupKind.MANUAL)
    assert backup.status == BackupStatus.READY, backup.error
    path = archive.backup_storage().path(backup.storage_name)
    with open(path, "r+b") as handle:
        handle.seek(backup.size_bytes // 2)
        byte = handle.read(1)
        handle.seek(backup.size_bytes // 2)
        handle.write(bytes([byte[0] ^ 0x01]))
    job = services.restore_request(actor=admin_of(scratch), backup=backup, queue=False)
    before = table_contents(scratch.schema_name)

    # when its restore runs
    job = services.restore_run(job_id=job.pk)

    # then it is refused at the first step, saying why, and nothing changed
    assert job.status == JobStatus.FAILED
    assert job.error_code == "backup_corrupt"
    assert "checksum" in job.error
    assert job.safety_backup_id is None
    assert not Backup.objects.filter(tenant=scratch, kind=BackupKind.SAFETY).exists()
    assert table_contents(scratch.schema_name) == before
    assert not Maintenance.objects.filter(tenant=scratch).exists()
    assert not schema_dump.schema_exists(f"{scratch.schema_name}_r{job.pk}")


def test_a_backup_from_older_migrations_is_restored_and_migrated_forward(scratch):
    # given a backup taken while the workspace was one migration behind
    fill(scratch)
    call_command("migrate_schemas", "notifications", "0001", schema_name=scratch.schema_name, verbosity=0)
    connection.set_schema_to_public()
    backup = services.backup_take(tenant=scratch, kind=BackupKind.MANUAL)
    assert ["notifications", "0002_inbox_all_index"] not in backup.manifest["migrations"]["applied"]
    call_command("migrate_schemas", schema_name=scratch.schema_name, verbosity=0)
    connection.set_schema_to_public()
    backed_up = table_contents(scratch.schema_name, skip=CHANGED_BY_RESTORE | {"django_migrations"})

    # when it is restored
    # (run here, not queued: the package's worker would take the job too)
    job = services.restore_run(job_id=services.restore_request(actor=admin_of(scratch), backup=backup, queue=False).pk)

    # then the data is back and the schema is at the code's migrations again
    assert job.status == JobStatus.DONE, job.error
    assert table_contents(scratch.schema_name, skip=CHANGED_BY_RESTORE | {"django_migrations"}) == backed_up
    with schema_dump.connect() as conn:
        applied = conn.execute(
            f'SELECT 1 FROM "{scratch.schema_name}".django_migrations '
            "WHERE app = 'notifications' AND name = '0002_inbox_all_index'"
        ).fetchone()
        index = conn.execute(
            "SELECT 1 FROM pg_indexes WHERE schemaname = %s AND indexname = 'notification_inbox_all'",
            [scratch.schema_name],
        ).fetchone()
    assert applied is not None
    assert index is not None


def test_a_backup_taken_during_writes_is_consistent(scratch):
    # given writers adding a company, its contact and their deal in one transaction each
    fill(scratch)
    stop = threading.Event()
    admin = admin_of(scratch)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with inside(scratch):
                actor = User.objects.select_related("role").get(pk=admin.pk)
                number = 0
                while not stop.is_set():
                    with transaction.atomic():
                        company = company_create(actor=actor, name=f"Busy {number}")
                        contact = contact_create(actor=actor, first_name="Busy", last_name=str(number), company=company)
                        deal_create(actor=actor, title=f"Deal {number}", pipeline=pipeline_default(), contact=contact)
                    number += 1
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert wait_for(lambda: table_rows(scratch, "clients_company") > 5, 20)
        # when a backup is taken while they write
        backup = services.backup_take(tenant=scratch, kind=BackupKind.MANUAL)
    finally:
        stop.set()
        writer.join()
    assert not errors, errors

    # then it holds whole transactions only, and loads with every foreign key checked
    assert backup.status == BackupStatus.READY, backup.error
    rows = {table["name"]: table["rows"] for table in backup.manifest["tables"]}
    assert rows["clients_company"] == rows["clients_contact"] == rows["deals_deal"] > 5
    manifest = services.backup_verify(backup=backup, deep=True)
    assert manifest["totals"]["rows"] == sum(rows.values())


def table_rows(tenant, table: str) -> int:
    with schema_dump.connect() as conn:
        return conn.execute(f'SELECT count(*) FROM "{tenant.schema_name}"."{table}"').fetchone()[0]


def test_a_restore_killed_mid_way_leaves_the_live_schema_intact(scratch, worker):
    # given a workspace large enough for the load to take a moment, and its backup
    with inside(scratch):
        demo_bulk_load(contacts=10_000, leads=0, deals=1_000, activities=10_000, seed=3)
    backup = services.backup_take(tenant=scratch, kind=BackupKind.MANUAL)
    assert backup.status == BackupStatus.READY, backup.error
    with inside(scratch), connection.cursor() as cursor:
        cursor.execute("DELETE FROM activities_activity WHERE id % 2 = 0")
    live = table_contents(scratch.schema_name, skip=CHANGED_BY_RESTORE)

    # when the worker is killed while it loads the backup
    job = services.restore_request(actor=admin_of(scratch), backup=backup)
    try:
        assert wait_for(lambda: Job.objects.get(pk=job.pk).stage == "restoring", 60, every=0.02), worker.text()
        worker.kill()

        # then the half-loaded schema never appears (one transaction, rolled back by the server)
        assert Job.objects.get(pk=job.pk).stage == "restoring"
        assert wait_for(lambda: not schema_dump.schema_exists(f"{scratch.schema_name}_r{job.pk}"), 15)
        # ... the live schema is untouched (the site is in maintenance meanwhile)
        assert Client(HTTP_HOST=f"{scratch.slug}.localhost:8000").get("/login/").status_code == 503
        assert table_contents(scratch.schema_name, skip=CHANGED_BY_RESTORE) == live

        # ... and after recovery the half-made schema is gone and the workspace works again
        assert services.jobs_recover_stale(stale_after=timedelta(seconds=0)) >= 1
        job = Job.objects.get(pk=job.pk)
        assert job.status == JobStatus.FAILED
        assert job.error_code == "interrupted"
        assert not schema_dump.schema_exists(f"{scratch.schema_name}_r{job.pk}")
        assert not Maintenance.objects.filter(tenant=scratch).exists()
        assert table_contents(scratch.schema_name, skip=CHANGED_BY_RESTORE) == live
        browser = signed_in(scratch)
        assert browser.get("/").status_code == 200
    finally:
        if worker.process is None:
            worker.start()


def test_a_second_delivery_leaves_a_running_restore_alone_until_its_heartbeat_stops(scratch):
    # given a restore some worker is running (its scratch schema made, its heart beating)
    backup = services.backup_take(tenant=scratch, kind=BackupKind.MANUAL)
    job = services.restore_request(actor=admin_of(scratch), backup=backup, queue=False)
    work_schema = f"{scratch.schema_name}_r{job.pk}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{work_schema}"')
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, heartbeat_at=timezone.now(), work_schema=work_schema)

    # when the same message arrives again, the job and its work are left alone
    again = services.restore_run(job_id=job.pk)
    assert again.status == JobStatus.RUNNING
    assert schema_dump.schema_exists(work_schema)

    # when it arrives after the worker's heart stopped, the job is abandoned and cleaned up
    stale = timezone.now() - timedelta(seconds=settings.BACKUP_STALE_SECONDS + 1)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=stale)
    abandoned = services.restore_run(job_id=job.pk)
    assert abandoned.status == JobStatus.FAILED
    assert abandoned.error_code == "interrupted"
    assert not schema_dump.schema_exists(work_schema)
