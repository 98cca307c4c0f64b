"""/api/v1/imports/: upload, mapping, preview, start, status, rejected rows, report, undo,
cancel; templates. Another workspace's or another person's import is a 404."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts import roles
from crm.clients.models import Contact
from crm.imports import runner
from crm.imports.models import ImportJob
from tests.api.conftest import ApiClient, sign_in
from tests.conftest import inside
from tests.crm.attachments.conftest import media_root_set

FILES = Path(__file__).parent.parent / "crm" / "imports" / "files"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    return media_root_set(settings, tmp_path / "media")


def upload(api: ApiClient, name: str, entity: str = "contact", content: bytes | None = None, **fields):
    body = content if content is not None else (FILES / name).read_bytes()
    return Client.post(
        api,
        "/api/v1/imports/",
        {"file": SimpleUploadedFile(name, body), "entity": entity, **fields},
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
    )


def run_job(tenant, job_id: int) -> None:
    with inside(tenant):
        runner.import_run(job_id=job_id)


def test_upload_answers_with_what_was_detected_the_guessed_mapping_and_a_sample(api_a, media, tenant_a):
    response = upload(api_a, "outlook_contacts.csv")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["file_format"], body["encoding"], body["total_rows"]) == (
        "uploaded",
        "csv",
        "cp1252",
        2,
    )
    assert {"header": "E-mail Address", "column": 8, "target": "emails", "transform": ""} in body["mapping"]
    assert body["sample_rows"][0][0] == "Hélène"
    assert body["counts"] == {"created": 0, "updated": 0, "skipped": 0, "rejected": 0, "processed": 0}
    with inside(tenant_a):
        stored = ImportJob.objects.get(pk=body["id"]).stored_name
    assert (media / tenant_a.schema_name / stored).is_file()


def test_bad_files_are_field_errors_never_500(api_a):
    binary = upload(api_a, "pixel.png")
    wrong_entity = upload(api_a, "arabic.csv", entity="spaceship")

    assert binary.status_code == 400 and binary.json()["errors"]["file"]
    assert binary.json()["code"] == "validation_error"
    assert wrong_entity.status_code == 400 and "entity" in wrong_entity.json()["errors"]


def test_a_2_gb_upload_is_refused_from_its_declared_size_before_its_body_is_read(api_a):
    class Endless:
        """A request body that would fail the test if anyone read it."""

        def read(self, *args):
            raise AssertionError("the body was read")

        readline = read

    response = api_a.generic(
        "POST",
        "/api/v1/imports/",
        b"",
        content_type="multipart/form-data; boundary=xyz",
        HTTP_AUTHORIZATION=f"Bearer {api_a.token}",
        CONTENT_LENGTH=str(2 * 1024**3),
        **{"wsgi.input": Endless()},
    )

    assert response.status_code == 400
    assert response.json()["errors"]["file"][0].startswith("This file is too large")


def test_a_body_larger_than_the_limit_without_a_declared_size_stops_at_the_limit(api_a, settings):
    settings.IMPORT_MAX_BYTES = 10_000
    response = upload(api_a, "big.csv", content=b"Name\n" + b"x" * 20_000 + b"\n")

    assert response.status_code == 400 and "too large" in response.json()["errors"]["file"][0]


def test_the_mapping_is_checked_field_by_field(api_a):
    job = upload(api_a, "arabic.csv").json()

    response = api_a.patch(
        f"/api/v1/imports/{job['id']}/",
        {"mapping": [{"column": 0, "target": "salary"}, {"column": 1, "target": ""}], "options": {"mode": "merge"}},
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "mapping.0" in errors and "mapping" in errors


def test_options_are_checked(api_a):
    job = upload(api_a, "arabic.csv").json()

    response = api_a.patch(f"/api/v1/imports/{job['id']}/", {"options": {"mode": "merge", "match": ["shoe_size"]}})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"options.mode", "options.match"}


def test_preview_start_status_and_report(api_a, tenant_a):
    content = b"Name,Email\nGood Person,good@example.com\nBad Person,not-an-email\n"
    job = upload(api_a, "people.csv", content=content).json()

    preview = api_a.post(f"/api/v1/imports/{job['id']}/preview/")
    started = api_a.post(f"/api/v1/imports/{job['id']}/start/")
    run_job(tenant_a, job["id"])
    status = api_a.get(f"/api/v1/imports/{job['id']}/")
    rejected = api_a.get(f"/api/v1/imports/{job['id']}/rejected/")
    report = api_a.get(f"/api/v1/imports/{job['id']}/report.csv/")

    assert preview.status_code == 200
    assert [row["action"] for row in preview.json()["rows"]] == ["created", "rejected"]
    assert preview.json()["rows"][1]["problems"][0]["column"] == "Email"
    assert started.status_code == 202 and started.json()["status"] == "queued"
    body = status.json()
    assert (body["status"], body["progress"], body["can_undo"]) == ("done", 100, True)
    assert body["counts"] == {"created": 1, "updated": 0, "skipped": 0, "rejected": 1, "processed": 2}
    assert rejected.json()["results"][0]["row_number"] == 3
    assert rejected.json()["results"][0]["values"] == ["Bad Person", "not-an-email"]
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    text = b"".join(report.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[0] == "Row,Column,Reason,Code,Name,Email"
    assert text.splitlines()[1].startswith("3,Email,")


def test_the_report_never_lets_a_spreadsheet_run_a_formula(api_a, tenant_a):
    content = b"Name,Email\n=cmd|' /C calc'!A0,not-an-email\n"
    job = upload(api_a, "evil.csv", content=content).json()
    api_a.post(f"/api/v1/imports/{job['id']}/start/")
    run_job(tenant_a, job["id"])

    report = api_a.get(f"/api/v1/imports/{job['id']}/report.csv/")

    line = b"".join(report.streaming_content).decode("utf-8-sig").splitlines()[1]
    assert ",'=cmd|" in line


def test_starting_past_the_plan_limit_names_the_rows_that_fit(api_a, tenant_a):
    from tenants.models import Plan

    tenant_a.plan = Plan.objects.get(code="free")
    tenant_a.save(update_fields=["plan"])
    with inside(tenant_a):
        Contact.objects.bulk_create(Contact(full_name=f"C {i}", last_name=f"C {i}") for i in range(999))
    job = upload(api_a, "google_contacts_old.csv").json()

    response = api_a.post(f"/api/v1/imports/{job['id']}/start/")

    assert response.status_code == 403
    assert (response.json()["code"], response.json()["rows_that_fit"]) == ("plan_limit_reached", 1)


def test_undo_and_cancel(api_a, tenant_a):
    job = upload(api_a, "iphone.vcf").json()
    api_a.post(f"/api/v1/imports/{job['id']}/start/")
    cancel_after_start = api_a.post(f"/api/v1/imports/{job['id']}/cancel/")
    second = upload(api_a, "android_21.vcf").json()
    api_a.post(f"/api/v1/imports/{second['id']}/start/")
    run_job(tenant_a, second["id"])

    undo = api_a.post(f"/api/v1/imports/{second['id']}/undo/")
    again = api_a.post(f"/api/v1/imports/{second['id']}/undo/")

    assert cancel_after_start.status_code == 200 and cancel_after_start.json()["status"] == "cancelled"
    assert undo.status_code == 202 and undo.json()["status"] == "undoing"
    assert again.status_code == 409 and again.json()["code"] == "not_finished"


def test_an_expired_undo_is_a_clear_error(api_a, tenant_a):
    from datetime import timedelta

    from django.utils import timezone

    job = upload(api_a, "iphone.vcf").json()
    api_a.post(f"/api/v1/imports/{job['id']}/start/")
    run_job(tenant_a, job["id"])
    with inside(tenant_a):
        ImportJob.objects.filter(pk=job["id"]).update(undo_deadline=timezone.now() - timedelta(minutes=1))

    response = api_a.post(f"/api/v1/imports/{job['id']}/undo/")

    assert response.status_code == 400 and response.json()["code"] == "undo_expired"


def test_another_workspaces_import_is_a_404_like_a_missing_one(api_a, api_b):
    globex_job = upload(api_b, "arabic.csv").json()

    for method, path in [
        ("get", f"/api/v1/imports/{globex_job['id']}/"),
        ("patch", f"/api/v1/imports/{globex_job['id']}/"),
        ("post", f"/api/v1/imports/{globex_job['id']}/start/"),
        ("post", f"/api/v1/imports/{globex_job['id']}/preview/"),
        ("get", f"/api/v1/imports/{globex_job['id']}/rejected/"),
        ("get", f"/api/v1/imports/{globex_job['id']}/report.csv/"),
        ("post", f"/api/v1/imports/{globex_job['id']}/undo/"),
        ("delete", f"/api/v1/imports/{globex_job['id']}/"),
        ("get", "/api/v1/imports/999999/"),
    ]:
        response = getattr(api_a, method)(path)
        assert response.status_code == 404, (method, path, response.status_code)
    assert api_a.get("/api/v1/imports/").json()["results"] == []


def test_a_colleagues_import_is_a_404_for_a_sales_rep_and_visible_to_the_admin(api_a, tenant_a):
    from accounts.models import Role, SeatType
    from accounts.services import user_create

    with inside(tenant_a):
        user_create(
            email="rex@acme.example",
            full_name="Rex",
            password="correct-horse-battery-9",
            role=Role.objects.get(code=roles.SALES_REP),
            seat_type=SeatType.CONCURRENT,
        )
    rex = sign_in("acme.localhost:8000", "rex@acme.example")
    alices = upload(api_a, "arabic.csv").json()
    rexs = upload(rex, "iphone.vcf").json()

    assert rex.get(f"/api/v1/imports/{alices['id']}/").status_code == 404
    assert [job["id"] for job in rex.get("/api/v1/imports/").json()["results"]] == [rexs["id"]]
    assert api_a.get(f"/api/v1/imports/{rexs['id']}/").status_code == 200


def test_templates_and_targets(api_a):
    created = api_a.post(
        "/api/v1/import-templates/",
        {
            "name": "Outlook",
            "entity": "contact",
            "mapping": {"E-mail Address": {"target": "emails"}, "Last Name": {"target": "last_name"}},
        },
    )
    duplicate = api_a.post(
        "/api/v1/import-templates/",
        {"name": "Outlook", "entity": "contact", "mapping": {"Last Name": {"target": "last_name"}}},
    )
    bad = api_a.post(
        "/api/v1/import-templates/", {"name": "Bad", "entity": "contact", "mapping": {"X": {"target": "nope"}}}
    )
    targets = api_a.get("/api/v1/imports/targets/", {"entity": "deal"})

    assert created.status_code == 201 and created.json()["mapping"]["E-mail Address"]["target"] == "emails"
    assert duplicate.status_code == 400 and "name" in duplicate.json()["errors"]
    assert bad.status_code == 400
    assert {"key": "stage", "label": "Stage (by name)"} in targets.json()
    assert api_a.delete(f"/api/v1/import-templates/{created.json()['id']}/").status_code == 204


def test_list_and_detail_cost_a_bounded_number_of_queries(api_a, django_assert_max_num_queries):
    for name in ("arabic.csv", "iphone.vcf", "android_21.vcf"):
        upload(api_a, name)

    with django_assert_max_num_queries(14):
        listed = api_a.get("/api/v1/imports/")
    with django_assert_max_num_queries(14):
        detail = api_a.get(f"/api/v1/imports/{listed.json()['results'][0]['id']}/")

    assert len(listed.json()["results"]) == 3 and detail.status_code == 200


def test_the_upload_limit_setting_is_what_the_message_names():
    assert django_settings.IMPORT_MAX_BYTES == 200 * 1024 * 1024
