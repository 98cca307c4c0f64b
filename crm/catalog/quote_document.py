"""What a printed proposal says, in one language: shared by the HTML page and the PDF.

Both renderings take a `QuoteDocument` so the numbers, wording and formatting cannot
drift apart. Build it inside `translation.override(language)` (the renderers do).
Amounts use the language's number format (Django's locale formats) followed by the
ISO 4217 code, which reads the same in every language: `1,234.50 USD`, `1 234,50 RUB`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection
from django.utils import formats, translation
from django.utils.translation import gettext as _

from crm.catalog.models import Quote, QuoteStatus, Unit
from crm.catalog.workspace_time import zone_named
from crm.phones import phone_display
from crm.selectors import workspace_settings

NBSP = "\u00a0"


def format_amount(amount: Decimal, currency: str) -> str:
    """`amount` with two decimals in the active language's format, then the currency code."""
    number = formats.number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)
    return f"{number}{NBSP}{currency}"


def format_number(value: Decimal) -> str:
    """A quantity or percentage without trailing zeros: 3, 1.5, 12.25 (in the active language's format)."""
    normalized = value.normalize()
    places = max(0, -normalized.as_tuple().exponent)
    return formats.number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)


def format_date(day: date | None) -> str:
    return formats.date_format(day, "DATE_FORMAT", use_l10n=True) if day else ""


@dataclass(frozen=True)
class DocumentLine:
    position: int
    name: str
    description: str
    quantity: str
    unit: str
    unit_price: str
    discount: str
    tax_rate: str
    amount: str


@dataclass(frozen=True)
class TotalRow:
    label: str
    amount: str
    grand: bool = False


@dataclass(frozen=True)
class QuoteDocument:
    language: str
    rtl: bool
    seller: str
    prepared_by: str
    number: str
    title: str
    status: str
    is_draft: bool
    issued_on: str
    valid_until: str
    currency: str
    customer: list[str]
    lines: list[DocumentLine]
    totals: list[TotalRow]
    notes: str
    has_discounts: bool
    labels: dict[str, str] = field(default_factory=dict)


def _labels() -> dict[str, str]:
    """Every fixed word of the document, translated once for both renderings."""
    return {
        "proposal": _("Commercial proposal"),
        "number": _("Number"),
        "date": _("Date"),
        "valid_until": _("Valid until"),
        "status": _("Status"),
        "prepared_for": _("Prepared for"),
        "prepared_by": _("Prepared by"),
        "position": _("#"),
        "item": _("Item"),
        "quantity": _("Qty"),
        "unit": _("Unit"),
        "unit_price": _("Unit price"),
        "discount": _("Discount"),
        "tax": _("Tax"),
        "amount": _("Amount"),
        "notes": _("Terms and notes"),
        "no_lines": _("This proposal has no lines yet."),
        "draft": _("Draft: not sent to the customer yet"),
    }


def _customer_lines(quote: Quote, *, region: str) -> list[str]:
    company, contact = quote.company, quote.contact
    lines: list[str] = []
    if company is not None and company.deleted_at is None:
        lines.append(company.name)
    if contact is not None and contact.deleted_at is None:
        lines.append(", ".join(part for part in (contact.full_name, contact.job_title) if part))
    address_source = company if company is not None and company.address else contact
    if address_source is not None and address_source.deleted_at is None:
        if address_source.address:
            lines.append(address_source.address)
        place = " ".join(part for part in (address_source.postal_code, address_source.city) if part)
        region_line = ", ".join(part for part in (place, address_source.region, address_source.country) if part)
        if region_line:
            lines.append(region_line)
    for record in (contact, company):
        if record is not None and record.deleted_at is None and (record.emails or record.phones):
            if record.emails:
                lines.append(record.emails[0])
            if record.phones:
                lines.append(phone_display(record.phones[0], region=region))
            break
    return [line for line in lines if line]


def _seller_name() -> str:
    """The workspace's company name (the issuer of the proposal), from the tenant being served."""
    tenant = getattr(connection, "tenant", None)
    return getattr(tenant, "name", "") or ""


def quote_document(quote: Quote, language: str) -> QuoteDocument:
    """The printable content of `quote` in `language`.

    Expects lines prefetched and links joined (as `crm.catalog.selectors.quote_get`
    returns it); reads nothing else but the workspace settings.
    """
    with translation.override(language):
        currency = quote.currency
        lines = [
            DocumentLine(
                position=index,
                name=line.name,
                description=line.description,
                quantity=format_number(line.quantity),
                unit=str(Unit(line.unit).label) if line.unit in Unit.values else line.unit,
                unit_price=format_amount(line.unit_price, currency),
                discount=f"{format_number(line.discount_percent)}%" if line.discount_percent else "",
                tax_rate=f"{format_number(line.tax_rate)}%",
                amount=format_amount(line.net_amount, currency),
            )
            for index, line in enumerate(quote.lines.all(), start=1)
        ]
        totals = [TotalRow(_("Subtotal"), format_amount(quote.subtotal, currency))]
        if quote.discount_total:
            totals.append(TotalRow(_("Discount"), format_amount(-quote.discount_total, currency)))
            totals.append(TotalRow(_("Net amount"), format_amount(quote.subtotal - quote.discount_total, currency)))
        totals.append(TotalRow(_("Tax"), format_amount(quote.tax_total, currency)))
        totals.append(TotalRow(_("Total"), format_amount(quote.total, currency), grand=True))
        owner = quote.owner
        issued = quote.sent_at or quote.created_at
        workspace = workspace_settings()
        return QuoteDocument(
            language=language,
            rtl=translation.get_language_bidi(),
            seller=_seller_name(),
            prepared_by=" · ".join(part for part in (owner.full_name, owner.email) if part) if owner else "",
            number=quote.number,
            title=quote.title,
            status=str(QuoteStatus(quote.status).label),
            is_draft=quote.status == QuoteStatus.DRAFT,
            issued_on=format_date(issued.astimezone(zone_named(workspace.time_zone)).date() if issued else None),
            valid_until=format_date(quote.valid_until),
            currency=currency,
            customer=_customer_lines(quote, region=workspace.default_phone_region),
            lines=lines,
            totals=totals,
            notes=quote.notes,
            has_discounts=any(line.discount for line in lines),
            labels=_labels(),
        )
