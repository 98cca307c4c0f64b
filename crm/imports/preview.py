"""The first rows of a file exactly as they would be stored, with each row's fate
(created, updated, skipped, rejected) and its problems, before anything is written:
the same reading, cleaning and duplicate lookups as the job, without writes or locks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import islice
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from accounts.models import User
from crm.custom_fields.values import value_display
from crm.imports import runner
from crm.imports.models import ImportJob
from crm.imports.readers import data_rows
from crm.imports.services import _require_manage

PREVIEW_ROWS = 10


@dataclass
class PreviewRow:
    number: int
    action: str
    reason: str
    values: list[str]
    problems: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Preview:
    columns: list[str]
    rows: list[PreviewRow]


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, User):
        return value.full_name or value.email
    if isinstance(value, tuple) and value and value[0] == "new":
        return ""
    if isinstance(value, Model):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value}"
    if isinstance(value, list | tuple):
        return ", ".join(_shown(item) for item in value)
    return str(value)


def import_preview(*, actor: User | None, job: ImportJob, limit: int = PREVIEW_ROWS) -> Preview:
    """The first `limit` data rows of the job's file as the current mapping stores them."""
    _require_manage(actor, job)
    context, targets = runner.job_context(job, actor)
    mapped: list[str] = []
    for entry in job.mapping:
        target = entry.get("target")
        if target and target not in mapped:
            mapped.append(target)
    columns: list[tuple[str, str]] = []
    for target in mapped:
        if target == "full_name":
            columns += [("first_name", _("First name")), ("last_name", _("Last name"))]
        elif target in targets:
            columns.append((target, str(targets[target].label)))
    with default_storage.open(job.stored_name, "rb") as stored:
        source = list(
            islice(
                data_rows(stored, file_format=job.file_format, encoding=job.encoding, delimiter=job.delimiter), limit
            )
        )
    prepared = runner.prepare(source, job, context, targets)
    with transaction.atomic():
        runner.jit_off()
        plan = runner.decide(job, prepared, context, lock=False)
    by_key = {target.custom.path: target.custom for target in targets.values() if target.custom is not None}
    rows = []
    for decision in plan.decisions:
        values = decision.row.values
        if decision.pending is not None:
            values = plan.creates[decision.pending]
        shown = []
        for key, _label in columns:
            if key in by_key:
                custom = (values.get("custom_fields") or {}).get(by_key[key].key)
                shown.append(value_display(by_key[key], custom, region=context.region))
            elif key in ("company",) and decision.row.company_name and isinstance(values.get("company"), tuple):
                shown.append(_("%(name)s (new company)") % {"name": decision.row.company_name})
            elif key == "contact" and decision.row.contact_email and values.get("contact") is None:
                shown.append(decision.row.contact_email)
            else:
                shown.append(_shown(values.get(key)))
        problems = [
            {"column": problem.column, "message": problem.message, "code": problem.code}
            for problem in decision.row.problems
        ]
        if decision.action == "rejected" and not problems:
            problems = [{"column": decision.column, "message": decision.reason, "code": decision.code}]
        rows.append(
            PreviewRow(
                number=decision.row.number,
                action=decision.action,
                reason=decision.reason,
                values=shown,
                problems=problems,
            )
        )
    return Preview(columns=[label for _key, label in columns], rows=rows)
