"""Reads for the product catalogue and proposals, always through the policy layer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from crm import access
from crm.catalog.models import Product, Quote
from crm.errors import RecordNotFound

if TYPE_CHECKING:
    from crm.clients.models import Company, Contact
    from crm.deals.models import Deal


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
    deal: Deal | int | None = None,
    contact: Contact | int | None = None,
    company: Company | int | None = None,
) -> QuerySet[Quote]:
    """Live proposals `actor` may see, newest first, with deal, contact, company and owner joined in.

    Filters (each optional): status, deal, contact, company (a record or its id).
    """
    quotes = access.visible(Quote.objects.all(), actor=actor).select_related("deal", "contact", "company", "owner")
    if status:
        quotes = quotes.filter(status=status)
    if deal is not None:
        quotes = quotes.filter(deal=deal)
    if contact is not None:
        quotes = quotes.filter(contact=contact)
    if company is not None:
        quotes = quotes.filter(company=company)
    return quotes.order_by("-created_at", "-id")


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
