"""Writes for the product catalogue and commercial proposals (quotes).

Every change to a quote's lines goes through `_quote_totals_refresh`, the one function
that recomputes line and quote amounts (rounding rule in `crm.catalog.totals`). Only
draft quotes can be edited; a quote is locked (`SELECT ... FOR UPDATE`) for the length
of each edit, so concurrent edits of one quote queue up instead of losing lines or
totals.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from crm import access
from crm.access import Action
from crm.activities.models import ActivityKind
from crm.activities.services import activity_log
from crm.catalog.models import Product, Quote, QuoteLine, QuoteNumberCounter, QuoteStatus, Unit
from crm.catalog.totals import CENT, line_amounts, quote_amounts
from crm.catalog.workspace_time import workspace_today
from crm.errors import Conflict, DomainError, RecordNotFound
from crm.history.services import changes_between, field_changes_record, record_save_with_history
from crm.selectors import workspace_settings
from crm.validation import FieldErrors, clean_currency

if TYPE_CHECKING:
    from crm.clients.models import Company, Contact
    from crm.deals.models import Deal


class _Keep(Enum):
    """Marks an optional argument the caller left out, where None is a meaningful value."""

    KEEP = "keep"


KEEP = _Keep.KEEP

# Largest values the DecimalFields hold: price (14, 2), quantity (12, 3), amounts (16, 2).
MAX_PRICE = Decimal("999999999999.99")
MAX_QUANTITY = Decimal("999999999.999")
MAX_AMOUNT = Decimal("99999999999999.99")
QUANTITY_STEP = Decimal("0.001")
PERCENT_STEP = Decimal("0.01")

NUMBER_PREFIX = "Q"


# --- input cleaning -------------------------------------------------------------------


def _clean_decimal(
    value: Any,
    *,
    field: str,
    errors: FieldErrors,
    step: Decimal,
    minimum: Decimal,
    maximum: Decimal,
    minimum_inclusive: bool = True,
) -> Decimal | None:
    """`value` as a Decimal with at most the places of `step`, within bounds; None after a field error."""
    if isinstance(value, float):
        value = str(value)  # the shortest repr, not the binary expansion of the float
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        errors.add(field, _("Enter a number."), "invalid")
        return None
    if not number.is_finite():
        errors.add(field, _("Enter a number."), "invalid")
        return None
    # Bounds first: quantizing 1E+30 would overflow the decimal context instead of saying "too large".
    too_small = number < minimum if minimum_inclusive else number <= minimum
    if too_small:
        if minimum_inclusive:
            message = _("Enter a value of at least %(minimum)s.") % {"minimum": minimum}
        else:
            message = _("Enter a value greater than %(minimum)s.") % {"minimum": minimum}
        errors.add(field, message, "min_value")
        return None
    if number > maximum:
        errors.add(field, _("Enter a value of at most %(maximum)s.") % {"maximum": maximum}, "max_value")
        return None
    if number != number.quantize(step):
        places = -step.as_tuple().exponent
        errors.add(field, _("Use at most %(places)d decimal places.") % {"places": places}, "max_decimal_places")
        return None
    return number.quantize(step)


def _clean_price(value: Any, *, field: str, errors: FieldErrors) -> Decimal | None:
    return _clean_decimal(value, field=field, errors=errors, step=CENT, minimum=Decimal(0), maximum=MAX_PRICE)


def _clean_percent(value: Any, *, field: str, errors: FieldErrors) -> Decimal | None:
    return _clean_decimal(
        value, field=field, errors=errors, step=PERCENT_STEP, minimum=Decimal(0), maximum=Decimal(100)
    )


def _clean_quantity(value: Any, *, errors: FieldErrors) -> Decimal | None:
    return _clean_decimal(
        value,
        field="quantity",
        errors=errors,
        step=QUANTITY_STEP,
        minimum=Decimal(0),
        maximum=MAX_QUANTITY,
        minimum_inclusive=False,
    )


def _clean_unit(value: str, *, errors: FieldErrors) -> str:
    if value not in Unit.values:
        errors.add("unit", _("Choose a unit from the list."), "invalid_choice")
    return value


def _clean_text(value: str, *, field: str, errors: FieldErrors, max_length: int, required_message: str) -> str:
    text = (value or "").strip()
    if not text:
        errors.add(field, required_message, "required")
    elif len(text) > max_length:
        errors.add(field, _("Keep it under %(limit)d characters.") % {"limit": max_length + 1}, "max_length")
    return text


# --- products -------------------------------------------------------------------------


def _sku_taken(sku: str, *, excluding: Product | None = None) -> bool:
    others = Product.objects.filter(sku__iexact=sku)
    if excluding is not None:
        others = others.exclude(pk=excluding.pk)
    return others.exists()


def _sku_taken_error() -> FieldErrors:
    errors = FieldErrors()
    errors.add("sku", _("Another product already has this SKU."), "sku_taken")
    return errors


def _product_save(product: Product, *, update_fields: list[str] | None = None) -> None:
    """Save, turning the unique-SKU race (two creates at once) into the same field error as the check."""
    try:
        with transaction.atomic():
            product.save(update_fields=update_fields)
    except IntegrityError as error:
        if "product_sku_ci_unique" not in str(error):
            raise
        _sku_taken_error().raise_if_any()


@transaction.atomic
def product_create(
    *,
    actor: User | None,
    sku: str,
    name: str,
    price: Decimal | str | int,
    currency: str | None = None,
    unit: str = Unit.PIECE,
    tax_rate: Decimal | str | int = Decimal(0),
    description: str = "",
    is_active: bool = True,
) -> Product:
    """Add a product to the catalogue.

    Guarantees: the SKU is unique among live products whatever the case (`sku_taken`),
    price >= 0 with cents, an ISO 4217 currency (default: the workspace's base currency),
    tax rate 0..100. Raises ValidationError with every field problem at once.
    """
    access.require(actor=actor, action=Action.CREATE, model=Product)
    errors = FieldErrors()
    sku = _clean_text(sku, field="sku", errors=errors, max_length=64, required_message=_("Enter the SKU."))
    name = _clean_text(
        name, field="name", errors=errors, max_length=200, required_message=_("Enter the product's name.")
    )
    clean_price = _clean_price(price, field="price", errors=errors)
    currency = clean_currency(currency or workspace_settings().base_currency, field="currency", errors=errors)
    unit = _clean_unit(unit, errors=errors)
    clean_tax_rate = _clean_percent(tax_rate, field="tax_rate", errors=errors)
    if sku and _sku_taken(sku):
        errors.add("sku", _("Another product already has this SKU."), "sku_taken")
    errors.raise_if_any()
    product = Product(
        sku=sku,
        name=name,
        description=description.strip(),
        unit=unit,
        price=clean_price,
        currency=currency,
        tax_rate=clean_tax_rate,
        is_active=is_active,
    )
    _product_save(product)
    return product


@transaction.atomic
def product_update(
    *,
    actor: User | None,
    product: Product,
    sku: str | None = None,
    name: str | None = None,
    price: Decimal | str | int | None = None,
    currency: str | None = None,
    unit: str | None = None,
    tax_rate: Decimal | str | int | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> Product:
    """Change the given fields of a product (None leaves a field as it is); same rules as creation.

    Lines already on quotes keep what they copied: a new price applies to new lines only.
    """
    access.require(actor=actor, action=Action.EDIT, record=product)
    product = _locked_product(actor=actor, product_id=product.pk)
    errors = FieldErrors()
    changes: dict[str, Any] = {}
    if sku is not None:
        changes["sku"] = _clean_text(
            sku, field="sku", errors=errors, max_length=64, required_message=_("Enter the SKU.")
        )
        if changes["sku"] and _sku_taken(changes["sku"], excluding=product):
            errors.add("sku", _("Another product already has this SKU."), "sku_taken")
    if name is not None:
        changes["name"] = _clean_text(
            name, field="name", errors=errors, max_length=200, required_message=_("Enter the product's name.")
        )
    if price is not None:
        changes["price"] = _clean_price(price, field="price", errors=errors)
    if currency is not None:
        changes["currency"] = clean_currency(currency, field="currency", errors=errors)
    if unit is not None:
        changes["unit"] = _clean_unit(unit, errors=errors)
    if tax_rate is not None:
        changes["tax_rate"] = _clean_percent(tax_rate, field="tax_rate", errors=errors)
    if description is not None:
        changes["description"] = description.strip()
    if is_active is not None:
        changes["is_active"] = is_active
    errors.raise_if_any()
    history = changes_between(product, changes)
    for field, value in changes.items():
        setattr(product, field, value)
    _product_save(product, update_fields=[*changes, "updated_at"])
    field_changes_record(record=product, changes=history, actor=actor)
    return product


def product_values_clean(given: dict[str, Any], *, errors: FieldErrors) -> dict[str, Any]:
    """The cleaning product_create applies to the fields in `given` (sku, name, price,
    currency, unit, tax_rate, description), with the same messages and codes, for
    writers of many products at once. SKU uniqueness is the caller's to check."""
    cleaned: dict[str, Any] = {}
    for field, value in given.items():
        if field == "sku":
            cleaned[field] = _clean_text(
                value, field="sku", errors=errors, max_length=64, required_message=_("Enter the SKU.")
            )
        elif field == "name":
            cleaned[field] = _clean_text(
                value, field="name", errors=errors, max_length=200, required_message=_("Enter the product's name.")
            )
        elif field == "price":
            cleaned[field] = _clean_price(value, field="price", errors=errors)
        elif field == "currency":
            cleaned[field] = clean_currency(
                value or workspace_settings().base_currency, field="currency", errors=errors
            )
        elif field == "unit":
            cleaned[field] = _clean_unit(value or Unit.PIECE, errors=errors)
        elif field == "tax_rate":
            cleaned[field] = _clean_percent(value, field="tax_rate", errors=errors)
        elif field == "description":
            cleaned[field] = (value or "").strip()
        else:
            cleaned[field] = value
    return cleaned


@transaction.atomic
def products_import_batch(
    *,
    actor: User | None,
    creates: Sequence[dict[str, Any]],
    updates: Sequence[tuple[Product, dict[str, Any]]],
) -> list[int]:
    """Create and update many products at once (the import job's writer), values cleaned
    by `product_values_clean`. One INSERT and one UPDATE per batch; a SKU another live
    product took meanwhile fails the batch with IntegrityError (the caller retries row by
    row). Returns the created products. Products keep no field history."""
    access.require(actor=actor, action=Action.CREATE, model=Product)
    created = Product.objects.bulk_create([Product(**values) for values in creates], batch_size=1000)
    if updates:
        now = timezone.now()
        fields: set[str] = {"updated_at"}
        for product, values in updates:
            for field, value in values.items():
                setattr(product, field, value)
                fields.add(field)
            product.updated_at = now
        Product.objects.bulk_update([product for product, _values in updates], sorted(fields), batch_size=1000)
    return created


@transaction.atomic
def product_deactivate(*, actor: User | None, product: Product) -> Product:
    """Take a product off sale: it leaves the default product list and cannot be added to quotes.

    Quotes that already have it keep their lines. Deactivating twice changes nothing.
    """
    return product_update(actor=actor, product=product, is_active=False)


def _locked_product(*, actor: User | None, product_id: int) -> Product:
    product = (
        access.visible(Product.objects.all(), actor=actor, action=Action.EDIT)
        .select_for_update()
        .filter(pk=product_id)
        .first()
    )
    if product is None:
        raise RecordNotFound(_("This product does not exist or was moved to the trash."))
    return product


# --- quotes: numbering, locking, totals -----------------------------------------------


def _quote_number_next() -> str:
    """The next number of this workspace's current year, e.g. `Q-2026-0001`.

    The upsert locks the year's counter row until the caller's transaction ends, so
    concurrent creates are serialised and never share a number; a rolled-back create
    gives its number back.
    """
    year = workspace_today().year
    table = connection.ops.quote_name(QuoteNumberCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (year, last_number, created_at, updated_at)
            VALUES (%s, 1, now(), now())
            ON CONFLICT (year) DO UPDATE
                SET last_number = {table}.last_number + 1, updated_at = now()
            RETURNING last_number
            """,  # noqa: S608 - the table name is our own model's, never user input
            [year],
        )
        (sequence,) = cursor.fetchone()
    return f"{NUMBER_PREFIX}-{year}-{sequence:04d}"


def _locked_quote(*, actor: User | None, quote_id: int) -> Quote:
    """The quote, row-locked for this transaction, if `actor` may edit it; else RecordNotFound."""
    quote = (
        access.visible(Quote.objects.all(), actor=actor, action=Action.EDIT)
        .select_for_update()
        .filter(pk=quote_id)
        .first()
    )
    if quote is None:
        raise RecordNotFound(_("This proposal does not exist or was moved to the trash."))
    return quote


def _require_draft(quote: Quote) -> None:
    if quote.status != QuoteStatus.DRAFT:
        raise Conflict(
            _("Proposal %(number)s was already sent; duplicate it to make changes.") % {"number": quote.number},
            code="quote_not_draft",
        )


def _locked_draft(*, actor: User | None, quote_id: int) -> Quote:
    access.require(actor=actor, action=Action.EDIT)
    quote = _locked_quote(actor=actor, quote_id=quote_id)
    access.require(actor=actor, action=Action.EDIT, record=quote)
    _require_draft(quote)
    return quote


def _quote_totals_refresh(quote: Quote, *, actor: User | None) -> Quote:
    """Recompute every line's amounts and the quote's totals from quantity, price, discount and tax.

    The only place totals are written. Rounding: per line, to cents half up, then the
    rounded line amounts are summed (see `crm.catalog.totals`). Refuses totals too large
    to store (field `lines`, code `total_too_large`).
    """
    lines = list(QuoteLine.objects.filter(quote=quote).order_by("position", "id"))
    changed: list[QuoteLine] = []
    amounts = []
    for line in lines:
        amount = line_amounts(
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
            tax_rate=line.tax_rate,
        )
        amounts.append(amount)
        stored = (line.net_amount, line.tax_amount, line.total_amount)
        if stored != (amount.net, amount.tax, amount.total):
            line.net_amount, line.tax_amount, line.total_amount = amount.net, amount.tax, amount.total
            line.updated_at = timezone.now()  # bulk_update does not apply auto_now
            changed.append(line)
    totals = quote_amounts(amounts)
    if max(totals.subtotal, totals.total) > MAX_AMOUNT:
        errors = FieldErrors()
        errors.add("lines", _("The proposal's total is too large."), "total_too_large")
        errors.raise_if_any()
    if changed:
        QuoteLine.objects.bulk_update(changed, ["net_amount", "tax_amount", "total_amount", "updated_at"])
    quote.subtotal = totals.subtotal
    quote.discount_total = totals.discount_total
    quote.tax_total = totals.tax_total
    quote.total = totals.total
    quote.updated_by = actor
    quote.save(update_fields=["subtotal", "discount_total", "tax_total", "total", "updated_by", "updated_at"])
    return quote


def _check_link(record: Any, *, actor: User | None, field: str, errors: FieldErrors) -> None:
    """A quote may point only at live records the actor may see (trashed ones are refused)."""
    if record is None:
        return
    access.require(actor=actor, action=Action.VIEW, record=record)
    if record.deleted_at is not None:
        errors.add(field, _("This record was moved to the trash."), "trashed")


def _check_valid_until(valid_until: date | None, *, errors: FieldErrors) -> None:
    if valid_until is not None and valid_until < workspace_today():
        errors.add("valid_until", _("The validity date is in the past."), "in_past")


# --- quotes ---------------------------------------------------------------------------


@transaction.atomic
def quote_create(
    *,
    actor: User | None,
    title: str,
    currency: str | None = None,
    deal: Deal | None = None,
    contact: Contact | None = None,
    company: Company | None = None,
    valid_until: date | None = None,
    notes: str = "",
    owner: User | None = None,
) -> Quote:
    """Create a draft proposal with the next number of the year (`Q-2026-0001`), unique in the workspace.

    Contact and company default to the deal's, the company to the contact's; the
    currency defaults to the deal's, else the workspace's base currency. Numbers are
    sequential per year and safe under concurrent creates (see `_quote_number_next`).
    Raises ValidationError per field.
    """
    access.require(actor=actor, action=Action.CREATE, model=Quote)
    errors = FieldErrors()
    title = _clean_text(
        title, field="title", errors=errors, max_length=200, required_message=_("Give the proposal a title.")
    )
    for field, record in (("deal", deal), ("contact", contact), ("company", company)):
        _check_link(record, actor=actor, field=field, errors=errors)
    if deal is not None:
        contact = contact or deal.contact
        company = company or deal.company
    if contact is not None and company is None:
        company = contact.company
    default_currency = deal.currency if deal is not None else workspace_settings().base_currency
    currency = clean_currency(currency or default_currency, field="currency", errors=errors)
    _check_valid_until(valid_until, errors=errors)
    errors.raise_if_any()
    return Quote.objects.create(
        number=_quote_number_next(),
        title=title,
        currency=currency,
        deal=deal,
        contact=contact,
        company=company,
        valid_until=valid_until,
        notes=notes.strip(),
        owner=owner if owner is not None else actor,
        created_by=actor,
        updated_by=actor,
    )


@transaction.atomic
def quote_update(
    *,
    actor: User | None,
    quote: Quote,
    title: str | None = None,
    currency: str | None = None,
    valid_until: date | Literal[_Keep.KEEP] | None = KEEP,
    notes: str | None = None,
    deal: Deal | Literal[_Keep.KEEP] | None = KEEP,
    contact: Contact | Literal[_Keep.KEEP] | None = KEEP,
    company: Company | Literal[_Keep.KEEP] | None = KEEP,
) -> Quote:
    """Change a draft's header (arguments left out stay as they are; None clears a link or date).

    The currency can change only while the quote has no lines (`currency_locked`),
    since line prices are in the old currency. Refuses non-drafts (`quote_not_draft`).
    """
    quote = _locked_draft(actor=actor, quote_id=quote.pk)
    errors = FieldErrors()
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = _clean_text(
            title, field="title", errors=errors, max_length=200, required_message=_("Give the proposal a title.")
        )
    if currency is not None:
        changes["currency"] = clean_currency(currency, field="currency", errors=errors)
        if changes["currency"] != quote.currency and quote.lines.exists():
            errors.add(
                "currency",
                _("Remove the lines before changing the currency: their prices are in %(currency)s.")
                % {"currency": quote.currency},
                "currency_locked",
            )
    if valid_until is not KEEP:
        _check_valid_until(valid_until, errors=errors)
        changes["valid_until"] = valid_until
    if notes is not None:
        changes["notes"] = notes.strip()
    for field, record in (("deal", deal), ("contact", contact), ("company", company)):
        if record is not KEEP:
            _check_link(record, actor=actor, field=field, errors=errors)
            changes[field] = record
    errors.raise_if_any()
    record_save_with_history(quote, changes, actor=actor)
    return quote


@transaction.atomic
def quote_line_add(
    *,
    actor: User | None,
    quote: Quote,
    product: Product | None = None,
    name: str | None = None,
    quantity: Decimal | str | int,
    unit_price: Decimal | str | int | None = None,
    discount_percent: Decimal | str | int = Decimal(0),
    tax_rate: Decimal | str | int | None = None,
    unit: str | None = None,
    description: str | None = None,
) -> QuoteLine:
    """Append a line to a draft quote and recompute its totals; returns the line (`line.quote` is fresh).

    From a product, the line copies its name, description, unit, price and tax rate
    (each can be overridden). A product priced in another currency than the quote is
    refused (`product`: `currency_mismatch`) unless `unit_price` is given, and so is a
    product that is off sale (`inactive`). Without a product, name and unit price are
    required. Refuses non-drafts (`quote_not_draft`).

    Amounts are rounded per line (net, then tax, to cents half up) and the quote's
    totals are the sums of the rounded lines; see `crm.catalog.totals`.
    """
    quote = _locked_draft(actor=actor, quote_id=quote.pk)
    errors = FieldErrors()
    if product is not None:
        if product.is_trashed or not product.is_active:
            errors.add("product", _("This product is not on sale any more."), "inactive")
        elif product.currency != quote.currency and unit_price is None:
            errors.add(
                "product",
                _(
                    "%(product)s is priced in %(product_currency)s but the proposal is in %(quote_currency)s; "
                    "enter a price in %(quote_currency)s."
                )
                % {"product": product.name, "product_currency": product.currency, "quote_currency": quote.currency},
                "currency_mismatch",
            )
    if name is None and product is not None:
        name = product.name
    clean_name = _clean_text(
        name or "", field="name", errors=errors, max_length=200, required_message=_("Name the item.")
    )
    clean_quantity = _clean_quantity(quantity, errors=errors)
    if unit_price is None:
        if product is None:
            errors.add("unit_price", _("Enter the unit price."), "required")
            clean_price = None
        else:
            clean_price = product.price
    else:
        clean_price = _clean_price(unit_price, field="unit_price", errors=errors)
    clean_discount = _clean_percent(discount_percent, field="discount_percent", errors=errors)
    if tax_rate is None:
        clean_tax = product.tax_rate if product is not None else Decimal(0)
    else:
        clean_tax = _clean_percent(tax_rate, field="tax_rate", errors=errors)
    clean_unit = _clean_unit(unit or (product.unit if product is not None else Unit.PIECE), errors=errors)
    if description is None:
        description = product.description if product is not None else ""
    errors.raise_if_any()
    _check_line_fits(quantity=clean_quantity, unit_price=clean_price)
    position = (quote.lines.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    amounts = line_amounts(
        quantity=clean_quantity, unit_price=clean_price, discount_percent=clean_discount, tax_rate=clean_tax
    )
    line = QuoteLine.objects.create(
        quote=quote,
        product=product,
        position=position,
        name=clean_name,
        description=description.strip(),
        unit=clean_unit,
        quantity=clean_quantity,
        unit_price=clean_price,
        discount_percent=clean_discount,
        tax_rate=clean_tax,
        net_amount=amounts.net,
        tax_amount=amounts.tax,
        total_amount=amounts.total,
    )
    line.quote = _quote_totals_refresh(quote, actor=actor)
    return line


def _check_line_fits(*, quantity: Decimal, unit_price: Decimal) -> None:
    if quantity * unit_price > MAX_AMOUNT:
        errors = FieldErrors()
        errors.add("quantity", _("The line's amount is too large."), "amount_too_large")
        errors.raise_if_any()


def _line_of(quote: Quote, line: QuoteLine) -> QuoteLine:
    found = QuoteLine.objects.filter(pk=line.pk, quote=quote).first()
    if found is None:
        raise RecordNotFound(_("This line is no longer on the proposal."))
    return found


@transaction.atomic
def quote_line_update(
    *,
    actor: User | None,
    line: QuoteLine,
    name: str | None = None,
    description: str | None = None,
    quantity: Decimal | str | int | None = None,
    unit_price: Decimal | str | int | None = None,
    discount_percent: Decimal | str | int | None = None,
    tax_rate: Decimal | str | int | None = None,
    unit: str | None = None,
) -> QuoteLine:
    """Change the given fields of a line of a draft quote (None keeps a field) and recompute totals.

    Returns the line; `line.quote` carries the new totals. Refuses non-drafts (`quote_not_draft`).
    """
    quote = _locked_draft(actor=actor, quote_id=line.quote_id)
    line = _line_of(quote, line)
    errors = FieldErrors()
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = _clean_text(
            name, field="name", errors=errors, max_length=200, required_message=_("Name the item.")
        )
    if description is not None:
        changes["description"] = description.strip()
    if quantity is not None:
        changes["quantity"] = _clean_quantity(quantity, errors=errors)
    if unit_price is not None:
        changes["unit_price"] = _clean_price(unit_price, field="unit_price", errors=errors)
    if discount_percent is not None:
        changes["discount_percent"] = _clean_percent(discount_percent, field="discount_percent", errors=errors)
    if tax_rate is not None:
        changes["tax_rate"] = _clean_percent(tax_rate, field="tax_rate", errors=errors)
    if unit is not None:
        changes["unit"] = _clean_unit(unit, errors=errors)
    errors.raise_if_any()
    for field, value in changes.items():
        setattr(line, field, value)
    _check_line_fits(quantity=line.quantity, unit_price=line.unit_price)
    line.save(update_fields=[*changes, "updated_at"])
    quote = _quote_totals_refresh(quote, actor=actor)
    line.refresh_from_db(fields=["net_amount", "tax_amount", "total_amount"])
    line.quote = quote
    return line


@transaction.atomic
def quote_line_remove(*, actor: User | None, line: QuoteLine) -> Quote:
    """Remove a line from a draft quote; the remaining lines are renumbered 1..n and totals recomputed."""
    quote = _locked_draft(actor=actor, quote_id=line.quote_id)
    _line_of(quote, line).delete()
    _positions_renumber(quote, list(quote.lines.order_by("position", "id").values_list("pk", flat=True)))
    return _quote_totals_refresh(quote, actor=actor)


@transaction.atomic
def quote_lines_reorder(*, actor: User | None, quote: Quote, line_ids: Sequence[int]) -> Quote:
    """Put a draft quote's lines in the order of `line_ids`, which must name each of its lines once.

    Otherwise raises ValidationError (`line_ids`: `invalid`). Totals do not depend on order.
    """
    quote = _locked_draft(actor=actor, quote_id=quote.pk)
    current = set(quote.lines.values_list("pk", flat=True))
    try:
        wanted = [int(pk) for pk in line_ids]
    except (TypeError, ValueError):
        wanted = []
    if len(wanted) != len(current) or set(wanted) != current:
        errors = FieldErrors()
        errors.add("line_ids", _("List every line of the proposal exactly once."), "invalid")
        errors.raise_if_any()
    _positions_renumber(quote, wanted)
    quote.updated_by = actor
    quote.save(update_fields=["updated_by", "updated_at"])
    return quote


def _positions_renumber(quote: Quote, ordered_ids: list[int]) -> None:
    lines = {line.pk: line for line in QuoteLine.objects.filter(quote=quote)}
    changed = []
    for position, pk in enumerate(ordered_ids, start=1):
        line = lines[pk]
        if line.position != position:
            line.position = position
            line.updated_at = timezone.now()  # bulk_update does not apply auto_now
            changed.append(line)
    if changed:
        QuoteLine.objects.bulk_update(changed, ["position", "updated_at"])


@transaction.atomic
def quote_mark_sent(*, actor: User | None, quote: Quote) -> Quote:
    """Record that a draft was sent to the customer: status `sent`, `sent_at`, and a `quote_sent`
    activity on the timelines of the quote's deal, contact and company.

    Refuses non-drafts (`quote_not_draft`), quotes without lines (`quote_empty`) and
    quotes whose validity date has passed (`valid_until`: `in_past`).
    """
    quote = _locked_draft(actor=actor, quote_id=quote.pk)
    if not quote.lines.exists():
        raise DomainError(_("Add at least one line before sending the proposal."), code="quote_empty")
    errors = FieldErrors()
    _check_valid_until(quote.valid_until, errors=errors)
    errors.raise_if_any()
    now = timezone.now()
    quote.sent_at = now
    record_save_with_history(quote, {"status": QuoteStatus.SENT}, actor=actor, also_save=("sent_at",), at=now)
    activity_log(
        actor=actor,
        kind=ActivityKind.QUOTE_SENT,
        subject=_("Proposal %(number)s sent: %(title)s") % {"number": quote.number, "title": quote.title},
        body=_("Total %(total)s %(currency)s") % {"total": quote.total, "currency": quote.currency},
        occurred_at=now,
        deal=quote.deal,
        contact=quote.contact,
        company=quote.company,
        quote=quote,
    )
    return quote


def _decide(*, actor: User | None, quote: Quote, status: QuoteStatus) -> Quote:
    quote = _locked_quote(actor=actor, quote_id=quote.pk)
    access.require(actor=actor, action=Action.EDIT, record=quote)
    if quote.status != QuoteStatus.SENT:
        raise Conflict(
            _("Only a sent proposal can be accepted or rejected; %(number)s is %(status)s.")
            % {"number": quote.number, "status": quote.get_status_display()},
            code="quote_not_sent",
        )
    quote.decided_at = timezone.now()
    record_save_with_history(quote, {"status": status}, actor=actor, also_save=("decided_at",))
    return quote


@transaction.atomic
def quote_accept(*, actor: User | None, quote: Quote) -> Quote:
    """Mark a sent quote accepted by the customer (`decided_at` set); others raise `quote_not_sent`."""
    return _decide(actor=actor, quote=quote, status=QuoteStatus.ACCEPTED)


@transaction.atomic
def quote_reject(*, actor: User | None, quote: Quote) -> Quote:
    """Mark a sent quote rejected by the customer (`decided_at` set); others raise `quote_not_sent`."""
    return _decide(actor=actor, quote=quote, status=QuoteStatus.REJECTED)


@transaction.atomic
def quote_duplicate(*, actor: User | None, quote: Quote) -> Quote:
    """A new draft copying a quote's header and lines, with the next number; the original is untouched.

    A validity date that has passed is dropped. Works from any status: this is how a
    sent proposal is revised.
    """
    access.require(actor=actor, action=Action.CREATE, model=Quote)
    source = access.visible(Quote.objects.all(), actor=actor).filter(pk=quote.pk).first()
    if source is None:
        raise RecordNotFound(_("This proposal does not exist or was moved to the trash."))
    valid_until = source.valid_until
    if valid_until is not None and valid_until < workspace_today():
        valid_until = None
    copy = Quote.objects.create(
        number=_quote_number_next(),
        title=source.title,
        currency=source.currency,
        deal_id=source.deal_id,
        contact_id=source.contact_id,
        company_id=source.company_id,
        valid_until=valid_until,
        notes=source.notes,
        owner=actor if actor is not None else source.owner,
        created_by=actor,
        updated_by=actor,
    )
    QuoteLine.objects.bulk_create(
        QuoteLine(
            quote=copy,
            product_id=line.product_id,
            position=position,
            name=line.name,
            description=line.description,
            unit=line.unit,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
            tax_rate=line.tax_rate,
            net_amount=line.net_amount,
            tax_amount=line.tax_amount,
            total_amount=line.total_amount,
        )
        for position, line in enumerate(source.lines.order_by("position", "id"), start=1)
    )
    return _quote_totals_refresh(copy, actor=actor)
