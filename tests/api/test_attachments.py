"""Attachments over the API: multipart upload, list by record, download, delete; the
storage limit's code; who may; another workspace's attachment is a 404."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from crm.attachments.models import Attachment
from crm.attachments.services import attachment_upload
from crm.clients.services import contact_create
from tenants.models import Plan
from tests.api.conftest import ApiClient
from tests.api.people import alice, colleague
from tests.conftest import inside
from tests.crm.attachments.conftest import media_root_set, stored_files


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    return media_root_set(settings, tmp_path / "media")


def send(client: ApiClient, data: dict, **headers):
    """A multipart POST to /attachments/ with the client's token."""
    return Client.post(client, "/api/v1/attachments/", data, HTTP_AUTHORIZATION=f"Bearer {client.token}", **headers)


def file(content: bytes, name: str = "offer.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@pytest.fixture
def contact_a(tenant_a):
    with inside(tenant_a):
        return contact_create(actor=alice(), first_name="Peter", last_name="Gibbons")


def test_an_upload_is_listed_by_its_record_and_downloads_byte_for_byte(api_a, contact_a):
    content = bytes(range(256)) * 8

    created = send(api_a, {"record_type": "contact", "record_id": contact_a.pk, "file": file(content, "spec.pdf")})

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["record_type"] == "contact" and body["record_id"] == contact_a.pk
    assert body["name"] == "spec.pdf" and body["size_bytes"] == len(content)
    assert body["uploaded_by"]["email"] == "alice@acme.example"
    listed = api_a.get("/api/v1/attachments/", {"record_type": "contact", "record_id": contact_a.pk}).json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
    assert api_a.get("/api/v1/attachments/", {"record_type": "deal", "record_id": contact_a.pk}).json()["results"] == []
    download = api_a.get(f"/api/v1/attachments/{body['id']}/download/", HTTP_ACCEPT="application/json")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert download["Content-Disposition"] == 'attachment; filename="spec.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"


def test_an_empty_or_too_large_file_is_a_field_error(api_a, contact_a, settings, media):
    settings.ATTACHMENT_MAX_BYTES = 10
    empty = send(api_a, {"record_type": "contact", "record_id": contact_a.pk, "file": file(b"")})
    large = send(api_a, {"record_type": "contact", "record_id": contact_a.pk, "file": file(b"x" * 11)})

    assert empty.status_code == 400 and empty.json()["errors"]["file"] == ["This file is empty."]
    assert large.status_code == 400 and "too large" in large.json()["errors"]["file"][0]
    assert stored_files(media) == []


def test_the_storage_limit_answers_plan_limit_reached(api_a, contact_a, tenant_a, media):
    Plan.objects.filter(pk=tenant_a.plan_id).update(max_storage_mb=1)

    response = send(api_a, {"record_type": "contact", "record_id": contact_a.pk, "file": file(b"x" * (2**20 + 1))})

    assert response.status_code == 403
    assert response.json()["code"] == "plan_limit_reached"
    assert "1 MB of file storage" in response.json()["detail"]
    assert stored_files(media) == []


def test_bad_shapes_are_field_errors_not_server_errors(api_a, contact_a):
    no_file = send(api_a, {"record_type": "contact", "record_id": contact_a.pk})
    bad_type = send(api_a, {"record_type": "quote", "record_id": contact_a.pk, "file": file(b"x")})
    missing = send(api_a, {"record_type": "contact", "record_id": 2**63 - 1, "file": file(b"x")})
    json_body = api_a.post("/api/v1/attachments/", {"record_type": "contact", "record_id": contact_a.pk})
    id_alone = api_a.get("/api/v1/attachments/", {"record_id": contact_a.pk})

    assert no_file.status_code == 400 and "file" in no_file.json()["errors"]
    assert bad_type.status_code == 400 and "record_type" in bad_type.json()["errors"]
    assert missing.status_code == 400 and "record_id" in missing.json()["errors"]
    assert json_body.status_code == 415
    assert id_alone.status_code == 400 and "record_type" in id_alone.json()["errors"]


def test_a_retried_upload_with_the_same_idempotency_key_stores_one_file(api_a, contact_a, media):
    data = {"record_type": "contact", "record_id": contact_a.pk}
    first = send(api_a, {**data, "file": file(b"once")}, HTTP_IDEMPOTENCY_KEY="upload-1")
    again = send(api_a, {**data, "file": file(b"once")}, HTTP_IDEMPOTENCY_KEY="upload-1")

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert len(stored_files(media)) == 1


def test_delete_removes_it_for_good(api_a, contact_a, tenant_a):
    created = send(api_a, {"record_type": "contact", "record_id": contact_a.pk, "file": file(b"x")}).json()

    deleted = api_a.delete(f"/api/v1/attachments/{created['id']}/")

    assert deleted.status_code == 204
    assert api_a.get(f"/api/v1/attachments/{created['id']}/").status_code == 404
    with inside(tenant_a):
        assert not Attachment.objects.exists()


def test_a_rep_gets_404_for_attachments_of_records_they_cannot_see(api_a, contact_a, tenant_a):
    created = send(api_a, {"record_type": "contact", "record_id": contact_a.pk, "file": file(b"secret")}).json()
    _rex, api_rex = colleague(tenant_a, "rex@acme.example", "sales_rep")

    assert api_rex.get(f"/api/v1/attachments/{created['id']}/").status_code == 404
    assert api_rex.get(f"/api/v1/attachments/{created['id']}/download/").status_code == 404
    assert api_rex.delete(f"/api/v1/attachments/{created['id']}/").status_code == 404
    assert api_rex.get("/api/v1/attachments/").json()["results"] == []
    refused = send(api_rex, {"record_type": "contact", "record_id": contact_a.pk, "file": file(b"x")})
    assert refused.status_code == 400 and "record_id" in refused.json()["errors"]


def test_another_workspaces_token_cannot_reach_an_attachment_by_id(contact_a, tenant_a, api_b):
    with inside(tenant_a):
        attachment = attachment_upload(actor=alice(), record=contact_a, file=file(b"acme only"))

    for path in (f"/api/v1/attachments/{attachment.pk}/", f"/api/v1/attachments/{attachment.pk}/download/"):
        assert api_b.get(path).status_code == 404, path
    assert api_b.delete(f"/api/v1/attachments/{attachment.pk}/").status_code == 404
    refused = send(api_b, {"record_type": "contact", "record_id": contact_a.pk, "file": file(b"x")})
    assert refused.status_code == 400
    with inside(tenant_a):
        assert Attachment.objects.count() == 1


def test_listing_stays_within_a_query_bound(api_a, contact_a, tenant_a, django_assert_max_num_queries):
    with inside(tenant_a):
        for number in range(30):
            attachment_upload(actor=alice(), record=contact_a, file=file(b"x", f"f{number}.txt"))

    with django_assert_max_num_queries(12):
        response = api_a.get("/api/v1/attachments/")

    assert len(response.json()["results"]) == 30
