"""A proposal as an A4 PDF, drawn with fpdf2.

Text goes through fpdf2's HarfBuzz shaping (uharfbuzz) and its bidirectional algorithm,
so Arabic letters join and right-to-left runs read correctly; the layout itself is
mirrored for right-to-left languages. The font is DejaVu Sans, shipped in
`static/fonts/` (licence next to it) because servers have no system fonts; it covers
Latin, Cyrillic and Arabic, and fpdf2 embeds only the glyphs used, which keeps a
one-page proposal around 20-30 kB.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace

from crm.catalog.models import Quote
from crm.catalog.quote_document import QuoteDocument, quote_document

# fontTools logs ~40 INFO lines per subset font per document; they say nothing an operator needs.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)
logger = logging.getLogger(__name__)

FONT_DIR = Path(settings.BASE_DIR) / "static" / "fonts"
FONT = "DejaVuSans"
FONT_FILES = {"": FONT_DIR / "DejaVuSans.ttf", "B": FONT_DIR / "DejaVuSans-Bold.ttf"}

INK = (29, 36, 51)
MUTED = (91, 100, 117)
LINE = (221, 226, 234)
SOFT = (243, 245, 249)
ACCENT = (36, 84, 214)
WARNING = (181, 71, 8)

MARGIN = 15.0
LINE_HEIGHT = 5.0


class _ProposalPDF(FPDF):
    """FPDF with the proposal's footer and helpers that mirror positions for right-to-left documents."""

    def __init__(self, document: QuoteDocument, *, page_label: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.document = document
        self.page_label = page_label
        self.rtl = document.rtl
        self.start = "R" if self.rtl else "L"
        self.end = "L" if self.rtl else "R"
        self.set_margins(MARGIN, 16, MARGIN)
        self.set_auto_page_break(auto=True, margin=18)
        for style, path in FONT_FILES.items():
            self.add_font(FONT, style, str(path))
        self.set_text_shaping(use_shaping_engine=True)

    def footer(self) -> None:
        self.set_y(-12)
        self.font(8, color=MUTED)
        page = self.page_label % {"page": self.page_no(), "pages": self.str_alias_nb_pages}
        self.cell(0, 5, f"{self.document.number} · {page}", align="C")

    def font(self, size: float, *, bold: bool = False, color: tuple[int, int, int] = INK) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.set_text_color(*color)

    def x_at(self, offset: float, width: float) -> float:
        """The left x of a box `width` wide, `offset` from the start edge (left in LTR, right in RTL)."""
        if self.rtl:
            return self.w - self.r_margin - offset - width
        return self.l_margin + offset

    def text_box(
        self, offset: float, width: float, text: str, *, height: float = LINE_HEIGHT, align: str | None = None
    ) -> None:
        """A wrapped paragraph in a column, then the cursor goes below it (same column start)."""
        self.set_x(self.x_at(offset, width))
        self.multi_cell(width, height, text, align=align or self.start, new_x=XPos.LEFT, new_y=YPos.NEXT)


def render_quote_pdf(quote: Quote, language: str) -> bytes:
    """The proposal in `language` as PDF bytes (A4; mirrored for right-to-left languages).

    Pass a quote from `crm.catalog.selectors.quote_get` (lines prefetched).
    """
    document = quote_document(quote, language)
    with translation.override(language):
        pdf = _ProposalPDF(document, page_label=_("Page %(page)s of %(pages)s"))
        pdf.set_title(f"{document.labels['proposal']} {document.number}")
        if document.seller:
            pdf.set_author(document.seller)
        pdf.set_subject(document.title)
        pdf.set_lang(language)
        pdf.set_creator("CRM")
        pdf.add_page()
        _header(pdf, document)
        _parties(pdf, document)
        _title(pdf, document)
        _lines(pdf, document)
        _totals(pdf, document)
        _notes(pdf, document)
        _report_missing_glyphs(pdf, document)
        return bytes(pdf.output())


def _report_missing_glyphs(pdf: _ProposalPDF, document: QuoteDocument) -> None:
    """Log characters the font cannot draw: with shaping on, fpdf2 leaves them out silently."""
    cmap = pdf.fonts[FONT.lower()].cmap
    texts = [document.seller, document.prepared_by, document.title, document.notes, *document.customer]
    texts += [f"{line.name}{line.description}{line.unit}" for line in document.lines]
    missing = sorted({char for text in texts for char in text if char.isprintable() and ord(char) not in cmap})
    if missing:
        logger.warning("proposal %s: the PDF font has no glyph for %s", document.number, "".join(missing[:20]))


def _header(pdf: _ProposalPDF, document: QuoteDocument) -> None:
    top = pdf.get_y()
    width = pdf.epw
    pdf.set_y(top)
    if document.seller:
        pdf.font(16, bold=True)
        pdf.text_box(0, width * 0.55, document.seller, height=8)
    if document.prepared_by:
        pdf.font(9, color=MUTED)
        pdf.text_box(0, width * 0.55, f"{document.labels['prepared_by']}: {document.prepared_by}")
    left_bottom = pdf.get_y()

    pdf.set_y(top)
    side = width * 0.42
    pdf.font(11, bold=True, color=ACCENT)
    pdf.text_box(width - side, side, document.labels["proposal"].upper(), height=6, align=pdf.end)
    pdf.font(16, bold=True)
    pdf.text_box(width - side, side, document.number, height=8, align=pdf.end)
    if document.is_draft:
        pdf.font(8, color=WARNING)
        pdf.text_box(width - side, side, document.labels["draft"], height=4.5, align=pdf.end)
    bottom = max(left_bottom, pdf.get_y()) + 3
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.8)
    pdf.line(pdf.l_margin, bottom, pdf.w - pdf.r_margin, bottom)
    pdf.set_y(bottom + 6)


def _parties(pdf: _ProposalPDF, document: QuoteDocument) -> None:
    top = pdf.get_y()
    width = pdf.epw
    customer_width = width * 0.55
    pdf.font(8, bold=True, color=MUTED)
    pdf.text_box(0, customer_width, document.labels["prepared_for"].upper(), height=5)
    for index, line in enumerate(document.customer or ["—"]):
        pdf.font(10, bold=index == 0)
        pdf.text_box(0, customer_width, line)
    customer_bottom = pdf.get_y()

    facts = [(document.labels["number"], document.number), (document.labels["date"], document.issued_on)]
    if document.valid_until:
        facts.append((document.labels["valid_until"], document.valid_until))
    facts.append((document.labels["status"], document.status))
    label_width, value_width = 30.0, 42.0
    pdf.set_y(top)
    for label, value in facts:
        y = pdf.get_y()
        pdf.font(9.5, color=MUTED)
        pdf.set_xy(pdf.x_at(width - label_width - value_width, label_width), y)
        pdf.cell(label_width, LINE_HEIGHT + 0.5, label, align=pdf.start)
        pdf.font(9.5)
        pdf.set_xy(pdf.x_at(width - value_width, value_width), y)
        pdf.cell(value_width, LINE_HEIGHT + 0.5, value, align=pdf.end)
        pdf.set_y(y + LINE_HEIGHT + 0.5)
    pdf.set_y(max(customer_bottom, pdf.get_y()) + 6)


def _title(pdf: _ProposalPDF, document: QuoteDocument) -> None:
    pdf.font(13, bold=True)
    pdf.text_box(0, pdf.epw, document.title, height=6.5)
    pdf.ln(3)


def _mirror(values: Sequence, rtl: bool) -> list:
    return list(reversed(values)) if rtl else list(values)


def _lines(pdf: _ProposalPDF, document: QuoteDocument) -> None:
    labels = document.labels
    start, end = pdf.start, pdf.end
    # (heading, width in mm, alignment, value of a line)
    columns = [
        (labels["position"], 7, start, lambda line: str(line.position)),
        (labels["item"], 0, start, lambda line: f"{line.name}\n{line.description}" if line.description else line.name),
        (labels["quantity"], 13, end, lambda line: line.quantity),
        (labels["unit"], 15, start, lambda line: line.unit),
        (labels["unit_price"], 28, end, lambda line: line.unit_price),
        (labels["discount"], 19, end, lambda line: line.discount),
        (labels["tax"], 12, end, lambda line: line.tax_rate),
        (labels["amount"], 28, end, lambda line: line.amount),
    ]
    if not document.has_discounts:
        columns = [column for column in columns if column[0] != labels["discount"]]
    # The item column takes whatever the others leave.
    columns[1] = (columns[1][0], pdf.epw - sum(column[1] for column in columns), columns[1][2], columns[1][3])
    columns = _mirror(columns, pdf.rtl)

    pdf.font(9)
    pdf.set_draw_color(*LINE)
    pdf.set_line_width(0.2)
    headings = FontFace(family=FONT, emphasis="BOLD", size_pt=7.5, color=MUTED, fill_color=SOFT)
    with pdf.table(
        width=pdf.epw,
        col_widths=[column[1] for column in columns],
        text_align=[column[2] for column in columns],
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        headings_style=headings,
        line_height=LINE_HEIGHT,
        padding=(1.8, 1.5),
        v_align="TOP",
    ) as table:
        heading = table.row()
        for column in columns:
            heading.cell(column[0].upper())
        for line in document.lines:
            row = table.row()
            for column in columns:
                row.cell(column[3](line))
        if not document.lines:
            table.row().cell(labels["no_lines"], colspan=len(columns), align="C")
    pdf.ln(4)


def _totals(pdf: _ProposalPDF, document: QuoteDocument) -> None:
    label_width, amount_width = 50.0, 42.0
    row_height = 6.5
    needed = row_height * (len(document.totals) + 1)
    if pdf.get_y() + needed > pdf.page_break_trigger:
        pdf.add_page()
    box_offset = pdf.epw - label_width - amount_width
    for row in document.totals:
        y = pdf.get_y()
        if row.grand:
            y += 1.5
            pdf.set_draw_color(*INK)
            pdf.set_line_width(0.5)
            left = pdf.x_at(box_offset, label_width + amount_width)
            pdf.line(left, y, left + label_width + amount_width, y)
            y += 1
            pdf.font(12, bold=True)
        else:
            pdf.font(9.5, color=MUTED)
        pdf.set_xy(pdf.x_at(box_offset, label_width), y)
        pdf.cell(label_width, row_height, row.label, align=pdf.start)
        if not row.grand:
            pdf.font(9.5)
        pdf.set_xy(pdf.x_at(box_offset + label_width, amount_width), y)
        pdf.cell(amount_width, row_height, row.amount, align=pdf.end)
        pdf.set_y(y + row_height)
    pdf.ln(6)


def _notes(pdf: _ProposalPDF, document: QuoteDocument) -> None:
    if not document.notes:
        return
    pdf.font(8, bold=True, color=MUTED)
    pdf.text_box(0, pdf.epw, document.labels["notes"].upper(), height=5)
    pdf.font(9.5)
    pdf.set_fill_color(*SOFT)
    pdf.set_x(pdf.l_margin)
    pdf.multi_cell(pdf.epw, LINE_HEIGHT, document.notes, align=pdf.start, fill=True, padding=(2.5, 3))
