"""Reading files: formats, encodings and delimiters detected; bad input refused with a
clear message before anything is stored (binary files, CSV bombs, zip bombs, wrong
encodings); XLSX formulas read by their saved result, never evaluated."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from django.core.exceptions import ValidationError

from crm.clients.models import Contact
from crm.imports.models import ImportJob
from crm.imports.readers import ImportFileError, data_rows, detect
from tests.crm.imports.conftest import FILES, a_file, fixture_file, run, upload


@pytest.mark.parametrize(
    ("name", "file_format", "encoding", "delimiter", "rows"),
    [
        ("google_contacts_old.csv", "csv", "utf-8", ",", 2),
        ("google_contacts_2024.csv", "csv", "utf-8", ",", 3),
        ("outlook_contacts.csv", "csv", "cp1252", ",", 2),
        ("russian_1251.csv", "csv", "cp1251", ";", 3),
        ("spanish_semicolon.csv", "csv", "utf-8", ";", 3),
        ("arabic.csv", "csv", "utf-8-sig", ",", 2),
        ("iphone.vcf", "vcard", "utf-8", "", 2),
        ("android_21.vcf", "vcard", "utf-8", "", 2),
        ("malformed.vcf", "vcard", "utf-8", "", 4),
    ],
)
def test_real_files_are_recognised(name, file_format, encoding, delimiter, rows):
    with open(FILES / name, "rb") as file:
        detected = detect(file, name=name)

    assert (detected.file_format, detected.encoding, detected.delimiter) == (file_format, encoding, delimiter)
    assert detected.total_rows == rows


def test_tab_and_pipe_delimiters_and_utf16_excel_text_are_detected():
    tab = detect(io.BytesIO("Name\tEmail\nAnn\ta@example.com\n".encode("utf-16")), name="export.txt")
    pipe = detect(io.BytesIO(b"Name|Email|Phone\nBo|b@example.com|1\n"), name="export.csv")

    assert (tab.encoding, tab.delimiter, tab.headers) == ("utf-16", "\t", ["Name", "Email"])
    assert (pipe.delimiter, pipe.headers) == ("|", ["Name", "Email", "Phone"])


def refused(alice, file, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as error:
        upload(alice, "contact", file, **kwargs)
    return error.value


def test_a_binary_file_is_refused_and_nothing_is_stored(alice, media):
    error = refused(alice, fixture_file("pixel.png"))

    assert error.error_dict["file"][0].code == "binary"
    assert "PNG" in error.messages[0]
    assert not ImportJob.objects.exists()
    assert not any(path.is_file() for path in media.rglob("*"))


def test_unknown_bytes_with_nul_characters_are_refused(alice):
    error = refused(alice, a_file("data.csv", b"Name,Email\n\x00\x01\x02garbage\x00\xff\xfe\x00"))

    assert error.error_dict["file"][0].code == "binary"


def test_an_old_excel_file_says_how_to_save_it(alice):
    error = refused(alice, a_file("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600))

    assert error.error_dict["file"][0].code == "unsupported" and ".xlsx" in error.messages[0]


def test_a_csv_bomb_of_a_giant_cell_is_refused(alice, settings):
    settings.IMPORT_MAX_FIELD_CHARS = 10_000
    bomb = b'Name,Notes\nA,"' + b"x" * 50_000 + b'"\n'

    error = refused(alice, a_file("bomb.csv", bomb))

    assert error.error_dict["file"][0].code in ("field_too_long", "line_too_long")


def test_a_csv_bomb_of_millions_of_empty_columns_is_refused_without_reading_them(alice):
    bomb = b"Name" + b"," * 3_000_000 + b"\n"

    error = refused(alice, a_file("bomb.csv", bomb))

    assert error.error_dict["file"][0].code == "line_too_long"


def test_too_many_columns_are_refused(alice):
    error = refused(alice, a_file("wide.csv", ",".join(f"c{number}" for number in range(600)) + "\n"))

    assert error.error_dict["file"][0].code == "too_many_columns"


def test_too_many_rows_are_refused(alice, settings):
    settings.IMPORT_MAX_ROWS = 5
    error = refused(alice, a_file("long.csv", "Name\n" + "x\n" * 6))

    assert error.error_dict["file"][0].code == "too_many_rows"


def test_an_empty_file_is_refused(alice):
    assert refused(alice, a_file("empty.csv", b"")).error_dict["file"][0].code == "empty"


def test_a_file_read_in_the_wrong_encoding_names_the_encoding_and_how_to_choose_another(alice):
    error = refused(alice, fixture_file("russian_1251.csv"), encoding="utf-8")

    assert error.error_dict["file"][0].code == "wrong_encoding"
    assert "UTF-8" in error.messages[0] and "Windows-1251" in error.messages[0]


def test_garbled_text_is_flagged(alice):
    mojibake = "Имя,Email\nИван,ivan@example.com\n".encode().decode("cp1252", errors="replace").encode()  # noqa: RUF001

    job = upload(alice, "contact", a_file("garbled.csv", mojibake))

    assert job.warnings and "garbled" in job.warnings[0]


def workbook(rows, name="Contacts") -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = name
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


def with_cached_value(xlsx: bytes, cell: str, formula: str, value: str) -> bytes:
    """The workbook with `cell` holding `formula` and the result Excel saved for it."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                start = text.index(f'<c r="{cell}"')
                end = text.index("</c>", start) + 4
                text = text[:start] + f'<c r="{cell}" t="str"><f>{formula}</f><v>{value}</v></c>' + text[end:]
                data = text.encode()
            target.writestr(item, data)
    return output.getvalue()


def test_an_xlsx_file_imports_with_dates_and_numbers_as_people_typed_them(alice):
    from datetime import date

    xlsx = workbook(
        [
            ["First name", "Last name", "Email", "Phone", "Birthday"],
            ["Ada", "Lovelace", "ada@example.com", 442079460000, date(1985, 12, 10)],
            ["Alan", "Turing", "alan@example.com", "+44 20 7946 0001", None],
        ]
    )
    job = upload(alice, "contact", a_file("people.xlsx", xlsx))

    job = run(job, alice, options={"phone_region": "GB"})

    assert job.file_format == "xlsx" and job.created_count == 2
    ada = Contact.objects.get(last_name="Lovelace")
    assert (ada.birthday.isoformat(), ada.phones) == ("1985-12-10", ["+442079460000"])


def test_xlsx_formulas_count_by_their_saved_result_and_one_without_a_result_is_a_rejected_row(alice):
    xlsx = workbook(
        [["Name", "Email", "Notes"], ["Saved Result", "s@example.com", "x"], ["No Result", "n@example.com", "y"]]
    )
    xlsx = with_cached_value(xlsx, "C2", "UPPER(&quot;calc&quot;)", "CALC")
    xlsx = with_cached_value(xlsx, "C3", "CMD|' /C calc'!A0", "")
    # A formula whose saved value is missing altogether.
    xlsx = xlsx.replace(b"", b"")
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    sheet = source.read("xl/worksheets/sheet1.xml").decode().replace("<v></v>", "")
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, sheet.encode() if item.filename == "xl/worksheets/sheet1.xml" else source.read(item))
    job = upload(alice, "contact", a_file("formulas.xlsx", output.getvalue()))

    job = run(job, alice)

    assert (job.created_count, job.rejected_count) == (1, 1)
    assert Contact.objects.get(last_name="Result", first_name="Saved").notes == "CALC"
    rejected = job.rejected_rows.get()
    assert rejected.code == "formula_without_value" and "CMD|" in rejected.reason


def test_a_zip_bomb_posing_as_xlsx_is_refused_before_it_is_unpacked(alice):
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("[Content_Types].xml", "<Types/>")
        bomb.writestr("xl/workbook.xml", "<workbook/>")
        bomb.writestr("xl/worksheets/sheet1.xml", b"\x00" * (60 * 1024 * 1024))
    assert len(output.getvalue()) < 200_000

    error = refused(alice, a_file("bomb.xlsx", output.getvalue()))

    assert error.error_dict["file"][0].code == "zip_bomb"


def test_a_damaged_xlsx_file_is_refused(alice):
    error = refused(alice, a_file("broken.xlsx", b"PK\x03\x04" + b"garbage" * 50))

    assert error.error_dict["file"][0].code == "invalid_xlsx"


def test_blank_rows_are_not_rows_but_row_numbers_follow_the_file():
    rows = list(data_rows(io.BytesIO(b"Name\n\nAnn\n,\nBo\n"), file_format="csv", encoding="utf-8", delimiter=","))

    assert [(row.number, row.cells) for row in rows] == [(3, ["Ann"]), (5, ["Bo"])]


def test_a_malformed_vcard_line_is_reported_with_its_number():
    with open(FILES / "malformed.vcf", "rb") as file:
        rows = list(data_rows(file, file_format="vcard", encoding="utf-8", delimiter=""))

    assert [row.number for row in rows] == [2, 3, 4, 5]
    assert rows[1].error and "line 11" in rows[1].error
    assert not rows[0].error and not rows[2].error


def test_import_file_error_is_a_domain_error_with_a_code():
    with pytest.raises(ImportFileError) as error:
        detect(io.BytesIO(b"%PDF-1.4 ..."), name="x.pdf")
    assert error.value.code == "binary"
