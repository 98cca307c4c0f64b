"""Which channel and batch a change is recorded with (the web and API paths: tests/web, tests/api)."""

from __future__ import annotations

import threading

from config.request_context import change_source_bound, current_change_source
from crm.clients.services import contact_update
from crm.history.services import field_change_rows, history_batch
from tests.crm.history.conftest import history_of


def test_a_change_outside_any_request_is_the_systems(alice, contact):
    # Celery workers and management commands run here: nothing binds a channel.
    contact_update(actor=alice, contact=contact, job_title="CFO")

    (row,) = history_of(contact)
    assert (row.channel, row.batch) == ("system", "")


def test_a_bound_channel_and_batch_go_with_every_change_made_inside(alice, contact):
    with change_source_bound("import", "import:12"):
        contact_update(actor=alice, contact=contact, job_title="CFO", tags=["Imported"])

    assert {(row.field, row.channel, row.batch) for row in history_of(contact)} == {
        ("job_title", "import", "import:12"),
        ("tags", "import", "import:12"),
    }


def test_the_binding_ends_with_its_block(alice, contact):
    with change_source_bound("import", "import:12"):
        pass

    contact_update(actor=alice, contact=contact, job_title="CFO")

    assert current_change_source() == ("system", "")
    assert history_of(contact)[0].channel == "system"


def test_a_thread_started_inside_a_binding_does_not_inherit_it(alice):
    # A thread starts with a fresh context: work handed to one is the system's unless it binds its own.
    seen = []
    with change_source_bound("web"):
        thread = threading.Thread(target=lambda: seen.append(current_change_source()))
        thread.start()
        thread.join()

    assert seen == [("system", "")]


def test_rows_built_for_a_bulk_insert_carry_the_bound_source(alice, contact):
    with change_source_bound("import", "import:7"):
        (row,) = field_change_rows(
            record_type="contact", record_id=contact.pk, changes=_job_title_change(), actor=alice
        )

    assert (row.channel, row.batch, row.actor, row.actor_label) == ("import", "import:7", alice, alice.email)


def test_a_history_batch_names_the_changes_made_together(alice, contact, company):
    with change_source_bound("web"), history_batch("bulk") as batch:
        contact_update(actor=alice, contact=contact, job_title="CFO")
        contact_update(actor=alice, contact=contact, city="Austin")

    assert batch.startswith("bulk:") and len(batch) == 37
    assert {(row.channel, row.batch) for row in history_of(contact)} == {("web", batch)}


def test_a_history_batch_inside_an_import_keeps_the_imports_batch(alice, contact):
    with change_source_bound("import", "import:12"), history_batch("merge") as batch:
        contact_update(actor=alice, contact=contact, job_title="CFO")

    assert batch == "import:12"
    assert history_of(contact)[0].batch == "import:12"


def _job_title_change():
    from crm.history.services import Change

    return [Change(field="job_title", old="CEO", new="CFO")]
