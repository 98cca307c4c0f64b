"""The Backups page, its API and the maintenance answer, in the session workspaces
(Acme/Alice, Globex/Bob); catalogue rows are rolled back after each test."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from accounts.models import AuditEntry, Role, User
from tenants.backups import archive
from tenants.backups.models import Backup, BackupKind, BackupStatus, Job, JobKind, Maintenance
from tests.api.conftest import sign_in
from tests.conftest import ALICE_EMAIL, BOB_EMAIL, PASSWORD, inside

ACME = "acme.localhost:8000"
GLOBEX = "globex.localhost:8000"


def stored_backup(tenant, *, content: bytes = b"archive bytes", kind: str = BackupKind.SCHEDULED) -> Backup:
    name = archive.backup_storage().save(f"{tenant.schema_name}/test-{kind}.crmbackup", ContentFile(content))
    return Backup.objects.create(
        tenant=tenant, kind=kind, status=BackupStatus.READY, storage_name=name, size_bytes=len(content), sha256="0" * 64
    )


def browser(host: str, email: str) -> Client:
    client = Client(HTTP_HOST=host)
    assert client.post("/login/", {"username": email, "password": PASSWORD}).status_code == 302
    return client


@pytest.fixture
def alice_browser(tenant_a) -> Client:
    return browser(ACME, ALICE_EMAIL)


@pytest.fixture
def globex_backup(tenant_b) -> Backup:
    return stored_backup(tenant_b)


def test_backups_page_lists_only_this_workspaces_backups(alice_browser, tenant_a, globex_backup):
    mine = stored_backup(tenant_a, content=b"x" * 2048)

    response = alice_browser.get("/backups/")

    assert response.status_code == 200
    page = response.content.decode()
    assert f"/backups/{mine.pk}/download/" in page
    assert f"/backups/{globex_backup.pk}/" not in page
    assert "2.0\xa0KB" in page


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/backups/{id}/download/"),
        ("get", "/backups/{id}/restore/"),
        ("post", "/backups/{id}/restore/"),
        ("post", "/backups/{id}/delete/"),
    ],
)
def test_another_workspaces_backup_looks_missing_on_the_page(alice_browser, globex_backup, method, path):
    response = getattr(alice_browser, method)(path.format(id=globex_backup.pk), {"confirm": "acme"})

    assert response.status_code == 404
    assert Backup.objects.filter(pk=globex_backup.pk).exists()
    assert not Job.objects.filter(backup=globex_backup).exists()


def test_another_workspaces_job_looks_missing(alice_browser, tenant_b):
    job = Job.objects.create(tenant=tenant_b, kind=JobKind.EXPORT, output_name="t_globex/exports/x.zip")

    assert alice_browser.get(f"/backups/jobs/{job.pk}/").status_code == 404
    assert alice_browser.get(f"/backups/jobs/{job.pk}/download/").status_code == 404


def test_another_workspaces_backup_looks_missing_over_the_api(tenant_a, globex_backup):
    api = sign_in(ACME, ALICE_EMAIL)

    listed = api.get("/api/v1/backups/").json()["results"]
    assert globex_backup.pk not in [item["id"] for item in listed]
    assert api.get(f"/api/v1/backups/{globex_backup.pk}/").status_code == 404
    response = api.post(f"/api/v1/backups/{globex_backup.pk}/restore/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not Job.objects.filter(backup=globex_backup).exists()


def test_download_gives_the_archive_and_is_audit_logged(alice_browser, tenant_a):
    backup = stored_backup(tenant_a, content=b"the archive")

    response = alice_browser.get(f"/backups/{backup.pk}/download/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"the archive"
    with inside(tenant_a):
        entry = AuditEntry.objects.filter(action="backup.download").latest("created_at")
        assert entry.actor.email == ALICE_EMAIL
        assert entry.target_id == backup.pk


def test_a_sales_rep_cannot_see_or_download_backups(tenant_a):
    backup = stored_backup(tenant_a)
    with inside(tenant_a):
        User.objects.create_user(
            email="rep@acme.example",
            password=PASSWORD,
            full_name="Rita Rep",
            role=Role.objects.get(code="sales_rep"),
            seat_type="named",
        )
    rep = browser(ACME, "rep@acme.example")

    assert rep.get("/backups/").status_code == 403
    assert rep.get(f"/backups/{backup.pk}/download/").status_code == 403
    assert sign_in(ACME, "rep@acme.example").get("/api/v1/backups/").status_code == 403


def test_restore_needs_the_workspace_address_typed(alice_browser, tenant_a):
    backup = stored_backup(tenant_a)

    refused = alice_browser.post(f"/backups/{backup.pk}/restore/", {"confirm": "wrong"})
    started = alice_browser.post(f"/backups/{backup.pk}/restore/", {"confirm": "acme"})

    assert refused.status_code == 400
    job = Job.objects.get(backup=backup)
    assert started.status_code == 302
    assert started["Location"] == f"/backups/jobs/{job.pk}/"
    assert job.kind == JobKind.RESTORE


def test_a_second_restore_while_one_runs_is_refused_over_the_api(tenant_a):
    backup = stored_backup(tenant_a)
    api = sign_in(ACME, ALICE_EMAIL)

    first = api.post(f"/api/v1/backups/{backup.pk}/restore/")
    second = api.post(f"/api/v1/backups/{backup.pk}/restore/")

    assert first.status_code == 202
    assert first.json()["status"] == "queued"
    assert second.status_code == 409
    assert second.json()["code"] == "restore_in_progress"
    detail = api.get(f"/api/v1/backups/{backup.pk}/").json()
    assert detail["restore"]["id"] == first.json()["id"]


def test_on_demand_backups_stop_at_the_plans_daily_limit(tenant_a):
    api = sign_in(ACME, ALICE_EMAIL)
    allowed = tenant_a.plan.manual_backups_per_day

    answers = [api.post("/api/v1/backups/") for _ in range(allowed + 1)]

    assert [answer.status_code for answer in answers] == [202] * allowed + [429]
    assert answers[-1].json()["code"] == "plan_limit_reached"
    assert Backup.objects.filter(tenant=tenant_a, kind=BackupKind.MANUAL).count() == allowed


def test_maintenance_answers_503_with_a_translated_page_and_api_json(tenant_a, tenant_b):
    Maintenance.objects.create(tenant=tenant_a, retry_after_seconds=90)

    page = Client(HTTP_HOST=ACME, HTTP_ACCEPT_LANGUAGE="ru").get("/login/")
    api = Client(HTTP_HOST=ACME).get("/api/v1/me/")
    other = Client(HTTP_HOST=GLOBEX).get("/login/")

    assert page.status_code == 503
    assert page["Retry-After"] == "90"
    assert "Вернёмся через несколько минут" in page.content.decode()
    assert api.status_code == 503
    assert api["Retry-After"] == "90"
    assert api.json()["code"] == "maintenance"
    assert other.status_code == 200


def test_bob_sees_only_globex_backups_over_the_api(tenant_a, tenant_b, globex_backup):
    stored_backup(tenant_a)
    api = sign_in(GLOBEX, BOB_EMAIL)

    listed = api.get("/api/v1/backups/").json()["results"]

    assert [item["id"] for item in listed] == [globex_backup.pk]
    assert set(listed[0]) >= {"id", "kind", "status", "size", "created_at", "progress"}
