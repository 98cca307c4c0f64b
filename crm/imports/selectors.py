"""Reads of imports: a job and its report are seen by the person who started it and by
administrators (the settings power); to anyone else they look missing."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from accounts import roles
from accounts.models import User
from accounts.policy import has_capability
from crm.errors import RecordNotFound
from crm.imports.models import ImportedRecord, ImportJob, ImportMappingTemplate, ImportRejectedRow, RecordAction


def import_list(*, actor: User | None, entity: str | None = None, status: str | None = None) -> QuerySet[ImportJob]:
    """The imports the actor may see, newest first."""
    jobs = ImportJob.objects.select_related("created_by")
    if actor is not None:
        if not actor.is_active:
            return jobs.none()
        if not has_capability(actor, roles.SETTINGS):
            jobs = jobs.filter(created_by_id=actor.pk)
    if entity:
        jobs = jobs.filter(entity=entity)
    if status:
        jobs = jobs.filter(status=status)
    return jobs.order_by("-created_at", "-id")


def import_get(*, actor: User | None, job_id: int) -> ImportJob:
    job = import_list(actor=actor).filter(pk=job_id).first()
    if job is None:
        raise RecordNotFound(_("This import does not exist or you cannot see it."))
    return job


def rejected_rows(*, job: ImportJob) -> QuerySet[ImportRejectedRow]:
    """A job's rejected rows in file order (the caller got the job from import_get)."""
    return ImportRejectedRow.objects.filter(job=job).order_by("row_number", "id")


def companies_created(*, job: ImportJob) -> int:
    """Companies a contacts or deals import created for the names its rows gave."""
    if job.entity == "company":
        return 0
    return ImportedRecord.objects.filter(job=job, record_type="company", action=RecordAction.CREATED).count()


def imported_counts(*, job: ImportJob) -> dict[str, int]:
    return ImportedRecord.objects.filter(job=job).aggregate(
        created=Count("id", filter=Q(action=RecordAction.CREATED)),
        updated=Count("id", filter=Q(action=RecordAction.UPDATED)),
    )


def templates_for(*, entity: str | None = None) -> QuerySet[ImportMappingTemplate]:
    """Saved mapping templates (shared by the workspace), by name."""
    templates = ImportMappingTemplate.objects.all()
    if entity:
        templates = templates.filter(entity=entity)
    return templates.order_by("entity", "name", "id")


def template_get(*, template_id: int) -> ImportMappingTemplate:
    template = ImportMappingTemplate.objects.filter(pk=template_id).first()
    if template is None:
        raise RecordNotFound(_("This template does not exist."))
    return template
