"""Data portability: the whole workspace as CSV + JSON, and one contact's data."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from django.core import mail
from django.test import Client

from accounts.models import User
from crm.activities.services import activity_log
from crm.clients.services import contact_create
from tenants.backups import archive, exports
from tenants.backups.models import Job, JobStatus
from tests.conftest import ALICE_EMAIL, PASSWORD, inside


@pytest.fixture
def alice(tenant_a):
    with inside(tenant_a):
        yield User.objects.select_related("role").get(email=ALICE_EMAIL)


def test_full_export_has_a_csv_per_entity_and_json_without_secrets(tenant_a, alice):
    # given a contact with a call
    contact = contact_create(actor=alice, first_name="Peter", last_name="Gibbons")
    activity_log(actor=alice, kind="call", contact=contact, subject="First call")

    # when the export job runs
    job = exports.export_request(actor=alice)
    job = exports.export_run(job_id=job.pk)

    # then the zip holds CSV per model and data.json with the same rows, and no secrets
    assert job.status == JobStatus.DONE, job.error
    assert job.percent == 100
    with archive.backup_storage().open(job.output_name) as handle, zipfile.ZipFile(io.BytesIO(handle.read())) as bundle:
        names = set(bundle.namelist())
        assert {"csv/clients.contact.csv", "csv/activities.activity.csv", "csv/accounts.user.csv", "data.json"} <= names
        contacts = list(csv.DictReader(io.TextIOWrapper(bundle.open("csv/clients.contact.csv"), encoding="utf-8")))
        users_header = next(csv.reader(io.TextIOWrapper(bundle.open("csv/accounts.user.csv"), encoding="utf-8")))
        document = json.loads(bundle.read("data.json"))
    assert [row["first_name"] for row in contacts] == ["Peter"]
    assert "password" not in users_header
    assert "email" in users_header
    assert document["entities"]["activities.activity"][0]["subject"] == "First call"
    assert job.output_name.startswith(f"{tenant_a.schema_name}/exports/")
    assert mail.outbox and "export" in mail.outbox[-1].subject


def test_a_contacts_data_comes_as_json(tenant_a, alice):
    contact = contact_create(actor=alice, first_name="Peter", last_name="Gibbons")
    activity_log(actor=alice, kind="call", contact=contact, subject="First call")
    browser = Client(HTTP_HOST="acme.localhost:8000")
    assert browser.post("/login/", {"username": ALICE_EMAIL, "password": PASSWORD}).status_code == 302

    response = browser.get(f"/backups/contacts/{contact.pk}/export/")

    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["contact"]["first_name"] == "Peter"
    assert [item["subject"] for item in data["activities"]] == ["First call"]


def test_another_workspaces_contact_looks_missing(tenant_a, tenant_b):
    with inside(tenant_b):
        bob = User.objects.select_related("role").get(email="bob@globex.example")
        theirs = contact_create(actor=bob, first_name="Their", last_name="Contact")
    browser = Client(HTTP_HOST="acme.localhost:8000")
    assert browser.post("/login/", {"username": ALICE_EMAIL, "password": PASSWORD}).status_code == 302

    assert browser.get(f"/backups/contacts/{theirs.pk}/export/").status_code == 404


def test_an_export_job_of_another_workspace_is_not_run(tenant_a, tenant_b, alice):
    job = Job.objects.create(tenant=tenant_b, kind="export")

    assert exports.export_run(job_id=job.pk) is None
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED


def test_a_contacts_export_carries_the_history_of_their_fields(tenant_a, alice):
    from crm.clients.services import contact_update

    contact = contact_create(actor=alice, first_name="Peter", last_name="Gibbons", job_title="CEO")
    contact_update(actor=alice, contact=contact, job_title="CFO", emails=["peter@initech.example"])
    other = contact_create(actor=alice, first_name="Someone", last_name="Else")
    contact_update(actor=alice, contact=other, job_title="Not Peter's")

    data = exports.contact_export(actor=alice, contact_id=contact.pk)

    assert sorted((change["field"], change["old_value"], change["new_value"]) for change in data["history"]) == [
        ("emails", [], ["peter@initech.example"]),
        ("job_title", "CEO", "CFO"),
    ]
    change = next(change for change in data["history"] if change["field"] == "job_title")
    assert (change["field_label"], change["old_display"], change["new_display"]) == ("Job title", "CEO", "CFO")
    assert (change["changed_by"], change["changed_by_email"], change["channel"]) == (
        "Alice Adams",
        ALICE_EMAIL,
        "system",
    )
    json.dumps(data)  # the export is JSON as it is


def test_the_full_export_has_the_field_history(tenant_a, alice):
    from crm.clients.services import contact_update

    contact = contact_create(actor=alice, first_name="Peter", last_name="Gibbons", job_title="CEO")
    contact_update(actor=alice, contact=contact, job_title="CFO")

    job = exports.export_run(job_id=exports.export_request(actor=alice).pk)

    with archive.backup_storage().open(job.output_name) as handle, zipfile.ZipFile(io.BytesIO(handle.read())) as bundle:
        rows = list(csv.DictReader(io.TextIOWrapper(bundle.open("csv/history.fieldchange.csv"), encoding="utf-8")))
        document = json.loads(bundle.read("data.json"))
    assert [(row["record_type"], row["field"], row["old_value"], row["new_value"]) for row in rows] == [
        ("contact", "job_title", "CEO", "CFO")
    ]
    assert document["entities"]["history.fieldchange"][0]["new_value"] == "CFO"
