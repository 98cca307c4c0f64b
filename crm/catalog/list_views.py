"""The signed-in products (`/products/`) and quotes (`/quotes/`) lists, declared for
crm.list_pages: rows from `product_list` / `quote_list` (crm.access applies)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy

from crm.catalog.models import QuoteStatus
from crm.catalog.selectors import product_list, quote_list
from crm.list_filters import created_from, created_to
from crm.list_pages import BaseFilterForm, Column, RecordList, list_page, owner_choices

ON_SALE = [("", gettext_lazy("On sale")), ("off", gettext_lazy("Off sale")), ("all", gettext_lazy("All products"))]


class ProductFilterForm(BaseFilterForm):
    active = forms.ChoiceField(label=gettext_lazy("Show"), choices=ON_SALE, required=False)


def _product_rows(actor, filters):
    active = {"off": False, "all": None}.get(filters.get("active", ""), True)
    return product_list(actor=actor, active=active, search=filters.get("q", ""))


PRODUCTS = RecordList(
    key="products",
    title=gettext_lazy("Products"),
    record_type="product",
    filter_form=ProductFilterForm,
    rows=_product_rows,
    sorts={"name": ("name", "id"), "-name": ("-name", "-id")},
    columns=[
        Column(gettext_lazy("Name"), sort="name"),
        Column(gettext_lazy("SKU")),
        Column(gettext_lazy("Price")),
        Column(gettext_lazy("Tax")),
    ],
    row_template="catalog/_product_row.html",
    csv_columns=[
        (gettext_lazy("Name"), lambda product: product.name),
        (gettext_lazy("SKU"), lambda product: product.sku),
        (gettext_lazy("Price"), lambda product: product.price),
        (gettext_lazy("Currency"), lambda product: product.currency),
        (gettext_lazy("Tax rate (%)"), lambda product: product.tax_rate),
        (gettext_lazy("Unit"), lambda product: product.get_unit_display()),
    ],
    empty_text=gettext_lazy("The catalogue is empty. Products you add can go into quotes."),
)


class QuoteFilterForm(BaseFilterForm):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), choices=[("", gettext_lazy("Any status")), *QuoteStatus.choices], required=False
    )
    owner = owner_choices()
    created_from = created_from()
    created_to = created_to()


def _quote_rows(actor, filters):
    rows = quote_list(
        actor=actor,
        status=filters.get("status"),
        owner=filters.get("owner"),
        created_from=filters.get("created_from"),
        created_to=filters.get("created_to"),
    )
    term = filters.get("q", "").strip()
    return rows.filter(title__icontains=term) if term else rows


QUOTES = RecordList(
    key="quotes",
    title=gettext_lazy("Quotes"),
    record_type="quote",
    filter_form=QuoteFilterForm,
    rows=_quote_rows,
    sorts={"-created": ("-created_at", "-id"), "created": ("created_at", "id")},
    columns=[
        Column(gettext_lazy("Number")),
        Column(gettext_lazy("Title")),
        Column(gettext_lazy("Client")),
        Column(gettext_lazy("Status")),
        Column(gettext_lazy("Total")),
        Column(gettext_lazy("Created"), sort="created"),
    ],
    row_template="catalog/_quote_row.html",
    csv_columns=[
        (gettext_lazy("Number"), lambda quote: quote.number),
        (gettext_lazy("Title"), lambda quote: quote.title),
        (gettext_lazy("Status"), lambda quote: quote.get_status_display()),
        (gettext_lazy("Total"), lambda quote: quote.total),
        (gettext_lazy("Currency"), lambda quote: quote.currency),
        (gettext_lazy("Deal"), lambda quote: quote.deal.title if quote.deal else ""),
        (gettext_lazy("Company"), lambda quote: quote.company.name if quote.company else ""),
        (gettext_lazy("Owner"), lambda quote: quote.owner.full_name if quote.owner else ""),
        (gettext_lazy("Created"), lambda quote: quote.created_at.isoformat()),
    ],
    empty_text=gettext_lazy("No quotes yet. Build one from a deal."),
)


@login_required
def product_list_view(request: HttpRequest) -> HttpResponse:
    return list_page(request, PRODUCTS)


@login_required
def quote_list_view(request: HttpRequest) -> HttpResponse:
    return list_page(request, QUOTES)
