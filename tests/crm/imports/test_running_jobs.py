"""Imports in flight are noted in the public schema, so the recovery sweep visits only the
workspaces that have one (tenants.running_jobs), not every schema."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from crm.imports import runner
from crm.imports.models import ImportJob, ImportStatus
from crm.imports.services import import_cancel, import_start, import_undo
from crm.imports.tasks import imports_recover_dispatch
from tenants.models import RunningJob
from tenants.running_jobs import running_jobs
from tests.crm.imports.conftest import a_file, run, upload

CSV = "First name,Last name,Email\nAnna,Lindqvist,anna@client.example\nBoris,Ivanov,boris@client.example\n"


def _noted(tenant) -> list[int]:
    return list(RunningJob.objects.filter(tenant=tenant, kind="import").values_list("job_id", flat=True))


def test_a_run_notes_its_job_while_it_runs_and_forgets_it_when_done(alice, acme):
    job = upload(alice, "contact", a_file("people.csv", CSV))
    import_start(actor=alice, job=job)

    token = runner.claim(job.pk)
    assert token and _noted(acme) == [job.pk]

    runner._run(ImportJob.objects.get(pk=job.pk), token, alice)
    assert _noted(acme) == []
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.DONE


def test_a_cancelled_run_is_forgotten(alice, acme):
    job = upload(alice, "contact", a_file("people.csv", CSV))
    import_start(actor=alice, job=job)
    runner.claim(job.pk)

    import_cancel(actor=alice, job=job)

    assert _noted(acme) == []


def test_an_undo_is_noted_until_it_has_run(alice, acme):
    job = run(upload(alice, "contact", a_file("people.csv", CSV)), alice)

    import_undo(actor=alice, job=job)
    assert _noted(acme) == [job.pk]

    from crm.imports.services import import_undo_run

    assert import_undo_run(job_id=job.pk) == "undone"
    assert _noted(acme) == []


def test_the_sweep_visits_only_noted_workspaces_and_drops_jobs_that_ended(alice, acme, tenant_b):
    # given a job noted as running whose worker went silent, and a note left by a job
    # that has ended since (say its ending could not write the note away)
    silent = upload(alice, "contact", a_file("people.csv", CSV))
    import_start(actor=alice, job=silent)
    runner.claim(silent.pk)
    ImportJob.objects.filter(pk=silent.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    ended = run(upload(alice, "contact", a_file("more.csv", CSV.replace("anna", "ann"))), alice)
    RunningJob.objects.create(tenant=acme, kind="import", job_id=ended.pk)
    connection.set_schema_to_public()

    # when the sweep runs
    found = imports_recover_dispatch()

    # then it queued a takeover for Acme only, and forgot the ended job
    assert found == 1
    assert running_jobs("import") == {(acme.pk, acme.schema_name): [silent.pk]}
    assert not RunningJob.objects.filter(tenant=tenant_b).exists()
