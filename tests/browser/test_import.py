"""In a real browser, with a real worker: upload a Google Contacts export → check the
mapping (the preview refreshes when a column changes) → watch the progress → read the
report with its rejected row, and undo."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from playwright.sync_api import expect

from crm.clients.models import Company, Contact
from crm.imports.entities import MODELS
from crm.imports.models import ImportedRecord, ImportJob
from tests.browser.conftest import sign_in
from tests.processes import celery_worker

pytestmark = [pytest.mark.browser, pytest.mark.slow]
FILES = Path(__file__).parent.parent / "crm" / "imports" / "files"


@pytest.fixture
def worker(inside_browser_tenant, tmp_path):
    with celery_worker(tmp_path / "worker.log"):
        yield
    for job in ImportJob.objects.all():
        for record in ImportedRecord.objects.filter(job=job):
            MODELS[record.record_type].all_objects.filter(pk=record.record_id).delete()
        default_storage.delete(job.stored_name)
        job.delete()


def test_upload_map_import_and_read_the_report(page, live_site, worker, tmp_path):
    export = tmp_path / "google.csv"
    export.write_bytes((FILES / "google_contacts_2024.csv").read_bytes() + b"Nobody,,,,,,,,,,,,,,,,,,not-an-email\r\n")
    sign_in(page, live_site)

    page.goto(live_site.url("/contacts/"))
    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("File (CSV, XLSX or vCard)").set_input_files(str(export))
    page.get_by_role("button", name="Upload and map columns").click()

    expect(page.get_by_role("heading", name="Map the columns of “google.csv”")).to_be_visible()
    expect(page.get_by_label("Organization Name")).to_have_value("company")
    preview = page.get_by_role("region", name="Preview: the first rows as they will be stored")
    expect(preview.get_by_text("Contoso Pharma (new company)")).to_be_visible()
    expect(preview.get_by_text("will be rejected")).to_be_visible()
    # Changing a column's field refreshes the preview in place (HTMX).
    page.get_by_label("Organization Name").select_option("")
    expect(preview.get_by_text("Contoso Pharma (new company)")).to_have_count(0)
    page.get_by_label("Organization Name").select_option("company")
    expect(
        page.get_by_role("region", name="Preview: the first rows as they will be stored").get_by_text(
            "Contoso Pharma (new company)"
        )
    ).to_be_visible()

    page.get_by_role("button", name="Import 4 rows").click()

    expect(page.get_by_role("heading", name="Import of “google.csv”")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Together 4 rows of 4 in the file.")).to_be_visible()
    rejected = page.get_by_role("table", name="Rejected rows")
    expect(rejected.get_by_text("“not-an-email” is not a valid email address.")).to_be_visible()
    expect(page.get_by_role("link", name="Download the report (CSV)")).to_be_visible()
    assert Contact.objects.filter(last_name__in=["Raman", "Weber"]).count() == 2
    assert Company.objects.filter(name="Contoso Pharma").exists()

    page.get_by_role("link", name="Undo this import").click()
    page.get_by_role("button", name="Undo the import").click()

    expect(page.get_by_text("records moved to the trash")).to_be_visible(timeout=60_000)
    assert not Contact.objects.filter(last_name__in=["Raman", "Weber"]).exists()
