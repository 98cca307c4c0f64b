"""Custom field values as pages and files show them: a cell's text and link, an export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crm.custom_fields.models import CustomField, FieldKind
from crm.custom_fields.values import value_display


@dataclass(frozen=True)
class Cell:
    """What a card row or a list cell shows; `url` makes it a link (web, mailto:, tel:)."""

    text: str
    url: str = ""
    ltr: bool = False  # numbers, phones, links and emails read left to right in Arabic too


LTR_KINDS = frozenset({FieldKind.LINK, FieldKind.EMAIL, FieldKind.PHONE, FieldKind.NUMBER, FieldKind.MONEY})


def cell(field: CustomField, value: Any, *, region: str = "") -> Cell:
    text = value_display(field, value, region=region)
    if not text:
        return Cell("")
    url = ""
    if field.kind == FieldKind.LINK:
        url = str(value)  # cleaned: always http(s)
    elif field.kind == FieldKind.EMAIL:
        url = f"mailto:{value}"
    elif field.kind == FieldKind.PHONE:
        url = f"tel:{value}"
    return Cell(text, url, field.kind in LTR_KINDS)


def value_export(field: CustomField, value: Any) -> str:
    """A value in a CSV cell: what a spreadsheet or our own import reads back (numbers
    without grouping, ISO dates), with choices by their label in the reader's language."""
    if value is None or value == "" or value == []:
        return ""
    if field.kind == FieldKind.MULTI_CHOICE and isinstance(value, list):
        # "; " as our import splits them (a label may hold a comma)
        return "; ".join(field.choice_label(str(item)) for item in value)
    if field.kind in (FieldKind.CHOICE, FieldKind.BOOLEAN):
        return value_display(field, value)
    if field.kind == FieldKind.MONEY and isinstance(value, int | float):
        return f"{value:.2f}"
    return str(value)
