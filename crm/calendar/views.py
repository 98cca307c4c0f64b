"""The calendar page (`/calendar/`: month, week and day views of tasks), moving a task by
dragging it or with its "Move to" form, and the person's iCalendar feed.

Times are the reader's (accounts.time_zone activates their zone for the request). A task
moved in the calendar goes through `task_reschedule`, so a closed task or one the person
may not edit is refused here as everywhere else. The feed is read by calendar programs
without a session: its secret address is the only key, and it takes no seat.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from datetime import date
from functools import cache
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from accounts import roles
from accounts.models import User
from accounts.policy import scope_for
from crm.activities.models import Task
from crm.activities.selectors import task_get
from crm.activities.services import task_reschedule
from crm.calendar import ical
from crm.calendar.selectors import (
    VIEWS,
    Period,
    calendar_feed_by_secret,
    calendar_feed_live,
    calendar_period,
    calendar_tasks,
    feed_tasks,
)
from crm.calendar.services import calendar_feed_create, calendar_feed_read, calendar_feed_revoke
from crm.cards import DATETIME_INPUT
from crm.errors import DomainError, RecordNotFound

HOURS = range(24)
# A month cell lists this many tasks, then "+N more" opens the day.
MONTH_CELL_SHOWN = 4
VIEW_LABELS = {"month": gettext_lazy("Month"), "week": gettext_lazy("Week"), "day": gettext_lazy("Day")}


class MoveForm(forms.Form):
    due_at = forms.DateTimeField(label=gettext_lazy("Move to"), widget=DATETIME_INPUT)


def _first_weekday() -> int:
    """Python's weekday number (0 = Monday) the reader's locale starts weeks on."""
    return (int(formats.get_format("FIRST_DAY_OF_WEEK")) - 1) % 7


def _anchor(text: str) -> date:
    try:
        return date.fromisoformat(text) if text else timezone.localdate()
    except ValueError:
        return timezone.localdate()


def _may_see_others(user: User) -> bool:
    return scope_for(user, "task", "view") in (roles.TEAM, roles.ALL)


def _owner_choice(request: HttpRequest) -> tuple[str, User | None]:
    """("me" | "all" | "<id>", the owner whose tasks to show or None for everyone visible)."""
    wanted = request.GET.get("owner", "me")
    if wanted == "all" and _may_see_others(request.user):
        return "all", None
    if wanted.isdigit() and _may_see_others(request.user):
        person = User.objects.filter(pk=int(wanted), is_active=True, is_integration=False).first()
        if person is not None:
            return str(person.pk), person
    return "me", request.user


def _link(task: Task) -> str:
    for kind, namespace in (("deal", "deals"), ("contact", "contacts"), ("company", "companies"), ("lead", "leads")):
        record_id = getattr(task, f"{kind}_id")
        if record_id:
            return reverse(f"{namespace}:detail", args=[record_id])
    return reverse("tasks:list") + "?" + urlencode({"q": task.title[:100]})


def _entries_by_day(tasks: list[Task]) -> dict[date, list[Task]]:
    by_day: dict[date, list[Task]] = defaultdict(list)
    for task in tasks:
        task.local_due = timezone.localtime(task.due_at)
        task.card_url = _link(task)
        task.move_form = MoveForm(initial={"due_at": task.local_due}, prefix=f"t{task.pk}")
        by_day[task.local_due.date()].append(task)
    return by_day


def _grid_context(request: HttpRequest) -> dict[str, Any]:
    view = request.GET.get("view") if request.GET.get("view") in VIEWS else "week"
    period = calendar_period(view=view, anchor=_anchor(request.GET.get("date", "")), first_weekday=_first_weekday())
    owner_key, owner = _owner_choice(request)
    tasks, more = calendar_tasks(actor=request.user, period=period, owner=owner)
    by_day = _entries_by_day(tasks)
    today = timezone.localdate()
    days = [
        {
            "date": day,
            "today": day == today,
            "outside": view == "month" and day.month != period.anchor.month,
            "entries": by_day.get(day, []),
            "shown": by_day.get(day, [])[:MONTH_CELL_SHOWN] if view == "month" else by_day.get(day, []),
            "more": max(0, len(by_day.get(day, [])) - MONTH_CELL_SHOWN) if view == "month" else 0,
            "day_url": _page_url(view="day", day=day, owner=owner_key),
        }
        for day in period.days
    ]
    hours = []
    if view == "day":
        entries = by_day.get(period.first, [])
        hours = [{"hour": hour, "entries": [task for task in entries if task.local_due.hour == hour]} for hour in HOURS]
    return {
        "period": period,
        "view": view,
        "days": days,
        "weeks": [days[start : start + 7] for start in range(0, len(days), 7)] if view == "month" else [],
        "hours": hours,
        "more_than_limit": more,
        "owner_key": owner_key,
        "total": len(tasks),
        "grid_url": request.get_full_path(),
        "title": _period_title(period),
    }


def _period_title(period: Period) -> str:
    if period.view == "month":
        return formats.date_format(period.anchor, "YEAR_MONTH_FORMAT")
    if period.view == "day":
        return formats.date_format(period.anchor, "DATE_FORMAT")
    first = formats.date_format(period.first, "MONTH_DAY_FORMAT")
    return f"{first} \N{EN DASH} {formats.date_format(period.last, 'DATE_FORMAT')}"


def _page_url(*, view: str, day: date, owner: str) -> str:
    return reverse("calendar:page") + "?" + urlencode({"view": view, "date": day.isoformat(), "owner": owner})


def _people(user: User) -> list[User]:
    if not _may_see_others(user):
        return []
    return list(User.objects.filter(is_active=True, is_integration=False).order_by("full_name", "id"))


@cache
def _zone_names() -> list[str]:
    return sorted(name for name in zoneinfo.available_timezones() if "/" in name or name == "UTC")


def _feed_context(request: HttpRequest, secret: str = "") -> dict[str, Any]:
    feed = calendar_feed_live(user=request.user)
    url = request.build_absolute_uri(reverse("calendar:feed", args=[secret])) if secret else ""
    return {"feed": feed, "feed_url": url}


@login_required
@require_safe
def calendar_view(request: HttpRequest) -> HttpResponse:
    context = _grid_context(request)
    if request.htmx and request.htmx.target == "calendar-grid":
        return render(request, "calendar/_grid.html", {**context, "partial": True})
    period = context["period"]
    context.update(
        {
            "views": [
                {
                    "key": key,
                    "label": VIEW_LABELS[key],
                    "url": _page_url(view=key, day=period.anchor, owner=context["owner_key"]),
                }
                for key in VIEWS
            ],
            "previous_url": _page_url(view=period.view, day=period.previous, owner=context["owner_key"]),
            "next_url": _page_url(view=period.view, day=period.next, owner=context["owner_key"]),
            "today_url": _page_url(view=period.view, day=timezone.localdate(), owner=context["owner_key"]),
            "people": _people(request.user),
            "zone": timezone.get_current_timezone_name(),
            "workspace_zone": getattr(getattr(request, "tenant", None), "time_zone", "UTC"),
            "zones": _zone_names(),
            **_feed_context(request),
        }
    )
    return render(request, "calendar/page.html", context)


@login_required
@require_POST
def task_move_view(request: HttpRequest, task_id: int) -> HttpResponse:
    """Move a task to the time posted (`t<id>-due_at`, the reader's local time)."""
    try:
        task = task_get(actor=request.user, task_id=task_id)
    except RecordNotFound as missing:
        raise Http404(missing.message) from missing
    form = MoveForm(request.POST, prefix=f"t{task.pk}")
    back = request.POST.get("next", "")
    if not back.startswith("/calendar/"):
        back = reverse("calendar:page")
    if form.is_valid():
        try:
            moved = task_reschedule(actor=request.user, task=task, due_at=form.cleaned_data["due_at"])
        except (ValidationError, DomainError) as refused:
            messages.error(request, _refusal_text(refused))
        else:
            when = formats.date_format(timezone.localtime(moved.due_at), "SHORT_DATETIME_FORMAT")
            messages.success(request, _("“%(title)s” moved to %(when)s.") % {"title": moved.title, "when": when})
    else:
        messages.error(request, _("Give the new date and time as shown, e.g. 2026-12-31 10:00."))
    return redirect(back)


def _refusal_text(refused: ValidationError | DomainError) -> str:
    if isinstance(refused, DomainError):
        return refused.message
    return " ".join(refused.messages)


@login_required
@require_POST
def feed_create_view(request: HttpRequest) -> HttpResponse:
    try:
        _feed, secret = calendar_feed_create(actor=request.user)
    except DomainError as refused:
        messages.error(request, refused.message)
        return redirect("calendar:page")
    # The secret is shown once, on this page; it is not stored.
    context = _feed_context(request, secret)
    return render(request, "calendar/feed_created.html", context)


@login_required
@require_POST
def feed_revoke_view(request: HttpRequest) -> HttpResponse:
    if calendar_feed_revoke(actor=request.user):
        messages.success(request, _("Your calendar address no longer works. Calendars subscribed to it stop updating."))
    return redirect("calendar:page")


@require_safe
def feed_view(request: HttpRequest, secret: str) -> HttpResponse:
    """The person's tasks as iCalendar; 404 for an unknown or revoked address."""
    feed = calendar_feed_by_secret(secret)
    if feed is None:
        raise Http404("No such calendar.")
    tasks = list(feed_tasks(user=feed.user))
    stamp = max((task.updated_at for task in tasks), default=feed.created_at)
    etag = f'W/"{feed.pk}-{len(tasks)}-{int(stamp.timestamp() * 1_000_000)}"'
    calendar_feed_read(feed=feed)
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified(headers={"ETag": etag})
    host = request.get_host().split(":")[0]
    base = f"{request.scheme}://{request.get_host()}"
    tenant = getattr(request, "tenant", None)
    name = _("%(workspace)s: tasks of %(person)s") % {
        "workspace": tenant.name if tenant is not None else "CRM",
        "person": feed.user.full_name or feed.user.email,
    }
    text = ical.calendar_text(
        tasks=tasks, user=feed.user, name=name, host=host, link_of=lambda task: base + _link(task)
    )
    response = HttpResponse(text, content_type="text/calendar; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = 'inline; filename="tasks.ics"'
    return response
