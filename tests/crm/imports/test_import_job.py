"""Importing real files end to end through the job code (run in this process): what is
created, duplicates, counts that add up, rejected rows with their reasons, history."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from crm.activities.models import Task
from crm.catalog.models import Product
from crm.catalog.services import product_create
from crm.clients.models import Company, Contact
from crm.clients.services import contact_create
from crm.custom_fields.services import custom_field_create
from crm.deals.models import Deal, DealStageChange, Stage
from crm.errors import AccessDenied
from crm.history.models import FieldChange
from crm.imports import runner
from crm.imports.models import ImportedRecord, ImportJob, ImportStatus
from crm.imports.services import import_configure, import_start
from crm.leads.models import Lead, LeadChannel
from crm.notifications.models import Notification
from tests.crm.imports.conftest import a_file, fixture_file, run, targets, upload


def adds_up(job: ImportJob) -> bool:
    counted = job.created_count + job.updated_count + job.skipped_count + job.rejected_count
    return counted == job.processed_rows == job.total_rows


def test_a_google_contacts_export_becomes_contacts_with_companies_emails_phones_and_tags(alice):
    job = upload(alice, "contact", fixture_file("google_contacts_old.csv"))

    job = run(job, alice)

    assert job.status == ImportStatus.DONE and adds_up(job)
    assert job.created_count == 2
    laura = Contact.objects.get(last_name="Bennett")
    assert laura.first_name == "Laura"
    assert laura.emails == ["laura.bennett@northwind.example", "lbennett@mail.example"]
    assert laura.phones == ["+14155550134", "+14155550199"]
    assert laura.company.name == "Northwind Traders"
    assert laura.job_title == "Head of Purchasing"
    assert laura.birthday == date(1984, 3, 17)
    assert (laura.city, laura.region, laura.postal_code, laura.country) == ("San Francisco", "CA", "94105", "US")
    assert laura.address == "500 Market St"
    assert list(laura.tags.values_list("name", flat=True)) == ["Clients"]
    assert laura.owner == alice and laura.created_by == alice
    assert Company.objects.filter(name="Ortega y Hijos").count() == 1


def test_the_2024_google_export_merges_its_duplicate_row_in_skip_mode(alice):
    job = upload(alice, "contact", fixture_file("google_contacts_2024.csv"))

    job = run(job, alice)

    assert (job.created_count, job.skipped_count, job.rejected_count) == (2, 1, 0)
    assert adds_up(job)
    assert Contact.objects.filter(last_name="Raman").count() == 1


def test_within_file_duplicates_update_the_record_of_the_earlier_row_in_update_mode(alice):
    job = upload(alice, "contact", fixture_file("google_contacts_2024.csv"))

    job = run(job, alice, options={"mode": "update"})

    assert (job.created_count, job.updated_count) == (2, 1)
    priya = Contact.objects.get(last_name="Raman")
    assert "Duplicate entry from the phone" in priya.notes or priya.notes == ""
    assert priya.emails == ["priya.raman@contoso.example"]


def test_create_mode_creates_every_row_even_duplicates(alice):
    job = upload(alice, "contact", fixture_file("google_contacts_2024.csv"))

    job = run(job, alice, options={"mode": "create"})

    assert job.created_count == 3
    assert Contact.objects.filter(last_name="Raman").count() == 2


def test_an_outlook_export_in_windows_1252_keeps_accents_and_skips_the_name_prefix(alice):
    job = upload(alice, "contact", fixture_file("outlook_contacts.csv"))
    assert job.encoding == "cp1252"
    assert targets(job)["Title"] == "" and targets(job)["Job Title"] == "job_title"

    job = run(job, alice, options={"date_order": "dmy"})

    helene = Contact.objects.get(last_name="Dubois")
    assert helene.first_name == "Hélène"
    assert helene.company.name == "Société Générale"
    assert helene.job_title == "Directrice financière"
    assert helene.phones == ["+33142142000", "+33612345678"]
    assert helene.country == "FR"
    assert helene.birthday == date(1980, 5, 12)
    assert Contact.objects.get(last_name="Åström").country == "SE"


def test_a_russian_windows_1251_file_splits_full_names_surname_first(alice):
    job = upload(alice, "contact", fixture_file("russian_1251.csv"))
    assert (job.encoding, job.delimiter) == ("cp1251", ";")
    mapping = [
        {**entry, "transform": "last_first"} if entry["target"] == "full_name" else entry for entry in job.mapping
    ]
    import_configure(actor=alice, job=job, options={"phone_region": "RU", "date_order": "dmy"}, mapping=mapping)

    job = run(ImportJob.objects.get(pk=job.pk), alice)

    assert job.created_count == 3, list(job.rejected_rows.values_list("reason", flat=True))
    ivan = Contact.objects.get(last_name="Иванов")
    assert ivan.first_name == "Иван Петрович"
    assert ivan.phones == ["+79123456789"]
    assert ivan.company.name == "ООО «Ромашка»"  # noqa: RUF001
    assert ivan.birthday == date(1975, 4, 15)
    assert Contact.objects.get(last_name="Кузнецов").phones == ["+79031234567"]


def test_a_spanish_semicolon_file_maps_and_reads_country_names(alice):
    job = upload(alice, "contact", fixture_file("spanish_semicolon.csv"))

    job = run(job, alice, options={"phone_region": "ES"})

    assert job.created_count == 3
    maria = Contact.objects.get(first_name="María")
    assert (maria.last_name, maria.country, maria.company.name) == ("García López", "ES", "Telefónica")
    assert maria.phones == ["+34915550123"]
    assert Contact.objects.get(first_name="José").phones == ["+34612345678"]


def test_an_arabic_file_with_a_bom(alice):
    job = upload(alice, "contact", fixture_file("arabic.csv"))

    job = run(job, alice)

    assert job.encoding == "utf-8-sig" and job.created_count == 2
    mohammed = Contact.objects.get(first_name="محمد")
    assert (mohammed.last_name, mohammed.company.name, mohammed.city) == ("العتيبي", "أرامكو", "الرياض")
    assert mohammed.phones == ["+966501234567"]


def test_an_iphone_vcard_imports_both_cards_and_ignores_the_photo(alice):
    job = upload(alice, "contact", fixture_file("iphone.vcf"))

    job = run(job, alice)

    assert job.file_format == "vcard" and job.created_count == 2 and adds_up(job)
    john = Contact.objects.get(last_name="Appleseed")
    assert john.emails == ["john.appleseed@apple.example", "johnny@icloud.example"]
    assert john.phones == ["+14085550142", "+14085550100"]
    assert (john.company.name, john.job_title, john.country) == ("Apple Inc.", "Product Manager", "US")
    assert john.notes == "Met at WWDC, wants the enterprise plan.\nCall in Q3."
    aiko = Contact.objects.get(last_name="Nakamura")
    assert sorted(aiko.tags.values_list("name", flat=True)) == ["Partners", "VIP"]


def test_an_android_vcard_21_with_quoted_printable_cyrillic(alice):
    job = upload(alice, "contact", fixture_file("android_21.vcf"))

    job = run(job, alice, options={"phone_region": "RU"})

    assert job.created_count == 2, list(job.rejected_rows.values_list("reason", flat=True))
    katya = Contact.objects.get(last_name="Соколова")
    assert katya.first_name == "Екатерина"
    assert katya.company.name == "Газпром"
    assert katya.phones == ["+79165551234", "+74957770011"]
    assert Contact.objects.get(first_name="Дядя Ваня").phones == ["+79161234567"]


def test_a_malformed_vcard_rejects_only_the_broken_cards_with_their_line(alice):
    job = upload(alice, "contact", fixture_file("malformed.vcf"))

    job = run(job, alice)

    assert (job.created_count, job.rejected_count) == (2, 2) and adds_up(job)
    reasons = list(job.rejected_rows.order_by("row_number").values_list("row_number", "reason"))
    assert reasons[0][0] == 3 and "line 11" in reasons[0][1]
    assert "END:VCARD" in reasons[1][1]


def test_every_rejected_row_keeps_its_number_column_reason_and_original_values(alice):
    content = "Name,Email,Phone,Birthday\nGood One,good@example.com,+14155550100,1990-01-02\n"
    content += ",nobody@example.com,,\nBad Mail,not-an-email,,\nBad Date,bd@example.com,,31/31/2020\n"
    job = upload(alice, "contact", a_file("people.csv", content))

    job = run(job, alice)

    assert (job.created_count, job.rejected_count) == (1, 3) and adds_up(job)
    rejected = {row.row_number: row for row in job.rejected_rows.all()}
    assert rejected[3].column == "Name" and rejected[3].code == "required"
    assert rejected[4].column == "Email" and "not-an-email" in rejected[4].reason
    assert rejected[4].values == ["Bad Mail", "not-an-email", "", ""]
    assert rejected[5].column == "Birthday" and rejected[5].code == "invalid_date"
    assert not Contact.objects.filter(full_name__in=["Bad Mail", "Bad Date"]).exists()


def test_formula_cells_are_stored_as_text_never_evaluated(alice):
    job = upload(alice, "contact", fixture_file("formulas.csv"))

    job = run(job, alice)

    assert job.created_count == 3
    evil = Contact.objects.get(emails__contains=["evil@example.com"])
    assert evil.last_name.startswith("=cmd|") or evil.first_name.startswith("=cmd|")
    assert evil.notes == '=HYPERLINK("http://evil.example","click")'


def test_update_mode_changes_existing_records_and_records_history_with_the_import_batch(alice):
    existing = contact_create(
        actor=alice, first_name="Laura", last_name="Bennett", emails=["laura.bennett@northwind.example"]
    )
    job = upload(alice, "contact", fixture_file("google_contacts_old.csv"))

    job = run(job, alice, options={"mode": "update"})

    assert (job.created_count, job.updated_count) == (1, 1)
    existing.refresh_from_db()
    assert existing.emails == ["laura.bennett@northwind.example", "lbennett@mail.example"]
    assert existing.job_title == "Head of Purchasing"
    changes = FieldChange.objects.filter(record_type="contact", record_id=existing.pk)
    assert {change.field for change in changes} >= {"emails", "job_title", "phones", "tags"}
    assert {(change.channel, change.batch) for change in changes} == {("import", f"import:{job.pk}")}
    record = ImportedRecord.objects.get(job=job, action="updated")
    assert record.changes["job_title"] == ["", "Head of Purchasing"]


def test_a_sales_rep_cannot_update_a_colleagues_contact_and_the_row_says_so(alice, rex):
    contact_create(actor=alice, first_name="Laura", last_name="Bennett", emails=["laura.bennett@northwind.example"])
    job = upload(rex, "contact", fixture_file("google_contacts_old.csv"))

    job = run(job, rex, options={"mode": "update"})

    assert (job.created_count, job.skipped_count) == (1, 1)
    assert Contact.objects.get(last_name="Bennett").job_title == ""
    assert Contact.objects.get(last_name="Ortega").owner == rex


def test_a_role_without_create_cannot_import(sam):
    with pytest.raises(AccessDenied):
        upload(sam, "lead", a_file("leads.csv", "Name\nSomeone\n"))


def test_imported_leads_get_channel_import_and_no_followup_task_or_notification(alice, rex):
    content = "Name,Email,Phone,Owner,Status\nOld Lead,old@example.com,+14155550111,rex@acme.example,qualified\n"
    content += "Another,,+14155550112,Rex Rep,\n"
    tasks_before, notes_before = Task.objects.count(), Notification.objects.count()
    job = upload(alice, "lead", a_file("leads.csv", content))

    job = run(job, alice)

    assert job.created_count == 2
    lead = Lead.objects.get(name="Old Lead")
    assert (lead.channel, lead.owner, lead.status, lead.phone) == (LeadChannel.IMPORT, rex, "qualified", "+14155550111")
    assert Task.objects.count() == tasks_before and Notification.objects.count() == notes_before


def test_imported_deals_get_their_stage_history_and_amount_in_base_currency(alice):
    content = 'Deal,Amount,Stage,Company,Close date\nBig renewal,"12 500,50",Proposal negotiation,Initech,2027-03-01\n'
    content += "Lost one,100,Lost,Initech,\nBad stage,5,Nowhere,,\n"
    job = upload(alice, "deal", a_file("deals.csv", content))

    job = run(job, alice)

    assert (job.created_count, job.rejected_count) == (2, 1)
    deal = Deal.objects.get(title="Big renewal")
    assert str(deal.amount) == "12500.50" and deal.amount_base == deal.amount
    assert deal.stage.name == "Proposal negotiation" and deal.stages_entered == [deal.stage_id]
    assert deal.company.name == "Initech" and deal.expected_close_date == date(2027, 3, 1)
    history = DealStageChange.objects.get(deal=deal)
    assert history.from_stage is None and history.to_stage == deal.stage
    assert Deal.objects.get(title="Lost one").closed_at is not None
    assert Company.objects.filter(name="Initech").count() == 1
    assert "Nowhere" in job.rejected_rows.get().reason
    assert Stage.objects.filter(name="Nowhere").count() == 0


def test_products_match_by_sku_whatever_the_case(alice):
    product_create(actor=alice, sku="ABC-1", name="Widget", price="10")
    content = 'SKU,Name,Price,Unit,VAT\nabc-1,Widget v2,12.5,hour,20\nNEW-2,Gadget,"1 000,00",,\n'
    job = upload(alice, "product", a_file("products.csv", content))

    job = run(job, alice, options={"mode": "update"})

    assert (job.created_count, job.updated_count) == (1, 1)
    widget = Product.objects.get(sku="ABC-1")
    assert (widget.name, str(widget.price), widget.unit, str(widget.tax_rate)) == (
        "Widget v2",
        "12.50",
        "hour",
        "20.00",
    )
    assert str(Product.objects.get(sku="NEW-2").price) == "1000.00"


def test_custom_fields_are_targets_by_their_label_in_any_language(alice):
    custom_field_create(
        actor=alice,
        entity="contact",
        label="Customer tier",
        label_translations={"ru": "Уровень клиента"},
        kind="choice",
        choices=[{"value": "gold", "label": "Gold", "labels": {"ru": "Золото"}}],
    )
    content = "Имя;Фамилия;Уровень клиента\nОлег;Сидоров;Золото\n"  # noqa: RUF001
    job = upload(alice, "contact", a_file("tiers.csv", content))
    assert targets(job)["Уровень клиента"].startswith("custom_fields.")

    run(job, alice)

    assert Contact.objects.get(last_name="Сидоров").custom_fields == {targets(job)["Уровень клиента"][14:]: "gold"}


def test_a_mapping_without_the_name_cannot_start(alice):
    job = upload(alice, "contact", a_file("emails.csv", "Email\na@example.com\n"))

    with pytest.raises(ValidationError) as refused:
        import_start(actor=alice, job=job)

    assert "mapping" in refused.value.message_dict


def test_a_run_that_died_after_a_batch_continues_after_it_and_imports_no_row_twice(alice, settings):
    settings.IMPORT_BATCH_ROWS = 2
    rows = "".join(f"Person {number},p{number}@example.com\n" for number in range(7))
    job = upload(alice, "contact", a_file("seven.csv", "Name,Email\n" + rows))
    import_start(actor=alice, job=job)
    token = runner.claim(job.pk)
    context, target_map = runner.job_context(job, alice)
    from crm.imports.readers import data_rows

    with open_stored(job) as stored:
        first = list(data_rows(stored, file_format="csv", encoding=job.encoding, delimiter=","))[:2]
    runner._batch_commit(job.pk, token, runner.prepare(first, job, context, target_map), context, alice)
    # The worker dies here; after IMPORT_STALE_SECONDS another run takes over.
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=None)

    runner.import_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and adds_up(job) and job.created_count == 7
    assert Contact.objects.filter(emails__overlap=[f"p{n}@example.com" for n in range(7)]).count() == 7


def test_a_second_run_leaves_a_live_job_to_its_owner(alice):
    job = upload(alice, "contact", a_file("one.csv", "Name\nOnly One\n"))
    import_start(actor=alice, job=job)
    assert runner.claim(job.pk)

    assert runner.import_run(job_id=job.pk) == "not claimed"


def open_stored(job):
    from django.core.files.storage import default_storage

    return default_storage.open(job.stored_name, "rb")
