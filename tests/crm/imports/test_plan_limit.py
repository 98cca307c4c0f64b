"""The plan's contact limit: an import that could pass it is refused naming how many rows
fit, or imports only those when asked; the job re-checks under the lock per batch."""

from __future__ import annotations

import pytest

from crm.clients.models import Contact
from crm.imports import runner
from crm.imports.models import ImportStatus
from crm.imports.services import import_configure, import_start
from crm.limits import PlanLimitReached
from tests.crm.imports.conftest import a_file, upload


@pytest.fixture
def free_plan(acme):
    from tenants.models import Plan

    acme.plan = Plan.objects.get(code="free")  # 1,000 contacts
    acme.save(update_fields=["plan"])
    Contact.objects.bulk_create(Contact(full_name=f"C {i}", last_name=f"C {i}") for i in range(997))
    return acme


def five_people() -> str:
    return "Name\n" + "".join(f"Person {number}\n" for number in range(5))


def test_a_file_larger_than_the_room_left_is_refused_naming_how_many_rows_fit(alice, free_plan):
    job = upload(alice, "contact", a_file("five.csv", five_people()))

    with pytest.raises(PlanLimitReached) as refused:
        import_start(actor=alice, job=job)

    assert refused.value.code == "plan_limit_reached"
    assert refused.value.rows_that_fit == 3
    assert "3 more fit" in refused.value.message and "5 rows" in refused.value.message
    job.refresh_from_db()
    assert job.status == ImportStatus.UPLOADED


def test_only_the_rows_that_fit_are_imported_when_asked_and_the_rest_are_rejected(alice, free_plan):
    job = upload(alice, "contact", a_file("five.csv", five_people()))
    import_configure(actor=alice, job=job, options={"only_rows_that_fit": True})
    import_start(actor=alice, job=job)

    runner.import_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.created_count, job.rejected_count) == (3, 2)
    assert set(job.rejected_rows.values_list("code", flat=True)) == {"plan_limit_reached"}
    assert Contact.objects.count() == 1000


def test_the_job_rechecks_the_limit_when_contacts_were_added_after_the_start(alice, free_plan):
    job = upload(alice, "contact", a_file("three.csv", "Name\nA One\nB Two\nC Three\n"))
    import_start(actor=alice, job=job)
    Contact.objects.bulk_create([Contact(full_name="Late", last_name="Late")])

    runner.import_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.created_count, job.rejected_count) == (2, 1)
    assert Contact.objects.count() == 1000
