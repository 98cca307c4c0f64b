"""What importing means for each record type: reading a row into field values, cleaning
them exactly as the sub-app's services do, the keys that find duplicates, what an update
changes, and which bulk service writes the batch.

References are looked up once per batch, never per row: companies by name, contacts by
email (deals), duplicates by each key with one indexed query (`&&` on the GIN-indexed
email and phone arrays, `lower(name)` on the name index, `lower(sku)`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from accounts.models import User
from crm.bulk_writes import BulkOutcome
from crm.catalog.models import Product, Unit
from crm.catalog.services import product_values_clean, products_import_batch
from crm.clients.models import Company, Contact
from crm.clients.services import (
    client_values_clean,
    companies_import_batch,
    contact_full_name,
    contacts_import_batch,
)
from crm.custom_fields.models import CustomField, FieldKind
from crm.custom_fields.values import values_clean
from crm.deals.models import Deal, Pipeline, Stage
from crm.deals.services import deals_import_batch
from crm.history.services import changes_between
from crm.imports.countries import country_code
from crm.imports.mapping import (
    CellProblem,
    Target,
    cell_date,
    cell_decimal,
    split_full_name,
    split_list,
    split_phones,
    split_tags,
    targets_for,
)
from crm.leads.models import Lead, LeadStatus
from crm.leads.services import lead_values_clean, leads_import_batch
from crm.models import ExchangeRate
from crm.phones import phone_normalize
from crm.validation import CURRENCIES, FieldErrors

MATCH_KEYS: dict[str, tuple[str, ...]] = {
    "contact": ("email", "phone"),
    "company": ("name", "email", "phone"),
    "lead": ("email", "phone", "name"),
    "deal": (),
    "product": ("sku",),
}
DEFAULT_MATCH: dict[str, list[str]] = {
    "contact": ["email", "phone"],
    "company": ["name"],
    "lead": ["email", "phone"],
    "deal": [],
    "product": ["sku"],
}
MODELS: dict[str, type[Model]] = {
    "contact": Contact,
    "company": Company,
    "lead": Lead,
    "deal": Deal,
    "product": Product,
}


@dataclass
class Context:
    """What a run knows once: the people, pipelines, custom fields, options."""

    entity: str
    actor: User | None
    region: str
    date_order: str
    default_owner: User | None
    create_companies: bool
    pipeline: Pipeline | None
    base_currency: str
    custom_fields: list[CustomField]
    users_by_email: dict[str, User] = field(default_factory=dict)
    users_by_name: dict[str, User] = field(default_factory=dict)
    pipelines_by_name: dict[str, Pipeline] = field(default_factory=dict)
    stages: dict[int, list[Stage]] = field(default_factory=dict)
    rates: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def build(cls, *, entity: str, actor: User | None, options: Mapping[str, Any], workspace, custom_fields) -> Context:
        owner = None
        if options.get("default_owner"):
            owner = User.objects.filter(pk=options["default_owner"], is_active=True).first()
        pipeline = None
        if options.get("pipeline"):
            pipeline = Pipeline.objects.filter(pk=options["pipeline"]).first()
        context = cls(
            entity=entity,
            actor=actor,
            region=options.get("phone_region") or workspace.default_phone_region,
            date_order=options.get("date_order") or "auto",
            default_owner=owner,
            create_companies=bool(options.get("create_companies", True)),
            pipeline=pipeline or Pipeline.objects.filter(is_default=True).first(),
            base_currency=workspace.base_currency,
            custom_fields=list(custom_fields),
        )
        for user in User.objects.filter(is_active=True, is_integration=False):
            context.users_by_email[user.email.casefold()] = user
            if user.full_name:
                context.users_by_name.setdefault(user.full_name.casefold(), user)
        if entity == "deal":
            for pipeline in Pipeline.objects.all():
                context.pipelines_by_name.setdefault(pipeline.name.casefold(), pipeline)
            for stage in Stage.objects.order_by("pipeline_id", "position"):
                context.stages.setdefault(stage.pipeline_id, []).append(stage)
        return context

    def rate_known(self, currency: str) -> bool:
        if currency == self.base_currency:
            return True
        if currency not in self.rates:
            self.rates[currency] = ExchangeRate.objects.filter(currency=currency).exists()
        return self.rates[currency]


@dataclass
class Problem:
    column: str
    message: str
    code: str


@dataclass
class PreparedRow:
    """A row read and cleaned, ready for its batch: model values, references still by name."""

    number: int
    cells: list[str]
    values: dict[str, Any] = field(default_factory=dict)
    company_name: str = ""  # resolved per batch (contacts, deals)
    contact_email: str = ""  # resolved per batch (deals)
    problems: list[Problem] = field(default_factory=list)

    def missing_required(self, context: Context) -> list[CustomField]:
        """Required custom fields this row leaves empty (refused when it creates a record)."""
        given = self.values.get("custom_fields") or {}
        return [field_ for field_ in context.custom_fields if field_.required and field_.key not in given]

    def keys(self, entity: str, wanted: Sequence[str]) -> list[tuple[str, str]]:
        """(key, value) pairs that identify this row's record, in the order of `wanted`."""
        values = self.values
        found: list[tuple[str, str]] = []
        for key in wanted:
            if key == "email":
                emails = values.get("emails") if entity in ("contact", "company") else [values.get("email", "")]
                found.extend(("email", email) for email in emails or [] if email)
            elif key == "phone":
                phones = values.get("phones") if entity in ("contact", "company") else [values.get("phone", "")]
                found.extend(("phone", phone) for phone in phones or [] if phone)
            elif key == "name" and values.get("name"):
                found.append(("name", values["name"].casefold()))
            elif key == "sku" and values.get("sku"):
                found.append(("sku", values["sku"].casefold()))
        return found


# --- reading a row ----------------------------------------------------------------------------


def _texts(cells: Sequence[str], entries: Sequence[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], str]]:
    found = []
    for entry in entries:
        column = entry["column"]
        text = cells[column].strip() if column < len(cells) and cells[column] else ""
        if text:
            found.append((entry, text))
    return found


def _owner(text: str, context: Context) -> User:
    user = context.users_by_email.get(text.casefold()) or context.users_by_name.get(text.casefold())
    if user is None:
        raise CellProblem(
            _("No active user is called or has the email “%(value)s”.") % {"value": text[:80]}, "unknown_owner"
        )
    return user


def _status(text: str) -> str:
    folded = text.casefold()
    for value, label in LeadStatus.choices:
        if folded in (value, str(label).casefold()):
            return value
    listed = ", ".join(str(label) for value, label in LeadStatus.choices if value != LeadStatus.CONVERTED)
    raise CellProblem(
        _("“%(value)s” is not a lead status (%(listed)s).") % {"value": text[:40], "listed": listed}, "invalid_choice"
    )


def _unit(text: str) -> str:
    folded = text.casefold()
    for value, label in Unit.choices:
        if folded in (value, str(label).casefold()):
            return value
    raise CellProblem(_("“%(value)s” is not a unit of the catalogue.") % {"value": text[:40]}, "invalid_choice")


def _stage(text: str, pipeline: Pipeline | None, context: Context) -> Stage:
    if pipeline is None:
        raise CellProblem(_("Create a pipeline first."), "no_pipeline")
    for stage in context.stages.get(pipeline.pk, []):
        if stage.name.casefold() == text.casefold() and stage.deleted_at is None:
            return stage
    names = ", ".join(stage.name for stage in context.stages.get(pipeline.pk, []) if stage.deleted_at is None)
    raise CellProblem(
        _("The pipeline “%(pipeline)s” has no stage “%(stage)s” (stages: %(names)s).")
        % {"pipeline": pipeline.name, "stage": text[:60], "names": names},
        "unknown_stage",
    )


def read_row(
    *, number: int, cells: list[str], mapping: Sequence[Mapping[str, Any]], targets: Mapping[str, Target], context
) -> PreparedRow:
    """Cells → the values the services take, with each cell's problem on its column."""
    row = PreparedRow(number=number, cells=cells)
    by_target: dict[str, list[Mapping[str, Any]]] = {}
    for entry in mapping:
        if entry.get("target"):
            by_target.setdefault(entry["target"], []).append(entry)
    given: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    pipeline = context.pipeline
    stage_text: tuple[str, str] | None = None
    for key, entries in by_target.items():
        target = targets.get(key)
        if target is None:
            continue
        texts = _texts(cells, entries)
        if not texts:
            continue
        header = texts[0][0]["header"]
        try:
            if target.kind == "custom":
                field_ = target.custom
                if field_.kind == FieldKind.DATE:
                    order = texts[0][0].get("transform") or context.date_order
                    custom[field_.key] = cell_date(texts[0][1], order).isoformat()
                elif field_.kind == FieldKind.PHONE and texts[0][0].get("transform"):
                    custom[field_.key] = _phone(texts[0][1], texts[0][0]["transform"])
                elif field_.kind == FieldKind.MULTI_CHOICE:
                    custom[field_.key] = [part for _entry, text in texts for part in split_list(text)]
                else:
                    custom[field_.key] = texts[0][1]
            elif target.kind == "full_name":
                first, last = split_full_name(texts[0][1], texts[0][0].get("transform") or "first_last")
                given["first_name"], given["last_name"] = first, last
            elif target.kind == "list":
                given[key] = [part for _entry, text in texts for part in split_list(text)]
            elif target.kind == "phones":
                phones = []
                for entry, text in texts:
                    region = entry.get("transform") or ""
                    for part in split_phones(text):
                        phones.append(_phone(part, region) if region else part)
                given[key] = phones
            elif target.kind == "phone":
                region = texts[0][0].get("transform") or ""
                given[key] = _phone(texts[0][1], region) if region else texts[0][1]
            elif target.kind == "tags":
                given["tags"] = [part for _entry, text in texts for part in split_tags(text)]
            elif target.kind == "date":
                given[key] = cell_date(texts[0][1], texts[0][0].get("transform") or context.date_order)
            elif target.kind == "decimal":
                given[key] = cell_decimal(texts[0][1])
            elif target.kind == "owner":
                given["owner"] = _owner(texts[0][1], context)
            elif target.kind == "company":
                row.company_name = " ".join(texts[0][1].split())[:200]
            elif target.kind == "contact":
                row.contact_email = texts[0][1].strip().lower()
            elif target.kind == "pipeline":
                pipeline = context.pipelines_by_name.get(texts[0][1].casefold())
                if pipeline is None:
                    raise CellProblem(
                        _("There is no pipeline “%(value)s”.") % {"value": texts[0][1][:60]}, "unknown_pipeline"
                    )
            elif target.kind == "stage":
                stage_text = (header, texts[0][1])
            elif target.kind == "status":
                given["status"] = _status(texts[0][1])
            elif target.kind == "unit":
                given["unit"] = _unit(texts[0][1])
            elif target.kind == "country":
                code = country_code(texts[0][1])
                if code is None:
                    raise CellProblem(
                        _("“%(value)s” is not a country we know; use a two-letter code such as RU, ES or AE.")
                        % {"value": texts[0][1][:40]},
                        "invalid_country",
                    )
                given[key] = code
            else:
                given[key] = (target.joiner or " ").join(text for _entry, text in texts)
        except CellProblem as problem:
            row.problems.append(Problem(column=header, message=problem.message, code=problem.code))
    if context.entity == "deal":
        if stage_text is not None:
            try:
                given["stage"] = _stage(stage_text[1], pipeline, context)
            except CellProblem as problem:
                row.problems.append(Problem(column=stage_text[0], message=problem.message, code=problem.code))
        elif pipeline is not None:
            stages = [stage for stage in context.stages.get(pipeline.pk, []) if stage.deleted_at is None]
            if stages:
                given["stage"] = stages[0]
        if "stage" not in given and not row.problems:
            row.problems.append(Problem(column="", message=_("Create a pipeline first."), code="no_pipeline"))
    if custom:
        given["custom_fields"] = custom
    row.values = given
    _clean(row, context, header_of={key: entries[0]["header"] for key, entries in by_target.items()})
    return row


def _phone(text: str, region: str) -> str:
    try:
        return phone_normalize(text, region=region)
    except ValidationError as error:
        raise CellProblem(error.messages[0], "invalid_phone") from error


# --- cleaning, as the services do ------------------------------------------------------------


def _clean(row: PreparedRow, context: Context, *, header_of: Mapping[str, str]) -> None:
    if row.problems:
        return
    errors = FieldErrors()
    given = dict(row.values)
    custom = given.pop("custom_fields", None)
    entity = context.entity
    if entity in ("contact", "company"):
        model = Contact if entity == "contact" else Company
        if "owner" not in given and context.default_owner is not None:
            given["owner"] = context.default_owner
        cleaned = client_values_clean(model, given, errors=errors, region=context.region)
        if entity == "contact" and not contact_full_name(cleaned.get("first_name", ""), cleaned.get("last_name", "")):
            errors.add("last_name", _("Enter the contact's name."), "required")
        if entity == "company" and not cleaned.get("name"):
            errors.add("name", _("Enter the company's name."), "required")
    elif entity == "lead":
        if "owner" not in given and context.default_owner is not None:
            given["owner"] = context.default_owner
        given.setdefault("name", "")
        tags = given.pop("tags", None)
        cleaned = lead_values_clean(given, errors=errors, region=context.region)
        if tags:
            cleaned["tags"] = tags
    elif entity == "deal":
        if "owner" not in given and context.default_owner is not None:
            given["owner"] = context.default_owner
        cleaned = dict(given)
        title = " ".join(str(given.get("title", "")).split())
        if not title:
            errors.add("title", _("Give the deal a title."), "required")
        cleaned["title"] = title[:200]
        amount = given.get("amount")
        if amount is not None and (amount < 0 or amount > Decimal("999999999999.99")):
            errors.add("amount", _("The amount cannot be negative."), "invalid")
        currency = (given.get("currency") or context.base_currency).strip().upper()
        if currency not in CURRENCIES:
            errors.add("currency", _("Use a three-letter currency code such as USD, EUR or RUB."), "invalid_currency")
        elif not context.rate_known(currency):
            errors.add(
                "currency",
                _(
                    "There is no exchange rate from %(currency)s to %(base)s yet; "
                    "an administrator can add one in Settings."
                )
                % {"currency": currency, "base": context.base_currency},
                "missing_exchange_rate",
            )
        cleaned["currency"] = currency
        owner = given.get("owner")
        if owner is not None and not owner.is_active:
            errors.add("owner", _("This person's account is switched off."), "inactive")
    else:
        given.setdefault("currency", "")
        cleaned = product_values_clean(given, errors=errors)
        for required in ("sku", "name", "price"):
            if required not in given:
                product_values_clean({required: ""}, errors=errors)
    if custom is not None:
        # Required fields are checked when the row turns out to create a record (an
        # update keeps what the record has).
        cleaned["custom_fields"] = values_clean(
            fields=context.custom_fields,
            given=custom,
            creating=False,
            errors=errors,
            region=context.region,
            date_order=context.date_order,
        )
    for name, problems in errors.errors.items():
        column = header_of.get(name, "")
        if not column and entity == "contact" and name in ("first_name", "last_name"):
            column = header_of.get("full_name") or header_of.get("first_name") or header_of.get("last_name", "")
        if not column and entity == "lead" and name == "name":
            column = header_of.get("email") or header_of.get("phone", "")
        for problem in problems:
            row.problems.append(Problem(column=column, message=problem.messages[0], code=problem.code or "invalid"))
    row.values = cleaned


# --- duplicates and references, once per batch -----------------------------------------------


def lookup(entity: str, key: str, values: Iterable[str]) -> dict[str, int]:
    """value → id of the oldest live record holding it, for one key over a whole batch."""
    wanted = sorted(set(values))
    if not wanted:
        return {}
    model = MODELS[entity]
    found: dict[str, int] = {}
    if key in ("email", "phone") and entity in ("contact", "company"):
        return array_holders(model, "emails" if key == "email" else "phones", wanted)
    if entity == "lead" and key in ("email", "phone"):
        if key == "email":
            rows = Lead.objects.annotate(folded=Lower("email")).filter(folded__in=wanted).values_list("folded", "pk")
        else:
            rows = Lead.objects.filter(phone__in=wanted).values_list("phone", "pk")
    elif key == "name":
        rows = model.objects.annotate(folded=Lower("name")).filter(folded__in=wanted).values_list("folded", "pk")
    elif key == "sku":
        rows = Product.objects.annotate(folded=Lower("sku")).filter(folded__in=wanted).values_list("folded", "pk")
    else:
        return {}
    for value, pk in sorted(rows, key=lambda pair: pair[1]):
        found.setdefault(value.casefold() if key in ("name", "sku") else value, pk)
    return found


def array_holders(model: type[Model], column: str, values: Sequence[str]) -> dict[str, int]:
    """value → the oldest live record whose array `column` holds it, for many values in one
    query: each value is looked up in the GIN index (`@> ARRAY[value]`, joined to the
    values). `column && ARRAY[a thousand values]` looks the same but PostgreSQL
    estimates it to match most of the table and reads all of it (measured: a sequential
    scan, 0.4 s on 20,000 contacts and seconds on a million, for every batch)."""
    from django.db import connection

    if not values:
        return {}
    field = model._meta.get_field(column)
    element = field.base_field.db_type(connection)
    index = next((index.name for index in model._meta.indexes if list(getattr(index, "fields", [])) == [column]), "")
    if index:
        with connection.cursor() as cursor:
            # A GIN index keeps new entries in a pending list that every lookup reads in
            # full; the previous batch's writes filled it, and a thousand lookups each
            # reading it cost 0.5 s a batch in an update-mode import. Merged once here.
            cursor.execute("SELECT gin_clean_pending_list(to_regclass(%s))", [index])
    table = connection.ops.quote_name(model._meta.db_table)
    name = connection.ops.quote_name(field.column)
    statement = (
        f"SELECT DISTINCT ON (wanted.value) wanted.value, record.id FROM unnest(%s::text[]) AS wanted(value) "  # noqa: S608 - names from the model
        f"JOIN {table} AS record ON record.{name} @> ARRAY[wanted.value::{element}] "
        "WHERE record.deleted_at IS NULL ORDER BY wanted.value, record.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [list(values)])
        return dict(cursor.fetchall())


def companies_by_name(names: Iterable[str], *, actor: User | None) -> dict[str, Company]:
    """casefolded name → the oldest live company of that name the actor can see."""
    from crm import access

    wanted = sorted({name.casefold() for name in names if name})
    if not wanted:
        return {}
    rows = access.visible(Company.objects.annotate(folded=Lower("name")).filter(folded__in=wanted), actor=actor)
    found: dict[str, Company] = {}
    for company in rows.order_by("pk"):
        found.setdefault(company.name.casefold(), company)
    return found


def contacts_by_email(emails: Iterable[str], *, actor: User | None) -> dict[str, Contact]:
    from crm import access

    wanted = sorted({email for email in emails if email})
    if not wanted:
        return {}
    holders = array_holders(Contact, "emails", wanted)
    visible = {
        contact.pk: contact
        for contact in access.visible(Contact.objects.filter(pk__in=set(holders.values())), actor=actor)
    }
    return {email: visible[pk] for email, pk in holders.items() if pk in visible}


# --- updates ---------------------------------------------------------------------------------

LIST_FIELDS = ("emails", "phones")


def update_values(record: Model, values: Mapping[str, Any], *, keep: Sequence[str] = ()) -> dict[str, Any]:
    """What an import row changes on an existing record: the values it gives (an empty
    cell never clears a field), emails and phones added to those the record has, tags
    added, custom fields given set and the others kept. Fields in `keep` (the key the
    row was matched by: a SKU, a name in another case) stay as they are."""
    changes: dict[str, Any] = {}
    for name, value in values.items():
        if name in keep:
            continue
        if name in LIST_FIELDS:
            current = list(getattr(record, name) or [])
            merged = current + [item for item in value or [] if item not in current]
            if merged != current:
                changes[name] = merged
        elif name == "custom_fields":
            current = dict(getattr(record, "custom_fields", None) or {})
            merged = {**current, **(value or {})}
            if merged != current:
                changes[name] = merged
        elif name == "tags":
            if value:
                changes["tags"] = list(value)
        elif value not in (None, "", []):
            changes[name] = value
    return changes


def merge_pending(pending: dict[str, Any], values: Mapping[str, Any]) -> None:
    """A second row of the file for a record the first row is creating: fill what the
    first left empty, add emails, phones and tags, set the custom fields it gives."""
    for name, value in values.items():
        if name in LIST_FIELDS or name == "tags":
            current = list(pending.get(name) or [])
            pending[name] = current + [item for item in value or [] if item not in current]
        elif name == "custom_fields":
            pending[name] = {**(pending.get(name) or {}), **(value or {})}
        elif pending.get(name) in (None, "") and value not in (None, ""):
            pending[name] = value


def write(entity: str, *, actor: User | None, creates: list[dict], updates: list[tuple[Model, dict]]) -> BulkOutcome:
    """The batch through the sub-app's bulk service."""
    if entity == "contact":
        return contacts_import_batch(actor=actor, creates=creates, updates=updates)
    if entity == "company":
        return companies_import_batch(actor=actor, creates=creates, updates=updates)
    if entity == "lead":
        return leads_import_batch(actor=actor, creates=creates, updates=updates)
    if entity == "deal":
        return deals_import_batch(actor=actor, creates=creates)
    # Products keep no field history; their changes are worked out here so undo can revert them.
    changes = {product.pk: changes_between(product, values) for product, values in updates}
    created = products_import_batch(actor=actor, creates=creates, updates=updates)
    return BulkOutcome(created=created, changes=changes)


def target_map(entity: str, custom_fields: Sequence[CustomField]) -> dict[str, Target]:
    return {target.key: target for target in targets_for(entity, custom_fields)}
