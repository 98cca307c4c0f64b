"""Writes of imports: upload a file, choose the mapping and options, start, cancel, undo;
saved mapping templates.

Who may do what: importing records of a type needs the role's `create` on it (and
`edit` for the update mode; records the person may not edit are skipped, with a
reason, when the job runs). A job is seen and changed by the person who started it
and by administrators (the settings power); to everyone else it does not exist.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import roles
from accounts.audit import audit_record
from accounts.models import User
from accounts.policy import has_capability, scope_for
from config.request_context import change_source_bound
from config.task_queue import task_after_commit
from crm import access
from crm.access import Action
from crm.attachments.services import filename_clean
from crm.bulk_writes import records_bulk_save_with_history, tag_names_clean, tags_resolve
from crm.clients.models import Contact
from crm.custom_fields.selectors import custom_fields_for
from crm.errors import AccessDenied, Conflict, DomainError
from crm.history.services import CUSTOM_PREFIX, json_value
from crm.imports import entities, readers, runner
from crm.imports.mapping import CUSTOM_ENTITIES, guess, mapping_clean, mapping_from_template, template_fits
from crm.imports.models import (
    Entity,
    ImportedRecord,
    ImportJob,
    ImportMappingTemplate,
    ImportStatus,
    RecordAction,
)
from crm.imports.selectors import templates_for
from crm.limits import PlanLimitReached, plan_limit
from crm.text_values import DATE_ORDERS
from crm.validation import FieldErrors
from tenants.running_jobs import running_job_forget, running_job_note

logger = logging.getLogger(__name__)

RUN_TASK = "crm.imports.tasks.import_run_task"
UNDO_TASK = "crm.imports.tasks.import_undo_task"
UNDO_BATCH = 1000


def _custom_fields(entity: str) -> list:
    return custom_fields_for(entity) if entity in CUSTOM_ENTITIES else []


def require_import_right(*, actor: User | None, entity: str, action: str = Action.CREATE) -> None:
    """AccessDenied unless the role may `action` records of `entity` (create to import)."""
    if entity not in Entity.values:
        raise ValidationError({"entity": [ValidationError(_("Choose what the file holds."), code="invalid_choice")]})
    access.require(actor=actor, action=Action(action), model=entities.MODELS[entity])


def may_manage(actor: User | None, job: ImportJob) -> bool:
    return actor is None or job.created_by_id == actor.pk or has_capability(actor, roles.SETTINGS)


def _new_stored_name() -> str:
    return f"imports/{secrets.token_hex(1)}/{secrets.token_urlsafe(24)}"


def _field_error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code)]})


def _options_default(entity: str) -> dict[str, Any]:
    return {
        "mode": "skip",
        "match": list(entities.DEFAULT_MATCH[entity]),
        "date_order": "auto",
        "phone_region": "",
        "default_owner": None,
        "pipeline": None,
        "create_companies": True,
        "only_rows_that_fit": False,
    }


def import_upload(
    *, actor: User | None, entity: str, file: File, name: str = "", encoding: str = "", delimiter: str = ""
) -> ImportJob:
    """Store an uploaded file for import and read what it holds (one streaming pass).

    Refuses (ValidationError on `file`, nothing stored) an empty or too large file, a
    binary or unknown one, a CSV bomb (over-long lines or cells, too many columns or
    rows), a zip bomb posing as XLSX, a file in the wrong encoding (the message names
    the encoding tried); on `encoding`/`delimiter` a choice that is not listed.
    The job starts `uploaded` with a guessed mapping (or a saved template whose
    columns are all in the file) and default options.
    """
    require_import_right(actor=actor, entity=entity)
    size = getattr(file, "size", None) or 0
    if size > settings.IMPORT_MAX_BYTES:
        raise _file_too_large()
    if encoding and encoding not in readers.ENCODINGS:
        raise _field_error("encoding", _("Choose one of the listed encodings."), "invalid_choice")
    if delimiter and delimiter not in readers.DELIMITERS:
        raise _field_error("delimiter", _("Choose one of the listed delimiters."), "invalid_choice")
    original_name = filename_clean(name or getattr(file, "name", "") or "")
    try:
        file.seek(0)
        detected = readers.detect(file, name=original_name, encoding=encoding, delimiter=delimiter)
    except readers.ImportFileError as error:
        raise _field_error("file", error.message, error.code) from error
    custom_fields = _custom_fields(entity)
    mapping = guess(entity, detected.headers, custom_fields)
    options = _options_default(entity)
    template_name = ""
    for template in templates_for(entity=entity):
        if template_fits(detected.headers, template.mapping):
            mapping = mapping_from_template(detected.headers, template.mapping)
            options.update({key: value for key, value in (template.options or {}).items() if key in options})
            template_name = template.name
            break
    file.seek(0)
    stored_name = default_storage.save(_new_stored_name(), file)
    try:
        job = ImportJob.objects.create(
            entity=entity,
            stored_name=stored_name,
            original_name=original_name,
            size_bytes=size or default_storage.size(stored_name),
            file_format=detected.file_format,
            encoding=detected.encoding,
            delimiter=detected.delimiter,
            headers=detected.headers,
            sample_rows=detected.sample_rows,
            total_rows=detected.total_rows,
            mapping=mapping,
            options={**options, "template": template_name},
            warnings=detected.warnings,
            created_by=actor,
        )
    except BaseException:
        default_storage.delete(stored_name)
        raise
    logger.info("import uploaded", extra={"job": job.pk, "rows": job.total_rows, "format": job.file_format})
    return job


def _file_too_large() -> ValidationError:
    return _field_error(
        "file",
        _("This file is too large: files of up to %(size)d MB can be imported. Split it into smaller files.")
        % {"size": settings.IMPORT_MAX_BYTES // (1024 * 1024)},
        "file_too_large",
    )


def _require_manage(actor: User | None, job: ImportJob) -> None:
    if not may_manage(actor, job):
        from crm.errors import RecordNotFound

        raise RecordNotFound(_("This import does not exist or you cannot see it."))


def options_clean(entity: str, raw: Any, *, current: Mapping[str, Any]) -> dict[str, Any]:
    """The job's options with `raw` applied, checked; ValidationError on `options.<name>`."""
    from crm.deals.models import Pipeline

    errors = FieldErrors()
    result = dict(current)
    if not isinstance(raw, Mapping):
        errors.add("options", _("Send the options as an object."), "invalid")
        errors.raise_if_any()
    for key, value in raw.items():
        path = f"options.{key}"[:80]
        if key == "mode":
            if value not in ("skip", "update", "create"):
                errors.add(path, _("Choose skip, update or create."), "invalid_choice")
        elif key == "match":
            allowed = entities.MATCH_KEYS[entity]
            if not isinstance(value, list) or any(item not in allowed for item in value):
                listed = ", ".join(allowed) or _("none")
                errors.add(path, _("Match by any of: %(keys)s.") % {"keys": listed}, "invalid_choice")
            else:
                value = list(dict.fromkeys(value))
        elif key == "date_order":
            if value not in DATE_ORDERS:
                errors.add(path, _("Choose auto, dmy, mdy or ymd."), "invalid_choice")
        elif key == "phone_region":
            if value and not (isinstance(value, str) and len(value) == 2 and value.isascii() and value.isalpha()):
                errors.add(path, _("Use a two-letter country code such as RU, ES or AE."), "invalid_country")
            value = (value or "").upper()
        elif key == "default_owner":
            if value not in (None, "") and not (
                isinstance(value, int)
                and not isinstance(value, bool)
                and User.objects.filter(pk=value, is_active=True, is_integration=False).exists()
            ):
                errors.add(path, _("Choose an active person."), "invalid_choice")
            value = value or None
        elif key == "pipeline":
            if value not in (None, "") and not (
                isinstance(value, int) and not isinstance(value, bool) and Pipeline.objects.filter(pk=value).exists()
            ):
                errors.add(path, _("Choose one of the pipelines."), "invalid_choice")
            value = value or None
        elif key in ("create_companies", "only_rows_that_fit"):
            if not isinstance(value, bool):
                errors.add(path, _("Answer true or false."), "invalid")
        else:
            errors.add(path, _("There is no option “%(key)s”.") % {"key": str(key)[:40]}, "unknown_option")
        result[key] = value
    errors.raise_if_any()
    return result


@transaction.atomic
def import_configure(
    *,
    actor: User | None,
    job: ImportJob,
    mapping: Any = None,
    options: Any = None,
    encoding: str = "",
    delimiter: str = "",
) -> ImportJob:
    """Change the mapping and options of a job that has not started (Conflict
    `already_started` otherwise). A new `encoding` or `delimiter` reads the file again
    (headers, sample and row count). Mapping problems are field errors on `mapping`."""
    _require_manage(actor, job)
    locked = ImportJob.objects.select_for_update().get(pk=job.pk)
    if locked.status != ImportStatus.UPLOADED:
        raise Conflict(_("This import has started; its mapping can no longer change."), code="already_started")
    if (encoding and encoding != locked.encoding) or (delimiter and delimiter != locked.delimiter):
        if encoding and encoding not in readers.ENCODINGS:
            raise _field_error("encoding", _("Choose one of the listed encodings."), "invalid_choice")
        if delimiter and delimiter not in readers.DELIMITERS:
            raise _field_error("delimiter", _("Choose one of the listed delimiters."), "invalid_choice")
        with default_storage.open(locked.stored_name, "rb") as stored:
            try:
                detected = readers.detect(
                    stored,
                    name=locked.original_name,
                    encoding=encoding or locked.encoding,
                    delimiter=delimiter or locked.delimiter,
                )
            except readers.ImportFileError as error:
                raise _field_error("encoding" if encoding else "delimiter", error.message, error.code) from error
        headers_changed = detected.headers != locked.headers
        locked.encoding, locked.delimiter = detected.encoding, detected.delimiter
        locked.headers, locked.sample_rows = detected.headers, detected.sample_rows
        locked.total_rows, locked.warnings = detected.total_rows, detected.warnings
        if headers_changed and mapping is None:
            locked.mapping = guess(locked.entity, locked.headers, _custom_fields(locked.entity))
    if mapping is not None:
        locked.mapping = mapping_clean(locked.entity, locked.headers, mapping, _custom_fields(locked.entity))
    if options is not None:
        locked.options = options_clean(locked.entity, options, current=locked.options)
    locked.save()
    return locked


def _rows_that_fit(job: ImportJob) -> int | None:
    if job.entity != "contact":
        return None
    limit = plan_limit("contacts")
    if limit is None:
        return None
    return max(0, limit - Contact.objects.count())


@transaction.atomic
def import_start(*, actor: User | None, job: ImportJob) -> ImportJob:
    """Queue the import (202 in the API): the mapping must be complete (field errors on
    `mapping`), the update mode needs the role's `edit`, and a contacts file larger
    than what the plan has room for is refused with PlanLimitReached naming how many
    rows fit, unless the option `only_rows_that_fit` says to import those (the rest are
    rejected with `plan_limit_reached`). The job is run by a worker once this commits."""
    _require_manage(actor, job)
    locked = ImportJob.objects.select_for_update().get(pk=job.pk)
    if locked.status != ImportStatus.UPLOADED:
        raise Conflict(_("This import has already started."), code="already_started")
    require_import_right(actor=actor, entity=locked.entity)
    record_type = entities.MODELS[locked.entity]._meta.model_name
    if (
        locked.options.get("mode") == "update"
        and actor is not None
        and scope_for(actor, record_type, "edit") == roles.NONE
    ):
        raise AccessDenied(_("Your role may not edit these records: choose skip or create for duplicates."))
    locked.mapping = mapping_clean(locked.entity, locked.headers, locked.mapping, _custom_fields(locked.entity))
    room = _rows_that_fit(locked)
    if room is not None and locked.total_rows > room and not locked.options.get("only_rows_that_fit"):
        error = PlanLimitReached(
            _(
                "Your plan allows %(limit)d contacts; %(room)d more fit and this file has %(rows)d rows. "
                "Upgrade the plan on the Billing page, or import only the rows that fit."
            )
            % {"limit": plan_limit("contacts") or 0, "room": room, "rows": locked.total_rows}
        )
        error.rows_that_fit = room
        raise error
    locked.status = ImportStatus.QUEUED
    locked.save(update_fields=["status", "mapping", "updated_at"])
    task_after_commit(RUN_TASK, job_id=locked.pk)
    return locked


@transaction.atomic
def import_cancel(*, actor: User | None, job: ImportJob) -> ImportJob:
    """Stop a queued or running import after its current batch; what was imported
    stays (and can be undone). Conflict `not_running` for a job that is not running."""
    _require_manage(actor, job)
    locked = ImportJob.objects.select_for_update().get(pk=job.pk)
    if locked.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        raise Conflict(_("Only a queued or running import can be cancelled."), code="not_running")
    now = timezone.now()
    locked.status = ImportStatus.CANCELLED
    locked.finished_at = now
    locked.undo_deadline = now + timedelta(days=settings.IMPORT_UNDO_DAYS)
    locked.run_token = ""
    locked.save(update_fields=["status", "finished_at", "undo_deadline", "run_token", "updated_at"])
    running_job_forget(kind=runner.RUNNING_KIND, job_id=locked.pk)
    return locked


@transaction.atomic
def import_discard(*, actor: User | None, job: ImportJob) -> None:
    """Delete an import that never started, and its file (Conflict `already_started`
    otherwise: a started import keeps its report and its undo)."""
    _require_manage(actor, job)
    locked = ImportJob.objects.select_for_update().get(pk=job.pk)
    if locked.status != ImportStatus.UPLOADED:
        raise Conflict(_("This import has started: its report is kept."), code="already_started")
    stored_name = locked.stored_name
    locked.delete()
    transaction.on_commit(lambda: default_storage.delete(stored_name))


def undo_available(job: ImportJob) -> bool:
    return (
        job.status in (ImportStatus.DONE, ImportStatus.FAILED, ImportStatus.CANCELLED)
        and job.undo_deadline is not None
        and timezone.now() < job.undo_deadline
    )


@transaction.atomic
def import_undo(*, actor: User | None, job: ImportJob) -> ImportJob:
    """Undo a finished import within IMPORT_UNDO_DAYS: every record it created goes to
    the trash, every field it changed is put back where it still holds the imported
    value (what someone changed since stays, and is listed in `undo_outcome`). Runs in
    the background (status `undoing`, then `undone`); audited. DomainError
    `undo_expired` after the deadline, Conflict `not_finished` before the end."""
    _require_manage(actor, job)
    locked = ImportJob.objects.select_for_update().get(pk=job.pk)
    if locked.status not in (ImportStatus.DONE, ImportStatus.FAILED, ImportStatus.CANCELLED):
        raise Conflict(_("Only a finished import can be undone."), code="not_finished")
    if not undo_available(locked):
        raise DomainError(
            _("Imports can be undone for %(days)d days; this one can no longer be.")
            % {"days": settings.IMPORT_UNDO_DAYS},
            code="undo_expired",
        )
    locked.status = ImportStatus.UNDOING
    locked.undone_by = actor
    locked.heartbeat_at = timezone.now()
    locked.run_token = ""
    locked.save(update_fields=["status", "undone_by", "heartbeat_at", "run_token", "updated_at"])
    running_job_note(kind=runner.RUNNING_KIND, job_id=locked.pk)
    task_after_commit(UNDO_TASK, job_id=locked.pk)
    return locked


# --- undo, in the background ---------------------------------------------------------------------


def _revert_value(record: Model, field_name: str, old: Any, new: Any) -> tuple[str, Any] | None:
    """(model field, value to set) when `record` still holds what the import wrote; None otherwise."""
    if field_name.startswith(CUSTOM_PREFIX):
        key = field_name[len(CUSTOM_PREFIX) :]
        current = dict(record.custom_fields or {})
        if current.get(key) != new:
            return None
        if old is None:
            current.pop(key, None)
        else:
            current[key] = old
        return "custom_fields", current
    model_field = record._meta.get_field(field_name)
    if model_field.is_relation:
        if getattr(record, model_field.attname) != new:
            return None
        return model_field.name, old
    if json_value(getattr(record, model_field.attname)) != new:
        return None
    return field_name, model_field.to_python(old) if old is not None else old


def import_undo_run(*, job_id: int) -> str:
    """The undo itself (the task's body): trash the created records, revert the changes.

    One run at a time: a run claims the job (a token and a heartbeat); a redelivered or
    re-queued message finds it claimed and leaves it, unless the claiming run has been
    silent for IMPORT_STALE_SECONDS. Running it again after a crash is harmless: trashed
    records are not trashed twice, reverted fields no longer hold the imported value."""
    token = secrets.token_hex(16)
    stale = timezone.now() - timedelta(seconds=settings.IMPORT_STALE_SECONDS)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id, status=ImportStatus.UNDOING).first()
        if job is None:
            return "nothing to undo"
        if job.run_token and job.heartbeat_at is not None and job.heartbeat_at >= stale:
            return "not claimed"
        job.run_token, job.heartbeat_at = token, timezone.now()
        job.save(update_fields=["run_token", "heartbeat_at", "updated_at"])
    actor = User.objects.filter(pk=job.undone_by_id).first()
    now = timezone.now()
    trashed = reverted = 0
    kept: list[dict[str, Any]] = []
    kept_count = 0
    with change_source_bound("import", f"import-undo:{job.pk}"):
        created = ImportedRecord.objects.filter(job=job, action=RecordAction.CREATED).order_by("record_type", "id")
        by_type: dict[str, list[int]] = {}
        for record_type, record_id in created.values_list("record_type", "record_id"):
            by_type.setdefault(record_type, []).append(record_id)
        for record_type, ids in by_type.items():
            model = entities.MODELS[record_type]
            for start in range(0, len(ids), UNDO_BATCH):
                with transaction.atomic():
                    trashed += model.objects.filter(pk__in=ids[start : start + UNDO_BATCH]).update(
                        deleted_at=now, deleted_by=actor, updated_at=now
                    )
                    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
        updated = ImportedRecord.objects.filter(job=job, action=RecordAction.UPDATED).order_by("id")
        last_id = 0
        while chunk := list(updated.filter(id__gt=last_id)[:UNDO_BATCH]):
            last_id = chunk[-1].pk
            with transaction.atomic():
                done, chunk_kept = _revert_chunk(chunk, actor)
                reverted += done
                kept_count += len(chunk_kept)
                kept.extend(chunk_kept[: max(0, 200 - len(kept))])
                ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
    outcome = {"trashed": trashed, "reverted_fields": reverted, "kept_fields": kept, "kept_count": kept_count}
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.UNDONE,
            undone_at=timezone.now(),
            undo_outcome=outcome,
            run_token="",
            updated_at=timezone.now(),
        )
        running_job_forget(kind=runner.RUNNING_KIND, job_id=job.pk)
        job.refresh_from_db()
        audit_record(
            actor=actor,
            action="import.undo",
            target=job,
            changes={"trashed": trashed, "reverted_fields": reverted, "kept_fields": kept_count},
        )
    return "undone"


def _revert_chunk(chunk: list[ImportedRecord], actor: User | None) -> tuple[int, list[dict[str, Any]]]:
    """Put back what these updates changed, where the records still hold the imported
    values; returns how many fields were reverted and the fields left alone."""
    from crm.clients.services import contact_full_name

    reverted = 0
    kept: list[dict[str, Any]] = []
    for record_type in sorted({entry.record_type for entry in chunk}):
        model = entities.MODELS[record_type]
        entries = [entry for entry in chunk if entry.record_type == record_type]
        ids = [entry.record_id for entry in entries]
        records = {record.pk: record for record in model.all_objects.select_for_update().filter(pk__in=ids)}
        updates = []
        for entry in entries:
            record = records.get(entry.record_id)
            if record is None:
                continue
            values: dict[str, Any] = {}
            for field_name, (old, new) in entry.changes.items():
                if field_name == "tags":
                    reverting = ("tags", old) if _tags_revert(record, old, new) else None
                else:
                    reverting = _revert_value(record, field_name, old, new)
                if reverting is None:
                    kept.append({"record_type": record_type, "id": record.pk, "field": field_name})
                    continue
                reverted += 1
                name, value = reverting
                if name == "tags":
                    continue
                if name == "custom_fields" and "custom_fields" in values:
                    value = {**values["custom_fields"], **value}
                values[name] = value
            if values and record_type == "contact" and {"first_name", "last_name"} & set(values):
                record.full_name = contact_full_name(
                    values.get("first_name", record.first_name), values.get("last_name", record.last_name)
                )
            if values:
                updates.append((record, _as_objects(model, values)))
        if updates:
            records_bulk_save_with_history(
                model=model,
                updates=updates,
                actor=actor,
                also_save=("full_name",) if record_type == "contact" else (),
                history=record_type != "product",
            )
    return reverted, kept


def _as_objects(model: type[Model], values: dict[str, Any]) -> dict[str, Any]:
    """Foreign keys as objects (changes_between compares references by object or id)."""
    result = {}
    for name, value in values.items():
        model_field = model._meta.get_field(name)
        if model_field.is_relation and value is not None and not isinstance(value, Model):
            value = model_field.related_model._base_manager.filter(pk=value).first()
        result[name] = value
    return result


def _tags_revert(record: Model, old: list[str], new: list[str]) -> bool:
    current = sorted(record.tags.values_list("name", flat=True), key=str.casefold)
    if [name.casefold() for name in current] != [name.casefold() for name in sorted(new, key=str.casefold)]:
        return False
    resolved = tags_resolve(old)
    record.tags.set([resolved[name.casefold()] for name in tag_names_clean(old) if name.casefold() in resolved])
    return True


# --- templates -----------------------------------------------------------------------------------


@transaction.atomic
def import_template_save(*, actor: User | None, job: ImportJob, name: str) -> ImportMappingTemplate:
    """Save (or replace, by name) the job's mapping and options as a template for files
    with the same columns. ValidationError on `name` (required, at most 100 characters)."""
    _require_manage(actor, job)
    require_import_right(actor=actor, entity=job.entity)
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise _field_error("name", _("Give the template a name."), "required")
    if len(cleaned) > 100:
        raise _field_error("name", _("Use at most %(limit)d characters.") % {"limit": 100}, "max_length")
    mapping = {
        entry["header"]: {"target": entry["target"], "transform": entry.get("transform", "")}
        for entry in job.mapping
        if entry.get("target")
    }
    options = {key: value for key, value in job.options.items() if key not in ("template", "default_owner")}
    template, _created = ImportMappingTemplate.objects.update_or_create(
        entity=job.entity,
        name=cleaned,
        defaults={"mapping": mapping, "options": options, "created_by": actor},
    )
    return template


@transaction.atomic
def import_template_create(
    *, actor: User | None, entity: str, name: str, mapping: Any, options: Any = None
) -> ImportMappingTemplate:
    """A template from its parts (the API): mapping {header: {target, transform}}."""
    require_import_right(actor=actor, entity=entity)
    errors = FieldErrors()
    cleaned = " ".join((name or "").split())
    if not cleaned:
        errors.add("name", _("Give the template a name."), "required")
    elif len(cleaned) > 100:
        errors.add("name", _("Use at most %(limit)d characters.") % {"limit": 100}, "max_length")
    elif ImportMappingTemplate.objects.filter(entity=entity, name=cleaned).exists():
        errors.add("name", _("Another template has this name."), "name_taken")
    if not isinstance(mapping, Mapping) or not mapping:
        errors.add("mapping", _("Send the mapping as an object of column name: {target, transform}."), "invalid")
    errors.raise_if_any()
    headers = [str(header)[:255] for header in mapping]
    entries = [
        {
            "column": index,
            "header": header,
            "target": (choice or {}).get("target", "") if isinstance(choice, Mapping) else "",
            "transform": (choice or {}).get("transform", "") if isinstance(choice, Mapping) else "",
        }
        for index, (header, choice) in enumerate(mapping.items())
    ]
    checked = mapping_clean(entity, headers, entries, _custom_fields(entity))
    clean_options = options_clean(entity, options or {}, current={}) if options else {}
    return ImportMappingTemplate.objects.create(
        entity=entity,
        name=cleaned,
        mapping={
            entry["header"]: {"target": entry["target"], "transform": entry["transform"]}
            for entry in checked
            if entry["target"]
        },
        options=clean_options,
        created_by=actor,
    )


@transaction.atomic
def import_template_delete(*, actor: User | None, template: ImportMappingTemplate) -> None:
    """Delete a template: its author or an administrator."""
    if actor is not None and template.created_by_id != actor.pk and not has_capability(actor, roles.SETTINGS):
        raise AccessDenied(_("Only the person who saved this template or an administrator can delete it."))
    template.delete()
