"""Imports of a company's history: a file, how its columns map to fields, and what became of each row.

An `ImportJob` keeps the uploaded file (in the tenant's media folder, under a random
name), what was detected in it, the mapping and options a person chose, and the
counts as the job runs. Every row of the file ends in exactly one count: created,
updated, skipped or rejected; a rejected row is kept (`ImportRejectedRow`) with its
original values and the reason, and every record the job created or changed is listed
(`ImportedRecord`, with the values an update replaced) so the import can be undone.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.records import Timestamped


class Entity(models.TextChoices):
    CONTACT = "contact", _("Contacts")
    COMPANY = "company", _("Companies")
    LEAD = "lead", _("Leads")
    DEAL = "deal", _("Deals")
    PRODUCT = "product", _("Products")


class FileFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    XLSX = "xlsx", _("Excel (XLSX)")
    VCARD = "vcard", _("vCard")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Waiting for the mapping")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    UNDOING = "undoing", _("Being undone")
    UNDONE = "undone", _("Undone")


ACTIVE_STATUSES = (ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.UNDOING)
FINISHED_STATUSES = (ImportStatus.DONE, ImportStatus.FAILED, ImportStatus.CANCELLED)


class ImportJob(Timestamped):
    entity = models.CharField(_("record type"), max_length=10, choices=Entity.choices)
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    # Relative to the tenant's media folder (MEDIA_ROOT/<schema>/); random, never the person's name.
    stored_name = models.CharField(max_length=200, editable=False)
    original_name = models.CharField(_("file name"), max_length=255)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    file_format = models.CharField(_("format"), max_length=5, choices=FileFormat.choices)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=1, blank=True)
    headers = models.JSONField(_("columns"), default=list)
    sample_rows = models.JSONField(default=list)
    # Data rows (the header and empty rows are not rows).
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    # [{"column": 0, "header": "E-mail", "target": "emails", "transform": ""}, ...]
    mapping = models.JSONField(_("mapping"), default=list)
    options = models.JSONField(_("options"), default=dict)
    warnings = models.JSONField(default=list)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    skipped_count = models.PositiveIntegerField(_("skipped"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejected"), default=0)
    # Rows done and committed: where a resumed run starts again.
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    error = models.TextField(_("error"), blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("imported by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    undo_deadline = models.DateTimeField(_("can be undone until"), null=True, blank=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    undo_outcome = models.JSONField(default=dict, blank=True)
    # The run that owns the job now, and when it last showed signs of life.
    run_token = models.CharField(max_length=32, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [
            models.Index(fields=["created_by", "-created_at"], name="importjob_creator"),
            # The recovery sweep: the running jobs, by their last sign of life. (No partial
            # index on a status list: pg_dump writes its condition differently from the
            # migration, and the replayed schema must equal the migrated one.)
            models.Index(fields=["status", "heartbeat_at"], name="importjob_active"),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def percent(self) -> int:
        if self.status in (ImportStatus.DONE, ImportStatus.UNDONE):
            return 100
        if not self.total_rows:
            return 0
        return min(100, int(self.processed_rows * 100 / self.total_rows))

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class ImportRejectedRow(models.Model):
    """A row (or a vCard card) that was not imported, and why; its cells as they were in the file."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rejected_rows")
    row_number = models.PositiveIntegerField(_("row"))
    column = models.CharField(_("column"), max_length=255, blank=True)
    reason = models.TextField(_("reason"))
    code = models.CharField(_("code"), max_length=40)
    values = models.JSONField(_("original values"), default=list)

    class Meta:
        ordering = ["job", "row_number", "id"]
        indexes = [models.Index(fields=["job", "row_number", "id"], name="importrejected_job_row")]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.row_number} {self.code}"


class RecordAction(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")


class ImportedRecord(models.Model):
    """A record an import created or changed; for an update, each changed field as
    [value before, value imported] in the field history's JSON form, so undo can put
    back exactly what it replaced (and leave alone what someone changed since)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="records")
    record_type = models.CharField(max_length=20)
    record_id = models.BigIntegerField()
    action = models.CharField(max_length=8, choices=RecordAction.choices)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["job", "id"]
        indexes = [models.Index(fields=["job", "action", "record_type", "id"], name="importedrecord_job")]

    def __str__(self) -> str:
        return f"{self.job_id}: {self.action} {self.record_type}:{self.record_id}"


class ImportMappingTemplate(Timestamped):
    """A saved mapping (by column name) and options, offered when a new file's columns match."""

    name = models.CharField(_("name"), max_length=100)
    entity = models.CharField(_("record type"), max_length=10, choices=Entity.choices)
    # {"E-mail Address": {"target": "emails", "transform": ""}, ...}
    mapping = models.JSONField(_("mapping"), default=dict)
    options = models.JSONField(_("options"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["entity", "name", "id"]
        verbose_name = _("import mapping template")
        verbose_name_plural = _("import mapping templates")
        constraints = [models.UniqueConstraint(fields=["entity", "name"], name="importtemplate_name_unique")]

    def __str__(self) -> str:
        return self.name
