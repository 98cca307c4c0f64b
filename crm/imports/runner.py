"""Running an import: the file read again from its start, batch after batch, each batch
decided and written in one transaction together with the job's counters.

Guarantees:
- a row is read and cleaned fully before its batch is written; a row with a problem is
  rejected with its column and reason and writes nothing;
- a batch's records, its rejected rows, the job's counts and its position in the file
  commit together: a worker killed mid-import leaves the job at its last whole batch,
  and the run that takes over (after IMPORT_STALE_SECONDS without a heartbeat) skips
  exactly the rows already counted — no row is imported twice or lost;
- created + updated + skipped + rejected = rows processed, after every batch;
- if a batch's bulk write still fails (a SKU taken meanwhile...), its rows are written
  one by one in savepoints, so only the row at fault is rejected;
- duplicates are looked up per batch with one indexed query per key; a row matching
  one earlier in the same file is treated against that row's record;
- contacts count against the plan's limit, checked under a per-workspace lock for
  every batch: rows past the limit are rejected with `plan_limit_reached`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Model
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from config.locks import advisory_xact_lock
from config.request_context import change_source_bound
from crm import access
from crm.access import Action
from crm.bulk_writes import values_insert
from crm.clients.models import Company, Contact
from crm.clients.services import companies_import_batch
from crm.custom_fields.selectors import custom_fields_for
from crm.imports import entities
from crm.imports.entities import Context, PreparedRow, Problem
from crm.imports.mapping import CUSTOM_ENTITIES, Target
from crm.imports.models import ImportedRecord, ImportJob, ImportRejectedRow, ImportStatus, RecordAction
from crm.imports.readers import SourceRow, data_rows
from crm.limits import plan_limit
from crm.selectors import workspace_settings
from tenants.running_jobs import running_job_forget, running_job_note

# How imports are named in the public list of jobs in flight (tenants.running_jobs).
RUNNING_KIND = "import"

logger = logging.getLogger(__name__)

MODES = ("skip", "update", "create")


@dataclass
class Decision:
    row: PreparedRow
    action: str  # created | updated | skipped | rejected
    reason: str = ""
    code: str = ""
    column: str = ""
    pending: int | None = None  # index into the batch's creates
    record_id: int | None = None


@dataclass
class Plan:
    decisions: list[Decision] = field(default_factory=list)
    creates: list[dict[str, Any]] = field(default_factory=list)
    updates: dict[int, tuple[Model, dict[str, Any]]] = field(default_factory=dict)
    new_companies: dict[str, str] = field(default_factory=dict)  # casefolded → name
    created_by_job: set[int] = field(default_factory=set)


def job_context(job: ImportJob, actor: User | None) -> tuple[Context, dict[str, Target]]:
    custom_fields = custom_fields_for(job.entity) if job.entity in CUSTOM_ENTITIES else []
    context = Context.build(
        entity=job.entity, actor=actor, options=job.options, workspace=workspace_settings(), custom_fields=custom_fields
    )
    return context, entities.target_map(job.entity, custom_fields)


def prepare(rows: Sequence[SourceRow], job: ImportJob, context: Context, targets: dict[str, Target]) -> list:
    prepared = []
    for source in rows:
        if source.error:
            row = PreparedRow(number=source.number, cells=source.cells)
            row.problems.append(Problem(column="", message=source.error, code=source.error_code or "invalid_row"))
        else:
            row = entities.read_row(
                number=source.number, cells=source.cells, mapping=job.mapping, targets=targets, context=context
            )
        prepared.append(row)
    return prepared


# --- deciding ---------------------------------------------------------------------------------


def _reject(row: PreparedRow, problem: Problem) -> Decision:
    return Decision(row=row, action="rejected", reason=problem.message, code=problem.code, column=problem.column)


def _entity_label(entity: str) -> str:
    return {
        "contact": _("A contact"),
        "company": _("A company"),
        "lead": _("A lead"),
        "deal": _("A deal"),
        "product": _("A product"),
    }[entity]


def decide(job: ImportJob, rows: list[PreparedRow], context: Context, *, lock: bool) -> Plan:
    """What each row of the batch does; with `lock`, the records to update are locked
    and the plan's contact limit is held until the transaction ends."""
    entity = job.entity
    mode = job.options.get("mode", "skip")
    match = list(job.options.get("match", entities.DEFAULT_MATCH[entity])) if mode != "create" else []
    plan = Plan()
    valid = [row for row in rows if not row.problems]
    companies: dict[str, Company] = {}
    if entity in ("contact", "deal"):
        companies = entities.companies_by_name((row.company_name for row in valid), actor=context.actor)
    contacts = {}
    if entity == "deal":
        contacts = entities.contacts_by_email((row.contact_email for row in valid), actor=context.actor)
    existing: dict[tuple[str, str], int] = {}
    for key in match:
        values = [value for row in valid for name, value in row.keys(entity, [key]) if name == key]
        existing.update({(key, value): pk for value, pk in entities.lookup(entity, key, values).items()})
    model = entities.MODELS[entity]
    editable: dict[int, Model] = {}
    if mode == "update" and existing:
        queryset = access.visible(
            model.objects.filter(pk__in=set(existing.values())), actor=context.actor, action=Action.EDIT
        )
        if lock:
            queryset = queryset.select_for_update(of=("self",))
        editable = {record.pk: record for record in queryset.order_by("pk")}
        plan.created_by_job = set(
            ImportedRecord.objects.filter(
                job=job, action=RecordAction.CREATED, record_type=entity, record_id__in=list(editable)
            ).values_list("record_id", flat=True)
        )
    room: int | None = None
    if entity == "contact":
        limit = plan_limit("contacts")
        if limit is not None:
            if lock:
                advisory_xact_lock(f"contacts:plan:{connection.schema_name}")
            room = max(0, limit - Contact.objects.count())
    # key → the row of this batch that already holds it: ("new", index of its create, row
    # number) or ("db", record id, row number).
    in_batch: dict[tuple[str, str], tuple[str, int, int]] = {}
    for row in rows:
        if row.problems:
            plan.decisions.append(_reject(row, row.problems[0]))
            continue
        values = dict(row.values)
        if row.company_name:
            company = companies.get(row.company_name.casefold())
            if company is not None:
                values["company"] = company
            elif context.create_companies:
                plan.new_companies.setdefault(row.company_name.casefold(), row.company_name)
                values["company"] = ("new", row.company_name.casefold())
            else:
                column = next((e["header"] for e in job.mapping if e.get("target") == "company"), "")
                plan.decisions.append(
                    _reject(
                        row,
                        Problem(
                            column,
                            _("There is no company “%(name)s”; turn on creating companies, or add it first.")
                            % {"name": row.company_name},
                            "unknown_company",
                        ),
                    )
                )
                continue
        if entity == "deal" and row.contact_email:
            contact = contacts.get(row.contact_email)
            if contact is None:
                column = next((e["header"] for e in job.mapping if e.get("target") == "contact"), "")
                plan.decisions.append(
                    _reject(
                        row,
                        Problem(
                            column,
                            _("No contact you can see has the email “%(email)s”.") % {"email": row.contact_email},
                            "unknown_contact",
                        ),
                    )
                )
                continue
            values["contact"] = contact
        keys = row.keys(entity, match)
        hit: tuple[str, int, int] | None = None
        matched = ""
        for key in keys:
            if key in in_batch:
                hit, matched = in_batch[key], key[0]
                break
            if key in existing:
                hit, matched = ("db", existing[key], 0), key[0]
                break
        if hit is not None and mode == "skip":
            if hit[0] == "new":
                reason = _("Row %(row)d of this file has the same %(key)s.") % {
                    "row": hit[2],
                    "key": _key_label(matched),
                }
            else:
                reason = _("%(what)s with this %(key)s exists already (#%(id)d).") % {
                    "what": _entity_label(entity),
                    "key": _key_label(matched),
                    "id": hit[1],
                }
            plan.decisions.append(Decision(row=row, action="skipped", reason=reason, code="duplicate", record_id=None))
            continue
        if hit is not None and mode == "update":
            if hit[0] == "new":
                index = hit[1]
                entities.merge_pending(plan.creates[index], values)
                plan.decisions.append(Decision(row=row, action="updated", pending=index))
                for key in keys:
                    in_batch.setdefault(key, hit)
                continue
            record = editable.get(hit[1])
            if record is None:
                plan.decisions.append(
                    Decision(
                        row=row,
                        action="skipped",
                        reason=_("%(what)s with this %(key)s exists (#%(id)d), but you may not edit it.")
                        % {"what": _entity_label(entity), "key": _key_label(matched), "id": hit[1]},
                        code="not_editable",
                    )
                )
                continue
            pending = plan.updates.get(record.pk)
            keep = [key for key in ("sku", "name") if key in match]
            changes = entities.update_values(record, values, keep=keep)
            if pending is not None:
                entities.merge_pending(pending[1], changes)
            else:
                plan.updates[record.pk] = (record, changes)
            plan.decisions.append(Decision(row=row, action="updated", record_id=record.pk))
            continue
        missing = row.missing_required(context) if entity != "product" else []
        if missing:
            plan.decisions.append(
                _reject(
                    row,
                    Problem(
                        _target_header(job, missing[0].path),
                        _("“%(label)s” is required.") % {"label": missing[0].label_in()},
                        "required",
                    ),
                )
            )
            continue
        if room is not None:
            if room <= 0:
                plan.decisions.append(
                    _reject(
                        row,
                        Problem(
                            "",
                            _("Your plan's limit of %(limit)d contacts is reached; this row was not imported.")
                            % {"limit": plan_limit("contacts") or 0},
                            "plan_limit_reached",
                        ),
                    )
                )
                continue
            room -= 1
        if entity in ("contact", "company", "lead", "deal") and "owner" not in values:
            values["owner"] = context.default_owner or context.actor
        plan.creates.append(values)
        index = len(plan.creates) - 1
        plan.decisions.append(Decision(row=row, action="created", pending=index))
        for key in keys:
            in_batch.setdefault(key, ("new", index, row.number))
    return plan


def _key_label(key: str) -> str:
    return {"email": _("email"), "phone": _("phone"), "name": _("name"), "sku": _("SKU")}.get(key, key)


def _target_header(job: ImportJob, target: str) -> str:
    return next((entry["header"] for entry in job.mapping if entry.get("target") == target), "")


# --- writing ----------------------------------------------------------------------------------


def _substitute_companies(plan: Plan, created: dict[str, Company]) -> None:
    def fix(values: dict[str, Any]) -> None:
        company = values.get("company")
        if isinstance(company, tuple):
            values["company"] = created[company[1]]

    for values in plan.creates:
        fix(values)
    for _record, values in plan.updates.values():
        fix(values)


def _write(job: ImportJob, plan: Plan, actor: User | None) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """Write the plan; returns the imported-record rows and, for creates that failed
    even alone, their index → the reason."""
    imported: list[dict[str, Any]] = []
    if plan.new_companies:
        outcome = companies_import_batch(
            actor=actor, creates=[{"name": name, "owner": actor} for name in plan.new_companies.values()], updates=[]
        )
        made = {
            folded: Company(pk=pk, name=name)
            for (folded, name), pk in zip(plan.new_companies.items(), outcome.created, strict=True)
        }
        imported.extend(_imported(job, "company", pk, RecordAction.CREATED) for pk in outcome.created)
        _substitute_companies(plan, made)
    updates = list(plan.updates.values())
    failed: dict[int, str] = {}
    try:
        with transaction.atomic():
            outcome = entities.write(job.entity, actor=actor, creates=plan.creates, updates=updates)
        created = outcome.created
        changes = outcome.changes
    except (IntegrityError, DatabaseError, ValidationError) as error:
        logger.info("import batch fell back to row by row", extra={"job": job.pk, "error": str(error)[:200]})
        created, changes = [], {}
        for index, values in enumerate(plan.creates):
            try:
                with transaction.atomic():
                    one = entities.write(job.entity, actor=actor, creates=[values], updates=[])
                created.append(one.created[0])
            except (IntegrityError, DatabaseError, ValidationError) as row_error:
                failed[index] = _error_text(row_error)
                created.append(None)
        for record, values in updates:
            try:
                with transaction.atomic():
                    one = entities.write(job.entity, actor=actor, creates=[], updates=[(record, values)])
                changes.update(one.changes)
            except (IntegrityError, DatabaseError, ValidationError) as row_error:
                failed[-record.pk] = _error_text(row_error)
    for record_id in created:
        if record_id is not None:
            imported.append(_imported(job, job.entity, record_id, RecordAction.CREATED))
    for record_id, record_changes in changes.items():
        if record_id in plan.created_by_job or not record_changes:
            continue
        changes_made = {change.field: [change.old, change.new] for change in record_changes}
        imported.append(_imported(job, job.entity, record_id, RecordAction.UPDATED, changes_made))
    return imported, failed


def _imported(job: ImportJob, record_type: str, record_id: int, action: str, changes=None) -> dict[str, Any]:
    return {"job_id": job.pk, "record_type": record_type, "record_id": record_id, "action": action,
            "changes": changes or {}}  # fmt: skip


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    return _("The database refused this row: %(error)s") % {"error": str(error).splitlines()[0][:200]}


# --- the run ----------------------------------------------------------------------------------


def _chunks(rows: Iterator[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    while batch := list(islice(rows, size)):
        yield batch


def claim(job_id: int) -> str:
    """Take the job for this run (queued, or running with no heartbeat for
    IMPORT_STALE_SECONDS: its worker died); "" when another run owns it or it is over."""
    token = secrets.token_hex(16)
    stale = timezone.now() - timedelta(seconds=settings.IMPORT_STALE_SECONDS)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return ""
        takeover = job.status == ImportStatus.RUNNING and (job.heartbeat_at is None or job.heartbeat_at < stale)
        if job.status != ImportStatus.QUEUED and not takeover:
            return ""
        job.status = ImportStatus.RUNNING
        job.run_token = token
        job.heartbeat_at = timezone.now()
        job.started_at = job.started_at or timezone.now()
        job.save(update_fields=["status", "run_token", "heartbeat_at", "started_at", "updated_at"])
        running_job_note(kind=RUNNING_KIND, job_id=job.pk)
    if takeover:
        logger.warning("import taken over after its worker went silent", extra={"job": job_id})
    return token


def import_run(*, job_id: int) -> str:
    """Run (or continue) an import; returns how it ended for the log."""
    token = claim(job_id)
    if not token:
        return "not claimed"
    job = ImportJob.objects.get(pk=job_id)
    actor = User.objects.select_related("role").filter(pk=job.created_by_id, is_active=True).first()
    try:
        if actor is None:
            _fail(job_id, token, _("The person who started this import is no longer active."), "actor_inactive")
            return "failed"
        with change_source_bound("import", f"import:{job.pk}"):
            return _run(job, token, actor)
    except Exception as error:
        logger.exception("import failed", extra={"job": job_id})
        _fail(
            job_id, token, _("The import stopped because of an error: %(error)s") % {"error": str(error)[:300]}, "error"
        )
        return "failed"


def _run(job: ImportJob, token: str, actor: User) -> str:
    context, targets = job_context(job, actor)
    size = max(1, settings.IMPORT_BATCH_ROWS)
    with default_storage.open(job.stored_name, "rb") as stored:
        rows = data_rows(stored, file_format=job.file_format, encoding=job.encoding, delimiter=job.delimiter)
        for _done in islice(rows, job.processed_rows):
            pass
        for batch in _chunks(rows, size):
            prepared = prepare(batch, job, context, targets)
            if not _batch_commit(job.pk, token, prepared, context, actor):
                return "stopped"
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.run_token != token or locked.status != ImportStatus.RUNNING:
            return "stopped"
        now = timezone.now()
        locked.status = ImportStatus.DONE
        locked.total_rows = locked.processed_rows
        locked.finished_at = now
        locked.undo_deadline = now + timedelta(days=settings.IMPORT_UNDO_DAYS)
        locked.run_token = ""
        locked.save(update_fields=["status", "total_rows", "finished_at", "undo_deadline", "run_token", "updated_at"])
        running_job_forget(kind=RUNNING_KIND, job_id=job.pk)
    logger.info("import done", extra={"job": job.pk})
    return "done"


def jit_off() -> None:
    """No JIT compilation for the rest of this transaction: a batch is a few dozen short
    indexed statements, but PostgreSQL estimates the duplicate lookup (a thousand values
    joined to the GIN index) at millions of rows and spent ~220 ms compiling it for a
    query that ran in 14 ms (measured on the million-contact workspace)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")


def _batch_commit(job_id: int, token: str, rows: list[PreparedRow], context: Context, actor: User) -> bool:
    with transaction.atomic():
        jit_off()
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status != ImportStatus.RUNNING or job.run_token != token:
            return False
        plan = decide(job, rows, context, lock=True)
        imported, failed = _write(job, plan, actor) if (plan.creates or plan.updates) else ([], {})
        counts = {"created": 0, "updated": 0, "skipped": 0, "rejected": 0}
        rejected: list[ImportRejectedRow] = []
        for decision in plan.decisions:
            action, reason, code, column = decision.action, decision.reason, decision.code, decision.column
            failure = None
            if decision.pending is not None and decision.pending in failed:
                failure = failed[decision.pending]
            elif decision.record_id is not None and -decision.record_id in failed:
                failure = failed[-decision.record_id]
            if failure is not None:
                action, reason, code, column = "rejected", failure, "write_failed", ""
            counts[action] += 1
            if action == "rejected":
                rejected.append(
                    ImportRejectedRow(
                        job=job,
                        row_number=decision.row.number,
                        column=column[:255],
                        reason=reason,
                        code=code[:40],
                        values=decision.row.cells,
                    )
                )
            elif action == "skipped":
                pass
        ImportRejectedRow.objects.bulk_create(rejected)
        values_insert(ImportedRecord, imported)
        ImportJob.objects.filter(pk=job_id).update(
            created_count=F("created_count") + counts["created"],
            updated_count=F("updated_count") + counts["updated"],
            skipped_count=F("skipped_count") + counts["skipped"],
            rejected_count=F("rejected_count") + counts["rejected"],
            processed_rows=F("processed_rows") + len(rows),
            heartbeat_at=timezone.now(),
            updated_at=timezone.now(),
        )
    return True


def _fail(job_id: int, token: str, message: str, code: str) -> None:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.run_token != token or job.status != ImportStatus.RUNNING:
            return
        now = timezone.now()
        job.status = ImportStatus.FAILED
        job.error = message
        job.error_code = code
        job.finished_at = now
        job.undo_deadline = now + timedelta(days=settings.IMPORT_UNDO_DAYS)
        job.run_token = ""
        job.save(
            update_fields=["status", "error", "error_code", "finished_at", "undo_deadline", "run_token", "updated_at"]
        )
        running_job_forget(kind=RUNNING_KIND, job_id=job.pk)


def jobs_stale() -> list[int]:
    """Running jobs whose worker has been silent for IMPORT_STALE_SECONDS."""
    stale = timezone.now() - timedelta(seconds=settings.IMPORT_STALE_SECONDS)
    return list(
        ImportJob.objects.filter(status__in=[ImportStatus.RUNNING, ImportStatus.UNDOING], heartbeat_at__lt=stale)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
