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
- saved views (crm.saved_views): a person's named filter sets;
- custom fields (crm.custom_fields) of contacts, companies, leads and deals: columns the
  person picks (`cols`, kept by saved views), filters for the filterable ones (the same
  `cf.<key>` parameters as the API), sorting by them (`sort=cf.<key>`, keyset pages
  whose cursor carries the JSON value), and a CSV column for every live field.
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
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import User
from crm import access
from crm.access import Action
from crm.csv_export import csv_response
from crm.custom_fields.display import cell, value_export
from crm.custom_fields.forms import filter_form_fields
from crm.custom_fields.models import CustomField, Entity, FieldKind
from crm.custom_fields.queries import (
    CustomFilter,
    CustomSort,
    filters_apply,
    filters_from_params,
    is_custom_param,
    sort_annotate,
    sort_from_param,
    sortable_fields,
    sorted_page_ids,
)
from crm.custom_fields.selectors import custom_fields_for
from crm.errors import DomainError
from crm.history.services import history_batch
from crm.saved_views.selectors import saved_views_for

PAGE_SIZES = (25, 50, 100)
COUNT_CAP = 10_000
BULK_LIMIT = 100
# Parameters that are not filters (a saved view keeps filters, sort and columns).
NON_FILTER_PARAMS = {"after", "per_page", "format"}
COLUMNS_PARAM = "cols"
MAX_CUSTOM_COLUMNS = 20


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


def _decode_custom(text: str) -> tuple[Any, int] | None:
    """A custom-field sort's cursor: [the last row's JSON value or null, its id]."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    if not isinstance(raw, list) or len(raw) != 2 or not isinstance(raw[1], int) or isinstance(raw[1], bool):
        return None
    if not isinstance(raw[0], str | int | float | bool | type(None)):
        return None
    return raw[0], raw[1]


def _custom_keyset_page(queryset: QuerySet, *, sort: CustomSort, after: str, size: int) -> Page:
    """Like keyset_page, in a custom field's order (records without a value last)."""
    cursor = _decode_custom(after) if after else None
    count = queryset.order_by().values("pk")[: COUNT_CAP + 1].count()
    annotated = sort_annotate(queryset, sort)
    few = count <= COUNT_CAP
    ids = sorted_page_ids(
        annotated,
        sort,
        after=cursor,
        limit=size + 1,
        ids=lambda rows, order, limit: _page_ids(rows, order, limit, few=few),
    )
    more = len(ids) > size
    ids = ids[:size]
    by_id = {record.pk: record for record in annotated.order_by().filter(pk__in=ids)} if ids else {}
    rows = [by_id[pk] for pk in ids if pk in by_id]
    next_after = ""
    if more and rows:
        raw = json.dumps([getattr(rows[-1], sort.alias), rows[-1].pk])
        next_after = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    return Page(rows=rows, next_after=next_after, count=count, capped=count > COUNT_CAP, is_first=cursor is None)


def _counted_page_ids(
    queryset: QuerySet, order: tuple[str, ...], values: list[Any] | None, limit: int
) -> tuple[int | None, list[Any]]:
    """The bounded count and, when the matches are few, the page's ids: one scan.

    The matches (up to COUNT_CAP + 1, no order: PostgreSQL takes its cheapest way to
    them) are counted by a window and sorted on their own, after the cursor. When they
    are more than COUNT_CAP the ids are not the page's (the caller walks the order's
    index instead), and when the page is empty there is no row to carry the count
    (None: the caller counts). A filtered list with a few thousand matches used to find
    them twice, once to count and once to sort (a sales rep's custom field filter: two
    scans of 70 ms under load)."""
    names = [name.lstrip("-") for name in order]
    sql, params = queryset.order_by().values_list("pk", *names)[: COUNT_CAP + 1].query.sql_with_params()
    columns = ", ".join(f"c{index}" for index in range(len(names) + 1))
    sort = ", ".join(
        f"c{index} {'DESC' if name.startswith('-') else 'ASC'}" for index, name in enumerate(order, start=1)
    )
    where, extra = "", []
    if values is not None:
        # Every order runs in one direction (RecordList.sorts): one row comparison.
        keys = ", ".join(f"c{index}" for index in range(1, len(names) + 1))
        where = f"WHERE ({keys}) {'<' if order[0].startswith('-') else '>'} ({', '.join(['%s'] * len(values))})"
        extra = list(values)
    # Only the ORM's compiled SQL (its values stay parameters) and fixed column names.
    query = (
        f"SELECT c0, total FROM (SELECT matches.*, count(*) OVER () AS total "  # noqa: S608
        f"FROM ({sql}) AS matches ({columns})) AS counted {where} ORDER BY {sort} LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, [*params, *extra, limit])
        rows = cursor.fetchall()
    if not rows:
        return None, []
    return rows[0][1], [pk for pk, _total in rows]


def keyset_page(
    queryset: QuerySet, *, order: tuple[str, ...], after: str, size: int, custom: CustomSort | None = None
) -> Page:
    """One page of `queryset` in `order` (or the `custom` field's), starting after the cursor `after`.

    At most three queries besides prefetches: the bounded count (which, for up to
    COUNT_CAP matches, also sorts them and gives the page's ids), the page's ids along
    the order's index (many matches), then its rows with their joins (narrow rows are
    sorted and cut first: a deferred join)."""
    if custom is not None:
        return _custom_keyset_page(queryset, sort=custom, after=after, size=size)
    values = _decode(after, queryset.model, order) if after else None
    count, ids = _counted_page_ids(queryset, order, values, size + 1)
    if count is None:  # no row on this page: the count on its own
        count = queryset.order_by().values("pk")[: COUNT_CAP + 1].count()
    if count > COUNT_CAP:
        matching = queryset if values is None else queryset.filter(_after(order, values))
        ids = _page_ids(matching, order, size + 1, few=False)
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


@dataclass
class CustomListState:
    """The custom fields of a list page: definitions, filters, sort and chosen columns."""

    fields: list[CustomField] = field(default_factory=list)
    filters: list[CustomFilter] = field(default_factory=list)
    sort: CustomSort | None = None
    columns: list[CustomField] = field(default_factory=list)

    @property
    def sorts(self) -> list[str]:
        return [f"{sign}cf.{custom.key}" for custom in sortable_fields(self.fields) for sign in ("", "-")]


def _entity(config: RecordList) -> str:
    return config.record_type if config.record_type in Entity.values else ""


def _filters(
    config: RecordList, request: HttpRequest, custom: CustomListState
) -> tuple[forms.Form, dict[str, Any], str]:
    """The bound filter form (with the custom fields' filters), the built-in filters, the sort."""
    extra = filter_form_fields(custom.fields)
    form_class = type(config.filter_form.__name__, (config.filter_form,), extra) if extra else config.filter_form
    form = form_class(request.GET or None)
    cleaned: dict[str, Any] = {}
    if form.is_bound:
        form.is_valid()  # invalid fields show their error; the others still filter
        cleaned = {
            name: value
            for name, value in form.cleaned_data.items()
            if value not in (None, "", []) and not is_custom_param(name)
        }
    if custom.fields:
        params = [(name, value) for name in request.GET for value in request.GET.getlist(name)]
        if any(is_custom_param(name) for name, _value in params):
            custom.filters = _custom_filters(form, params, custom.fields)
    sort = cleaned.pop("sort", "") or next(iter(config.sorts))
    if sort not in config.sorts:
        custom.sort = _custom_sort(sort, custom.fields)
        sort = sort if custom.sort is not None else next(iter(config.sorts))
    return form, cleaned, sort


def _custom_filters(form: forms.Form, params: list[tuple[str, str]], fields: list[CustomField]) -> list[CustomFilter]:
    """The valid custom filters; each refused one is an error on its field (the others still filter)."""
    from crm.selectors import workspace_settings

    region = workspace_settings().default_phone_region
    kept: list[CustomFilter] = []
    for name, value in params:
        if not is_custom_param(name):
            continue
        try:
            kept += filters_from_params([(name, value)], fields=fields, region=region)
        except ValidationError as error:
            if name in form.fields and not form.errors.get(name):
                form.add_error(name, error.error_dict[name[:80]])
    return kept


def _custom_sort(sort: str, fields: list[CustomField]) -> CustomSort | None:
    try:
        return sort_from_param(sort, fields=fields)
    except ValidationError:
        return None


def _chosen_columns(request: HttpRequest, fields: list[CustomField]) -> list[CustomField]:
    wanted = []
    for value in request.GET.getlist(COLUMNS_PARAM)[:MAX_CUSTOM_COLUMNS]:
        wanted += [key.strip() for key in value.split(",") if key.strip()]
    return [custom for custom in fields if custom.key in wanted]


def _filter_query(request: HttpRequest) -> str:
    """The current filters, sort and columns as a query string (what a saved view stores)."""
    kept = [(name, value) for name, value in request.GET.items() if name not in NON_FILTER_PARAMS and value != ""]
    kept = [(name, value) for name, value in kept if name != COLUMNS_PARAM]
    kept += [(COLUMNS_PARAM, value) for value in request.GET.getlist(COLUMNS_PARAM) if value]
    return urlencode(kept)


def _cells(rows: list[Any], columns: list[CustomField]) -> None:
    """Each row's custom cells, in the chosen columns' order."""
    if not columns:
        return
    region = ""
    if any(column.kind == FieldKind.PHONE for column in columns):
        from crm.selectors import workspace_settings

        region = workspace_settings().default_phone_region
    for row in rows:
        values = getattr(row, "custom_fields", None) or {}
        row.custom_cells = [cell(column, values.get(column.key), region=region) for column in columns]


def list_page(request: HttpRequest, config: RecordList) -> HttpResponse:
    if request.method == "POST":
        return _bulk(request, config)
    entity = _entity(config)
    custom = CustomListState(fields=custom_fields_for(entity) if entity else [])
    form, cleaned, sort = _filters(config, request, custom)
    rows = filters_apply(config.rows(request.user, cleaned), custom.filters)
    if request.GET.get("format") == "csv":
        return _csv(config, access.visible(rows, actor=request.user, action=Action.EXPORT), sort, custom)
    try:
        size = int(request.GET.get("per_page", PAGE_SIZES[0]))
    except ValueError:
        size = PAGE_SIZES[0]
    size = size if size in PAGE_SIZES else PAGE_SIZES[0]
    page = keyset_page(
        rows,
        order=config.sorts.get(sort, ()),
        after=request.GET.get("after", ""),
        size=size,
        custom=custom.sort,
    )
    custom.columns = _chosen_columns(request, custom.fields)
    _cells(page.rows, custom.columns)
    query = _filter_query(request)
    sorts = {*config.sorts, *custom.sorts}
    columns = [
        *config.columns,
        *(
            Column(column.label_in(), sort=f"cf.{column.key}" if f"cf.{column.key}" in sorts else "")
            for column in custom.columns
        ),
    ]
    context = {
        "list": config,
        "form": form,
        "page": page,
        "sort": sort,
        "query": query,
        "per_page": size,
        "page_sizes": PAGE_SIZES,
        "columns": [(column, *_sort_link(request, sorts, column, sort)) for column in columns],
        "custom_fields": custom.fields,
        "custom_columns": [column.key for column in custom.columns],
        "custom_filter_names": [name for name in form.fields if is_custom_param(name)],
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
    return [(name, value) for name in request.GET if name not in drop for value in request.GET.getlist(name)]


def _sort_link(request: HttpRequest, sorts: set[str], column: Column, current: str) -> tuple[str, str]:
    """(link, aria-sort) of a column header: a click sorts by it, a second click reverses."""
    if not column.sort:
        return "", ""
    base = column.sort
    state = "ascending" if current == base else "descending" if current == f"-{base}" else ""
    target = f"-{base}" if current == base and f"-{base}" in sorts else base
    if target not in sorts:
        target = f"-{base}"
    return "?" + urlencode([*_params(request, drop={"after", "sort"}), ("sort", target)]), state


# --- CSV ----------------------------------------------------------------------------


def _csv(config: RecordList, rows: QuerySet, sort: str, custom: CustomListState) -> StreamingHttpResponse:
    """Every column of the list's CSV, then one per live custom field (in their order)."""
    if custom.sort is not None:
        value = F(custom.sort.alias)
        ordered = value.desc(nulls_last=True) if custom.sort.descending else value.asc(nulls_last=True)
        rows = sort_annotate(rows, custom.sort).order_by(ordered, "-pk" if custom.sort.descending else "pk")
    else:
        rows = rows.order_by(*config.sorts[sort])
    records = rows.iterator(chunk_size=2000)
    extra = [
        (
            column.label_in(),
            lambda record, column=column: value_export(column, (record.custom_fields or {}).get(column.key)),
        )
        for column in custom.fields
    ]
    columns = [*config.csv_columns, *extra]
    return csv_response(
        name=config.key,
        header=[label for label, _value in columns],
        rows=([value(record) for _label, value in columns] for record in records),
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
