"""Which column goes to which field: the targets of each record type, guesses from
header names (English, Russian, Spanish, Arabic; Google Contacts and Outlook exports),
validation of a mapping, and reading one row's cells into field values.

A mapping is a list of entries, one per file column:
`{"column": 3, "header": "E-mail 1 - Value", "target": "emails", "transform": ""}`;
an empty target ignores the column. Several columns may go to a list field (emails,
phones, tags) or to a text joined from parts (notes, a lead's name); every other
target takes one column. Transforms: a full name is split `first_last` or `last_first`;
dates are read `auto`, `dmy`, `mdy` or `ymd`; phones in a two-letter region.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.custom_fields.models import CustomField, FieldKind
from crm.text_values import DATE_ORDERS, date_from_text, decimal_from_text

NAME_ORDERS = ("first_last", "last_first")
LIST_SEPARATORS = re.compile(r"\s*[,;|\n]\s*")
PHONE_SEPARATORS = re.compile(r"\s*[;|\n]\s*|\s*,\s+|\s+:::\s+")


@dataclass(frozen=True)
class Target:
    key: str
    label: Any
    kind: str = "text"  # text, list, phones, phone, date, decimal, owner, company, contact, pipeline, stage,
    # tags, full_name, country, status, unit, custom
    multiple: bool = False  # several columns may feed it
    joiner: str = ""  # how several columns' text is joined (text targets)
    custom: CustomField | None = None


def _t(key: str, label, kind: str = "text", **extra) -> Target:
    return Target(key=key, label=label, kind=kind, **extra)


ADDRESS = [
    _t("address", gettext_lazy("Street address"), joiner=", ", multiple=True),
    _t("city", gettext_lazy("City")),
    _t("region", gettext_lazy("Region")),
    _t("postal_code", gettext_lazy("Postal code")),
    _t("country", gettext_lazy("Country"), "country"),
]
TARGETS: dict[str, list[Target]] = {
    "contact": [
        _t("full_name", gettext_lazy("Full name (split into first and last)"), "full_name"),
        _t("first_name", gettext_lazy("First name")),
        _t("last_name", gettext_lazy("Last name")),
        _t("emails", gettext_lazy("Emails"), "list", multiple=True),
        _t("phones", gettext_lazy("Phones"), "phones", multiple=True),
        _t("company", gettext_lazy("Company (by name)"), "company"),
        _t("job_title", gettext_lazy("Job title")),
        _t("birthday", gettext_lazy("Birthday"), "date"),
        _t("notes", gettext_lazy("Notes"), multiple=True, joiner="\n"),
        _t("owner", gettext_lazy("Owner (name or email)"), "owner"),
        _t("tags", gettext_lazy("Tags"), "tags", multiple=True),
        *ADDRESS,
    ],
    "company": [
        _t("name", gettext_lazy("Name")),
        _t("website", gettext_lazy("Website")),
        _t("industry", gettext_lazy("Industry")),
        _t("emails", gettext_lazy("Emails"), "list", multiple=True),
        _t("phones", gettext_lazy("Phones"), "phones", multiple=True),
        _t("notes", gettext_lazy("Notes"), multiple=True, joiner="\n"),
        _t("owner", gettext_lazy("Owner (name or email)"), "owner"),
        _t("tags", gettext_lazy("Tags"), "tags", multiple=True),
        *ADDRESS,
    ],
    "lead": [
        _t("name", gettext_lazy("Name"), multiple=True, joiner=" "),
        _t("email", gettext_lazy("Email")),
        _t("phone", gettext_lazy("Phone"), "phone"),
        _t("company_name", gettext_lazy("Company")),
        _t("message", gettext_lazy("Message"), multiple=True, joiner="\n"),
        _t("status", gettext_lazy("Status"), "status"),
        _t("owner", gettext_lazy("Owner (name or email)"), "owner"),
        _t("tags", gettext_lazy("Tags"), "tags", multiple=True),
        _t("utm_source", gettext_lazy("UTM source")),
        _t("utm_medium", gettext_lazy("UTM medium")),
        _t("utm_campaign", gettext_lazy("UTM campaign")),
    ],
    "deal": [
        _t("title", gettext_lazy("Title")),
        _t("amount", gettext_lazy("Amount"), "decimal"),
        _t("currency", gettext_lazy("Currency")),
        _t("pipeline", gettext_lazy("Pipeline (by name)"), "pipeline"),
        _t("stage", gettext_lazy("Stage (by name)"), "stage"),
        _t("expected_close_date", gettext_lazy("Expected close date"), "date"),
        _t("company", gettext_lazy("Company (by name)"), "company"),
        _t("contact", gettext_lazy("Contact (by email)"), "contact"),
        _t("owner", gettext_lazy("Owner (name or email)"), "owner"),
        _t("tags", gettext_lazy("Tags"), "tags", multiple=True),
    ],
    "product": [
        _t("sku", gettext_lazy("SKU")),
        _t("name", gettext_lazy("Name")),
        _t("price", gettext_lazy("Price"), "decimal"),
        _t("currency", gettext_lazy("Currency")),
        _t("unit", gettext_lazy("Unit"), "unit"),
        _t("tax_rate", gettext_lazy("Tax rate (%)"), "decimal"),
        _t("description", gettext_lazy("Description"), multiple=True, joiner="\n"),
    ],
}
CUSTOM_ENTITIES = ("contact", "company", "lead", "deal")
# What a row must give, as (targets of which at least one is mapped, the message).
REQUIRED: dict[str, list[tuple[tuple[str, ...], Any]]] = {
    "contact": [(("full_name", "first_name", "last_name"), gettext_lazy("Map a column to the name."))],
    "company": [(("name",), gettext_lazy("Map a column to the company's name."))],
    "lead": [(("name", "email", "phone"), gettext_lazy("Map a column to the name, the email or the phone."))],
    "deal": [(("title",), gettext_lazy("Map a column to the deal's title."))],
    "product": [
        (("sku",), gettext_lazy("Map a column to the SKU.")),
        (("name",), gettext_lazy("Map a column to the product's name.")),
        (("price",), gettext_lazy("Map a column to the price.")),
    ],
}


def targets_for(entity: str, custom_fields: Sequence[CustomField] = ()) -> list[Target]:
    """The fields a column of an `entity` file can go to, custom fields last."""
    targets = list(TARGETS[entity])
    for field in custom_fields:
        kind = "custom"
        targets.append(
            Target(
                key=field.path,
                label=field.label_in(),
                kind=kind,
                multiple=field.kind == FieldKind.MULTI_CHOICE,
                joiner=", " if field.kind == FieldKind.MULTI_CHOICE else "",
                custom=field,
            )
        )
    return targets


# --- guesses -------------------------------------------------------------------------------


def normalized(header: str) -> str:
    """Case, spaces and punctuation dropped: "E-mail 1 - Value" → "email1value"."""
    return re.sub(r"[\W_]+", "", (header or "").casefold())


# concept → (strong patterns, weak patterns) over normalized headers.
_CONCEPTS: dict[str, tuple[str, str]] = {
    "first_name": (
        r"firstname|givenname|first|forename|имя|nombre|nombrepila|الاسمالأول|الاسمالاول|الإسمالأول",
        r"",
    ),
    "last_name": (
        r"lastname|familyname|surname|фамилия|apellidos?|primerapellido|اسمالعائلة|العائلة|اللقب|الكنية",
        r"",
    ),
    "full_name": (
        r"name|fullname|contactname|displayname|фио|имяфамилия|полноеимя|контакт|nombrecompleto|الاسمالكامل|الاسم",
        r"contact|person|клиент|cliente",
    ),
    "email": (
        r"e?mail\d*|e?mail\d*(value|address)|e?mailaddress\d*|e?mail\d*адрес|correo(electr[oó]nico)?\d*|"
        r"электроннаяпочта|почта|емейл|имейл|email\d*|البريدالإلكتروني|البريدالالكتروني|البريد|بريدإلكتروني",
        r"",
    ),
    "phone": (
        r"phone\d*(value)?|telephone|tel|mobile|mobilephone|businessphone\d*|homephone\d*|cellphone|cell|"
        r"primaryphone|otherphone|companymainphone|телефон\d*|мобильный|мобильныйтелефон|тел|"
        r"tel[eé]fono\d*|m[oó]vil|celular|الهاتف|هاتف|الجوال|جوال|رقمالهاتف|الموبايل",
        r"",
    ),
    "company": (
        r"company|companyname|organization\d*name|organizationname|organization|organisation|account|"
        r"компания|организация|фирма|empresa|compa[ñn][ií]a|organizaci[oó]n|الشركة|شركة|المؤسسة",
        r"",
    ),
    "job_title": (
        r"jobtitle|position|organization\d*title|organizationtitle|role|должность|cargo|puesto|"
        r"المسمىالوظيفي|الوظيفة|المنصب",
        r"title",
    ),
    "birthday": (
        r"birthday|dateofbirth|birthdate|dob|деньрождения|датарождения|cumplea[ñn]os|fechadenacimiento|"
        r"تاريخالميلاد|عيدالميلاد",
        r"",
    ),
    "notes": (
        r"notes?|comments?|примечани[ея]|заметки|комментари[ий]|notas?|comentarios?|observaciones|ملاحظات|ملاحظة",
        r"",
    ),
    "owner": (
        r"owner|assignedto|responsible|salesrep|accountowner|ответственный|владелец|менеджер|propietario|"
        r"responsable|المالك|المسؤول",
        r"manager",
    ),
    "tags": (r"tags?|labels|groupmembership|categories|теги|метки|etiquetas|الوسوم|العلامات", r"group|группа"),
    "street": (
        r"address|street|businessstreet|homestreet|address\d*street|streetaddress|адрес|улица|"
        r"direcci[oó]n|calle|العنوان|الشارع",
        r"otherstreet",
    ),
    "city": (r"city|businesscity|homecity|address\d*city|town|город|ciudad|المدينة", r""),
    "region": (
        r"region|state|province|businessstate|homestate|address\d*region|регион|область|provincia|estado|"
        r"المنطقة|المحافظة",
        r"",
    ),
    "postal_code": (
        r"postalcode|zip|zipcode|postcode|businesspostalcode|homepostalcode|address\d*postalcode|индекс|"
        r"почтовыйиндекс|c[oó]digopostal|الرمزالبريدي",
        r"",
    ),
    "country": (
        r"country|countryregion|businesscountryregion|homecountryregion|address\d*country|страна|pa[ií]s|"
        r"الدولة|البلد",
        r"",
    ),
    "website": (r"website|web|url|webpage|website\d*value|personalwebpage|сайт|sitioweb|paginaweb|الموقع", r""),
    "industry": (r"industry|отрасль|sector|industria|القطاع|الصناعة", r""),
    "message": (r"message|inquiry|сообщение|mensaje|الرسالة", r"comments?|notes?|комментарий"),
    "title": (r"title|deal|dealname|dealtitle|сделка|название|negocio|oportunidad|الصفقة|العنوان", r"name"),
    "amount": (r"amount|value|dealvalue|sum|сумма|importe|monto|valor|المبلغ|القيمة", r""),
    "currency": (r"currency|валюта|moneda|divisa|العملة", r""),
    "pipeline": (r"pipeline|воронка|embudo|مسارالمبيعات", r""),
    "stage": (r"stage|dealstage|этап|стадия|etapa|المرحلة", r"status"),
    "close_date": (r"closedate|expectedclosedate|closingdate|датазакрытия|fechadecierre|تاريخالإغلاق", r""),
    "sku": (r"sku|article|articlenumber|productcode|itemcode|артикул|referencia|c[oó]digo|رمزالمنتج", r"code|код"),
    "product_name": (r"name|product|productname|item|название|товар|наименование|nombre|producto|المنتج|الاسم", r""),
    "price": (r"price|unitprice|цена|precio|السعر", r""),
    "unit": (r"unit|единица|ед|unidad|الوحدة", r""),
    "tax_rate": (r"tax|taxrate|vat|ндс|iva|الضريبة", r""),
    "description": (r"description|описание|descripci[oó]n|الوصف", r"notes?"),
    "status": (r"status|leadstatus|статус|estado|الحالة", r""),
    "utm_source": (r"utmsource|source|источник|fuente|المصدر", r""),
    "utm_medium": (r"utmmedium|medium|канал", r""),
    "utm_campaign": (r"utmcampaign|campaign|кампания|campa[ñn]a|الحملة", r""),
}
# concept → target, per record type (in the order concepts are tried).
_CONCEPT_TARGETS: dict[str, dict[str, str]] = {
    "contact": {
        "first_name": "first_name",
        "last_name": "last_name",
        "full_name": "full_name",
        "email": "emails",
        "phone": "phones",
        "company": "company",
        "job_title": "job_title",
        "birthday": "birthday",
        "notes": "notes",
        "owner": "owner",
        "tags": "tags",
        "street": "address",
        "city": "city",
        "region": "region",
        "postal_code": "postal_code",
        "country": "country",
    },
    "company": {
        "company": "name",
        "full_name": "name",
        "email": "emails",
        "phone": "phones",
        "website": "website",
        "industry": "industry",
        "notes": "notes",
        "owner": "owner",
        "tags": "tags",
        "street": "address",
        "city": "city",
        "region": "region",
        "postal_code": "postal_code",
        "country": "country",
    },
    "lead": {
        "full_name": "name",
        "email": "email",
        "phone": "phone",
        "company": "company_name",
        "message": "message",
        "status": "status",
        "owner": "owner",
        "tags": "tags",
        "utm_source": "utm_source",
        "utm_medium": "utm_medium",
        "utm_campaign": "utm_campaign",
    },
    "deal": {
        "title": "title",
        "amount": "amount",
        "currency": "currency",
        "pipeline": "pipeline",
        "stage": "stage",
        "close_date": "expected_close_date",
        "company": "company",
        "email": "contact",
        "owner": "owner",
        "tags": "tags",
    },
    "product": {
        "sku": "sku",
        "product_name": "name",
        "price": "price",
        "currency": "currency",
        "unit": "unit",
        "tax_rate": "tax_rate",
        "description": "description",
    },
}
_COMPILED = {
    concept: (re.compile(f"^(?:{strong})$"), re.compile(f"^(?:{weak})$") if weak else None)
    for concept, (strong, weak) in _CONCEPTS.items()
}
# Columns of contact exports that look like a field but are not one (Google's "E-mail 1 - Type",
# Outlook's "Title" = Mr./Ms. when a "Job Title" column exists, phonetic "Yomi" names...).
_NEVER = re.compile(
    r".*(type|label|yomi|phonetic|fax|pager|photo|poboxes?|pobox|extendedaddress|department|formatted)$"
)


def _custom_match(header: str, fields: Sequence[CustomField]) -> str:
    wanted = normalized(header)
    for field in fields:
        names = {field.key, field.label, *(field.label_translations or {}).values()}
        if wanted in {normalized(name) for name in names if name}:
            return field.path
    return ""


def guess(entity: str, headers: Sequence[str], custom_fields: Sequence[CustomField] = ()) -> list[dict[str, Any]]:
    """The mapping a person would most likely choose for `headers`."""
    concepts = _CONCEPT_TARGETS[entity]
    multiple = {target.key for target in targets_for(entity, custom_fields) if target.multiple}
    scored: list[tuple[int, str, int]] = []  # (column, target, strength)
    for column, header in enumerate(headers):
        key = normalized(header)
        target = _custom_match(header, custom_fields)
        if target:
            scored.append((column, target, 3))
            continue
        if not key or _NEVER.match(key):
            continue
        for concept, target_key in concepts.items():
            strong, weak = _COMPILED[concept]
            if strong.match(key):
                scored.append((column, target_key, 2))
                break
            if weak is not None and weak.match(key):
                scored.append((column, target_key, 1))
                break
    chosen: dict[int, str] = {}
    taken: dict[str, int] = {}
    for column, target, _strength in sorted(scored, key=lambda item: (-item[2], item[0])):
        if target in multiple:
            chosen[column] = target
        elif target not in taken:
            taken[target] = column
            chosen[column] = target
    # A contact file with first and last names needs no full-name column too (Google's
    # old export has all three); a lead's name may be built from first + last.
    values = set(chosen.values())
    if entity == "contact" and values & {"first_name", "last_name"}:
        chosen = {column: target for column, target in chosen.items() if target != "full_name"}
    if entity == "lead" and "name" not in values:
        for column, header in enumerate(headers):
            key = normalized(header)
            if _COMPILED["first_name"][0].match(key) or _COMPILED["last_name"][0].match(key):
                chosen[column] = "name"
    return [
        {"column": column, "header": header, "target": chosen.get(column, ""), "transform": ""}
        for column, header in enumerate(headers)
    ]


def mapping_from_template(headers: Sequence[str], template: Mapping[str, Mapping[str, str]]) -> list[dict[str, Any]]:
    """A saved template's choices (keyed by header name) applied to this file's columns."""
    by_name = {normalized(name): choice for name, choice in template.items()}
    result = []
    for column, header in enumerate(headers):
        choice = by_name.get(normalized(header)) or {}
        result.append(
            {
                "column": column,
                "header": header,
                "target": str(choice.get("target", "")),
                "transform": str(choice.get("transform", "")),
            }
        )
    return result


def template_fits(headers: Sequence[str], template: Mapping[str, Any]) -> bool:
    """Whether every column a template maps is in this file."""
    mapped = {normalized(name) for name, choice in template.items() if (choice or {}).get("target")}
    return bool(mapped) and mapped <= {normalized(header) for header in headers}


# --- validation ----------------------------------------------------------------------------


def mapping_clean(
    entity: str, headers: Sequence[str], raw: Any, custom_fields: Sequence[CustomField] = ()
) -> list[dict[str, Any]]:
    """A mapping sent by a person or a client, checked: known targets, one column per
    single-value target, transforms that fit, the required fields mapped. Raises
    ValidationError with the problems on `mapping` (and `mapping.<column>`)."""
    targets = {target.key: target for target in targets_for(entity, custom_fields)}
    errors: dict[str, list[ValidationError]] = {}

    def add(key: str, message: str, code: str) -> None:
        errors.setdefault(key, []).append(ValidationError(message, code=code))

    if not isinstance(raw, list):
        raise ValidationError({"mapping": [ValidationError(_("Send the mapping as a list."), code="invalid")]})
    by_column: dict[int, dict[str, Any]] = {}
    for entry in raw:
        if not isinstance(entry, Mapping):
            add("mapping", _("Each mapping entry is an object with column and target."), "invalid")
            continue
        column = entry.get("column")
        if isinstance(column, bool) or not isinstance(column, int) or not 0 <= column < len(headers):
            add("mapping", _("There is no column %(column)s in this file.") % {"column": str(column)[:20]}, "invalid")
            continue
        target = entry.get("target") or ""
        transform = entry.get("transform") or ""
        if not isinstance(target, str) or not isinstance(transform, str):
            add(f"mapping.{column}", _("Send the target and the transform as text."), "invalid")
            continue
        if target and target not in targets:
            add(
                f"mapping.{column}",
                _("“%(target)s” is not a field of this record type.") % {"target": target[:60]},
                "unknown_target",
            )
            continue
        if target and transform and not _transform_fits(targets[target], transform):
            add(
                f"mapping.{column}",
                _("“%(transform)s” does not apply to %(field)s.") % {"transform": transform[:30], "field": target},
                "invalid_transform",
            )
            continue
        by_column[column] = {"column": column, "header": headers[column], "target": target, "transform": transform}
    used: dict[str, int] = {}
    for column, entry in sorted(by_column.items()):
        target = entry["target"]
        if not target:
            continue
        if target in used and not targets[target].multiple:
            add(
                f"mapping.{column}",
                _("“%(header)s” and “%(other)s” both go to %(field)s; only one column can.")
                % {"header": entry["header"], "other": headers[used[target]], "field": targets[target].label},
                "duplicate_target",
            )
        used.setdefault(target, column)
    mapped = set(used)
    if entity == "contact" and "full_name" in mapped and mapped & {"first_name", "last_name"}:
        add("mapping", _("Map either the full name or the first and last names, not both."), "invalid")
    for keys, message in REQUIRED[entity]:
        if not mapped & set(keys):
            add("mapping", str(message), "required")
    if errors:
        raise ValidationError(errors)
    return [
        by_column.get(column, {"column": column, "header": header, "target": "", "transform": ""})
        for column, header in enumerate(headers)
    ]


def _transform_fits(target: Target, transform: str) -> bool:
    if target.kind == "full_name":
        return transform in NAME_ORDERS
    if target.kind == "date" or (target.custom is not None and target.custom.kind == FieldKind.DATE):
        return transform in DATE_ORDERS
    if target.kind in ("phones", "phone") or (target.custom is not None and target.custom.kind == FieldKind.PHONE):
        return len(transform) == 2 and transform.isascii() and transform.isalpha()
    return False


# --- one row -------------------------------------------------------------------------------


class CellProblem(Exception):
    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def split_full_name(text: str, order: str) -> tuple[str, str]:
    parts = text.split()
    if not parts:
        return "", ""
    if len(parts) == 1:
        return ("", parts[0]) if order == "last_first" else (parts[0], "")
    if order == "last_first":
        return " ".join(parts[1:]), parts[0]
    return " ".join(parts[:-1]), parts[-1]


# Google Contacts' own groups, which are no tags of ours; its labels are "* Name" and ":::"-separated.
_GOOGLE_SYSTEM_GROUPS = frozenset({"mycontacts", "starred", "friends", "family", "coworkers"})


def split_list(text: str) -> list[str]:
    return [part for part in LIST_SEPARATORS.split(text or "") if part.strip()]


def split_tags(text: str) -> list[str]:
    parts = [part.strip().removeprefix("* ").strip() for part in re.split(r":::|[,;|\n]", text or "")]
    return [part for part in parts if part and part.casefold() not in _GOOGLE_SYSTEM_GROUPS]


def split_phones(text: str) -> list[str]:
    # Commas are kept inside numbers like "+1 (555) 010-0100, ext. 2" only when not followed by a space.
    return [part for part in PHONE_SEPARATORS.split(text or "") if part.strip()]


def cell_date(text: str, order: str) -> date:
    try:
        return date_from_text(text, order=order or "auto")
    except ValueError as error:
        if "ambiguous" in str(error):
            raise CellProblem(
                _("“%(value)s” could be day/month or month/day; choose the file's date order.") % {"value": text[:40]},
                "ambiguous_date",
            ) from error
        raise CellProblem(
            _("“%(value)s” is not a date we understand.") % {"value": text[:40]}, "invalid_date"
        ) from error


def cell_decimal(text: str) -> Decimal:
    try:
        return decimal_from_text(text)
    except ValueError as error:
        raise CellProblem(_("“%(value)s” is not a number.") % {"value": text[:40]}, "invalid_number") from error
