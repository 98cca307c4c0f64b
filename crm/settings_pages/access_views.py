"""Settings → Seats, Users and invitations, Roles, Teams: thin views over
accounts.seats, accounts.services and accounts.selectors (which check the powers,
guard against escalation and write the audit log)."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import roles
from accounts.audit import action_label
from accounts.models import SeatType
from accounts.seats import (
    seat_assign,
    seat_holders,
    seat_lease_force_release,
    seat_overview,
    seat_usage_history,
)
from accounts.selectors import (
    audit_entry_list,
    invitation_get,
    invitation_list,
    role_get,
    role_list,
    team_get_for_admin,
    team_list,
    user_get,
    user_list,
)
from accounts.services import (
    invitation_create,
    invitation_revoke,
    role_create,
    role_delete,
    role_update,
    team_create,
    team_delete,
    team_update,
    user_set_active,
    user_set_role,
)
from crm.charts import column_chart
from crm.csv_export import csv_response
from crm.settings_pages.forms import (
    ACTION_LABELS,
    AuditFilterForm,
    InvitationForm,
    PeopleFilterForm,
    RoleForm,
    TeamForm,
    UserChangeForm,
)
from crm.settings_pages.pages import admin_page, forbidden, form_errors_from, page, sections_for

HISTORY_DAYS = 30
PEOPLE_PAGE_SIZE = 50


def settings_index(request: HttpRequest) -> HttpResponse:
    """The first settings section the person may open; 403 when none."""
    if not request.user.is_authenticated:
        return redirect(f"/login/?next={request.path}")
    sections = sections_for(request.user)
    if not sections:
        return forbidden(request, roles.SETTINGS)
    return redirect(sections[0]["url"])


# --- seats -------------------------------------------------------------------------------


def _usage_days(days: int) -> list[tuple[str, int, object]]:
    """(short label, peak, day) for each of the last `days` days, days without use at 0."""
    peaks = {row.day: row.peak_concurrent for row in seat_usage_history(days=days)}
    today = timezone.localdate()
    result = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        result.append((date_format(day, "SHORT_DATE_FORMAT"), peaks.get(day, 0), day))
    return result


@admin_page(roles.SEATS, section="seats")
def seats_view(request: HttpRequest) -> HttpResponse:
    overview = seat_overview()
    usage = _usage_days(HISTORY_DAYS)
    chart = column_chart(
        [(label, peak) for label, peak, _day in usage],
        limit=overview.concurrent_total,
        rtl=translation.get_language_bidi(),
    )
    context = {
        "overview": overview,
        "holders": list(seat_holders()),
        "chart": chart,
        "usage": usage,
        "busiest": max((peak for _label, peak, _day in usage), default=0),
        "days": HISTORY_DAYS,
    }
    return page(request, "settings/seats.html", context)


def _held_lease(lease_id: int):
    lease = seat_holders().filter(pk=lease_id).first()
    if lease is None:
        raise Http404(_("This seat is not held any more."))
    return lease


@admin_page(roles.SEATS, section="seats")
def seat_release_view(request: HttpRequest, lease_id: int) -> HttpResponse:
    """GET asks for confirmation; POST frees the seat (the holder must sign in again)."""
    lease = _held_lease(lease_id)
    if request.method == "POST":
        seat_lease_force_release(actor=request.user, lease=lease)
        messages.success(
            request, _("The seat of %(name)s is free. They must sign in again.") % {"name": lease.user.full_name}
        )
        return redirect("settings:seats")
    return page(request, "settings/seat_release.html", {"lease": lease})


# --- users and invitations ---------------------------------------------------------------


@admin_page(roles.USERS, section="users")
def users_view(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invitation, _token = invitation_create(
                actor=request.user,
                email=data["email"],
                full_name=data["full_name"],
                role=data["role"],
                seat_type=data["seat_type"],
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
            return redirect("settings:users")
    people_filter = PeopleFilterForm(request.GET or None)
    filters = people_filter.selector_filters() if people_filter.is_bound and people_filter.is_valid() else {}
    people = Paginator(user_list(actor=request.user, **filters), PEOPLE_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "people": people,
        "people_filter": people_filter,
        "people_filtered": any(value is not None for value in filters.values()),
        "people_query": query.urlencode(),
        "invitations": list(invitation_list(actor=request.user, open_only=True)),
        "invite_form": form,
        "roles": list(role_list(actor=request.user)),
        "seat_types": SeatType.choices,
        "now": timezone.now(),
    }
    return page(request, "settings/users.html", context, status=400 if form.errors else 200)


@require_POST
@admin_page(roles.USERS, section="users")
def user_change_view(request: HttpRequest, user_id: int) -> HttpResponse:
    """Role, seat and active switch of one person, all or nothing."""
    person = user_get(actor=request.user, user_id=user_id)
    form = UserChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a role and a seat from the lists."))
        return redirect("settings:users")
    data = form.cleaned_data
    with transaction.atomic():
        if data["role"].pk != person.role_id:
            user_set_role(actor=request.user, user=person, role=data["role"])
        if data["seat_type"] != person.seat_type:
            seat_assign(actor=request.user, user=person, seat_type=data["seat_type"])
        if data["is_active"] != person.is_active:
            user_set_active(actor=request.user, user=person, active=data["is_active"])
    messages.success(request, _("%(name)s is updated.") % {"name": person.full_name})
    return redirect("settings:users")


@require_POST
@admin_page(roles.USERS, section="users")
def invitation_revoke_view(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = invitation_get(actor=request.user, invitation_id=invitation_id)
    invitation_revoke(actor=request.user, invitation=invitation)
    messages.success(request, _("The invitation to %(email)s no longer works.") % {"email": invitation.email})
    return redirect("settings:users")


# --- roles -------------------------------------------------------------------------------


@admin_page(roles.USERS, section="roles")
def roles_view(request: HttpRequest) -> HttpResponse:
    return page(request, "settings/roles.html", {"roles": list(role_list(actor=request.user))})


def _role_form_page(request: HttpRequest, form: RoleForm, role=None, *, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "role": role,
        "actions": [ACTION_LABELS[action] for action in roles.ACTIONS],
        "read_only": bool(role and role.is_system),
    }
    return page(request, "settings/role_form.html", context, status=status)


@admin_page(roles.USERS, section="roles")
def role_create_view(request: HttpRequest) -> HttpResponse:
    source = None
    if request.GET.get("from", "").isdigit():
        source = role_get(actor=request.user, role_id=int(request.GET["from"]))
    initial = {}
    if source is not None:
        initial = {
            "name": _("Copy of %(name)s") % {"name": source.name},
            "description": source.description,
            "capabilities": source.capabilities,
        }
    form = RoleForm(request.POST or None, initial=initial, permissions=source.permissions if source else None)
    if request.method == "POST" and form.is_valid():
        try:
            role = role_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                permissions=form.permissions(),
                capabilities=form.cleaned_data["capabilities"],
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Role “%(name)s” created.") % {"name": role.name})
            return redirect("settings:roles")
    return _role_form_page(request, form, status=400 if form.errors else 200)


@admin_page(roles.USERS, section="roles")
def role_edit_view(request: HttpRequest, role_id: int) -> HttpResponse:
    role = role_get(actor=request.user, role_id=role_id)
    initial = {"name": role.name, "description": role.description, "capabilities": role.capabilities}
    form = RoleForm(request.POST or None, initial=initial, permissions=role.permissions)
    if request.method == "POST" and form.is_valid():
        try:
            role_update(
                actor=request.user,
                role=role,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                permissions=form.permissions(),
                capabilities=form.cleaned_data["capabilities"],
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Role “%(name)s” saved.") % {"name": role.name})
            return redirect("settings:roles")
    return _role_form_page(request, form, role, status=400 if form.errors else 200)


@require_POST
@admin_page(roles.USERS, section="roles")
def role_delete_view(request: HttpRequest, role_id: int) -> HttpResponse:
    role = role_get(actor=request.user, role_id=role_id)
    role_delete(actor=request.user, role=role)
    messages.success(request, _("Role “%(name)s” deleted.") % {"name": role.name})
    return redirect("settings:roles")


# --- teams -------------------------------------------------------------------------------


@admin_page(roles.USERS, section="teams")
def teams_view(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            team = team_create(
                actor=request.user, name=data["name"], manager=data["manager"], members=list(data["members"])
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Team “%(name)s” created.") % {"name": team.name})
            return redirect("settings:teams")
    context = {"teams": list(team_list(actor=request.user)), "form": form}
    return page(request, "settings/teams.html", context, status=400 if form.errors else 200)


@admin_page(roles.USERS, section="teams")
def team_edit_view(request: HttpRequest, team_id: int) -> HttpResponse:
    team = team_get_for_admin(actor=request.user, team_id=team_id)
    initial = {"name": team.name, "manager": team.manager, "members": list(team.members.all())}
    form = TeamForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            team_update(
                actor=request.user,
                team=team,
                name=data["name"],
                manager=data["manager"],
                clear_manager=data["manager"] is None,
                members=list(data["members"]),
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Team “%(name)s” saved.") % {"name": data["name"]})
            return redirect("settings:teams")
    return page(request, "settings/team_form.html", {"team": team, "form": form}, status=400 if form.errors else 200)


@require_POST
@admin_page(roles.USERS, section="teams")
def team_delete_view(request: HttpRequest, team_id: int) -> HttpResponse:
    team = team_get_for_admin(actor=request.user, team_id=team_id)
    team_delete(actor=request.user, team=team)
    messages.success(request, _("Team “%(name)s” deleted.") % {"name": team.name})
    return redirect("settings:teams")


# --- audit log ---------------------------------------------------------------------------

AUDIT_PAGE_SIZE = 50


@admin_page(roles.USERS, section="audit")
def audit_view(request: HttpRequest) -> HttpResponse:
    """Who changed access, when, what and from where: filterable, paged, downloadable."""
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return page(request, "settings/audit.html", {"form": form, "entries": []}, status=400)
    filters = {key: value for key, value in (form.cleaned_data if form.is_bound else {}).items() if value}
    if "person" in filters:
        filters["person_id"] = filters.pop("person").pk
    if request.GET.get("format") == "csv":
        return _audit_csv(audit_entry_list(actor=request.user, **filters))
    before = request.GET.get("before", "")
    entries = list(
        audit_entry_list(actor=request.user, before_id=int(before) if before.isdigit() else None, **filters)[
            : AUDIT_PAGE_SIZE + 1
        ]
    )
    more = len(entries) > AUDIT_PAGE_SIZE
    entries = entries[:AUDIT_PAGE_SIZE]
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "form": form,
        "entries": [(entry, action_label(entry.action)) for entry in entries],
        "filtered": bool(filters),
        "first_page": not before,
        "first_page_query": query.urlencode(),
        "older_query": _with(query, before=entries[-1].pk) if more else "",
        "csv_query": _with(query, format="csv"),
    }
    return page(request, "settings/audit.html", context)


def _with(query, **values) -> str:
    query = query.copy()
    for key, value in values.items():
        query[key] = str(value)
    return query.urlencode()


def _audit_csv(entries) -> HttpResponse:
    header = [
        _("When (UTC)"),
        _("Who"),
        _("What"),
        _("Action code"),
        _("Record"),
        _("Changes"),
        _("IP address"),
        _("Browser"),
    ]
    rows = (
        [
            entry.created_at.isoformat(),
            entry.actor_label,
            action_label(entry.action),
            entry.action,
            entry.target_label,
            json.dumps(entry.changes, ensure_ascii=False, sort_keys=True) if entry.changes else "",
            entry.ip_address or "",
            entry.user_agent,
        ]
        for entry in entries.iterator(chunk_size=2000)
    )
    return csv_response(name="audit-log", header=header, rows=rows)
