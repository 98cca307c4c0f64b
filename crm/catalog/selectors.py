"""Reads for the product catalogue and proposals, always through the policy layer."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from crm import access
from crm.catalog.models import Product, Quote
from crm.errors import RecordNotFound
from crm.selectors import day_range
from crm.validation import FieldErrors

if TYPE_CHECKING:
    from crm.clients.models import Company, Contact
    from crm.deals.models import Deal

# ordering parameter → ORDER BY; the id makes pages stable.
QUOTE_ORDERINGS = {
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
    "total": ("total", "id"),
    "-total": ("-total", "-id"),
}


def _as_id(value: Any) -> int | None:
    """A primary key from user input (path or query string); None when it cannot be one."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def product_list(*, actor: User | None, active: bool | None = True, search: str = "") -> QuerySet[Product]:
    """Live products `actor` may see, by name: only those on sale unless `active` is False (off sale) or None (all).

    `search` matches part of the SKU or the name, whatever the case.
    """
    products = access.visible(Product.objects.all(), actor=actor)
    if active is not None:
        products = products.filter(is_active=active)
    term = (search or "").strip()
    if term:
        products = products.filter(Q(sku__icontains=term) | Q(name__icontains=term))
    return products.order_by("name", "id")


def product_get(*, actor: User | None, product_id: Any) -> Product:
    """One live product, or RecordNotFound (also for another workspace's id or garbage input)."""
    product = access.visible(Product.objects.all(), actor=actor).filter(pk=_as_id(product_id)).first()
    if product is None:
        raise RecordNotFound(_("This product does not exist or was moved to the trash."))
    return product


def quote_list(
    *,
    actor: User | None,
    status: str | None = None,
    owner: User | None = None,
    deal: Deal | int | None = None,
    contact: Contact | int | None = None,
    company: Company | int | None = None,
    created_from: date | datetime | None = None,
    created_to: date | datetime | None = None,
    ordering: str = "-created",
) -> QuerySet[Quote]:
    """Live proposals `actor` may see, newest first, with deal, contact, company and owner joined in.

    Filters (each optional): status, owner, deal, contact, company (a record or its id),
    creation dates (a bare date is its whole day, both ends inclusive). `ordering` is a
    key of QUOTE_ORDERINGS (ValidationError on `ordering`, code `invalid_choice`).
    """
    if ordering not in QUOTE_ORDERINGS:
        errors = FieldErrors()
        errors.add("ordering", _("This list cannot be sorted that way."), "invalid_choice")
        errors.raise_if_any()
    quotes = access.visible(Quote.objects.all(), actor=actor).select_related("deal", "contact", "company", "owner")
    if status:
        quotes = quotes.filter(status=status)
    if owner is not None:
        quotes = quotes.filter(owner=owner)
    if deal is not None:
        quotes = quotes.filter(deal=deal)
    if contact is not None:
        quotes = quotes.filter(contact=contact)
    if company is not None:
        quotes = quotes.filter(company=company)
    quotes = quotes.filter(day_range("created_at", created_from, created_to))
    return quotes.order_by(*QUOTE_ORDERINGS[ordering])


def quote_get(*, actor: User | None, quote_id: Any) -> Quote:
    """One live proposal with its lines (in order) and links loaded: two queries whatever the line count.

    Raises RecordNotFound for a missing, trashed or invisible proposal, another
    workspace's id, or input that is not an id at all.
    """
    quote = (
        access.visible(Quote.objects.all(), actor=actor)
        .select_related("deal", "contact", "company", "owner")
        .prefetch_related("lines")
        .filter(pk=_as_id(quote_id))
        .first()
    )
    if quote is None:
        raise RecordNotFound(_("This proposal does not exist or was moved to the trash."))
    return quote
