"""Writes of attachments: upload and delete, the only code that touches their files.

Who may do what (crm.access decides on the record the attachment belongs to):
- see, list and download: whoever can see the record;
- upload: whoever can edit the record;
- delete: whoever can delete the record, or the person who uploaded the file if they
  can still edit the record.

Storage: the bytes of all attachments of a workspace may not pass the plan's
`max_storage_mb`. Uploads and deletes of one workspace take a transaction-scoped
advisory lock, so the sum they check is exact even with many web nodes uploading at once.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import secrets
import unicodedata
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import F, Model
from django.db.models.functions import Greatest
from django.utils.translation import gettext as _

from accounts.models import User
from config.locks import advisory_xact_lock
from crm import access
from crm.access import Action
from crm.attachments.models import RECORD_TYPES, Attachment
from crm.attachments.selectors import record_may, record_type_of, storage_used_bytes
from crm.errors import AccessDenied, RecordNotFound
from crm.limits import require_storage_room
from tenants.models import Tenant

logger = logging.getLogger(__name__)

NAME_MAX = Attachment._meta.get_field("original_name").max_length
FALLBACK_NAME = "file"
# Characters that are unsafe in a file name on some system a person downloads to.
_UNSAFE = set('<>:"|?*')
# Bidirectional controls make "cod.exe" look like "exe.doc"; they never belong in a name.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def filename_clean(name: str) -> str:
    """The file name as a person sees it, without any path, control characters or
    characters that are unsafe on common systems; at most NAME_MAX characters, the
    extension kept. Never empty."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    kept = []
    for char in name:
        if char in _BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn"):
            continue
        kept.append("_" if char in _UNSAFE else char)
    name = "".join(kept).strip().lstrip(".").strip()
    if not name:
        return FALLBACK_NAME
    if len(name) > NAME_MAX:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= 16:
            name = f"{stem[: NAME_MAX - len(extension) - 1].rstrip()}.{extension}"
        else:
            name = name[:NAME_MAX]
    return name


def content_type_for(name: str) -> str:
    """Guessed from the name only: what the uploader's browser claims is never trusted,
    and downloads are always sent as attachments, so the type is only a hint."""
    guessed, encoding = mimetypes.guess_type(name, strict=False)
    if guessed is None or encoding is not None:
        return "application/octet-stream"
    return guessed


def _field_error(message: str, code: str) -> ValidationError:
    return ValidationError({"file": [ValidationError(message, code=code)]})


def _digest(file: File) -> tuple[int, str]:
    """(size, sha256) of the whole file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return size, digest.hexdigest()


def _storage_lock() -> None:
    advisory_xact_lock(f"attachments:storage:{connection.schema_name}")


def _usage_add(delta: int) -> None:
    """Keep the tenant's public usage figure in step (the hourly refresh re-measures it)."""
    Tenant.objects.filter(schema_name=connection.schema_name).update(
        usage_storage_bytes=Greatest(F("usage_storage_bytes") + delta, 0)
    )


def _new_stored_name() -> str:
    # Two hex characters of fan-out keep folders small; the rest is 192 random bits.
    return f"attachments/{secrets.token_hex(1)}/{secrets.token_urlsafe(24)}"


def attachment_upload(*, actor: User | None, record: Model, file: File, name: str = "") -> Attachment:
    """Store `file` as an attachment of `record` (a live lead, contact, company or deal).

    Needs EDIT on the record (RecordNotFound when the actor cannot even see it). Refuses
    with ValidationError on `file` an empty file (`empty`) or one larger than
    ATTACHMENT_MAX_BYTES (`file_too_large`), and with PlanLimitReached
    (`plan_limit_reached`) when the workspace's attachments would pass the plan's
    storage; exactly at the limit is allowed. On any refusal nothing is written, on disk
    or in the database. The file is stored under a random name inside the tenant's media
    folder; `name` (else the file's own name) is cleaned and kept only as metadata.
    """
    access.require(actor=actor, action=Action.EDIT, record=record)
    record_type = record_type_of(record)
    if getattr(record, "deleted_at", None) is not None:
        raise RecordNotFound(_("This record does not exist or you cannot see it."))
    original_name = filename_clean(name or file.name or "")
    size, sha256 = _digest(file)
    if size == 0:
        raise _field_error(_("This file is empty."), "empty")
    limit = settings.ATTACHMENT_MAX_BYTES
    if size > limit:
        raise _field_error(
            _("This file is too large: files of up to %(size)s MB can be attached.")
            % {"size": f"{limit / (1024 * 1024):g}"},
            "file_too_large",
        )
    stored_name = ""
    try:
        with transaction.atomic():
            _storage_lock()
            require_storage_room(in_use_bytes=storage_used_bytes, adding_bytes=size)
            stored_name = default_storage.save(_new_stored_name(), file)
            attachment = Attachment.objects.create(
                **{record_type: record},
                original_name=original_name,
                content_type=content_type_for(original_name),
                size_bytes=size,
                sha256=sha256,
                stored_name=stored_name,
                uploaded_by=actor,
            )
            _usage_add(size)
    except BaseException:
        if stored_name:
            default_storage.delete(stored_name)
        raise
    logger.info("attachment uploaded", extra={"attachment": attachment.pk, "size": size})
    return attachment


def attachment_may_delete(*, actor: User | None, attachment: Attachment) -> bool:
    """Whether `actor` may delete `attachment` (see the module docstring)."""
    if actor is None:
        return True
    record = getattr(attachment, attachment.record_type)
    if record_may(actor=actor, record=record, action=Action.DELETE):
        return True
    return attachment.uploaded_by_id == actor.pk and record_may(actor=actor, record=record, action=Action.EDIT)


@transaction.atomic
def attachment_delete(*, actor: User | None, attachment: Attachment) -> None:
    """Delete `attachment` for good: its row now, its file once the transaction commits
    (a rollback keeps both). Frees its bytes of the plan's storage at once.

    RecordNotFound when the actor cannot see its record; AccessDenied when they may
    neither delete the record nor edit it as the uploader.
    """
    record = getattr(attachment, attachment.record_type)
    access.require(actor=actor, action=Action.VIEW, record=record)
    if getattr(record, "deleted_at", None) is not None:
        raise RecordNotFound(_("This attachment does not exist or you cannot see it."))
    if not attachment_may_delete(actor=actor, attachment=attachment):
        raise AccessDenied(_("Only someone who may delete this record, or who uploaded the file, can remove it."))
    _storage_lock()
    deleted, _counts = Attachment.objects.filter(pk=attachment.pk).delete()
    if not deleted:
        raise RecordNotFound(_("This attachment does not exist or you cannot see it."))
    _usage_add(-attachment.size_bytes)
    stored_name = attachment.stored_name
    transaction.on_commit(lambda: default_storage.delete(stored_name))


def stored_file_add(*, file: File, size: int, folder: str) -> str:
    """For another app that keeps files in the tenant's media folder and counts them in
    the plan's storage (mail attachments): inside the caller's transaction, take the
    workspace's storage lock, refuse with PlanLimitReached when `size` more bytes do not
    fit, save the file under `<folder>/<2 hex>/<random>` and add its bytes to the usage.
    Returns the stored name. The caller inserts its own row in the same transaction (the
    lock makes the sum exact until it commits) and deletes the file if that fails."""
    _storage_lock()
    require_storage_room(in_use_bytes=storage_used_bytes, adding_bytes=size)
    stored_name = default_storage.save(f"{folder}/{secrets.token_hex(1)}/{secrets.token_urlsafe(24)}", file)
    _usage_add(size)
    return stored_name


def stored_file_forget(stored_name: str) -> None:
    """Remove a file `stored_file_add` saved for a write that then failed (no usage change:
    the usage moved in the transaction that rolled back)."""
    if stored_name:
        default_storage.delete(stored_name)


def attachment_files_release(*, record_type: str, record_ids: Sequence[int]) -> int:
    """For records about to be deleted for good (the trash purge): their attachments'
    rows go with them (CASCADE) in the caller's transaction; this takes their bytes off
    the usage figure and removes their files once that transaction commits. Returns how
    many attachments that was; other record types have none."""
    if record_type not in RECORD_TYPES or not record_ids:
        return 0
    _storage_lock()
    rows = list(
        Attachment.objects.filter(**{f"{record_type}_id__in": record_ids}).values_list("stored_name", "size_bytes")
    )
    if not rows:
        return 0
    _usage_add(-sum(size for _name, size in rows))
    names = [name for name, _size in rows]

    def remove() -> None:
        for name in names:
            default_storage.delete(name)

    transaction.on_commit(remove)
    return len(rows)
