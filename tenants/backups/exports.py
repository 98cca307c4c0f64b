"""Data portability (152-FZ / GDPR): the whole workspace as CSV per entity plus JSON, zipped,
and one contact's data on request.

The full export walks the tenant apps' models through Django's app registry (tenants may
not import the CRM's models) and reads every row with the base manager, trashed records
included: it is the company's data. Secrets never leave: password hashes, token hashes,
session keys. A contact's export goes through the CRM's selectors, so the policy layer
decides what the person asking may see.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from accounts import roles
from accounts.models import User
from accounts.policy import require_capability
from crm.activities.selectors import timeline
from crm.clients.selectors import contact_get
from crm.deals.selectors import deal_list
from crm.history.selectors import HISTORY_MAX_PAGE, record_history
from tenants import schema_template
from tenants.backups import archive
from tenants.backups.models import Job, JobKind, JobStatus
from tenants.selectors import tenant_current

logger = logging.getLogger(__name__)

# Framework bookkeeping, not the company's data.
SKIPPED_APPS = {"contenttypes", "auth", "sessions", "api"}
# Mail (crm.mail): sealed mailbox passwords and the inbound addresses' tokens, which
# would let anyone post mail into the workspace.
SECRET_FIELDS = {
    "password",
    "token_hash",
    "lease_key",
    "session_key",
    "session_data",
    "smtp_password_sealed",
    "imap_password_sealed",
    "token",
    "tracking_token",
}
BATCH = 5000


def export_models() -> list[type[Model]]:
    labels = sorted(schema_template.tenant_app_labels() - SKIPPED_APPS)
    found: list[type[Model]] = []
    for label in labels:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            if model._meta.managed and not model._meta.proxy:
                found.append(model)
    return found


def _columns(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields if field.attname not in SECRET_FIELDS]


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, memoryview | bytes):
        return bytes(value).hex()
    return value


def _rows(model: type[Model], columns: list[str]) -> Iterator[tuple]:
    yield from model._base_manager.order_by("pk").values_list(*columns).iterator(chunk_size=BATCH)


@transaction.atomic
def export_request(*, actor: User | None) -> Job:
    """Queue a full export of the current workspace for the worker (admins only)."""
    require_capability(actor, roles.BACKUPS)
    tenant = tenant_current()
    job = Job.objects.create(
        tenant=tenant,
        kind=JobKind.EXPORT,
        requested_by_id=actor.pk if actor else None,
        requested_by_email=actor.email if actor else "",
    )

    def queue() -> None:
        from tenants.backups.tasks import export_run_task

        export_run_task.apply_async(kwargs={"job_id": job.pk})

    transaction.on_commit(queue, robust=True)
    return job


def export_run(*, job_id: int) -> Job:
    """Write the zip (one CSV per model, `data.json` with everything) and store it.

    Runs inside the tenant's schema (the task carries it); refuses a job of another tenant.
    """
    from tenants.backups.services import _notify, _progress_reporter, _stamp, _work_folder

    tenant = tenant_current()
    job = Job.objects.filter(pk=job_id, kind=JobKind.EXPORT, tenant=tenant).first()
    if job is None or job.status != JobStatus.QUEUED:
        return job
    _stamp(Job, job.pk, status=JobStatus.RUNNING, started_at=timezone.now(), stage="exporting", percent=0)
    work = _work_folder(f"export-{job.pk}-")
    try:
        target = work / "export.zip"
        _write_zip(target, progress=_progress_reporter(Job, job.pk, "exporting", 0, 95))
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        stored = archive.store(source=target, name=f"{connection.schema_name}/exports/{stamp}-export-{job.pk}.zip")
        _stamp(
            Job,
            job.pk,
            status=JobStatus.DONE,
            stage="done",
            percent=100,
            output_name=stored,
            output_bytes=target.stat().st_size,
            finished_at=timezone.now(),
        )
    except Exception as error:
        logger.exception("export failed", extra={"job": job.pk})
        _stamp(Job, job.pk, status=JobStatus.FAILED, error=f"{type(error).__name__}: {error}"[:2000])
    finally:
        archive.remove_tree(work)
    job.refresh_from_db()
    if job.requested_by_email:
        _notify(tenant=tenant, recipient=job.requested_by_email, subject_kind=JobKind.EXPORT, ok=job.status == "done")
    return job


def _write_zip(target: Path, *, progress) -> None:
    models = export_models()
    estimates = {model: max(model._base_manager.count(), 1) for model in models}
    total = sum(estimates.values())
    done = 0
    json_path = target.with_suffix(".json")
    with (
        zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1, allowZip64=True) as bundle,
        open(json_path, "w", encoding="utf-8") as document,
    ):
        opening = json.dumps({"exported_at": timezone.now().isoformat(), "schema": connection.schema_name})
        document.write(opening[:-1] + ', "entities": {')
        for index, model in enumerate(models):
            name = model._meta.label_lower
            columns = _columns(model)
            document.write(("," if index else "") + f"\n{json.dumps(name)}: [")
            with bundle.open(f"csv/{name}.csv", "w", force_zip64=True) as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                writer = csv.writer(text)
                writer.writerow(columns)
                first = True
                for row in _rows(model, columns):
                    values = [_plain(value) for value in row]
                    writer.writerow(["" if value is None else _csv_value(value) for value in values])
                    document.write(("" if first else ",") + json.dumps(dict(zip(columns, values, strict=True))))
                    first = False
                text.flush()
                text.detach()
            document.write("]")
            done += estimates[model]
            progress(done / total)
        document.write("\n}}\n")
    with zipfile.ZipFile(target, "a", compression=zipfile.ZIP_DEFLATED, compresslevel=1, allowZip64=True) as bundle:
        bundle.write(json_path, "data.json")
    json_path.unlink()


def _csv_value(value):
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _record(instance: Model) -> dict:
    return {column: _plain(getattr(instance, column)) for column in _columns(type(instance))}


def contact_export(*, actor: User | None, contact_id: int) -> dict:
    """One person's data: the contact card, their timeline, their deals and the history
    of their fields, as the actor may see them (RecordNotFound otherwise). For
    subject-access requests."""
    require_capability(actor, roles.BACKUPS)
    contact = contact_get(actor=actor, contact_id=contact_id)
    activities = []
    before = None
    while True:
        page = timeline(actor=actor, contact=contact, limit=200, before=before)
        activities.extend(_record(activity) for activity in page.activities)
        if page.next_before is None:
            break
        before = page.next_before
    deals = [_record(deal) for deal in deal_list(actor=actor).filter(contact_id=contact.pk)]
    return {
        "exported_at": timezone.now().isoformat(),
        "contact": _record(contact),
        "tags": [tag.name for tag in contact.tags.all()],
        "activities": activities,
        "deals": deals,
        "history": _contact_history(actor=actor, contact=contact),
    }


def _contact_history(*, actor: User | None, contact) -> list[dict]:
    """Every change to the contact's fields, newest first: the stored values and how they
    read (in the language of the person exporting)."""
    changes = []
    before = None
    while True:
        page = record_history(actor=actor, record=contact, limit=HISTORY_MAX_PAGE, before=before)
        changes.extend(
            {
                "field": entry.field,
                "field_label": entry.field_label,
                "old_value": entry.old_value,
                "new_value": entry.new_value,
                "old_display": entry.old_display,
                "new_display": entry.new_display,
                "changed_by": entry.actor_name,
                "changed_by_email": entry.actor.email if entry.actor is not None else "",
                "channel": entry.channel,
                "batch": entry.batch,
                "changed_at": entry.created_at.isoformat(),
            }
            for entry in page.entries
        )
        if page.next_before is None:
            return changes
        before = page.next_before
