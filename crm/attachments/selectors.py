"""Reads of attachments: always through the record they belong to.

An attachment is visible exactly when its record is: live (not in the trash) and visible
to the actor under crm.access. Everything else (another workspace's, an invisible or a
trashed record's attachment) looks missing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage
from django.db.models import Model, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from accounts.models import User
from crm import access
from crm.attachments.models import RECORD_TYPES, Attachment
from crm.clients.models import Company, Contact
from crm.clients.selectors import company_get, contact_get
from crm.deals.models import Deal
from crm.deals.selectors import deal_get
from crm.errors import RecordNotFound
from crm.leads.models import Lead
from crm.leads.selectors import lead_get

RECORD_MODELS: dict[str, type[Model]] = {"lead": Lead, "contact": Contact, "company": Company, "deal": Deal}
_RECORD_GETTERS: dict[str, Callable[[User | None, int], Any]] = {
    "lead": lambda actor, pk: lead_get(actor=actor, lead_id=pk),
    "contact": lambda actor, pk: contact_get(actor=actor, contact_id=pk),
    "company": lambda actor, pk: company_get(actor=actor, company_id=pk),
    "deal": lambda actor, pk: deal_get(actor=actor, deal_id=pk),
}


def record_type_of(record: Model) -> str:
    """'lead', 'contact', 'company' or 'deal'; TypeError for a record that takes no attachments."""
    for name, model in RECORD_MODELS.items():
        if type(record) is model:
            return name
    raise TypeError(f"{type(record).__name__} takes no attachments")


def record_get(*, actor: User | None, record_type: str, record_id: int) -> Any:
    """The live record an attachment may belong to, if the actor can see it; RecordNotFound
    otherwise (also for an unknown record type)."""
    getter = _RECORD_GETTERS.get(record_type)
    if getter is None:
        raise RecordNotFound(_("This record does not exist or you cannot see it."))
    return getter(actor, record_id)


def record_may(*, actor: User | None, record: Model, action: str) -> bool:
    """Whether the actor may act on `record` with `action` (a crm.access action)."""
    same = type(record).objects.filter(pk=record.pk)  # type: ignore[attr-defined]
    return access.visible(same, actor=actor, action=access.Action(action)).exists()


def _on_visible_records(actor: User | None, record_types: tuple[str, ...] = RECORD_TYPES) -> Q:
    condition = Q(pk__in=[])
    for name in record_types:
        live = access.visible(RECORD_MODELS[name].objects.all(), actor=actor)  # type: ignore[attr-defined]
        condition |= Q(**{f"{name}_id__in": live.values("pk")})
    return condition


def attachment_list(
    *, actor: User | None, record_type: str | None = None, record_id: int | None = None
) -> QuerySet[Attachment]:
    """Attachments the actor can see, newest first; narrowed to one record when
    `record_type` (and `record_id`) are given. An unknown type gives an empty list."""
    if record_type is not None and record_type not in RECORD_TYPES:
        return Attachment.objects.none()
    types = (record_type,) if record_type else RECORD_TYPES
    queryset = Attachment.objects.filter(_on_visible_records(actor, types))
    if record_type and record_id is not None:
        queryset = queryset.filter(**{f"{record_type}_id": record_id})
    return queryset.select_related("uploaded_by")


def attachment_list_for(*, actor: User | None, record: Model) -> QuerySet[Attachment]:
    """The attachments of one record the caller already holds (from its `*_get` selector)."""
    return attachment_list(actor=actor, record_type=record_type_of(record), record_id=record.pk)


def attachment_get(*, actor: User | None, attachment_id: int) -> Attachment:
    """One attachment whose record is live and visible to the actor; RecordNotFound otherwise."""
    attachment = attachment_list(actor=actor).filter(pk=attachment_id).first()
    if attachment is None:
        raise RecordNotFound(_("This attachment does not exist or you cannot see it."))
    return attachment


# Other apps that keep files in the tenant's media folder (mail attachments) add what
# they use here, so the plan's storage limit counts every stored byte once.
_STORAGE_COUNTERS: list[Callable[[], int]] = []


def storage_counter_register(counter: Callable[[], int]) -> None:
    """Count `counter()` (bytes another app stores for this workspace) in `storage_used_bytes`."""
    if counter not in _STORAGE_COUNTERS:
        _STORAGE_COUNTERS.append(counter)


def storage_used_bytes() -> int:
    """Bytes of every attachment of this workspace (those of trashed records too: their
    files are still kept), and of every other app's stored files (storage_counter_register)."""
    own = Attachment.objects.aggregate(total=Sum("size_bytes"))["total"] or 0
    return own + sum(counter() for counter in _STORAGE_COUNTERS)


def attachment_open(*, attachment: Attachment) -> File:
    """The stored bytes of an attachment the caller got from this module (access checked)."""
    return default_storage.open(attachment.stored_name, "rb")
