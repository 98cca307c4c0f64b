"""Settings → Custom fields: one tab per record type, the fields in their order, add and
edit (labels per language, choices with translations), reorder, remove (restorable for 30
days) and restore. Thin views over crm.custom_fields.services (administrators only; the
services check it again and validate every field).

Reordering works without JavaScript (each arrow posts and the page comes back); with
HTMX only the list is redrawn and the focus returns to the moved field's arrow.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import roles
from crm.custom_fields.models import Entity, FieldKind
from crm.custom_fields.selectors import (
    custom_field_get,
    custom_field_purge_date,
    custom_fields_for,
    custom_fields_removed,
)
from crm.custom_fields.services import (
    custom_field_create,
    custom_field_remove,
    custom_field_restore,
    custom_field_update,
    custom_fields_reorder,
)
from crm.errors import DomainError
from crm.settings_pages.custom_field_forms import (
    CHOICE_ROWS_EXTRA,
    CustomFieldForm,
    choice_rows,
    choices_given,
    has_choices,
)
from crm.settings_pages.pages import admin_page, form_errors_from, page

SECTION = "custom_fields"
FORM_FIELDS = {"label_translations": "__all__", "choices": "__all__", "entity": "__all__"}


def _entity(request: HttpRequest) -> str:
    entity = request.GET.get("entity") or request.POST.get("entity") or Entity.CONTACT
    return entity if entity in Entity.values else Entity.CONTACT


def _list_url(entity: str) -> str:
    return f"{reverse('settings:custom_fields')}?entity={entity}"


def _rows(fields: list) -> list[dict[str, Any]]:
    return [
        {"field": field, "first": index == 0, "last": index == len(fields) - 1} for index, field in enumerate(fields)
    ]


def _list_context(entity: str, *, moved: str = "") -> dict[str, Any]:
    fields = custom_fields_for(entity)
    removed = [{"field": field, "until": custom_field_purge_date(field)} for field in custom_fields_removed(entity)]
    return {
        "entity": entity,
        "tabs": [(value, label) for value, label in Entity.choices],
        "rows": _rows(fields),
        "removed": removed,
        "moved": moved,
    }


@admin_page(roles.SETTINGS, section=SECTION)
def custom_fields_view(request: HttpRequest) -> HttpResponse:
    return page(request, "settings/custom_fields.html", _list_context(_entity(request)))


@require_POST
@admin_page(roles.SETTINGS, section=SECTION)
def custom_field_move_view(request: HttpRequest) -> HttpResponse:
    """Move one field up or down (the whole new order goes to the service)."""
    entity = _entity(request)
    ids = [field.pk for field in custom_fields_for(entity)]
    try:
        moving = int(request.POST.get("field", ""))
    except ValueError:
        moving = 0
    direction = request.POST.get("direction", "")
    status = ""
    if moving in ids and direction in ("up", "down"):
        index = ids.index(moving)
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(ids):
            ids[index], ids[other] = ids[other], ids[index]
            custom_fields_reorder(actor=request.user, entity=entity, field_ids=ids)
            status = _("Order saved.")
    if not request.htmx:
        if status:
            messages.success(request, status)
        return redirect(_list_url(entity))
    context = _list_context(entity, moved=f"{direction}-{moving}")
    return render(request, "settings/_custom_field_list.html", {**context, "status": status})


def _save(request: HttpRequest, *, entity: str, field=None) -> tuple[Any, CustomFieldForm, Any]:
    """(the saved field or None, the form, the choices editor)."""
    form = CustomFieldForm(request.POST or None, field=field)
    if request.method != "POST":
        return None, form, choice_rows(choices=field.choices if field is not None else [])
    rows = choice_rows(request.POST)
    if "more_choices" in request.POST:
        # The same page with three more empty choice rows (works without JavaScript).
        rows.is_valid()
        form.is_valid()
        return None, form, choice_rows(choices=choices_given(rows), extra=CHOICE_ROWS_EXTRA)
    if not (form.is_valid() and rows.is_valid()):
        return None, form, rows
    arguments = form.service_arguments()
    kind = field.kind if field is not None else arguments["kind"]
    try:
        if field is None:
            saved = custom_field_create(
                actor=request.user, entity=entity, choices=choices_given(rows) if has_choices(kind) else (), **arguments
            )
        else:
            if has_choices(kind):
                arguments["choices"] = choices_given(rows)
            saved = custom_field_update(actor=request.user, field=field, **arguments)
    except ValidationError as error:
        form_errors_from(form, error, fields=FORM_FIELDS)
        return None, form, rows
    except DomainError as refused:
        form.add_error(None, refused.message)
        return None, form, rows
    return saved, form, rows


@admin_page(roles.SETTINGS, section=SECTION)
def custom_field_create_view(request: HttpRequest) -> HttpResponse:
    entity = _entity(request)
    saved, form, rows = _save(request, entity=entity)
    if saved is not None:
        messages.success(request, _("Field “%(label)s” added.") % {"label": saved.label_in()})
        return redirect(_list_url(entity))
    context = {"form": form, "rows": rows, "entity": entity, "entity_label": Entity(entity).label, "kinds": FieldKind}
    return page(request, "settings/custom_field_form.html", context, status=400 if form.errors else 200)


@admin_page(roles.SETTINGS, section=SECTION)
def custom_field_edit_view(request: HttpRequest, field_id: int) -> HttpResponse:
    field = custom_field_get(field_id)
    saved, form, rows = _save(request, entity=field.entity, field=field)
    if saved is not None:
        messages.success(request, _("Field “%(label)s” saved.") % {"label": saved.label_in()})
        return redirect(_list_url(field.entity))
    context = {
        "form": form,
        "rows": rows if has_choices(field.kind) else None,
        "field": field,
        "entity": field.entity,
        "entity_label": Entity(field.entity).label,
    }
    return page(request, "settings/custom_field_form.html", context, status=400 if form.errors else 200)


@admin_page(roles.SETTINGS, section=SECTION)
def custom_field_remove_view(request: HttpRequest, field_id: int) -> HttpResponse:
    """GET asks to confirm; POST removes (the values stay restorable for 30 days)."""
    field = custom_field_get(field_id)
    if request.method == "POST":
        removed = custom_field_remove(actor=request.user, field=field)
        messages.success(
            request,
            _("Field “%(label)s” removed. You can restore it with its values until %(date)s.")
            % {"label": removed.label_in(), "date": _date(custom_field_purge_date(removed))},
        )
        return redirect(_list_url(field.entity))
    return page(request, "settings/custom_field_remove.html", {"field": field})


@require_POST
@admin_page(roles.SETTINGS, section=SECTION)
def custom_field_restore_view(request: HttpRequest, field_id: int) -> HttpResponse:
    field = custom_field_get(field_id, include_removed=True)
    restored = custom_field_restore(actor=request.user, field=field)
    messages.success(request, _("Field “%(label)s” restored with its values.") % {"label": restored.label_in()})
    return redirect(_list_url(field.entity))


def _date(value) -> str:
    from django.utils import formats, timezone

    return formats.date_format(timezone.localtime(value), "DATE_FORMAT") if value else ""
