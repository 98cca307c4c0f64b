"""The quote builder `/quotes/<id>/`: products, quantities, discounts, live totals,
preview, PDF and "mark as sent".

Every change goes through crm.catalog.services (`quote_line_add`, `quote_line_update`,
`quote_line_remove`, `quote_update`, `quote_mark_sent`), which recompute the totals
with crm.catalog.totals; with HTMX the lines and totals are redrawn after each change,
without JavaScript each form posts and comes back to the page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm import access
from crm.access import Action
from crm.cards import errors_onto
from crm.catalog.models import Quote, QuoteStatus
from crm.catalog.quote_html import render_quote_html
from crm.catalog.quote_pdf import render_quote_pdf
from crm.catalog.selectors import product_get, product_list, quote_get
from crm.catalog.services import (
    quote_duplicate,
    quote_line_add,
    quote_line_remove,
    quote_line_update,
    quote_mark_sent,
    quote_update,
)
from crm.errors import DomainError, RecordNotFound

PRODUCTS_SHOWN = 10
DECIMAL_INPUT = forms.TextInput(attrs={"inputmode": "decimal", "size": 8})


class LineForm(forms.Form):
    quantity = forms.DecimalField(label=gettext_lazy("Quantity"), localize=True, widget=DECIMAL_INPUT)
    unit_price = forms.DecimalField(label=gettext_lazy("Unit price"), localize=True, widget=DECIMAL_INPUT)
    discount_percent = forms.DecimalField(label=gettext_lazy("Discount (%)"), localize=True, widget=DECIMAL_INPUT)


class CustomLineForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Item"), required=False, max_length=200)
    quantity = forms.DecimalField(label=gettext_lazy("Quantity"), localize=True, initial=1, widget=DECIMAL_INPUT)
    unit_price = forms.DecimalField(label=gettext_lazy("Unit price"), localize=True, widget=DECIMAL_INPUT)


class HeaderForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), required=False, max_length=200)
    valid_until = forms.DateField(
        label=gettext_lazy("Valid until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    notes = forms.CharField(
        label=gettext_lazy("Terms and notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


def _quote(request: HttpRequest, pk: int) -> Quote:
    try:
        return quote_get(actor=request.user, quote_id=pk)
    except RecordNotFound as missing:
        raise Http404(missing.message) from missing


def _may_edit(request: HttpRequest, quote: Quote) -> bool:
    if quote.status != QuoteStatus.DRAFT:
        return False
    return access.visible(Quote.objects.filter(pk=quote.pk), actor=request.user, action=Action.EDIT).exists()


def _lines(quote: Quote, bound: dict[int, forms.Form] | None = None) -> list[dict[str, Any]]:
    bound = bound or {}
    return [
        {
            "line": line,
            "form": bound.get(line.pk)
            or LineForm(
                initial={
                    "quantity": line.quantity.normalize(),
                    "unit_price": line.unit_price,
                    "discount_percent": line.discount_percent.normalize(),
                },
                prefix=f"line-{line.pk}",
            ),
        }
        for line in quote.lines.all()
    ]


def _context(request: HttpRequest, quote: Quote, **extra: Any) -> dict[str, Any]:
    may_edit = _may_edit(request, quote)
    search = request.GET.get("q", "").strip()[:100]
    context = {
        "quote": quote,
        "may_edit": may_edit,
        "discount_label": LineForm.base_fields["discount_percent"].label,
        "lines": _lines(quote, extra.pop("bound", None)),
        "search": search,
        "products": list(product_list(actor=request.user, search=search)[:PRODUCTS_SHOWN]) if search else None,
        "custom_form": CustomLineForm(prefix="custom"),
        "header_form": HeaderForm(
            initial={"title": quote.title, "valid_until": quote.valid_until, "notes": quote.notes}, prefix="header"
        ),
    }
    context.update(extra)
    return context


def _answer(request: HttpRequest, quote_id: int, **extra: Any) -> HttpResponse:
    """The lines and totals again (HTMX), the builder page otherwise."""
    quote = _quote(request, quote_id)
    context = _context(request, quote, **extra)
    if request.htmx:
        return render(request, "catalog/_builder_lines.html", context)
    if extra.get("errors") or extra.get("bound") or extra.get("custom_form"):
        return render(request, "catalog/builder.html", context, status=400)
    return redirect(reverse("quote_builder:detail", args=[quote.pk]))


def _error_text(error: ValidationError | DomainError) -> list[str]:
    return [error.message] if isinstance(error, DomainError) else list(error.messages)


@login_required
def quote_builder_view(request: HttpRequest, pk: int) -> HttpResponse:
    quote = _quote(request, pk)
    return render(request, "catalog/builder.html", _context(request, quote))


@login_required
def product_search_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Products matching the search, each with an "Add" button (HTMX fragment)."""
    quote = _quote(request, pk)
    if not request.htmx:
        return redirect(f"{reverse('quote_builder:detail', args=[quote.pk])}?{request.GET.urlencode()}")
    return render(request, "catalog/_product_results.html", _context(request, quote))


@login_required
@require_POST
def line_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    quote = _quote(request, pk)
    try:
        if request.POST.get("product"):
            try:
                product = product_get(actor=request.user, product_id=request.POST["product"])
            except RecordNotFound as missing:
                raise ValidationError({"product": [missing.message]}) from missing
            quote_line_add(actor=request.user, quote=quote, product=product, quantity=1)
        else:
            form = CustomLineForm(request.POST, prefix="custom")
            if not form.is_valid():
                return _answer(request, pk, custom_form=form)
            try:
                quote_line_add(actor=request.user, quote=quote, **form.cleaned_data)
            except (ValidationError, DomainError) as error:
                errors_onto(form, error)
                return _answer(request, pk, custom_form=form)
    except (ValidationError, DomainError) as error:
        return _answer(request, pk, errors=_error_text(error))
    return _answer(request, pk)


def _line(quote: Quote, line_id: int):
    line = next((line for line in quote.lines.all() if line.pk == line_id), None)
    if line is None:
        raise Http404
    return line


@login_required
@require_POST
def line_update_view(request: HttpRequest, pk: int, line_id: int) -> HttpResponse:
    quote = _quote(request, pk)
    line = _line(quote, line_id)
    form = LineForm(request.POST, prefix=f"line-{line.pk}")
    if form.is_valid():
        try:
            quote_line_update(actor=request.user, line=line, **form.cleaned_data)
        except (ValidationError, DomainError) as error:
            errors_onto(form, error)
        else:
            return _answer(request, pk)
    return _answer(request, pk, bound={line.pk: form})


@login_required
@require_POST
def line_remove_view(request: HttpRequest, pk: int, line_id: int) -> HttpResponse:
    quote = _quote(request, pk)
    try:
        quote_line_remove(actor=request.user, line=_line(quote, line_id))
    except (ValidationError, DomainError) as error:
        return _answer(request, pk, errors=_error_text(error))
    return _answer(request, pk)


@login_required
@require_POST
def header_view(request: HttpRequest, pk: int) -> HttpResponse:
    quote = _quote(request, pk)
    form = HeaderForm(request.POST, prefix="header")
    if form.is_valid():
        data = form.cleaned_data
        try:
            quote_update(
                actor=request.user,
                quote=quote,
                title=data["title"],
                valid_until=data["valid_until"],
                notes=data["notes"],
            )
        except (ValidationError, DomainError) as error:
            errors_onto(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect(reverse("quote_builder:detail", args=[quote.pk]))
    return render(request, "catalog/builder.html", _context(request, quote, header_form=form), status=400)


@login_required
@require_POST
def mark_sent_view(request: HttpRequest, pk: int) -> HttpResponse:
    quote = _quote(request, pk)
    try:
        quote_mark_sent(actor=request.user, quote=quote)
    except (ValidationError, DomainError) as error:
        for text in _error_text(error):
            messages.error(request, text)
    else:
        messages.success(request, _("Proposal %(number)s marked as sent.") % {"number": quote.number})
    return redirect(reverse("quote_builder:detail", args=[quote.pk]))


@login_required
@require_POST
def duplicate_view(request: HttpRequest, pk: int) -> HttpResponse:
    quote = _quote(request, pk)
    try:
        copy = quote_duplicate(actor=request.user, quote=quote)
    except (ValidationError, DomainError) as error:
        for text in _error_text(error):
            messages.error(request, text)
        return redirect(reverse("quote_builder:detail", args=[quote.pk]))
    messages.success(
        request, _("Draft %(number)s copied from %(original)s.") % {"number": copy.number, "original": quote.number}
    )
    return redirect(reverse("quote_builder:detail", args=[copy.pk]))


@login_required
def preview_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The proposal as the customer will see it, in the reader's language."""
    return HttpResponse(render_quote_html(_quote(request, pk), get_language()))


@login_required
def pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    quote = _quote(request, pk)
    response = HttpResponse(render_quote_pdf(quote, get_language()), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{quote.number}.pdf"'
    return response
