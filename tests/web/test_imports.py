"""Settings → Import in the browser's plain HTML: upload → mapping (with the preview, also
through HTMX) → start → progress → report → undo; the Import button on every list."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from crm.clients.models import Contact
from crm.imports import runner
from crm.imports.models import ImportJob, ImportStatus
from crm.imports.services import import_upload
from tests.conftest import inside
from tests.crm.attachments.conftest import media_root_set

FILES = Path(__file__).parent.parent / "crm" / "imports" / "files"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    return media_root_set(settings, tmp_path / "media")


@pytest.fixture
def web_marketing(acme):
    from accounts import roles
    from tests.web.conftest import _member, sign_in

    _member("mia@acme.example", "Mia Marketing", roles.MARKETING)
    return sign_in(Client(HTTP_HOST="acme.localhost:8000"), "mia@acme.example")


def a_file(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content if content is not None else (FILES / name).read_bytes())


def test_the_import_page_starts_empty_and_offers_what_the_role_may_import(web_alice, web_marketing, web_fay):
    admin_page = web_alice.get("/imports/").content.decode()
    marketing_page = web_marketing.get("/imports/").content.decode()
    freelancer_page = web_fay.get("/imports/").content.decode()

    assert "No imports yet" in admin_page
    assert "/imports/new/?entity=product" in admin_page
    assert "/imports/new/?entity=lead" in marketing_page and "entity=contact" not in marketing_page
    assert "nothing you can import" in freelancer_page


LISTS = [("/contacts/", "contact"), ("/companies/", "company"), ("/leads/", "lead"), ("/deals/", "deal")]


def test_every_list_has_an_import_button_for_people_who_may_create(web_alice, web_marketing):
    for path, entity in [*LISTS, ("/products/", "product")]:
        assert f"/imports/new/?entity={entity}" in web_alice.get(path).content.decode(), path
    assert "/imports/new/?entity=" not in web_marketing.get("/products/").content.decode()
    assert "/imports/new/?entity=lead" in web_marketing.get("/leads/").content.decode()
    assert "/imports/new/?entity=" not in web_alice.get("/tasks/").content.decode()


def test_upload_mapping_start_progress_and_report(web_alice, acme, alice):
    upload_page = web_alice.get("/imports/new/?entity=contact")
    assert upload_page.status_code == 200 and 'name="file"' in upload_page.content.decode()

    uploaded = web_alice.post("/imports/new/", {"entity": "contact", "file": a_file("google_contacts_2024.csv")})
    job = ImportJob.objects.get()
    assert uploaded.status_code == 302 and uploaded["Location"] == f"/imports/{job.pk}/"

    mapping = web_alice.get(f"/imports/{job.pk}/").content.decode()
    assert "Organization Name" in mapping and 'value="company" selected' in mapping
    assert "will be created" in mapping and "will be skipped" in mapping and "Contoso Pharma" in mapping

    form = {f"target-{entry['column']}": entry["target"] for entry in job.mapping}
    started = web_alice.post(
        f"/imports/{job.pk}/mapping/",
        {**form, "mode": "skip", "match": ["email"], "create_companies": "on", "step": "start"},
    )
    assert started.status_code == 302
    progress = web_alice.get(f"/imports/{job.pk}/").content.decode()
    assert "<progress" in progress and 'http-equiv="refresh"' in progress and "every 2s" in progress

    runner.import_run(job_id=job.pk)

    done = web_alice.get(f"/imports/{job.pk}/progress/", HTTP_HX_REQUEST="true")
    assert done.status_code == 204 and done["HX-Redirect"] == f"/imports/{job.pk}/"
    report = web_alice.get(f"/imports/{job.pk}/").content.decode()
    assert "Together 3 rows of 3 in the file." in report
    assert "Undo this import" in report
    assert "No row was rejected." in report
    assert Contact.objects.filter(last_name="Raman").count() == 1


def test_the_htmx_mapping_refresh_returns_the_section_with_the_new_preview(web_alice, acme, alice):
    job = import_upload(actor=alice, entity="contact", file=a_file("arabic.csv"))
    form = {f"target-{entry['column']}": entry["target"] for entry in job.mapping}
    form["target-2"] = ""  # stop importing the company

    response = web_alice.post(f"/imports/{job.pk}/mapping/", {**form, "mode": "skip"}, HTTP_HX_REQUEST="true")

    page = response.content.decode()
    assert response.status_code == 200 and page.startswith('<div id="mapping-section">')
    assert "أرامكو" not in page.split("Preview")[1]
    assert ImportJob.objects.get(pk=job.pk).mapping[2]["target"] == ""


def test_a_mapping_problem_is_shown_beside_its_column(web_alice, acme, alice):
    job = import_upload(actor=alice, entity="contact", file=a_file("arabic.csv"))

    response = web_alice.post(
        f"/imports/{job.pk}/mapping/",
        {"target-0": "first_name", "target-1": "first_name", "mode": "skip", "step": "start"},
    )

    assert response.status_code == 400
    assert "only one column can" in response.content.decode()
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.UPLOADED


def test_bad_files_come_back_to_the_upload_page_with_the_reason(web_alice, acme):
    binary = web_alice.post("/imports/new/", {"entity": "contact", "file": a_file("pixel.png")})
    missing = web_alice.post("/imports/new/", {"entity": "contact"})

    assert binary.status_code == 400 and "This is a PNG file" in binary.content.decode()
    assert missing.status_code == 400 and "Choose a file" in missing.content.decode()
    assert not ImportJob.objects.exists()


def test_a_2_gb_upload_is_refused_before_its_body_is_read(web_alice, acme):
    response = web_alice.generic(
        "POST",
        "/imports/new/",
        b"",
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(2 * 1024**3),
    )

    assert response.status_code == 400 and "too large" in response.content.decode()


def test_undo_asks_first_then_undoes(web_alice, acme, alice):
    from crm.imports.services import import_start, import_undo_run

    job = import_upload(actor=alice, entity="contact", file=a_file("iphone.vcf"))
    import_start(actor=alice, job=job)
    runner.import_run(job_id=job.pk)

    confirm = web_alice.get(f"/imports/{job.pk}/undo/")
    web_alice.post(f"/imports/{job.pk}/undo/")
    import_undo_run(job_id=job.pk)

    assert "Undo the import" in confirm.content.decode()
    assert not Contact.objects.filter(last_name="Appleseed").exists()
    assert "4 records moved to the trash" in web_alice.get(f"/imports/{job.pk}/").content.decode()


def test_the_report_lists_rejected_rows_and_offers_the_csv(web_alice, acme, alice):
    from crm.imports.services import import_start

    job = import_upload(actor=alice, entity="contact", file=a_file("bad.csv", b"Name,Email\nAnn,ann@\n"))
    import_start(actor=alice, job=job)
    runner.import_run(job_id=job.pk)

    page = web_alice.get(f"/imports/{job.pk}/").content.decode()
    download = web_alice.get(f"/imports/{job.pk}/report.csv")

    assert "“ann@” is not a valid email address." in page
    assert download.status_code == 200 and b"ann@" in b"".join(download.streaming_content)


def test_another_persons_or_workspaces_import_is_a_404(tenant_a, acme, alice, rex, web_rex, web_bob):
    with inside(tenant_a):
        job = import_upload(actor=alice, entity="contact", file=a_file("arabic.csv"))

    for path in (
        f"/imports/{job.pk}/",
        f"/imports/{job.pk}/progress/",
        f"/imports/{job.pk}/undo/",
        f"/imports/{job.pk}/report.csv",
    ):
        assert web_rex.get(path).status_code == 404, path
        assert web_bob.get(path).status_code == 404, path
    assert web_rex.post(f"/imports/{job.pk}/mapping/", {"step": "start"}).status_code == 404
    assert web_bob.post(f"/imports/{job.pk}/discard/").status_code == 404


def test_pages_cost_a_bounded_number_of_queries(web_alice, acme, alice, django_assert_max_num_queries):
    job = import_upload(actor=alice, entity="contact", file=a_file("google_contacts_old.csv"))

    with django_assert_max_num_queries(40):
        assert web_alice.get(f"/imports/{job.pk}/").status_code == 200
    with django_assert_max_num_queries(20):
        assert web_alice.get("/imports/").status_code == 200


def test_the_import_pages_speak_arabic_right_to_left(web_alice, acme, alice):
    job = import_upload(actor=alice, entity="contact", file=a_file("arabic.csv"))
    web_alice.post("/language/", {"language": "ar", "next": "/imports/"})

    page = web_alice.get(f"/imports/{job.pk}/").content.decode()

    assert '<html lang="ar" dir="rtl">' in page
    assert "Map the columns" not in page
