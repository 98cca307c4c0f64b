"""Undoing an import within 7 days: what it created goes to the trash, what it changed is
put back unless someone changed it since; audited; refused after the deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEntry
from crm.clients.models import Company, Contact
from crm.clients.services import contact_create, contact_update
from crm.errors import DomainError, RecordNotFound
from crm.imports.models import ImportJob, ImportStatus
from crm.imports.services import import_undo, import_undo_run, undo_available
from tests.crm.imports.conftest import fixture_file, run, upload


def test_undo_trashes_what_was_created_and_puts_back_what_was_changed(alice):
    laura = contact_create(
        actor=alice, first_name="Laura", last_name="Bennett", emails=["laura.bennett@northwind.example"]
    )
    job = run(upload(alice, "contact", fixture_file("google_contacts_old.csv")), alice, options={"mode": "update"})
    tomas = Contact.objects.get(last_name="Ortega")
    assert undo_available(job)

    import_undo(actor=alice, job=job)
    import_undo_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportStatus.UNDONE
    assert not Contact.objects.filter(pk=tomas.pk).exists()
    assert Contact.all_objects.get(pk=tomas.pk).deleted_by == alice
    assert not Company.objects.filter(name__in=["Northwind Traders", "Ortega y Hijos"]).exists()
    laura.refresh_from_db()
    assert laura.emails == ["laura.bennett@northwind.example"]
    assert (laura.job_title, laura.phones, laura.company_id) == ("", [], None)
    assert list(laura.tags.all()) == []
    assert job.undo_outcome["trashed"] == 3 and job.undo_outcome["kept_count"] == 0
    entry = AuditEntry.objects.get(action="import.undo", target_id=job.pk)
    assert entry.actor == alice and entry.changes["trashed"] == 3


def test_a_field_changed_after_the_import_is_left_alone_and_listed(alice):
    laura = contact_create(
        actor=alice, first_name="Laura", last_name="Bennett", emails=["laura.bennett@northwind.example"]
    )
    job = run(upload(alice, "contact", fixture_file("google_contacts_old.csv")), alice, options={"mode": "update"})
    contact_update(actor=alice, contact=Contact.objects.get(pk=laura.pk), job_title="Chief buyer")

    import_undo(actor=alice, job=job)
    import_undo_run(job_id=job.pk)

    laura.refresh_from_db()
    assert laura.job_title == "Chief buyer"
    assert laura.phones == []
    job.refresh_from_db()
    assert {"record_type": "contact", "id": laura.pk, "field": "job_title"} in job.undo_outcome["kept_fields"]


def test_after_seven_days_an_import_can_no_longer_be_undone(alice):
    job = run(upload(alice, "contact", fixture_file("iphone.vcf")), alice)
    ImportJob.objects.filter(pk=job.pk).update(undo_deadline=timezone.now() - timedelta(seconds=1))
    job.refresh_from_db()

    with pytest.raises(DomainError) as refused:
        import_undo(actor=alice, job=job)

    assert refused.value.code == "undo_expired"
    assert Contact.objects.filter(last_name="Appleseed").exists()


def test_only_the_importer_or_an_administrator_may_undo(alice, rex):
    job = run(upload(rex, "contact", fixture_file("iphone.vcf")), rex)
    other = run(upload(alice, "contact", fixture_file("android_21.vcf")), alice)

    with pytest.raises(RecordNotFound):
        import_undo(actor=rex, job=other)
    import_undo(actor=alice, job=job)

    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.UNDOING


def test_a_second_undo_run_leaves_the_job_to_the_run_that_claimed_it(alice):
    from crm.imports.models import ImportJob as Job

    job = run(upload(alice, "contact", fixture_file("iphone.vcf")), alice)
    import_undo(actor=alice, job=job)
    Job.objects.filter(pk=job.pk).update(run_token="another-run", heartbeat_at=timezone.now())

    assert import_undo_run(job_id=job.pk) == "not claimed"
    assert Contact.objects.filter(last_name="Appleseed").exists()
