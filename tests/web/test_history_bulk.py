"""Bulk actions of the list pages leave one batch of field history per action."""

from __future__ import annotations

from crm.clients.services import contact_create
from crm.history.models import FieldChange
from tests.web.test_history_timeline import timeline_part, visible_text


def _rows(contacts):
    return FieldChange.objects.filter(record_type="contact", record_id__in=[contact.pk for contact in contacts])


def test_assigning_an_owner_to_several_contacts_is_one_batch_on_the_web(alice, rex, web_alice):
    contacts = [contact_create(actor=alice, first_name="Bulk", last_name=f"Person {n}", owner=alice) for n in range(3)]

    web_alice.post("/contacts/", {"action": "assign", "owner": rex.pk, "ids": [contact.pk for contact in contacts]})

    rows = _rows(contacts)
    assert rows.count() == 3
    assert {(row.field, row.old_value, row.new_value, row.channel) for row in rows} == {
        ("owner", alice.pk, rex.pk, "web")
    }
    (batch,) = {row.batch for row in rows}
    assert batch.startswith("bulk:")


def test_each_bulk_action_has_its_own_batch(alice, rex, web_alice):
    contacts = [contact_create(actor=alice, first_name="Bulk", last_name=f"Person {n}", owner=alice) for n in range(2)]
    ids = [contact.pk for contact in contacts]

    web_alice.post("/contacts/", {"action": "tag", "tag": "VIP", "ids": ids})
    web_alice.post("/contacts/", {"action": "assign", "owner": rex.pk, "ids": ids})

    batches = {field: {row.batch for row in _rows(contacts).filter(field=field)} for field in ("tags", "owner")}
    assert len(batches["tags"]) == len(batches["owner"]) == 1
    assert batches["tags"] != batches["owner"]


def test_the_card_says_a_change_came_from_a_bulk_action(alice, rex, web_alice):
    contact = contact_create(actor=alice, first_name="Bulk", last_name="Person", owner=alice)
    web_alice.post("/contacts/", {"action": "assign", "owner": rex.pk, "ids": [contact.pk]})

    text = visible_text(timeline_part(web_alice.get(f"/contacts/{contact.pk}/").content.decode()))

    assert "Alice Adams changed 1 field · via the web · in a bulk action" in text
    assert "Owner: Alice Adams → Rex Rep" in text


def test_trashing_from_the_list_records_the_trash_in_the_batch(alice, web_alice):
    contacts = [contact_create(actor=alice, first_name="Bulk", last_name=f"Person {n}") for n in range(2)]

    web_alice.post("/contacts/", {"action": "trash", "ids": [contact.pk for contact in contacts]})

    rows = _rows(contacts)
    assert {(row.field, row.new_value) for row in rows} == {("trashed", True)}
    assert len({row.batch for row in rows}) == 1
