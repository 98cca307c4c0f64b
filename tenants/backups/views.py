"""The Backups page of a tenant host (`/backups/`), for people whose role may back up and
restore. Every lookup goes through the selectors with the request's tenant, so another
workspace's backup or job answers 404 like a missing one."""

from __future__ import annotations

import json
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import roles
from accounts.errors import PermissionRefused
from accounts.policy import has_capability
from crm.errors import RecordNotFound
from tenants.backups import exports, selectors, services
from tenants.backups.errors import BackupError, BackupNotFound
from tenants.backups.models import JobKind


def backups_admin(view):
    """Signed in, on a tenant host, with the `backups` power; else 403 (never a 500)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not has_capability(request.user, roles.BACKUPS):
            return render(
                request,
                "backups/forbidden.html",
                {
                    "reason": _("Your role doesn't allow this (%(power)s). Ask a workspace administrator.")
                    % {"power": roles.CAPABILITY_LABELS[roles.BACKUPS]}
                },
                status=403,
            )
        try:
            return view(request, *args, **kwargs)
        except BackupNotFound as missing:
            raise Http404(missing.message) from missing
        except (BackupError, PermissionRefused) as refused:
            messages.error(request, refused.message)
            return redirect("backups:list")

    return wrapped


@require_GET
@backups_admin
def backup_list_view(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    backups = list(selectors.backup_list(tenant=tenant)[:200])
    plan = tenant.plan
    context = {
        "backups": backups,
        "jobs": selectors.job_list(tenant=tenant),
        "plan": plan,
        "manual_used": services.manual_backups_used(tenant=tenant),
        "manual_allowed": plan.manual_backups_per_day if plan else 0,
        "busy": any(backup.status in ("queued", "running") for backup in backups),
    }
    return render(request, "backups/list.html", context)


@require_POST
@backups_admin
def backup_create_view(request: HttpRequest) -> HttpResponse:
    services.backup_request(actor=request.user, tenant=request.tenant)
    messages.success(request, _("Backup started. It appears in the list when it is ready."))
    return redirect("backups:list")


@require_GET
@backups_admin
def backup_rows_view(request: HttpRequest) -> HttpResponse:
    """The list's rows, polled by HTMX while a backup is being made."""
    backups = list(selectors.backup_list(tenant=request.tenant)[:200])
    busy = any(backup.status in ("queued", "running") for backup in backups)
    return render(request, "backups/_rows.html", {"backups": backups, "busy": busy})


@require_GET
@backups_admin
def backup_download_view(request: HttpRequest, backup_id: int) -> HttpResponse:
    backup = selectors.backup_get(tenant=request.tenant, backup_id=backup_id)
    handle = services.backup_download_open(actor=request.user, backup=backup)
    name = f"{request.tenant.slug}-{backup.created_at:%Y%m%d-%H%M%S}-{backup.kind}.crmbackup"
    return FileResponse(handle, as_attachment=True, filename=name, content_type="application/octet-stream")


@backups_admin
def backup_restore_view(request: HttpRequest, backup_id: int) -> HttpResponse:
    """Confirm first (GET shows what will happen), then start (POST)."""
    backup = selectors.backup_get(tenant=request.tenant, backup_id=backup_id)
    sandbox = request.GET.get("sandbox") == "1" or request.POST.get("sandbox") == "1"
    if request.method == "POST":
        if not sandbox and request.POST.get("confirm") != request.tenant.slug:
            messages.error(request, _("Type the workspace address to confirm."))
            return render(request, "backups/restore_confirm.html", {"backup": backup, "sandbox": sandbox}, status=400)
        job = services.restore_request(actor=request.user, backup=backup, sandbox=sandbox)
        return redirect("backups:job", job_id=job.pk)
    return render(request, "backups/restore_confirm.html", {"backup": backup, "sandbox": sandbox})


@require_POST
@backups_admin
def backup_delete_view(request: HttpRequest, backup_id: int) -> HttpResponse:
    backup = selectors.backup_get(tenant=request.tenant, backup_id=backup_id)
    services.backup_delete(actor=request.user, backup=backup)
    messages.success(request, _("Backup deleted."))
    return redirect("backups:list")


@require_POST
@backups_admin
def export_create_view(request: HttpRequest) -> HttpResponse:
    job = exports.export_request(actor=request.user)
    return redirect("backups:job", job_id=job.pk)


@require_GET
@backups_admin
def job_view(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.job_get(tenant=request.tenant, job_id=job_id)
    template = "backups/_job.html" if request.htmx else "backups/job.html"
    return render(request, template, {"job": job, "stage": selectors.stage_text(job.stage)})


@require_GET
@backups_admin
def export_download_view(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.job_get(tenant=request.tenant, job_id=job_id)
    if job.kind != JobKind.EXPORT or not job.output_name:
        raise Http404
    handle = services.export_download_open(actor=request.user, job=job)
    name = f"{request.tenant.slug}-export-{job.created_at:%Y%m%d-%H%M%S}.zip"
    return FileResponse(handle, as_attachment=True, filename=name, content_type="application/zip")


@require_GET
@backups_admin
def contact_export_view(request: HttpRequest, contact_id: int) -> HttpResponse:
    try:
        data = exports.contact_export(actor=request.user, contact_id=contact_id)
    except RecordNotFound as missing:
        raise Http404(missing.message) from missing
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=1, default=str), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="contact-{contact_id}.json"'
    return response


@require_GET
def maintenance_status_view(request: HttpRequest) -> HttpResponse:
    """Polled by the maintenance page; reached only once maintenance is over: reload."""
    response = HttpResponse(_("Done. Reloading…"))
    response["HX-Refresh"] = "true"
    return response
