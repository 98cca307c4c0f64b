"""Record list pages (leads, contacts, companies, deals...): one engine, declared per list.

Each sub-app declares a `RecordList` (its selector, filters, sort keys, columns, CSV
columns and the services its bulk actions call) and its view hands the request here.
What every list gets, the same way:

- rows come from the sub-app's selector, which applies crm.access: a list shows exactly
  what the person may see; CSV export additionally keeps only what the role may export;
- keyset pagination ("next page" continues after the last row's sort values), so page
  1,000 costs what page 1 costs on a million rows, and a bounded count ("10,000+"),
  which never counts a million rows to print one number;
- bulk actions (assign owner, add tag, move to trash) call the sub-app's services record
  by record in one transaction; records the person may not change are skipped and
  counted, never half-written;
- saved views (crm.saved_views): a person's named filter sets.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import User
from crm import access
from crm.access import Action
from crm.csv_export import csv_response
from crm.errors import DomainError
from crm.history.services import history_batch
from crm.saved_views.selectors import saved_views_for

PAGE_SIZES = (25, 50, 100)
COUNT_CAP = 10_000
BULK_LIMIT = 100
# Parameters that are not filters (a saved view keeps filters and sort only).
NON_FILTER_PARAMS = {"after", "per_page", "format"}


@dataclass(frozen=True)
class Column:
    label: str
    sort: str = ""  # the sort key offered by clicking the header, if any


@dataclass(frozen=True)
class RecordList:
    key: str  # "leads": URL namespace, saved-view key, CSV file name
    title: str
    record_type: str  # crm.access record type
    filter_form: type[forms.Form]
    rows: Callable[[User, dict[str, Any]], QuerySet]  # (actor, cleaned filters) -> visible rows, unordered
    sorts: dict[str, tuple[str, ...]]  # sort key -> ORDER BY fields (all one direction, ending with id)
    columns: list[Column]
    row_template: str
    csv_columns: list[tuple[str, Callable[[Any], Any]]]
    assign: Callable[..., Any] | None = None  # (actor, record, owner) through the sub-app's service
    tag: Callable[..., Any] | None = None  # (actor, record, tag name)
    empty_text: str = ""
    bulk_actions: list[str] = field(default_factory=list)


def owner_choices() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=gettext_lazy("Owner"),
        queryset=User.objects.filter(is_active=True).order_by("full_name", "id"),
        required=False,
        empty_label=gettext_lazy("Anyone"),
    )


class BaseFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=200)
    sort = forms.CharField(required=False, widget=forms.HiddenInput)


# --- keyset pages -------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    next_after: str  # cursor for the next page ("" on the last)
    count: int  # at most COUNT_CAP + 1
    capped: bool
    is_first: bool


def _encode(values: list[Any]) -> str:
    raw = json.dumps([value.isoformat() if hasattr(value, "isoformat") else str(value) for value in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(text: str, model, order: tuple[str, ...]) -> list[Any] | None:
    """The sort values a cursor carries, or None for a broken cursor (first page then)."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())
        if not isinstance(raw, list) or len(raw) != len(order):
            return None
        return [
            model._meta.get_field(name.lstrip("-")).to_python(value) for name, value in zip(order, raw, strict=True)
        ]
    except (ValueError, TypeError, ValidationError, UnicodeDecodeError):
        return None


def _after(order: tuple[str, ...], values: list[Any]) -> Q:
    """Rows strictly after `values` in `order` (a row comparison written out for the ORM).

    The redundant range on the first key alone lets PostgreSQL start the index scan at
    the cursor: without it a page deep into a million names walked the index from its
    start (1.7 s)."""
    descending = order[0].startswith("-")
    names = [name.lstrip("-") for name in order]
    lookup = "lt" if descending else "gt"
    condition = Q()
    for position, name in enumerate(names):
        step = Q(**{f"{name}__{lookup}": values[position]})
        for earlier in range(position):
            step &= Q(**{names[earlier]: values[earlier]})
        condition |= step
    if values[0] is None:
        return condition
    return Q(**{f"{names[0]}__{lookup}e": values[0]}) & condition


def _page_ids(rows: QuerySet, order: tuple[str, ...], limit: int, *, few: bool) -> list[Any]:
    """The ids of the first `limit` rows in `order`.

    With many matches PostgreSQL walks the order's index and stops after a page. With
    few (`few`: the bounded count found at most COUNT_CAP), the matches are found first
    and only they are sorted: left to itself, PostgreSQL guessed that the matches of a
    search or a filter were spread evenly along the order and walked the index through
    hundreds of thousands of rows for them (a first name in-word: 2.6 s). `OFFSET 0`
    keeps the filter from being merged into the ordered walk.
    """
    if not few:
        return list(rows.order_by(*order).values_list("pk", flat=True)[:limit])
    names = [name.lstrip("-") for name in order]
    sql, params = rows.order_by().values_list("pk", *names).query.sql_with_params()
    columns = ", ".join(f"c{index}" for index in range(len(names) + 1))
    sort = ", ".join(
        f"c{index} {'DESC' if name.startswith('-') else 'ASC'}" for index, name in enumerate(order, start=1)
    )
    # Only the ORM's compiled SQL (its values stay parameters) and fixed column names.
    query = f"SELECT c0 FROM ({sql} OFFSET 0) AS matches ({columns}) ORDER BY {sort} LIMIT %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(query, [*params, limit])
        return [pk for (pk,) in cursor.fetchall()]


def keyset_page(queryset: QuerySet, *, order: tuple[str, ...], after: str, size: int) -> Page:
    """One page of `queryset` in `order`, starting after the cursor `after`.

    Three queries besides prefetches: the bounded count, the page's ids, then its rows
    with their joins (narrow rows are sorted and cut first: a deferred join)."""
    values = _decode(after, queryset.model, order) if after else None
    count = queryset.order_by().values("pk")[: COUNT_CAP + 1].count()
    matching = queryset if values is None else queryset.filter(_after(order, values))
    ids = _page_ids(matching, order, size + 1, few=count <= COUNT_CAP)
    more = len(ids) > size
    ids = ids[:size]
    by_id = {record.pk: record for record in queryset.order_by().filter(pk__in=ids)} if ids else {}
    rows = [by_id[pk] for pk in ids if pk in by_id]
    next_after = ""
    if more and rows:
        last = rows[-1]
        next_after = _encode([getattr(last, name.lstrip("-")) for name in order])
    return Page(rows=rows, next_after=next_after, count=count, capped=count > COUNT_CAP, is_first=values is None)


# --- the page -----------------------------------------------------------------------


def _filters(config: RecordList, request: HttpRequest) -> tuple[forms.Form, dict[str, Any], str]:
    form = config.filter_form(request.GET or None)
    cleaned: dict[str, Any] = {}
    if form.is_bound:
        form.is_valid()  # invalid fields show their error; the others still filter
        cleaned = {name: value for name, value in form.cleaned_data.items() if value not in (None, "", [])}
    sort = cleaned.pop("sort", "") or next(iter(config.sorts))
    if sort not in config.sorts:
        sort = next(iter(config.sorts))
    return form, cleaned, sort


def _filter_query(request: HttpRequest) -> str:
    """The current filters and sort as a query string (what a saved view stores)."""
    kept = [(name, value) for name, value in request.GET.items() if name not in NON_FILTER_PARAMS and value != ""]
    return urlencode(kept)


def list_page(request: HttpRequest, config: RecordList) -> HttpResponse:
    if request.method == "POST":
        return _bulk(request, config)
    form, cleaned, sort = _filters(config, request)
    rows = config.rows(request.user, cleaned)
    if request.GET.get("format") == "csv":
        return _csv(config, access.visible(rows, actor=request.user, action=Action.EXPORT), sort)
    try:
        size = int(request.GET.get("per_page", PAGE_SIZES[0]))
    except ValueError:
        size = PAGE_SIZES[0]
    size = size if size in PAGE_SIZES else PAGE_SIZES[0]
    page = keyset_page(rows, order=config.sorts[sort], after=request.GET.get("after", ""), size=size)
    query = _filter_query(request)
    context = {
        "list": config,
        "form": form,
        "page": page,
        "sort": sort,
        "query": query,
        "per_page": size,
        "page_sizes": PAGE_SIZES,
        "columns": [(column, *_sort_link(request, config, column, sort)) for column in config.columns],
        "next_url": "?" + urlencode([*_params(request, drop={"after"}), ("after", page.next_after)])
        if page.next_after
        else "",
        "first_url": "?" + urlencode(_params(request, drop={"after"})),
        "csv_url": "?" + urlencode([*_params(request, drop={"after", "format"}), ("format", "csv")]),
        "saved_views": saved_views_for(user=request.user, list_key=config.key),
        "owners": User.objects.filter(is_active=True).order_by("full_name", "id") if config.assign else [],
        "can_delete": _can(request.user, config.record_type, Action.DELETE),
        "can_export": _can(request.user, config.record_type, Action.EXPORT),
    }
    return render(request, "includes/record_list.html", context)


def _can(user: User, record_type: str, action: Action) -> bool:
    from accounts.policy import scope_for

    return scope_for(user, record_type, action) != "none"


def _params(request: HttpRequest, *, drop: set[str]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in request.GET.items() if name not in drop]


def _sort_link(request: HttpRequest, config: RecordList, column: Column, current: str) -> tuple[str, str]:
    """(link, aria-sort) of a column header: a click sorts by it, a second click reverses."""
    if not column.sort:
        return "", ""
    base = column.sort
    state = "ascending" if current == base else "descending" if current == f"-{base}" else ""
    target = f"-{base}" if current == base and f"-{base}" in config.sorts else base
    if target not in config.sorts:
        target = f"-{base}"
    return "?" + urlencode([*_params(request, drop={"after", "sort"}), ("sort", target)]), state


# --- CSV ----------------------------------------------------------------------------


def _csv(config: RecordList, rows: QuerySet, sort: str) -> StreamingHttpResponse:
    records = rows.order_by(*config.sorts[sort]).iterator(chunk_size=2000)
    return csv_response(
        name=config.key,
        header=[label for label, _value in config.csv_columns],
        rows=([value(record) for _label, value in config.csv_columns] for record in records),
    )


# --- bulk actions -------------------------------------------------------------------


def _selected(request: HttpRequest, config: RecordList) -> list[Any]:
    ids = []
    for value in request.POST.getlist("ids")[:BULK_LIMIT]:
        if value.isdigit():
            ids.append(int(value))
    if not ids:
        return []
    return list(config.rows(request.user, {}).filter(pk__in=ids).order_by("pk"))


def _apply(records: Iterable[Any], change: Callable[[Any], Any]) -> tuple[int, int]:
    """Apply `change` to each record, all in one transaction; records refused are skipped.
    The field history of every record changed shares one batch ("bulk:…")."""
    done = skipped = 0
    with transaction.atomic(), history_batch("bulk"):
        for record in records:
            try:
                with transaction.atomic():
                    change(record)
            except (DomainError, ValidationError):
                skipped += 1
            else:
                done += 1
    return done, skipped


def _bulk(request: HttpRequest, config: RecordList) -> HttpResponse:
    from crm.trash import record_trash

    back = redirect(f"{request.path}?{request.POST.get('query', '')}")
    action = request.POST.get("action", "")
    records = _selected(request, config)
    if not records:
        messages.warning(request, _("Select at least one row first."))
        return back
    actor = request.user
    if action == "assign" and config.assign:
        owner = User.objects.filter(is_active=True, pk=_int(request.POST.get("owner"))).first()
        if owner is None:
            messages.warning(request, _("Choose the new owner."))
            return back
        done, skipped = _apply(records, lambda record: config.assign(actor, record, owner))
    elif action == "tag" and config.tag:
        name = request.POST.get("tag", "").strip()
        if not name:
            messages.warning(request, _("Type the tag to add."))
            return back
        done, skipped = _apply(records, lambda record: config.tag(actor, record, name))
    elif action == "trash":
        done, skipped = _apply(records, lambda record: record_trash(actor=actor, record=record))
    else:
        messages.warning(request, _("Choose what to do with the selected rows."))
        return back
    messages.success(
        request, ngettext("%(count)s record changed.", "%(count)s records changed.", done) % {"count": done}
    )
    if skipped:
        messages.warning(
            request,
            ngettext(
                "%(count)s record was left as it was: your role does not allow this change.",
                "%(count)s records were left as they were: your role does not allow this change.",
                skipped,
            )
            % {"count": skipped},
        )
    return back


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
