"""Settings → Workspace, Pipelines and stages, Lead forms: thin views over
crm.services, crm.deals.services and crm.leads.services (administrators only; the
services check it again and validate every field)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import roles
from accounts.seats import access_settings
from crm.deals.selectors import pipeline_get, pipeline_list, stage_get
from crm.deals.services import (
    pipeline_create,
    pipeline_delete,
    pipeline_rename,
    pipeline_set_default,
    stage_add,
    stage_delete,
    stage_rename,
    stages_reorder,
)
from crm.leads.selectors import lead_form_get, lead_form_list
from crm.leads.services import lead_form_create, lead_form_snippet, lead_form_update
from crm.selectors import workspace_settings
from crm.services import workspace_settings_update
from crm.settings_pages.forms import (
    LeadFormSettingsForm,
    PipelineForm,
    StageForm,
    StageRemoveForm,
    WorkspaceForm,
)
from crm.settings_pages.pages import admin_page, form_errors_from, page

# --- workspace ---------------------------------------------------------------------------


@admin_page(roles.SETTINGS, section="workspace")
def workspace_view(request: HttpRequest) -> HttpResponse:
    current, seats = workspace_settings(), access_settings()
    initial = {
        "base_currency": current.base_currency,
        "default_phone_region": current.default_phone_region,
        "time_zone": current.time_zone,
        "language": request.tenant.language,
        "lead_followup_minutes": current.lead_followup_minutes,
        "stale_deal_days": current.stale_deal_days,
        "idle_timeout_minutes": seats.idle_timeout_minutes,
        "allow_parallel_sessions": seats.allow_parallel_sessions,
    }
    form = WorkspaceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            workspace_settings_update(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Workspace settings saved."))
            return redirect("settings:workspace")
    return page(request, "settings/workspace.html", {"form": form}, status=400 if form.errors else 200)


# --- pipelines and stages ------------------------------------------------------------------


def _orders(stages: list) -> list[dict]:
    """Per stage, the whole order after moving it one place up or down (what the
    arrow buttons send), so reordering works without JavaScript."""
    ids = [stage.pk for stage in stages]
    rows = []
    for index, stage in enumerate(stages):
        up = down = ""
        if index > 0:
            moved = ids[:]
            moved[index - 1], moved[index] = moved[index], moved[index - 1]
            up = ",".join(map(str, moved))
        if index + 1 < len(ids):
            moved = ids[:]
            moved[index + 1], moved[index] = moved[index], moved[index + 1]
            down = ",".join(map(str, moved))
        rows.append({"stage": stage, "up": up, "down": down})
    return rows


@admin_page(roles.SETTINGS, section="pipelines")
def pipelines_view(request: HttpRequest) -> HttpResponse:
    form = PipelineForm(request.POST or None, prefix="new")
    if request.method == "POST" and form.is_valid():
        try:
            pipeline = pipeline_create(actor=request.user, name=form.cleaned_data["name"])
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Pipeline “%(name)s” created.") % {"name": pipeline.name})
            return redirect("settings:pipelines")
    pipelines = [
        {
            "pipeline": pipeline,
            "stages": _orders(list(pipeline.stages.all())),
            "stage_form": StageForm(prefix=f"p{pipeline.pk}"),
        }
        for pipeline in pipeline_list(actor=request.user)
    ]
    context = {"pipelines": pipelines, "form": form}
    return page(request, "settings/pipelines.html", context, status=400 if form.errors else 200)


@require_POST
@admin_page(roles.SETTINGS, section="pipelines")
def pipeline_change_view(request: HttpRequest, pipeline_id: int) -> HttpResponse:
    """One pipeline's buttons: rename, make default, delete, reorder, add a stage."""
    pipeline = pipeline_get(actor=request.user, pipeline_id=pipeline_id)
    action = request.POST.get("action", "")
    try:
        if action == "rename":
            pipeline_rename(actor=request.user, pipeline=pipeline, name=request.POST.get("name", ""))
            messages.success(request, _("Pipeline renamed."))
        elif action == "default":
            pipeline_set_default(actor=request.user, pipeline=pipeline)
            messages.success(request, _("“%(name)s” is now the default pipeline.") % {"name": pipeline.name})
        elif action == "delete":
            pipeline_delete(actor=request.user, pipeline=pipeline)
            messages.success(request, _("Pipeline “%(name)s” deleted.") % {"name": pipeline.name})
        elif action == "reorder":
            order = [part for part in request.POST.get("stage_ids", "").split(",") if part.strip().isdigit()]
            stages_reorder(actor=request.user, pipeline=pipeline, stage_ids=[int(part) for part in order])
            messages.success(request, _("Stage order saved."))
        elif action == "add_stage":
            form = StageForm(request.POST, prefix=f"p{pipeline.pk}")
            if not form.is_valid():
                raise ValidationError(form.errors.as_data())
            stage = stage_add(
                actor=request.user,
                pipeline=pipeline,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                win_probability=form.cleaned_data["win_probability"],
            )
            messages.success(request, _("Stage “%(name)s” added.") % {"name": stage.name})
        else:
            messages.error(request, _("Choose what to change."))
    except ValidationError as error:
        for problems in error.message_dict.values():
            for problem in problems:
                messages.error(request, problem)
    return redirect(f"{_pipelines_url()}#pipeline-{pipeline.pk}")


def _pipelines_url() -> str:
    return reverse("settings:pipelines")


@require_POST
@admin_page(roles.SETTINGS, section="pipelines")
def stage_rename_view(request: HttpRequest, stage_id: int) -> HttpResponse:
    stage = stage_get(actor=request.user, stage_id=stage_id)
    try:
        stage_rename(actor=request.user, stage=stage, name=request.POST.get("name", ""))
    except ValidationError as error:
        for problems in error.message_dict.values():
            for problem in problems:
                messages.error(request, problem)
    else:
        messages.success(request, _("Stage renamed."))
    return redirect(f"{_pipelines_url()}#pipeline-{stage.pipeline_id}")


@admin_page(roles.SETTINGS, section="pipelines")
def stage_remove_view(request: HttpRequest, stage_id: int) -> HttpResponse:
    """GET asks where the stage's deals go; POST removes the stage and moves them."""
    stage = stage_get(actor=request.user, stage_id=stage_id)
    others = stage.pipeline.stages.exclude(pk=stage.pk).order_by("position")
    form = StageRemoveForm(request.POST or None, stages=others)
    if request.method == "POST" and form.is_valid():
        try:
            moved = stage_delete(actor=request.user, stage=stage, move_deals_to=form.cleaned_data["move_deals_to"])
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(
                request,
                _("Stage “%(name)s” removed. Deals moved: %(count)d.") % {"name": stage.name, "count": moved},
            )
            return redirect("settings:pipelines")
    return page(
        request, "settings/stage_remove.html", {"stage": stage, "form": form}, status=400 if form.errors else 200
    )


# --- lead forms ----------------------------------------------------------------------------


@admin_page(roles.SETTINGS, section="lead_forms")
def lead_forms_view(request: HttpRequest) -> HttpResponse:
    form = LeadFormSettingsForm(request.POST or None, initial={"owner": request.user, "is_active": True})
    if request.method == "POST" and form.is_valid():
        data = form.service_arguments()
        data.pop("is_active")
        try:
            created = lead_form_create(actor=request.user, **data)
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(
                request, _("Lead form “%(name)s” created. Copy its snippet below.") % {"name": created.name}
            )
            return redirect("settings:lead_form", form_id=created.pk)
    context = {"lead_forms": list(lead_form_list(actor=request.user)), "form": form}
    return page(request, "settings/lead_forms.html", context, status=400 if form.errors else 200)


@admin_page(roles.SETTINGS, section="lead_forms")
def lead_form_view(request: HttpRequest, form_id: int) -> HttpResponse:
    lead_form = lead_form_get(actor=request.user, form_id=form_id)
    initial = {
        "name": lead_form.name,
        "allowed_origins": "\n".join(lead_form.allowed_origins),
        "assignment": lead_form.assignment,
        "owner": lead_form.owner,
        "round_robin_users": list(lead_form.round_robin_users.all()),
        "thank_you_text": lead_form.thank_you_text,
        "redirect_url": lead_form.redirect_url,
        "is_active": lead_form.is_active,
    }
    form = LeadFormSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            lead_form_update(actor=request.user, form=lead_form, **form.service_arguments())
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Lead form saved."))
            return redirect("settings:lead_form", form_id=lead_form.pk)
    snippet = lead_form_snippet(lead_form, request.build_absolute_uri("/"))
    context = {"lead_form": lead_form, "form": form, "snippet": snippet}
    return page(request, "settings/lead_form.html", context, status=400 if form.errors else 200)
