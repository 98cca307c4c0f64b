"""Settings → Import and the "Import" button of each list: upload → mapping (with a
preview refreshed by HTMX) → progress (polled by HTMX, or the page reloads itself
without JavaScript) → report (counts that add up, rejected rows, download, undo).

Every page works with plain forms; HTMX only swaps the mapping section and the
progress box in place. Another person's or another workspace's import is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from accounts import roles
from accounts.models import User
from accounts.policy import scope_for
from crm.deals.models import Pipeline
from crm.errors import DomainError, RecordNotFound
from crm.imports import entities
from crm.imports.mapping import CUSTOM_ENTITIES, NAME_ORDERS, mapping_from_template, targets_for
from crm.imports.models import Entity, ImportJob, ImportStatus
from crm.imports.preview import import_preview
from crm.imports.readers import DELIMITERS, ENCODING_LABELS, ENCODINGS
from crm.imports.selectors import companies_created, import_get, import_list, rejected_rows, templates_for
from crm.imports.services import (
    import_cancel,
    import_configure,
    import_discard,
    import_start,
    import_template_save,
    import_undo,
    import_upload,
    undo_available,
)
from crm.imports.uploads import declared_too_large, limit_uploads
from crm.limits import PlanLimitReached
from crm.settings_pages.pages import sections_for
from crm.text_values import DATE_ORDERS

REJECTED_PER_PAGE = 50
DELIMITER_LABELS = {",": ",", ";": ";", "\t": "Tab", "|": "|"}


def importable_entities(user: User) -> list[tuple[str, str]]:
    """(entity, label) the person may import (the role's create on it)."""
    return [(value, str(label)) for value, label in Entity.choices if scope_for(user, value, "create") != roles.NONE]


def _page(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    context.setdefault("sections", sections_for(request.user))
    context.setdefault("section", "imports")
    return render(request, template, context, status=status)


def _job_or_404(request: HttpRequest, pk: int) -> ImportJob:
    try:
        return import_get(actor=request.user, job_id=pk)
    except RecordNotFound as missing:
        raise Http404(missing.message) from missing


def _detail(job: ImportJob) -> HttpResponse:
    return redirect("imports:detail", job.pk)


# --- list and upload ------------------------------------------------------------------------


@login_required
def import_list_view(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(import_list(actor=request.user), 25)
    page = paginator.get_page(request.GET.get("page"))
    return _page(
        request,
        "imports/list.html",
        {"page": page, "entities": importable_entities(request.user)},
    )


@csrf_exempt
@login_required
def import_upload_view(request: HttpRequest) -> HttpResponse:
    """CSRF is checked by hand: the size limit must sit in front of the upload handlers
    before anything (the CSRF check included) reads the body."""
    choices = importable_entities(request.user)
    # Only the query string: request.POST would read the body before the limit is in place.
    entity = request.GET.get("entity", "")
    if request.method != "POST":
        return _upload_page(request, choices, entity)
    if declared_too_large(request):
        return _upload_page(request, choices, entity, error=_too_large_message(), status=400)
    limit = limit_uploads(request)
    return csrf_protect(_upload_post)(request, choices=choices, limit=limit)


def _too_large_message() -> str:
    from crm.imports.services import _file_too_large

    return _file_too_large().message_dict["file"][0]


def _upload_post(request: HttpRequest, *, choices, limit) -> HttpResponse:
    entity = request.POST.get("entity", "")
    file = request.FILES.get("file")
    if limit.refused:
        return _upload_page(request, choices, entity, error=_too_large_message(), status=400)
    if entity not in dict(choices):
        return _upload_page(request, choices, entity, error=_("Choose what the file holds."), status=400)
    if file is None:
        return _upload_page(request, choices, entity, error=_("Choose a file to upload."), status=400)
    encoding = request.POST.get("encoding", "")
    delimiter = request.POST.get("delimiter", "")
    try:
        job = import_upload(
            actor=request.user,
            entity=entity,
            file=file,
            encoding=encoding if encoding in ENCODINGS else "",
            delimiter=delimiter if delimiter in DELIMITERS else "",
        )
    except ValidationError as error:
        return _upload_page(request, choices, entity, error=" ".join(error.messages), status=400)
    except DomainError as error:
        return _upload_page(request, choices, entity, error=error.message, status=403)
    return _detail(job)


def _upload_page(request, choices, entity: str, *, error: str = "", status: int = 200) -> HttpResponse:
    return _page(
        request,
        "imports/upload.html",
        {
            "entities": choices,
            "entity": entity,
            "error": error,
            "encodings": [(code, ENCODING_LABELS[code]) for code in ENCODINGS],
            "delimiters": [(value, DELIMITER_LABELS[value]) for value in DELIMITERS],
            "max_mb": _max_mb(),
        },
        status=status,
    )


def _max_mb() -> int:
    from django.conf import settings

    return settings.IMPORT_MAX_BYTES // (1024 * 1024)


# --- one import -------------------------------------------------------------------------------


@login_required
def import_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_or_404(request, pk)
    if job.status == ImportStatus.UPLOADED:
        return _page(request, "imports/mapping.html", _mapping_context(request, job))
    if job.is_active:
        return _page(request, "imports/progress.html", {"job": job})
    return _page(request, "imports/report.html", _report_context(request, job))


def _target_groups(job: ImportJob) -> list[tuple[str, list[tuple[str, str]]]]:
    from crm.custom_fields.selectors import custom_fields_for

    fields = custom_fields_for(job.entity) if job.entity in CUSTOM_ENTITIES else []
    targets = targets_for(job.entity, fields)
    plain = [(target.key, str(target.label)) for target in targets if target.custom is None]
    custom = [(target.key, str(target.label)) for target in targets if target.custom is not None]
    groups = [(_("Fields"), plain)]
    if custom:
        groups.append((_("Custom fields"), custom))
    return groups


def _transform_choices(job: ImportJob, target: str) -> list[tuple[str, str]]:
    from crm.custom_fields.models import FieldKind
    from crm.custom_fields.selectors import custom_fields_for

    date_labels = {
        "auto": _("Dates: detect"),
        "dmy": _("Dates: day/month/year"),
        "mdy": _("Dates: month/day/year"),
        "ymd": _("Dates: year/month/day"),
    }
    if target == "full_name":
        return [("first_last", _("First name, then last name")), ("last_first", _("Last name, then first name"))]
    is_date = target in ("birthday", "expected_close_date")
    if target.startswith("custom_fields.") and job.entity in CUSTOM_ENTITIES:
        key = target.removeprefix("custom_fields.")
        is_date = any(f.key == key and f.kind == FieldKind.DATE for f in custom_fields_for(job.entity))
    if is_date:
        return [("", _("Dates: as in the options"))] + [(order, date_labels[order]) for order in DATE_ORDERS]
    return []


def _mapping_context(
    request: HttpRequest, job: ImportJob, *, errors: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    errors = errors or {}
    columns = []
    for entry in job.mapping:
        column = entry["column"]
        samples = [row[column] for row in job.sample_rows[:3] if column < len(row) and row[column]]
        columns.append(
            {
                "entry": entry,
                "samples": samples,
                "transforms": _transform_choices(job, entry.get("target", "")),
                "errors": errors.get(f"mapping.{column}", []),
            }
        )
    preview = None
    preview_error = ""
    try:
        preview = import_preview(actor=request.user, job=job)
    except (ValidationError, DomainError) as error:
        preview_error = " ".join(getattr(error, "messages", [str(error)]))
    options = job.options
    return {
        "job": job,
        "columns": columns,
        "groups": _target_groups(job),
        "mapping_errors": errors.get("mapping", []),
        "option_errors": {
            key.removeprefix("options."): value for key, value in errors.items() if key.startswith("options.")
        },
        "preview": preview,
        "preview_error": preview_error,
        "options": options,
        "match_keys": [(key, _match_label(key)) for key in entities.MATCH_KEYS[job.entity]],
        "date_orders": [
            ("auto", _("Detect")),
            ("dmy", _("Day/month/year (31.12.2024)")),
            ("mdy", _("Month/day/year (12/31/2024)")),
            ("ymd", _("Year/month/day (2024-12-31)")),
        ],
        "owners": User.objects.filter(is_active=True, is_integration=False).order_by("full_name", "id"),
        "pipelines": Pipeline.objects.order_by("position", "id") if job.entity == "deal" else [],
        "templates": templates_for(entity=job.entity),
        "encodings": [(code, ENCODING_LABELS[code]) for code in ENCODINGS],
        "delimiters": [(value, DELIMITER_LABELS[value]) for value in DELIMITERS],
        "name_orders": NAME_ORDERS,
    }


def _match_label(key: str) -> str:
    return {"email": _("Email"), "phone": _("Phone"), "name": _("Name"), "sku": _("SKU")}[key]


def _form_mapping(request: HttpRequest, job: ImportJob) -> list[dict[str, Any]]:
    mapping = []
    for entry in job.mapping:
        column = entry["column"]
        target = request.POST.get(f"target-{column}", entry.get("target", ""))
        transform = request.POST.get(f"transform-{column}", "")
        if transform and not any(value == transform for value, _label in _transform_choices(job, target)):
            transform = ""
        mapping.append({"column": column, "target": target, "transform": transform})
    return mapping


def _form_options(request: HttpRequest, job: ImportJob) -> dict[str, Any]:
    post = request.POST
    options: dict[str, Any] = {
        "mode": post.get("mode", job.options.get("mode", "skip")),
        "match": [key for key in post.getlist("match") if key],
        "date_order": post.get("date_order", "auto"),
        "phone_region": post.get("phone_region", "").strip(),
        "default_owner": _int(post.get("default_owner")),
    }
    if job.entity in ("contact", "deal"):
        options["create_companies"] = post.get("create_companies") == "on"
    if job.entity == "contact":
        options["only_rows_that_fit"] = post.get("only_rows_that_fit") == "on"
    if job.entity == "deal":
        options["pipeline"] = _int(post.get("pipeline"))
    return options


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _error_dict(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            key: [message for item in items for message in item.messages] for key, items in error.error_dict.items()
        }
    return {"mapping": error.messages}


@login_required
@require_POST
def import_mapping_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the mapping and options; then, by the button pressed: refresh the preview,
    start, save as a template, apply a template, or read the file in another encoding."""
    job = _job_or_404(request, pk)
    if job.status != ImportStatus.UPLOADED:
        return _detail(job)
    step = request.POST.get("step", "preview")
    try:
        if step == "apply_template":
            template = templates_for(entity=job.entity).filter(pk=_int(request.POST.get("template"))).first()
            if template is not None:
                mapping = mapping_from_template(job.headers, template.mapping)
                options = {k: v for k, v in template.options.items() if k in job.options and k != "template"}
                job = import_configure(actor=request.user, job=job, mapping=mapping, options=options)
                messages.success(request, _("The template “%(name)s” was applied.") % {"name": template.name})
        elif step == "reread":
            job = import_configure(
                actor=request.user,
                job=job,
                encoding=request.POST.get("encoding", ""),
                delimiter=request.POST.get("delimiter", ""),
            )
        else:
            job = import_configure(
                actor=request.user, job=job, mapping=_form_mapping(request, job), options=_form_options(request, job)
            )
            if step == "save_template":
                template = import_template_save(actor=request.user, job=job, name=request.POST.get("template_name", ""))
                messages.success(request, _("Saved as the template “%(name)s”.") % {"name": template.name})
            elif step == "start":
                import_start(actor=request.user, job=job)
                return _detail(job)
    except ValidationError as error:
        job.refresh_from_db()
        # Keep what the person chose on screen, with the problems beside it.
        job.mapping = [
            {**entry, "target": request.POST.get(f"target-{entry['column']}", entry["target"])} for entry in job.mapping
        ]
        context = _mapping_context(request, job, errors=_error_dict(error))
        template = "imports/_mapping.html" if request.htmx else "imports/mapping.html"
        return _page(request, template, context, status=400)
    except PlanLimitReached as error:
        messages.error(request, error.message)
    except DomainError as error:
        messages.error(request, error.message)
    if request.htmx:
        return _page(request, "imports/_mapping.html", _mapping_context(request, job))
    return _detail(job)


@login_required
def import_progress_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress box (HTMX polls it); a finished job sends the browser to the report."""
    job = _job_or_404(request, pk)
    if not job.is_active and request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("imports:detail", args=[job.pk])
        return response
    return render(request, "imports/_progress.html", {"job": job})


def _report_context(request: HttpRequest, job: ImportJob) -> dict[str, Any]:
    paginator = Paginator(rejected_rows(job=job), REJECTED_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return {
        "job": job,
        "rejected": page,
        "companies_created": companies_created(job=job),
        "can_undo": undo_available(job),
        "adds_up": job.created_count + job.updated_count + job.skipped_count + job.rejected_count,
    }


@login_required
@require_POST
def import_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_or_404(request, pk)
    try:
        import_cancel(actor=request.user, job=job)
        messages.success(request, _("The import was stopped. What it imported so far stays, and can be undone."))
    except DomainError as error:
        messages.error(request, error.message)
    return _detail(job)


@login_required
@require_POST
def import_discard_view(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_or_404(request, pk)
    try:
        import_discard(actor=request.user, job=job)
    except DomainError as error:
        messages.error(request, error.message)
        return _detail(job)
    messages.success(request, _("The file was discarded; nothing was imported."))
    return redirect("imports:list")


@login_required
def import_undo_view(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_or_404(request, pk)
    if request.method == "POST":
        try:
            import_undo(actor=request.user, job=job)
        except DomainError as error:
            messages.error(request, error.message)
        return _detail(job)
    if not undo_available(job):
        messages.error(request, _("This import can no longer be undone."))
        return _detail(job)
    return _page(request, "imports/undo_confirm.html", {"job": job})


@login_required
def import_report_view(request: HttpRequest, pk: int) -> HttpResponse:
    return report_response(_job_or_404(request, pk))


def report_response(job: ImportJob) -> HttpResponse:
    """The rejected rows as CSV (the web page's and the API's download): row, column,
    reason, code, then the row's cells under the file's own headers; formula-safe."""
    from crm.csv_export import csv_response

    header = [_("Row"), _("Column"), _("Reason"), _("Code"), *job.headers]
    rows = (
        [row.row_number, row.column, row.reason, row.code, *row.values]
        for row in rejected_rows(job=job).iterator(chunk_size=2000)
    )
    return csv_response(name=f"import-{job.pk}-rejected", header=header, rows=rows)
