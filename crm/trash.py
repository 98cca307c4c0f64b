"""The trash: deleting a client record moves it here; an administrator can bring it back.

Every trashable model is registered in TRASHABLE under a stable `kind` (the word the UI,
the API and this module's callers use). Moving to the trash sets `deleted_at` and
`deleted_by`; the default managers then hide the row everywhere, while its links
(a contact's company, a deal's contact) stay intact, so a restore puts everything back
as it was. `trash_purge_older_than` deletes for good what has been in the trash longer
than the retention period; scheduling it is left to the periodic-jobs owner.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from crm import access
from crm.access import Action
from crm.activities.models import Activity, LinkedToClientRecord, Task
from crm.attachments.services import attachment_files_release
from crm.catalog.models import Product, Quote
from crm.clients.models import Company, Contact
from crm.deals.models import Deal
from crm.errors import Conflict, RecordNotFound
from crm.history.services import HISTORY_RECORD_TYPES, TRASHED, event_change, field_changes_record, history_forget
from crm.leads.models import Lead
from crm.records import Trashable

# kind → model; the order is the order of the trash page's sections.
TRASHABLE: dict[str, type[Trashable]] = {
    "lead": Lead,
    "contact": Contact,
    "company": Company,
    "deal": Deal,
    "task": Task,
    "quote": Quote,
    "product": Product,
    "activity": Activity,
}

# The links a task or an activity may have to client records (crm.activities).
LINK_FIELDS = ("lead", "contact", "company", "deal")

PURGE_BATCH = 500


@dataclass(frozen=True)
class TrashEntry:
    """One row of the trash page."""

    kind: str
    id: int
    title: str
    deleted_at: datetime
    deleted_by: User | None
    record: Trashable


def trash_kind(record: models.Model) -> str:
    """The registry name of `record`'s model; TypeError for a model that has no trash."""
    for kind, model in TRASHABLE.items():
        if type(record) is model:
            return kind
    raise TypeError(f"{type(record).__name__} cannot be moved to the trash")


def _locked(record: Trashable, *, actor: User | None, action: Action) -> Trashable:
    model = TRASHABLE[trash_kind(record)]
    queryset = access.visible(model.all_objects.filter(pk=record.pk), actor=actor, action=action)
    locked = queryset.select_for_update(of=("self",)).first()
    if locked is None:
        raise RecordNotFound(_("This record does not exist or you cannot see it."))
    return locked


@transaction.atomic
def record_trash(*, actor: User | None, record: Trashable) -> Trashable:
    """Move `record` to the trash (needs DELETE); returns the trashed row.

    Nothing linked to it is deleted or unlinked. Refuses with Conflict
    (`already_trashed`) when it is in the trash already, RecordNotFound when the actor
    cannot see it. `record` itself is updated in memory too.
    """
    access.require(actor=actor, action=Action.DELETE, record=record)
    locked = _locked(record, actor=actor, action=Action.DELETE)
    if locked.deleted_at is not None:
        raise Conflict(_("“%(record)s” is already in the trash.") % {"record": locked}, code="already_trashed")
    locked.deleted_at = timezone.now()
    locked.deleted_by = actor
    locked.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
    _trash_history(locked, actor=actor, trashed=True)
    record.deleted_at, record.deleted_by = locked.deleted_at, actor
    return locked


def _trash_history(record: Trashable, *, actor: User | None, trashed: bool) -> None:
    # One event, not the `deleted_at`/`deleted_by` pair: people read "moved to the trash".
    if trash_kind(record) in HISTORY_RECORD_TYPES:
        change = event_change(TRASHED, old=not trashed, new=trashed)
        field_changes_record(record=record, changes=[change], actor=actor)


@transaction.atomic
def record_restore(*, actor: User | None, record: Trashable) -> Trashable:
    """Bring `record` back from the trash; only administrators (Action.CONFIGURE) may.

    Links are kept as they are, even to records that are still in the trash (a restored
    contact keeps its trashed company). Refuses with Conflict (`not_trashed`) for a live
    record and (`restore_conflict`) when a live record took its unique value meanwhile
    (a product SKU).
    """
    access.require(actor=actor, action=Action.CONFIGURE, record=record)
    locked = _locked(record, actor=actor, action=Action.VIEW)
    if locked.deleted_at is None:
        raise Conflict(_("“%(record)s” is not in the trash.") % {"record": locked}, code="not_trashed")
    locked.deleted_at = None
    locked.deleted_by = None
    try:
        with transaction.atomic():
            locked.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
    except IntegrityError as error:
        raise Conflict(
            _("“%(record)s” cannot come back: another record now uses the same unique value.") % {"record": locked},
            code="restore_conflict",
        ) from error
    _trash_history(locked, actor=actor, trashed=False)
    record.deleted_at, record.deleted_by = None, None
    return locked


@dataclass(frozen=True)
class TrashCursor:
    """Where the next page of the trash starts: the last shown entry's (deleted_at, kind, id)."""

    deleted_at: datetime
    kind: str
    id: int

    def encode(self) -> str:
        raw = f"{self.deleted_at.isoformat()}|{self.kind}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def parse(cls, text: str) -> TrashCursor:
        """Read a cursor a client sent back; a tampered one is a field error, not a 500."""
        broken = ValidationError({"before": [ValidationError(_("This page link is broken."), code="invalid_cursor")]})
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            stamp, kind, pk = raw.split("|")
            cursor = cls(deleted_at=datetime.fromisoformat(stamp), kind=kind, id=int(pk))
        except (ValueError, binascii.Error, UnicodeDecodeError) as error:
            raise broken from error
        if timezone.is_naive(cursor.deleted_at) or cursor.kind not in TRASHABLE or not 0 < cursor.id < 2**63:
            raise broken
        return cursor


def _sort_key(entry: TrashEntry) -> tuple:
    # Most recently trashed first; ties by kind (the page's section order), then newest id.
    return (-entry.deleted_at.timestamp(), list(TRASHABLE).index(entry.kind), -entry.id)


def _after(name: str, cursor: TrashCursor) -> Q:
    """Rows of kind `name` that come after `cursor` in the trash's order."""
    later_kind = list(TRASHABLE).index(name) > list(TRASHABLE).index(cursor.kind)
    if later_kind:
        same_time = Q(deleted_at=cursor.deleted_at)
    elif name == cursor.kind:
        same_time = Q(deleted_at=cursor.deleted_at, pk__lt=cursor.id)
    else:
        same_time = Q(pk__in=[])
    return Q(deleted_at__lt=cursor.deleted_at) | same_time


def trash_list(
    *, actor: User | None, kind: str | None = None, limit: int = 200, before: TrashCursor | None = None
) -> list[TrashEntry]:
    """What the actor can see in the trash, most recently trashed first: at most `limit`
    entries, starting after `before` (a cursor from `trash_cursor(entry)`).

    One query per kind (at most `limit` rows each); `kind` narrows to one section and
    must be a key of TRASHABLE (ValidationError on `kind`, code `invalid_choice`).
    """
    if kind is not None and kind not in TRASHABLE:
        raise ValidationError(
            {"kind": [ValidationError(_("There is no such kind of record in the trash."), code="invalid_choice")]}
        )
    kinds = [kind] if kind else list(TRASHABLE)
    entries: list[TrashEntry] = []
    for name in kinds:
        model = TRASHABLE[name]
        queryset = access.visible(model.all_objects.filter(deleted_at__isnull=False), actor=actor)
        if before is not None:
            queryset = queryset.filter(_after(name, before))
        for record in queryset.select_related("deleted_by").order_by("-deleted_at", "-pk")[:limit]:
            entries.append(
                TrashEntry(
                    kind=name,
                    id=record.pk,
                    title=str(record),
                    deleted_at=record.deleted_at,
                    deleted_by=record.deleted_by,
                    record=record,
                )
            )
    entries.sort(key=_sort_key)
    return entries[:limit]


def trash_entry_get(*, actor: User | None, kind: str, record_id: int) -> Trashable:
    """A record in the trash that `actor` can see; RecordNotFound for an unknown kind, a
    missing or live record, or one the actor cannot see (all look the same)."""
    model = TRASHABLE.get(kind)
    record = None
    if model is not None:
        queryset = model.all_objects.filter(pk=record_id, deleted_at__isnull=False)
        record = access.visible(queryset, actor=actor).first()
    if record is None:
        raise RecordNotFound(_("This record is not in the trash or you cannot see it."))
    return record


def trash_cursor(entry: TrashEntry) -> TrashCursor:
    """The cursor of the page that follows `entry`."""
    return TrashCursor(deleted_at=entry.deleted_at, kind=entry.kind, id=entry.id)


def _detach_shared_links(model: type[Trashable], pks: Sequence[int]) -> None:
    """Tasks and activities cascade with the record they link to; one that is also linked
    to another record (a call logged on a deal *and* a contact) stays with the other
    record instead of disappearing from its timeline."""
    for relation in model._meta.related_objects:
        related = relation.related_model
        if not (isinstance(related, type) and issubclass(related, LinkedToClientRecord)):
            continue
        field = relation.field.name
        others = Q()
        for other in LINK_FIELDS:
            if other != field:
                others |= Q(**{f"{other}__isnull": False})
        related._base_manager.filter(others, **{f"{field}__in": pks}).update(**{field: None})


@transaction.atomic
def trash_purge_older_than(*, days: int, now: datetime | None = None) -> dict[str, int]:
    """Delete for good every record that has been in the trash for more than `days` days.

    For the periodic clean-up (the system acts; no user). Returns how many rows of each
    kind went. Deleting follows the models' on_delete rules (a purged deal's stage
    history goes with it; so does each record's field history), except that tasks and
    activities also linked to a record that stays are detached rather than deleted.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    cutoff = (now or timezone.now()) - timedelta(days=days)
    purged: dict[str, int] = {}
    for kind, model in TRASHABLE.items():
        pks = list(model.all_objects.filter(deleted_at__lt=cutoff).values_list("pk", flat=True))
        for start in range(0, len(pks), PURGE_BATCH):
            # Locked, so a restore running meanwhile either wins (and the row stays, with
            # its attachments' files) or waits and then finds nothing to restore.
            batch = list(
                model.all_objects.select_for_update()
                .filter(pk__in=pks[start : start + PURGE_BATCH], deleted_at__lt=cutoff)
                .values_list("pk", flat=True)
            )
            _detach_shared_links(model, batch)
            attachment_files_release(record_type=kind, record_ids=batch)
            history_forget(record_type=kind, record_ids=batch)
            model.all_objects.filter(pk__in=batch, deleted_at__lt=cutoff).delete()
        purged[kind] = len(pks)
    return purged
