"""Guessing which column goes to which field, from the headers people's exports have,
and refusing mappings that cannot work with field-level reasons."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from crm.imports.mapping import guess, mapping_clean, split_full_name, split_tags, template_fits
from crm.imports.models import ImportMappingTemplate
from crm.imports.services import import_template_save
from tests.crm.imports.conftest import a_file, fixture_file, run, upload


def guessed(entity: str, headers: list[str]) -> dict[str, str]:
    return {entry["header"]: entry["target"] for entry in guess(entity, headers) if entry["target"]}


def test_google_contacts_old_and_new_headers():
    old = guessed(
        "contact",
        [
            "Name",
            "Given Name",
            "Family Name",
            "E-mail 1 - Type",
            "E-mail 1 - Value",
            "Phone 1 - Value",
            "Organization 1 - Name",
            "Organization 1 - Title",
            "Group Membership",
        ],
    )
    new = guessed(
        "contact",
        [
            "First Name",
            "Last Name",
            "Organization Name",
            "Organization Title",
            "Labels",
            "E-mail 1 - Label",
            "E-mail 1 - Value",
            "Phone 1 - Value",
            "Address 1 - City",
        ],
    )

    assert old == {
        "Given Name": "first_name",
        "Family Name": "last_name",
        "E-mail 1 - Value": "emails",
        "Phone 1 - Value": "phones",
        "Organization 1 - Name": "company",
        "Organization 1 - Title": "job_title",
        "Group Membership": "tags",
    }
    assert new["Organization Name"] == "company" and new["Organization Title"] == "job_title"
    assert new["Labels"] == "tags" and new["Address 1 - City"] == "city" and "E-mail 1 - Label" not in new


def test_outlook_headers_send_every_phone_and_email_column_to_the_lists():
    mapping = guessed(
        "contact",
        [
            "First Name",
            "Last Name",
            "Title",
            "E-mail Address",
            "E-mail 2 Address",
            "Business Phone",
            "Mobile Phone",
            "Business Fax",
            "Job Title",
            "Company",
            "Business Street",
            "Business City",
            "Business Country/Region",
            "Home Street",
        ],
    )

    assert mapping["E-mail Address"] == mapping["E-mail 2 Address"] == "emails"
    assert mapping["Business Phone"] == mapping["Mobile Phone"] == "phones"
    assert "Business Fax" not in mapping and "Title" not in mapping
    assert mapping["Job Title"] == "job_title" and mapping["Company"] == "company"
    assert mapping["Business Street"] == mapping["Home Street"] == "address"
    assert mapping["Business Country/Region"] == "country"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["ФИО", "Компания", "Должность", "Телефон", "Электронная почта", "Дата рождения"],
            ["full_name", "company", "job_title", "phones", "emails", "birthday"],
        ),
        (
            ["Nombre", "Apellidos", "Empresa", "Cargo", "Correo electrónico", "Teléfono", "País"],
            ["first_name", "last_name", "company", "job_title", "emails", "phones", "country"],
        ),
        (
            ["الاسم الأول", "اسم العائلة", "الشركة", "المسمى الوظيفي", "البريد الإلكتروني", "الهاتف", "المدينة"],
            ["first_name", "last_name", "company", "job_title", "emails", "phones", "city"],
        ),
    ],
)
def test_russian_spanish_and_arabic_headers(headers, expected):
    assert [entry["target"] for entry in guess("contact", headers)] == expected


def test_the_same_header_means_what_the_record_type_needs():
    assert guessed("company", ["Company", "Website", "Industry"]) == {
        "Company": "name",
        "Website": "website",
        "Industry": "industry",
    }
    assert guessed("deal", ["Title", "Amount", "Stage", "Email"]) == {
        "Title": "title",
        "Amount": "amount",
        "Stage": "stage",
        "Email": "contact",
    }
    assert guessed("lead", ["First name", "Last name", "Email"]) == {
        "First name": "name",
        "Last name": "name",
        "Email": "email",
    }
    assert guessed("product", ["Артикул", "Наименование", "Цена", "НДС"]) == {
        "Артикул": "sku",
        "Наименование": "name",
        "Цена": "price",
        "НДС": "tax_rate",
    }


def test_a_mapping_with_problems_is_refused_per_column():
    headers = ["Name", "Email", "Other email"]

    with pytest.raises(ValidationError) as refused:
        mapping_clean(
            "contact",
            headers,
            [
                {"column": 0, "target": "job_title"},
                {"column": 1, "target": "emails", "transform": "dmy"},
                {"column": 2, "target": "salary"},
                {"column": 9, "target": "emails"},
            ],
        )

    errors = refused.value.message_dict
    assert any("no column 9" in message for message in errors["mapping"])
    assert any("name" in message for message in errors["mapping"])
    assert errors["mapping.1"] and errors["mapping.2"]


def test_two_columns_cannot_go_to_one_single_value_field():
    with pytest.raises(ValidationError) as refused:
        mapping_clean(
            "contact",
            ["First", "Given"],
            [
                {"column": 0, "target": "first_name"},
                {"column": 1, "target": "first_name"},
            ],
        )

    assert refused.value.error_dict["mapping.1"][0].code == "duplicate_target"


def test_names_split_either_way_and_google_groups_are_no_tags():
    assert split_full_name("Anna Maria Schmidt", "first_last") == ("Anna Maria", "Schmidt")
    assert split_full_name("Иванов Иван Петрович", "last_first") == ("Иван Петрович", "Иванов")
    assert split_tags("* myContacts ::: Clients ::: * starred") == ["Clients"]
    assert split_tags("VIP; Partner | Lisbon") == ["VIP", "Partner", "Lisbon"]


def test_a_saved_template_is_offered_for_a_file_with_the_same_columns(alice):
    first = upload(alice, "contact", fixture_file("russian_1251.csv"))
    mapping = [{**entry, "target": "notes"} if entry["header"] == "Город" else entry for entry in first.mapping]
    first = run(first, alice, mapping=mapping, options={"date_order": "dmy"})
    template = import_template_save(actor=alice, job=first, name="1C export")
    assert template_fits(first.headers, template.mapping)

    second = upload(alice, "contact", fixture_file("russian_1251.csv"))

    assert second.options["template"] == "1C export" and second.options["date_order"] == "dmy"
    assert {entry["header"]: entry["target"] for entry in second.mapping}["Город"] == "notes"
    assert ImportMappingTemplate.objects.count() == 1
    other = upload(alice, "contact", a_file("other.csv", "Name,Email\nA,a@example.com\n"))
    assert other.options["template"] == ""
