"""The trash read page by page across kinds, and single trashed records."""

from __future__ import annotations

import base64

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.activities.services import task_create
from crm.clients.services import contact_create
from crm.errors import RecordNotFound
from crm.trash import TrashCursor, record_trash, trash_cursor, trash_entry_get, trash_list


def test_pages_cover_every_trashed_record_once_in_order(alice):
    records = []
    for index in range(3):
        records.append(contact_create(actor=alice, first_name=f"Binned {index}"))
        records.append(task_create(actor=alice, title=f"Binned {index}", due_at=timezone.now(), owner=alice))
    for record in records:
        record_trash(actor=alice, record=record)
    everything = [(entry.kind, entry.id) for entry in trash_list(actor=alice, limit=100)]
    seen, before = [], None
    while True:
        page = trash_list(actor=alice, limit=4, before=before)
        seen += [(entry.kind, entry.id) for entry in page]
        if len(page) < 4:
            break
        before = TrashCursor.parse(trash_cursor(page[-1]).encode())
    assert seen == everything
    assert len(set(seen)) == len(seen) >= 6


@pytest.mark.parametrize(
    "raw",
    [b"garbage", b"2030-01-01T00:00:00|contact|5", b"2030-01-01T00:00:00+00:00|planet|5", b"x|contact|0"],
)
def test_a_tampered_cursor_is_a_field_error(raw):
    with pytest.raises(ValidationError):
        TrashCursor.parse(base64.urlsafe_b64encode(raw).decode())


def test_only_trashed_visible_records_are_found(alice):
    live = contact_create(actor=alice, first_name="Alive")
    with pytest.raises(RecordNotFound):
        trash_entry_get(actor=alice, kind="contact", record_id=live.pk)
    with pytest.raises(RecordNotFound):
        trash_entry_get(actor=alice, kind="planet", record_id=live.pk)
    record_trash(actor=alice, record=live)
    assert trash_entry_get(actor=alice, kind="contact", record_id=live.pk) == live
