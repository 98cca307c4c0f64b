"""Reading import files row by row, with memory flat in the file's size.

- CSV: the encoding is detected (BOMs for UTF-8 and UTF-16; strict UTF-8; otherwise
  Windows-1251 for Cyrillic or Windows-1252 for Western text, told apart by how their
  high bytes sit in words) and the delimiter sniffed among `, ; tab |`. Lines are read one
  at a time with a length cap before the csv module sees them, so a line of a million
  commas or a giant quoted field is refused with a message instead of filling memory.
- XLSX: the zip's declared sizes are checked before anything is unpacked (zip bombs),
  then the first sheet's XML is streamed through expat (shared strings and date styles
  read first). Formulas are never evaluated: a cell's saved result is what counts, and
  a formula saved without one is a problem of that row.
- vCard 2.1 / 3.0 / 4.0: folded lines, QUOTED-PRINTABLE with CHARSET (as Android phones
  export 2.1), several cards per file; photos are skipped. A card with a malformed line
  is one rejected row naming the line; the other cards still import.

Every problem a person can cause is an `ImportFileError` with a code and a message
saying what to do; nothing here writes anything.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import quopri
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _

from crm.errors import DomainError

SAMPLE_ROWS = 20
DETECT_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "cp1251", "cp1252", "iso-8859-1")
ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (BOM)",
    "utf-16": "UTF-16",
    "cp1251": "Windows-1251",
    "cp1252": "Windows-1252",
    "iso-8859-1": "ISO-8859-1",
}
# Files that are certainly not tables people exported.
_BINARY_MAGIC = (
    (b"%PDF", "PDF"),
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"\x1f\x8b", "gzip"),
    (b"Rar!", "RAR"),
    (b"7z\xbc\xaf", "7-Zip"),
    (b"MZ", "Windows program"),
    (b"\x7fELF", "program"),
)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old Excel .xls, Word .doc
_ZIP = b"PK\x03\x04"
# UTF-8 text decoded once too often: "Ð" and "Ñ" pairs for Cyrillic, "Ã©" for "é".
_MOJIBAKE = re.compile("[ÐÑ][\u0080-\u00bf\u2018-\u203a\u0152-\u0178]|Ã[\u0080-\u00bf]")
# Largest compressed-to-unpacked ratio a real spreadsheet member has (text XML packs ~10-30x).
_MAX_ZIP_RATIO = 200


class ImportFileError(DomainError):
    """The file cannot be imported as it is; the message says why and what to do."""

    code = "invalid_file"
    http_status = 400


@dataclass
class SourceRow:
    """One row of the file: its number as a spreadsheet shows it (the header is row 1)
    and its cells as text; `error` when the row itself could not be read."""

    number: int
    cells: list[str]
    error: str = ""
    error_code: str = ""


@dataclass
class Detected:
    file_format: str
    encoding: str = ""
    delimiter: str = ""
    headers: list[str] = field(default_factory=list)
    sample_rows: list[list[str]] = field(default_factory=list)
    total_rows: int = 0
    warnings: list[str] = field(default_factory=list)


# --- what kind of file ------------------------------------------------------------------


def sniff_format(head: bytes, name: str) -> str:
    """'csv', 'xlsx' or 'vcard' from the first bytes (and the name only to break ties);
    ImportFileError for anything else."""
    lowered = (name or "").lower()
    if not head:
        raise ImportFileError(_("This file is empty."), code="empty")
    if head.startswith(_ZIP):
        if lowered.endswith((".xlsx", ".xlsm")) or b"[Content_Types].xml" in head[:4096] or b"xl/" in head[:4096]:
            return "xlsx"
        raise ImportFileError(
            _("This is a zip archive, not a table. Unpack it, or save the sheet as CSV or XLSX."), code="unsupported"
        )
    if head.startswith(_OLE2):
        raise ImportFileError(
            _("This is an old Excel (.xls) or Word file. Open it and save it as .xlsx or CSV, then upload that."),
            code="unsupported",
        )
    for magic, kind in _BINARY_MAGIC:
        if head.startswith(magic):
            raise ImportFileError(
                _("This is a %(kind)s file, not a table. Upload a CSV, XLSX or vCard file.") % {"kind": kind},
                code="binary",
            )
    text_start = _decode_head(head).lstrip("\ufeff \t\r\n").upper()
    if text_start.startswith("BEGIN:VCARD"):
        return "vcard"
    return "csv"


def _decode_head(head: bytes) -> str:
    encoding = _bom_encoding(head) or _utf16_without_bom(head) or "utf-8"
    return head[:4096].decode(encoding, errors="replace")


def _bom_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return ""


def _utf16_without_bom(head: bytes) -> str:
    sample = head[:4096]
    if len(sample) < 4:
        return ""
    even_zeros = sample[0::2].count(0) / max(len(sample[0::2]), 1)
    odd_zeros = sample[1::2].count(0) / max(len(sample[1::2]), 1)
    if odd_zeros > 0.4 and even_zeros < 0.05:
        return "utf-16-le"
    if even_zeros > 0.4 and odd_zeros < 0.05:
        return "utf-16-be"
    return ""


def detect_encoding(head: bytes) -> str:
    """The encoding of a text file from its first bytes.

    BOM first; then strict UTF-8 (a multibyte character cut by the sample's end is
    forgiven); then Windows-1251 or Windows-1252. Russian words are runs of high bytes
    (every Cyrillic letter is one in Windows-1251), while Western words have a single
    accented letter among ASCII ones ("Société"): whichever shape is more common wins.
    A file with NUL bytes that is not UTF-16 is binary.
    """
    bom = _bom_encoding(head)
    if bom:
        return bom
    utf16 = _utf16_without_bom(head)
    if utf16:
        return utf16
    if b"\x00" in head:
        raise ImportFileError(
            _("This file holds binary data (NUL bytes), not text. Upload a CSV, XLSX or vCard file."), code="binary"
        )
    try:
        codecs.getincrementaldecoder("utf-8")(errors="strict").decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    runs = isolated = 0
    previous_high = False
    for index, byte in enumerate(head):
        high = byte >= 0xC0
        if high and previous_high:
            runs += 1
        elif high:
            before = head[index - 1 : index]
            after = head[index + 1 : index + 2]
            if before.isalpha() and (after.isalpha() or not after):
                isolated += 1
        previous_high = high
    return "cp1251" if runs > isolated else "cp1252"


def _text_problems(sample: str, encoding: str) -> list[str]:
    warnings = []
    if _MOJIBAKE.search(sample):
        warnings.append(
            _(
                "Some text looks garbled (like “SociÃ©tÃ©” for “Société”): the file was probably saved in the "
                "wrong encoding before. Check the preview; if names look wrong, choose another encoding."
            )
        )
    if "\ufffd" in sample:
        warnings.append(
            _("Some characters could not be read as %(encoding)s. Check the preview, or choose another encoding.")
            % {"encoding": ENCODING_LABELS.get(encoding, encoding)}
        )
    return warnings


# --- CSV -------------------------------------------------------------------------------------


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the first lines into the same number (> 1) of cells most
    consistently; a comma when nothing does."""
    best, best_score = ",", 0.0
    for delimiter in DELIMITERS:
        counts = []
        for line in lines[:20]:
            if line.strip():
                try:
                    counts.append(len(next(csv.reader([line], delimiter=delimiter))))
                except (csv.Error, StopIteration):
                    counts.append(0)
        if not counts or counts[0] < 2:
            continue
        same = sum(1 for count in counts if count == counts[0]) / len(counts)
        score = same * 100 + min(counts[0], 50)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _limited_lines(text: IO[str]) -> Iterator[str]:
    limit = settings.IMPORT_MAX_LINE_CHARS
    number = 0
    while True:
        line = text.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit:
            raise ImportFileError(
                _("Line %(line)d is longer than %(limit)d characters. This does not look like a real export.")
                % {"line": number, "limit": limit},
                code="line_too_long",
            )
        yield line


def _detach(text: io.TextIOWrapper) -> None:
    # The caller's file stays open (and may be closed before a generator is collected).
    with contextlib.suppress(ValueError):
        text.detach()


def _text_stream(binary: IO[bytes], encoding: str) -> io.TextIOWrapper:
    binary.seek(0)
    return io.TextIOWrapper(binary, encoding=encoding, errors="strict", newline="")


def _csv_rows(binary: IO[bytes], *, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(record number, cells) of every record, the header included (record 1)."""
    csv.field_size_limit(settings.IMPORT_MAX_FIELD_CHARS)
    max_columns = settings.IMPORT_MAX_COLUMNS
    text = _text_stream(binary, encoding)
    reader = csv.reader(_limited_lines(text), delimiter=delimiter)
    number = 0
    try:
        for cells in reader:
            number += 1
            if len(cells) > max_columns:
                raise ImportFileError(
                    _("Row %(row)d has %(count)d columns; at most %(limit)d are read.")
                    % {"row": number, "count": len(cells), "limit": max_columns},
                    code="too_many_columns",
                )
            yield number, cells
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise ImportFileError(
                _("Row %(row)d has a cell longer than %(limit)d characters (an unclosed quote?).")
                % {"row": number + 1, "limit": settings.IMPORT_MAX_FIELD_CHARS},
                code="field_too_long",
            ) from error
        raise ImportFileError(
            _("Row %(row)d cannot be read as CSV: %(problem)s.") % {"row": number + 1, "problem": error},
            code="invalid_csv",
        ) from error
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _(
                "This file is not in %(encoding)s (a character near row %(row)d cannot be read). "
                "Choose the file's encoding (for example Windows-1251 for Russian Excel files) and try again."
            )
            % {"encoding": ENCODING_LABELS.get(encoding, encoding), "row": number + 1},
            code="wrong_encoding",
        ) from error
    finally:
        _detach(text)


def _blank(cells: list[str]) -> bool:
    return not any((cell or "").strip() for cell in cells)


def _headers_clean(cells: list[str]) -> list[str]:
    headers = []
    for index, cell in enumerate(cells):
        name = " ".join((cell or "").replace("\ufeff", "").split())[:255]
        headers.append(name or _("Column %(number)d") % {"number": index + 1})
    return headers


def _analyse(rows: Iterator[SourceRow], detected: Detected) -> Detected:
    """Headers from the first non-blank row, a sample, and the count of data rows."""
    for row in rows:
        if not detected.headers:
            if row.error or _blank(row.cells):
                continue
            detected.headers = _headers_clean(row.cells)
            continue
        detected.total_rows += 1
        if len(detected.sample_rows) < SAMPLE_ROWS:
            detected.sample_rows.append([cell[:500] for cell in row.cells])
        if detected.total_rows > settings.IMPORT_MAX_ROWS:
            raise ImportFileError(
                _("This file has more than %(limit)d rows. Split it into smaller files.")
                % {"limit": settings.IMPORT_MAX_ROWS},
                code="too_many_rows",
            )
    if not detected.headers:
        raise ImportFileError(_("This file has no rows."), code="empty")
    return detected


def detect(binary: IO[bytes], *, name: str, encoding: str = "", delimiter: str = "") -> Detected:
    """Everything the mapping screen needs to know about a file: format, encoding,
    delimiter, header, the first rows and how many rows there are (one streaming pass).
    `encoding` and `delimiter` override what would be detected."""
    binary.seek(0)
    head = binary.read(DETECT_BYTES)
    file_format = sniff_format(head, name)
    if file_format == "xlsx":
        xlsx_check(binary)
        return _analyse(xlsx_rows(binary), Detected(file_format="xlsx"))
    encoding = encoding or detect_encoding(head)
    if encoding not in ENCODINGS and encoding not in ("utf-16-le", "utf-16-be"):
        raise ImportFileError(_("Choose one of the listed encodings."), code="invalid_encoding")
    sample_text = head.decode(encoding, errors="replace")
    warnings = _text_problems(sample_text[: len(sample_text) - 4], encoding)
    if file_format == "vcard":
        detected = Detected(file_format="vcard", encoding=encoding, warnings=warnings)
        return _analyse(vcard_rows(binary, encoding=encoding), detected)
    if "\x00" in sample_text:
        raise ImportFileError(
            _("This file holds binary data (NUL bytes), not text. Upload a CSV, XLSX or vCard file."), code="binary"
        )
    lines = sample_text.lstrip("\ufeff").splitlines()[:20]
    delimiter = delimiter or sniff_delimiter(lines)
    if delimiter not in DELIMITERS:
        raise ImportFileError(_("Choose one of the listed delimiters."), code="invalid_delimiter")
    detected = Detected(file_format="csv", encoding=encoding, delimiter=delimiter, warnings=warnings)
    return _analyse(csv_source_rows(binary, encoding=encoding, delimiter=delimiter), detected)


def csv_source_rows(binary: IO[bytes], *, encoding: str, delimiter: str) -> Iterator[SourceRow]:
    for number, cells in _csv_rows(binary, encoding=encoding, delimiter=delimiter):
        yield SourceRow(number=number, cells=cells)


# --- XLSX ------------------------------------------------------------------------------------


def xlsx_check(binary: IO[bytes]) -> None:
    """Refuse zip bombs and non-spreadsheets before unpacking anything."""
    binary.seek(0)
    try:
        archive = zipfile.ZipFile(binary)
    except (zipfile.BadZipFile, OSError) as error:
        raise ImportFileError(_("This XLSX file is damaged and cannot be opened."), code="invalid_xlsx") from error
    with archive:
        members = archive.infolist()
        names = {member.filename for member in members}
        if "xl/workbook.xml" not in names:
            raise ImportFileError(
                _("This zip file is not an Excel workbook. Save the sheet as XLSX or CSV."), code="invalid_xlsx"
            )
        declared = sum(member.file_size for member in members)
        if declared > settings.IMPORT_MAX_XLSX_UNCOMPRESSED_BYTES or any(
            member.file_size > 10 * 1024 * 1024 and member.file_size > member.compress_size * _MAX_ZIP_RATIO
            for member in members
        ):
            raise ImportFileError(
                _("This workbook unpacks to %(size)d MB, far more than a real sheet; it is refused.")
                % {"size": declared // (1024 * 1024)},
                code="zip_bomb",
            )


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    return str(value)


# Built-in number formats that show dates (ECMA-376 18.8.30) and what custom formats look like.
_DATE_FORMAT_IDS = frozenset({14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 30, 36, 45, 46, 47, 50, 57})
_DATE_CODE = re.compile(r"(?<![\\\"])[dmyhs]", re.IGNORECASE)
# Naive on purpose: a spreadsheet's date has no time zone.
_EXCEL_EPOCH = datetime(1899, 12, 30)  # noqa: DTZ001
_EXCEL_EPOCH_1904 = datetime(1904, 1, 1)  # noqa: DTZ001


def _xml_events(data, handlers: dict[str, Any]) -> None:
    """Parse XML (bytes or a binary stream, in chunks) with expat, calling the given handlers."""
    from xml.parsers import expat

    parser = expat.ParserCreate()
    parser.buffer_text = True
    for name, handler in handlers.items():
        setattr(parser, name, handler)
    if isinstance(data, bytes):
        parser.Parse(data, True)
        return
    while chunk := data.read(256 * 1024):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


class _Workbook:
    """What reading the first sheet needs: its path, the shared strings, which cell
    styles are dates, and the workbook's date system."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        names = set(archive.namelist())
        self.date1904 = False
        first_sheet_rid = ""

        def workbook_start(name, attributes):
            nonlocal first_sheet_rid
            tag = _local(name)
            if tag == "workbookPr" and attributes.get("date1904") in ("1", "true"):
                self.date1904 = True
            elif tag == "sheet" and not first_sheet_rid:
                first_sheet_rid = next((v for k, v in attributes.items() if _local(k) == "id"), "")

        _xml_events(archive.read("xl/workbook.xml"), {"StartElementHandler": workbook_start})
        self.sheet = "xl/worksheets/sheet1.xml"
        if first_sheet_rid and "xl/_rels/workbook.xml.rels" in names:
            targets = {}

            def rels_start(name, attributes):
                if _local(name) == "Relationship":
                    targets[attributes.get("Id")] = attributes.get("Target", "")

            _xml_events(archive.read("xl/_rels/workbook.xml.rels"), {"StartElementHandler": rels_start})
            target = targets.get(first_sheet_rid, "")
            if target:
                self.sheet = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        if self.sheet not in names:
            sheets = sorted(name for name in names if name.startswith("xl/worksheets/") and name.endswith(".xml"))
            self.sheet = sheets[0] if sheets else ""
        self.strings = self._shared_strings(archive) if "xl/sharedStrings.xml" in names else []
        self.date_styles = self._date_styles(archive) if "xl/styles.xml" in names else set()

    @staticmethod
    def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
        strings: list[str] = []
        parts: list[str] = []
        state = {"in_t": False, "skip": 0}

        def start(name, _attributes):
            tag = _local(name)
            if tag == "si":
                parts.clear()
            elif tag in ("rPh", "phoneticPr"):
                state["skip"] += 1
            elif tag == "t" and not state["skip"]:
                state["in_t"] = True

        def end(name):
            tag = _local(name)
            if tag == "si":
                strings.append("".join(parts))
            elif tag in ("rPh", "phoneticPr"):
                state["skip"] -= 1
            elif tag == "t":
                state["in_t"] = False

        def text(data):
            if state["in_t"]:
                parts.append(data)

        with archive.open("xl/sharedStrings.xml") as stream:
            _xml_events(stream, {"StartElementHandler": start, "EndElementHandler": end, "CharacterDataHandler": text})
        return strings

    @staticmethod
    def _date_styles(archive: zipfile.ZipFile) -> set[int]:
        custom: dict[int, str] = {}
        formats: list[int] = []
        state = {"in_xfs": False}

        def start(name, attributes):
            tag = _local(name)
            if tag == "numFmt":
                custom[int(attributes.get("numFmtId", "0"))] = attributes.get("formatCode", "")
            elif tag == "cellXfs":
                state["in_xfs"] = True
            elif tag == "xf" and state["in_xfs"]:
                formats.append(int(attributes.get("numFmtId", "0")))

        def end(name):
            if _local(name) == "cellXfs":
                state["in_xfs"] = False

        _xml_events(archive.read("xl/styles.xml"), {"StartElementHandler": start, "EndElementHandler": end})
        dates = set()
        for index, format_id in enumerate(formats):
            code = re.sub(r"\[[^\]]*\]|\"[^\"]*\"", "", custom.get(format_id, ""))
            if format_id in _DATE_FORMAT_IDS or (format_id in custom and _DATE_CODE.search(code)):
                dates.add(index)
        return dates


def _column_index(reference: str) -> int:
    index = 0
    for char in reference:
        if "A" <= char <= "Z":
            index = index * 26 + ord(char) - 64
        elif "a" <= char <= "z":
            index = index * 26 + ord(char) - 96
        else:
            break
    return index - 1


def xlsx_rows(binary: IO[bytes]) -> Iterator[SourceRow]:
    """The first sheet's rows as text, streamed from the sheet's XML with expat (openpyxl's
    read-only reader was measured at ~1,500 rows/s, the import's goal is 2,000).

    Formulas are never evaluated: a cell's saved result is its value, and a formula saved
    without a result makes its row a rejected one. Dates come from the cell's number
    format (and the workbook's 1900 or 1904 date system)."""
    binary.seek(0)
    try:
        archive = zipfile.ZipFile(binary)
        book = _Workbook(archive)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as error:
        raise ImportFileError(_("This XLSX file is damaged and cannot be opened."), code="invalid_xlsx") from error
    except Exception as error:  # expat raises its own ExpatError for broken XML
        raise ImportFileError(_("This XLSX file is damaged and cannot be opened."), code="invalid_xlsx") from error
    if not book.sheet:
        return
    max_columns = settings.IMPORT_MAX_COLUMNS
    epoch = _EXCEL_EPOCH_1904 if book.date1904 else _EXCEL_EPOCH
    ready: list[SourceRow] = []
    row: dict[int, str] = {}
    state: dict[str, Any] = {"number": 0, "column": 0, "type": "n", "style": 0, "value": None, "formula": None,
                             "text": None, "error": "", "too_wide": 0}  # fmt: skip

    def start(name, attributes):
        tag = _local(name)
        if tag == "row":
            row.clear()
            state["error"] = ""
            state["number"] = int(attributes.get("r") or state["number"] + 1)
            state["column"] = -1
        elif tag == "c":
            reference = attributes.get("r")
            state["column"] = _column_index(reference) if reference else state["column"] + 1
            state["type"] = attributes.get("t", "n")
            state["style"] = int(attributes.get("s", "0") or 0)
            state["value"] = state["formula"] = state["text"] = None
        elif tag in ("v", "f", "t"):
            state["text"] = []

    def text(data):
        if state["text"] is not None:
            state["text"].append(data)

    def end(name):
        tag = _local(name)
        if tag == "v":
            state["value"] = "".join(state["text"] or [])
            state["text"] = None
        elif tag == "f":
            state["formula"] = "".join(state["text"] or [])
            state["text"] = None
        elif tag == "t":
            state["value"] = (state["value"] or "") + "".join(state["text"] or [])
            state["text"] = None
        elif tag == "c":
            column = state["column"]
            value = _xlsx_value(state, book, epoch)
            if state["formula"] is not None and not state["value"] and not state["error"]:
                state["error"] = _(
                    "Column %(column)d holds a formula (%(formula)s) without a saved result; open the file "
                    "in Excel, let it calculate and save it again."
                ) % {"column": column + 1, "formula": ("=" + state["formula"])[:80]}
            if value != "":
                if column >= max_columns:
                    state["too_wide"] = max(state["too_wide"], column + 1)
                else:
                    row[column] = value
        elif tag == "row":
            if state["too_wide"]:
                raise ImportFileError(
                    _("Row %(row)d has %(count)d columns; at most %(limit)d are read.")
                    % {"row": state["number"], "count": state["too_wide"], "limit": max_columns},
                    code="too_many_columns",
                )
            cells = [""] * (max(row) + 1) if row else []
            for index, value in row.items():
                cells[index] = value
            code = "formula_without_value" if state["error"] else ""
            ready.append(SourceRow(number=state["number"], cells=cells, error=state["error"], error_code=code))

    from xml.parsers import expat

    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    try:
        with archive.open(book.sheet) as stream:
            while chunk := stream.read(256 * 1024):
                parser.Parse(chunk, False)
                yield from ready
                ready.clear()
            parser.Parse(b"", True)
            yield from ready
    except expat.ExpatError as error:
        raise ImportFileError(_("This XLSX file is damaged and cannot be opened."), code="invalid_xlsx") from error
    finally:
        archive.close()


def _xlsx_value(state: dict[str, Any], book: _Workbook, epoch: datetime) -> str:
    kind, raw = state["type"], state["value"]
    if raw is None or raw == "":
        return ""
    if kind == "s":
        try:
            return book.strings[int(raw)]
        except (ValueError, IndexError):
            return ""
    if kind in ("str", "inlineStr", "e"):
        return raw
    if kind == "b":
        return "yes" if raw.strip() in ("1", "true") else "no"
    if kind == "d":
        return raw[:10] if raw[10:].strip("T0:.Z") == "" else raw
    try:
        number = float(raw)
    except ValueError:
        return raw
    if state["style"] in book.date_styles:
        from datetime import timedelta

        moment = epoch + timedelta(days=number)
        if epoch is _EXCEL_EPOCH and 0 < number < 60:
            moment += timedelta(days=1)  # Excel counts a 29 February 1900 that never was
        return moment.date().isoformat() if moment.time() == time(0) else moment.isoformat(sep=" ")
    return _cell_text(number)


# --- vCard -----------------------------------------------------------------------------------

VCARD_HEADERS = [
    "Name",
    "First name",
    "Last name",
    "Organization",
    "Job title",
    "Email",
    "Phone",
    "Street",
    "City",
    "Region",
    "Postal code",
    "Country",
    "Birthday",
    "Notes",
    "Website",
    "Categories",
]
_VCARD_LINE = re.compile(r"^(?:[A-Za-z0-9-]+\.)?([A-Za-z0-9-]+)((?:;[^:]*)?):(.*)$", re.DOTALL)


class _BadLine(Exception):
    pass


def _unescape(value: str) -> str:
    return re.sub(r"\\([\\,;nN])", lambda match: "\n" if match.group(1) in "nN" else match.group(1), value)


def _split(value: str, separator: str = ";") -> list[str]:
    parts, current, escaped = [], [], False
    for char in value:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append(_unescape("".join(current)))
            current = []
        else:
            current.append(char)
    parts.append(_unescape("".join(current)))
    return parts


def _vcard_value(name: str, params: str, raw: str) -> str:
    """The property's text: quoted-printable decoded in its CHARSET (vCard 2.1)."""
    upper = params.upper()
    if "QUOTED-PRINTABLE" in upper:
        charset = "utf-8"
        found = re.search(r"CHARSET=([A-Za-z0-9_-]+)", params, re.IGNORECASE)
        if found:
            charset = found.group(1)
        try:
            return quopri.decodestring(raw.encode("ascii")).decode(charset)
        except (UnicodeError, LookupError, ValueError) as error:
            raise _BadLine(_("its quoted-printable text cannot be decoded")) from error
    return raw


def _card_cells(properties: list[tuple[str, str, str]]) -> list[str]:
    values: dict[str, list[str]] = {}
    for name, _params, value in properties:
        values.setdefault(name, []).append(value)
    cells = dict.fromkeys(VCARD_HEADERS, "")
    if values.get("FN"):
        cells["Name"] = _unescape(values["FN"][0]).strip()
    if values.get("N"):
        parts = [*_split(values["N"][0]), "", ""]
        cells["Last name"], cells["First name"] = (
            parts[0].strip(),
            " ".join(part.strip() for part in (parts[1], parts[2]) if part.strip()),
        )
    if values.get("ORG"):
        cells["Organization"] = _split(values["ORG"][0])[0].strip()
    if values.get("TITLE"):
        cells["Job title"] = _unescape(values["TITLE"][0]).strip()
    cells["Email"] = ", ".join(_unescape(value).strip() for value in values.get("EMAIL", []) if value.strip())
    cells["Phone"] = ", ".join(
        _unescape(value).strip().removeprefix("tel:") for value in values.get("TEL", []) if value.strip()
    )
    if values.get("ADR"):
        parts = [*_split(values["ADR"][0]), "", "", "", "", "", "", ""]
        street = ", ".join(part.strip() for part in (parts[2], parts[1]) if part.strip())
        cells["Street"], cells["City"], cells["Region"] = street, parts[3].strip(), parts[4].strip()
        cells["Postal code"], cells["Country"] = parts[5].strip(), parts[6].strip()
    if values.get("BDAY"):
        cells["Birthday"] = _vcard_date(values["BDAY"][0].strip())
    cells["Notes"] = "\n".join(_unescape(value).strip() for value in values.get("NOTE", []) if value.strip())
    if values.get("URL"):
        cells["Website"] = _unescape(values["URL"][0]).strip()
    cells["Categories"] = ", ".join(
        part.strip() for value in values.get("CATEGORIES", []) for part in _split(value, ",") if part.strip()
    )
    return [cells[header] for header in VCARD_HEADERS]


def _vcard_date(value: str) -> str:
    # 19850412, 1985-04-12, 1985-04-12T00:00:00Z; --0412 (no year) cannot be a birthday here.
    digits = value.split("T")[0]
    if re.fullmatch(r"\d{8}", digits):
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    return digits


def _physical_lines(text: IO[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(_limited_lines(text), start=1):
        yield number, line.rstrip("\r\n")


_BASE64_LINE = re.compile(r"^[A-Za-z0-9+/=]+$")


def vcard_rows(binary: IO[bytes], *, encoding: str) -> Iterator[SourceRow]:
    """One row per card, in VCARD_HEADERS order; row 1 is the (virtual) header."""
    text = _text_stream(binary, encoding)
    yield SourceRow(number=1, cells=list(VCARD_HEADERS))
    card_number = 1
    properties: list[tuple[str, str, str]] | None = None
    problem = ""
    pending: tuple[int, str] | None = None
    in_base64 = False

    def take(line_number: int, line: str) -> None:
        nonlocal problem, in_base64
        if properties is None or problem:
            return
        match = _VCARD_LINE.match(line)
        if match is None:
            problem = _("line %(line)d is not a vCard property (“%(text)s”)") % {"line": line_number, "text": line[:60]}
            return
        name = match.group(1).upper()
        if name in ("PHOTO", "LOGO", "SOUND", "KEY"):
            # vCard 2.1 base64 data may go on over unindented lines until an empty one.
            in_base64 = "BASE64" in match.group(2).upper() or "ENCODING=B" in match.group(2).upper()
            return
        try:
            properties.append((name, match.group(2), _vcard_value(name, match.group(2), match.group(3))))
        except _BadLine as bad:
            problem = _("line %(line)d: %(problem)s") % {"line": line_number, "problem": bad}

    try:
        for line_number, line in _physical_lines(text):
            if pending is not None:
                first_number, logical = pending
                if line[:1] in (" ", "\t"):
                    pending = (first_number, logical + line[1:])
                    continue
                if logical.endswith("=") and "QUOTED-PRINTABLE" in logical.split(":", 1)[0].upper():
                    pending = (first_number, logical[:-1] + line)
                    continue
                take(first_number, logical)
                pending = None
            stripped = line.strip()
            if in_base64:
                if stripped and _BASE64_LINE.match(stripped):
                    continue
                in_base64 = False
            upper = stripped.upper()
            if upper == "BEGIN:VCARD":
                properties, problem = [], ""
                continue
            if upper == "END:VCARD":
                if properties is not None:
                    card_number += 1
                    if problem:
                        yield SourceRow(
                            number=card_number,
                            cells=[],
                            error=_("This card was not read: %(problem)s.") % {"problem": problem},
                            error_code="invalid_vcard",
                        )
                    else:
                        yield SourceRow(number=card_number, cells=_card_cells(properties))
                properties = None
                continue
            if not stripped:
                continue
            if properties is None:
                card_number += 1
                yield SourceRow(
                    number=card_number,
                    cells=[],
                    error=_("Line %(line)d is outside any card (BEGIN:VCARD … END:VCARD).") % {"line": line_number},
                    error_code="invalid_vcard",
                )
                continue
            pending = (line_number, line)
        if properties is not None:
            card_number += 1
            yield SourceRow(
                number=card_number,
                cells=[],
                error=_("The last card has no END:VCARD line; the file seems cut off."),
                error_code="invalid_vcard",
            )
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _("This file is not in %(encoding)s. Choose the file's encoding and try again.")
            % {"encoding": ENCODING_LABELS.get(encoding, encoding)},
            code="wrong_encoding",
        ) from error
    finally:
        _detach(text)


def rows_of(binary: IO[bytes], *, file_format: str, encoding: str, delimiter: str):
    """Every row of a file already detected, header first."""
    if file_format == "xlsx":
        return xlsx_rows(binary)
    if file_format == "vcard":
        return vcard_rows(binary, encoding=encoding)
    return csv_source_rows(binary, encoding=encoding, delimiter=delimiter)


def data_rows(binary: IO[bytes], **detected: Any) -> Iterator[SourceRow]:
    """The data rows (after the header; blank rows left out), numbered as in the file."""
    header_seen = False
    for row in rows_of(binary, **detected):
        if not header_seen:
            if row.error or _blank(row.cells):
                continue
            header_seen = True
            continue
        if not row.error and _blank(row.cells):
            continue
        yield row
