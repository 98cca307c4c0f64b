"""Reading the field history: a record's changes, newest first, as people read them.

The rows hold what values were (crm.history.services); everything a person reads is
decided here, at read time and in the reader's language: the field's name (the model's
verbose name, a custom field's label — a removed or purged field shows its key), the
values by type (a status's name, dates and numbers in the reader's format, amounts with
their currency, yes/no, custom values through crm.custom_fields.values.value_display,
references by the name they had), who did it and through which channel.

Visibility is the record's: the history of a record is read through that record, which
comes from its own `*_get` selector (`history_record_get`), so another workspace's or
an invisible record is RecordNotFound, like everywhere else.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import formats, timezone
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext as _

from accounts.models import User
from crm import access
from crm.access import Action
from crm.errors import RecordNotFound
from crm.history.models import Channel, FieldChange
from crm.history.services import (
    CUSTOM_PREFIX,
    HISTORY_RECORD_TYPES,
    MERGED_FROM,
    MERGED_INTO,
    MONEY_FIELDS,
    TAGS,
    TRASHED,
)

HISTORY_MAX_PAGE = 200
# A value longer than this is shortened on the card (the whole text one click away).
SHORT_TEXT = 80
# Rows of one record by one person, through one channel and batch, written within this
# many seconds of the newest of them, read as one save ("changed 3 fields").
SAVE_SECONDS = 2
# How far a save cut by a page's end is followed onto the next rows (one query).
SAVE_FOLLOW_ROWS = 200

MODELS = {
    "contact": "clients.Contact",
    "company": "clients.Company",
    "lead": "leads.Lead",
    "deal": "deals.Deal",
    "product": "catalog.Product",
    "quote": "catalog.Quote",
}
PHONE_FIELDS = frozenset({"phone", "phones"})


def _getters() -> dict[str, Callable[[User | None, int], models.Model]]:
    # Imported here: those apps' services import crm.history.services.
    from crm.catalog.selectors import product_get, quote_get
    from crm.clients.selectors import company_get, contact_get
    from crm.deals.selectors import deal_get
    from crm.leads.selectors import lead_get

    return {
        "contact": lambda actor, pk: contact_get(actor=actor, contact_id=pk),
        "company": lambda actor, pk: company_get(actor=actor, company_id=pk),
        "lead": lambda actor, pk: lead_get(actor=actor, lead_id=pk),
        "deal": lambda actor, pk: deal_get(actor=actor, deal_id=pk),
        "product": lambda actor, pk: product_get(actor=actor, product_id=pk),
        "quote": lambda actor, pk: quote_get(actor=actor, quote_id=pk),
    }


def history_record_get(*, actor: User | None, record_type: str, record_id: int) -> models.Model:
    """The record whose history is asked for, through its own `*_get` selector:
    RecordNotFound when it is missing, trashed, invisible to `actor` or of an unknown type."""
    getter = _getters().get(record_type)
    if getter is None:
        raise RecordNotFound(_("This record does not exist or you cannot see it."))
    return getter(actor, record_id)


def _record_type(record: models.Model) -> str:
    record_type = record._meta.model_name or ""
    if record_type not in HISTORY_RECORD_TYPES:
        raise TypeError(f"{type(record).__name__} keeps no field history")
    return record_type


# --- pages --------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryCursor:
    """Where the next (older) page starts: the last shown change's (created_at, id)."""

    created_at: datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.created_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def parse(cls, text: str) -> HistoryCursor:
        """Read a cursor a client sent back; a tampered one is a field error, not a 500."""
        broken = ValidationError({"before": [ValidationError(_("This page link is broken."), code="invalid_cursor")]})
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            stamp, _sep, pk = raw.rpartition("|")
            cursor = cls(created_at=datetime.fromisoformat(stamp), id=int(pk))
        except (ValueError, binascii.Error, UnicodeDecodeError) as error:
            raise broken from error
        if timezone.is_naive(cursor.created_at) or not 0 < cursor.id < 2**63:
            raise broken
        return cursor


@dataclass(frozen=True)
class HistoryEntry:
    """One field change as people read it (in the active language)."""

    id: int
    record_type: str
    record_id: int
    field: str
    field_label: str
    old_value: Any
    new_value: Any
    old_display: str  # "" for no value
    new_display: str
    old_short: str  # the display, shortened for the card when long
    new_short: str
    summary: str  # a sentence for what happened to the whole record ("Moved to the trash"), else ""
    actor: User | None
    actor_name: str
    channel: str
    channel_label: str
    batch: str
    batch_label: str  # "in a bulk action", "in import #12", or ""
    created_at: datetime

    @property
    def shortened(self) -> bool:
        return self.old_short != self.old_display or self.new_short != self.new_display


@dataclass(frozen=True)
class HistoryPage:
    entries: list[HistoryEntry]
    next_before: HistoryCursor | None


def record_changes_queryset(
    *,
    record_type: str,
    record_id: int,
    field: str | None = None,
    channel: str | None = None,
    since: datetime | date | None = None,
) -> QuerySet[FieldChange]:
    """The history rows of one record, newest first, with their actors; no visibility
    check: for callers holding a record they got through its selector (the timeline).

    Raises ValidationError on `channel` (invalid_choice)."""
    if channel is not None and channel not in Channel.values:
        raise ValidationError({"channel": [ValidationError(_("Unknown channel."), code="invalid_choice")]})
    queryset = FieldChange.objects.filter(record_type=record_type, record_id=record_id)
    if field:
        queryset = queryset.filter(field=field)
    if channel:
        queryset = queryset.filter(channel=channel)
    if since is not None:
        if not isinstance(since, datetime):
            since = timezone.make_aware(datetime.combine(since, datetime.min.time()))
        queryset = queryset.filter(created_at__gte=since)
    return queryset.select_related("actor").order_by("-created_at", "-id")


def record_history_queryset(
    *,
    actor: User | None,
    record: models.Model,
    field: str | None = None,
    channel: str | None = None,
    since: datetime | date | None = None,
) -> QuerySet[FieldChange]:
    """`record`'s history rows newest first (for keyset pages: the API), if `actor` may
    see the record (RecordNotFound otherwise). Filters: exactly this `field`
    (`job_title`, `custom_fields.tier`), this `channel`, changes at or after `since`
    (a bare date: from the start of that day). Turn rows into what people read with
    `history_entries`."""
    record_type = _record_type(record)
    access.require(actor=actor, action=Action.VIEW, record=record)
    return record_changes_queryset(
        record_type=record_type, record_id=record.pk, field=field, channel=channel, since=since
    )


def record_history(
    *,
    actor: User | None,
    record: models.Model,
    limit: int = 50,
    before: HistoryCursor | None = None,
    field: str | None = None,
    channel: str | None = None,
    since: datetime | date | None = None,
) -> HistoryPage:
    """`record`'s field changes, newest first, as people read them: `limit` (at most
    200) after the cursor `before` (a page's `next_before`). Needs a record `actor` may
    see: get it with its `*_get` selector or `history_record_get` (another workspace's
    or an invisible record is RecordNotFound); the record is checked again here.

    Queries: the visibility check, the page, and at most one for custom field labels
    and one for the workspace's phone region, whatever the page holds.
    """
    limit = max(1, min(limit, HISTORY_MAX_PAGE))
    queryset = record_history_queryset(actor=actor, record=record, field=field, channel=channel, since=since)
    if before is not None:
        queryset = queryset.filter(
            Q(created_at__lt=before.created_at) | Q(created_at=before.created_at, id__lt=before.id),
            created_at__lte=before.created_at,
        )
    rows = list(queryset[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_before = HistoryCursor(created_at=rows[-1].created_at, id=rows[-1].pk) if more else None
    return HistoryPage(entries=history_entries(rows), next_before=next_before)


# --- saves (the card's timeline) ----------------------------------------------------


@dataclass(frozen=True)
class ChangeGroup:
    """Changes of one save ("Alice Adams changed 2 fields via API"), newest first."""

    entries: list[HistoryEntry]
    is_change_group = True

    @property
    def first(self) -> HistoryEntry:
        return self.entries[0]

    @property
    def last(self) -> HistoryEntry:
        return self.entries[-1]

    @property
    def count(self) -> int:
        return len(self.entries)

    @property
    def created_at(self) -> datetime:
        return self.first.created_at

    @property
    def via(self) -> str:
        return channel_phrase(self.first.channel)


def same_save(save: Sequence[FieldChange], row: FieldChange) -> bool:
    """Whether `row` (older than all of them) belongs to the save whose rows so far are
    `save` (newest first): the same record, person, channel and batch, within
    SAVE_SECONDS of its newest row, and a field the save has not changed yet (two
    quick saves of one field are two saves)."""
    first = save[0]
    return (
        row.record_type == first.record_type
        and row.record_id == first.record_id
        and row.actor_id == first.actor_id
        and row.channel == first.channel
        and row.batch == first.batch
        and first.created_at - row.created_at <= timedelta(seconds=SAVE_SECONDS)
        and all(row.field != other.field for other in save)
    )


def changes_grouped(rows: Sequence[FieldChange]) -> list[list[FieldChange]]:
    """Consecutive rows (newest first) cut into saves."""
    groups: list[list[FieldChange]] = []
    for row in rows:
        if groups and same_save(groups[-1], row):
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def save_rest(rows_so_far: Sequence[FieldChange], *, hidden: Any = None) -> tuple[list[FieldChange], bool]:
    """The rows that follow `rows_so_far` (one save cut by a page's end, newest first)
    and still belong to it, for a page that must not end in the middle of a save; and
    whether anything older follows the save. One query: the rows within SAVE_SECONDS of
    the save's start (at most SAVE_FOLLOW_ROWS; more counts as "more follows") and the
    first row beyond. `hidden`: a condition on rows the page leaves out (the timeline's
    changes an activity tells)."""
    first, last = rows_so_far[0], rows_so_far[-1]
    window_start = first.created_at - timedelta(seconds=SAVE_SECONDS)
    after = FieldChange.objects.filter(
        Q(created_at__lt=last.created_at) | Q(created_at=last.created_at, id__lt=last.pk),
        record_type=first.record_type,
        record_id=first.record_id,
        created_at__lte=last.created_at,
    ).order_by("-created_at", "-id")
    if hidden is not None:
        after = after.exclude(hidden)
    window = after.filter(created_at__gte=window_start)[:SAVE_FOLLOW_ROWS]
    beyond = after.filter(created_at__lt=window_start)[:1]
    following = sorted(window.union(beyond, all=True), key=lambda row: (row.created_at, row.pk), reverse=True)
    save = list(rows_so_far)
    rest = []
    for row in following:
        if not same_save(save, row):
            break
        row.actor = first.actor  # the same person (same_save): no query for them
        save.append(row)
        rest.append(row)
    in_window = sum(1 for row in following if row.created_at >= window_start)
    more = len(rest) < len(following) or in_window == SAVE_FOLLOW_ROWS
    return rest, more


# --- how a change reads -------------------------------------------------------------


def channel_phrase(channel: str) -> str:
    """How the timeline says where a change came from ("via API")."""
    return {
        Channel.WEB: _("via the web"),
        Channel.API: _("via API"),
        Channel.IMPORT: _("via import"),
        Channel.AUTOMATION: _("by automation"),
        Channel.SYSTEM: _("by the system"),
    }.get(channel, channel)


def _channel_label(channel: str) -> str:
    return str(Channel(channel).label) if channel in Channel.values else channel


def _batch_label(batch: str) -> str:
    kind, _sep, rest = batch.partition(":")
    if kind == "bulk":
        return _("in a bulk action")
    if kind == "import":
        return _("in import #%(number)s") % {"number": rest}
    if kind == "merge":
        return _("in a merge")
    return ""


def _actor_name(change: FieldChange) -> str:
    if change.actor is not None:
        return change.actor.full_name or change.actor.email
    if change.actor_label:
        return change.actor_label
    return {
        Channel.IMPORT: _("An import"),
        Channel.AUTOMATION: _("An automation"),
    }.get(change.channel, _("The system"))


@cache
def _model_field(record_type: str, name: str) -> models.Field | None:
    label = MODELS.get(record_type)
    if label is None:
        return None
    try:
        return apps.get_model(label)._meta.get_field(name)
    except FieldDoesNotExist:
        return None


class _Context:
    """What formatting a page of changes needs, read once per page."""

    def __init__(self, changes: Sequence[FieldChange]):
        from crm.custom_fields.models import CustomField

        wanted = {
            (change.record_type, change.field[len(CUSTOM_PREFIX) :])
            for change in changes
            if change.field.startswith(CUSTOM_PREFIX)
        }
        self.custom: dict[tuple[str, str], Any] = {}
        if wanted:
            # Removed fields too (their values are still on the records for 30 days).
            for definition in CustomField.all_objects.filter(
                entity__in={record_type for record_type, _key in wanted}, key__in={key for _type, key in wanted}
            ):
                self.custom[(definition.entity, definition.key)] = definition
        self._region: str | None = None
        self._cache: dict[tuple, Any] = {}
        self.needs_region = any(
            change.field in PHONE_FIELDS
            or (change.field.startswith(CUSTOM_PREFIX) and getattr(self.custom_field(change), "kind", "") == "phone")
            for change in changes
        )

    def cached(self, key: tuple, make: Callable[..., Any], *arguments: Any) -> Any:
        """What `make(*arguments)` gives for `key`, made once a page: labels repeat on
        every row, and each translation lookup costs (a page of 100 rows made 1,000)."""
        if key not in self._cache:
            self._cache[key] = make(*arguments)
        return self._cache[key]

    def custom_field(self, change: FieldChange) -> Any:
        return self.custom.get((change.record_type, change.field[len(CUSTOM_PREFIX) :]))

    @property
    def region(self) -> str:
        if self._region is None:
            from crm.selectors import workspace_settings

            self._region = workspace_settings().default_phone_region if self.needs_region else ""
        return self._region


def _field_label(change: FieldChange, context: _Context) -> str:
    if change.field.startswith(CUSTOM_PREFIX):
        definition = context.custom_field(change)
        return definition.label_in() if definition is not None else change.field[len(CUSTOM_PREFIX) :]
    events = {
        TAGS: _("Tags"),
        TRASHED: _("In the trash"),
        MERGED_FROM: _("Merged duplicate"),
        MERGED_INTO: _("Merged into"),
    }
    if change.field in events:
        return events[change.field]
    field = _model_field(change.record_type, change.field)
    return capfirst(str(field.verbose_name)) if field is not None else change.field


def _number(value: Any, places: int | None = None) -> str:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return formats.number_format(number, decimal_pos=places, use_l10n=True, force_grouping=True)


def _when(value: Any, *, with_time: bool) -> str:
    try:
        if with_time:
            moment = datetime.fromisoformat(str(value))
            moment = timezone.localtime(moment) if timezone.is_aware(moment) else moment
            return formats.date_format(moment, "SHORT_DATETIME_FORMAT")
        return formats.date_format(date.fromisoformat(str(value)[:10]), "SHORT_DATE_FORMAT")
    except ValueError:
        return str(value)


def _shown(value: Any, label: str, change: FieldChange, context: _Context) -> str:
    """One side of a change as a person reads it; "" for no value."""
    if value is None or value == "" or value == []:
        return ""
    name = change.field
    if name.startswith(CUSTOM_PREFIX):
        definition = context.custom_field(change)
        if definition is not None:
            from crm.custom_fields.values import value_display

            return value_display(definition, value, region=context.region)
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    if name == TAGS:
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    if name == TRASHED:
        return _("Yes") if value else _("No")
    if name in (MERGED_FROM, MERGED_INTO):
        return f"{label} (#{value})" if label else f"#{value}"
    field = _model_field(change.record_type, name)
    if field is None:
        return label or (", ".join(map(str, value)) if isinstance(value, list) else str(value))
    if field.is_relation:
        return label or f"#{value}"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.BooleanField):
        return _("Yes") if value else _("No")
    if isinstance(field, models.DateTimeField):
        return _when(value, with_time=True)
    if isinstance(field, models.DateField):
        return _when(value, with_time=False)
    if isinstance(field, models.DecimalField):
        amount = _number(value, field.decimal_places)
        return f"{amount} {label}" if name in MONEY_FIELDS and label else amount
    if isinstance(field, models.IntegerField | models.FloatField):
        return _number(value)
    if isinstance(value, list):
        if name in PHONE_FIELDS:
            from crm.phones import phone_display

            value = [phone_display(str(item), region=context.region) for item in value]
        return ", ".join(map(str, value))
    if name in PHONE_FIELDS:
        from crm.phones import phone_display

        return phone_display(str(value), region=context.region)
    return str(value)


def _summary(change: FieldChange, old: str, new: str) -> str:
    if change.field == TRASHED:
        return _("Moved to the trash") if change.new_value else _("Restored from the trash")
    if change.field == MERGED_FROM:
        return _("Merged with the duplicate %(record)s") % {"record": new}
    if change.field == MERGED_INTO:
        return _("Merged into %(record)s") % {"record": new}
    return ""


def _short(text: str) -> str:
    one_line = " ".join(text.split())
    return Truncator(one_line).chars(SHORT_TEXT) if len(one_line) > SHORT_TEXT or one_line != text else text


def history_entries(changes: Sequence[FieldChange]) -> list[HistoryEntry]:
    """`changes` as people read them, in the active language (at most two queries: the
    custom fields' labels, the workspace's phone region; the actors come joined)."""
    context = _Context(changes)
    entries = []
    for change in changes:
        old = _shown(change.old_value, change.old_label, change, context)
        new = _shown(change.new_value, change.new_label, change, context)
        channel = change.channel
        entries.append(
            HistoryEntry(
                id=change.pk,
                record_type=change.record_type,
                record_id=change.record_id,
                field=change.field,
                field_label=context.cached(("field", change.record_type, change.field), _field_label, change, context),
                old_value=change.old_value,
                new_value=change.new_value,
                old_display=old,
                new_display=new,
                old_short=_short(old),
                new_short=_short(new),
                summary=_summary(change, old, new),
                actor=change.actor,
                actor_name=context.cached(("actor", change.actor_id, change.actor_label, channel), _actor_name, change),
                channel=change.channel,
                channel_label=context.cached(("channel", channel), _channel_label, channel),
                batch=change.batch,
                batch_label=context.cached(("batch", change.batch), _batch_label, change.batch),
                created_at=change.created_at,
            )
        )
    return entries
