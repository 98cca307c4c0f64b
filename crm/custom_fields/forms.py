"""Form fields for custom fields, built from the live definitions: the value widgets of
cards and create forms, and the list filters.

Forms only parse; the services clean and refuse (crm.custom_fields.values), and their
errors on `custom_fields.<key>` are shown on the field named `cf_<key>`. Every value
widget is optional for the browser: a required field is marked, and refused by the
service when it must be filled (on create) or is being cleared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext as _

from crm.custom_fields.indexes import TEXT_KINDS, has_sort_index, has_text_index
from crm.custom_fields.models import RANGE_KINDS, CustomField, FieldKind
from crm.custom_fields.queries import CONTAINS, EQUALS, FROM, TO, param_name
from crm.custom_fields.values import LONG_TEXT_MAX, TEXT_MAX, value_typed

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def form_name(field: CustomField) -> str:
    return f"cf_{field.key}"


def _choices(field: CustomField) -> list[tuple[str, str]]:
    return [(choice["value"], field.choice_label(choice["value"])) for choice in field.choices or []]


def value_form_field(field: CustomField) -> forms.Field:
    """The widget a person fills this field with (never required by the browser)."""
    kind = field.kind
    common: dict[str, Any] = {"label": field.label_in(), "required": False, "help_text": field.help_text}
    if kind == FieldKind.LONG_TEXT:
        form_field: forms.Field = forms.CharField(
            widget=forms.Textarea(attrs={"rows": 3, "maxlength": LONG_TEXT_MAX}), strip=False, **common
        )
    elif kind in (FieldKind.NUMBER, FieldKind.MONEY):
        step = "0.01" if kind == FieldKind.MONEY else "any"
        form_field = forms.CharField(widget=forms.NumberInput(attrs={"step": step, "inputmode": "decimal"}), **common)
    elif kind == FieldKind.DATE:
        form_field = forms.DateField(widget=DATE_INPUT, **common)
    elif kind == FieldKind.BOOLEAN:
        form_field = forms.BooleanField(**common)
    elif kind == FieldKind.CHOICE:
        form_field = forms.ChoiceField(choices=[("", "—"), *_choices(field)], **common)
    elif kind == FieldKind.MULTI_CHOICE:
        form_field = forms.MultipleChoiceField(choices=_choices(field), widget=forms.CheckboxSelectMultiple, **common)
    elif kind == FieldKind.LINK:
        form_field = forms.CharField(widget=forms.URLInput(attrs={"dir": "ltr"}), **common)
    elif kind == FieldKind.EMAIL:
        form_field = forms.CharField(widget=forms.EmailInput(attrs={"dir": "ltr"}), **common)
    elif kind == FieldKind.PHONE:
        form_field = forms.CharField(widget=forms.TextInput(attrs={"type": "tel", "dir": "ltr"}), **common)
    else:
        form_field = forms.CharField(widget=forms.TextInput(attrs={"maxlength": TEXT_MAX}), **common)
    if field.required:
        form_field.required_mark = True  # type: ignore[attr-defined] # shown by includes/field.html
        form_field.widget.attrs["aria-required"] = "true"
    if kind in (FieldKind.NUMBER, FieldKind.MONEY) and field.currency:
        form_field.suffix = field.currency  # type: ignore[attr-defined]
    return form_field


def initial_value(field: CustomField, stored: Any) -> Any:
    """A stored value as the widget shows it."""
    if stored is None:
        return None
    if field.kind == FieldKind.DATE:
        return value_typed(field, stored)
    if field.kind in (FieldKind.NUMBER, FieldKind.MONEY):
        return str(stored)
    return stored


class CustomValuesForm(forms.Form):
    """One widget per live field of `fields`, named `cf_<key>`.

    `values()` is what to hand the service: on a card only the fields the person
    changed (so an older record can be edited without filling a field that became
    required since), on a create form every field."""

    def __init__(self, *args: Any, fields: Sequence[CustomField], stored: Mapping[str, Any] | None = None, **kwargs):
        stored = stored or {}
        initial = {form_name(field): initial_value(field, stored.get(field.key)) for field in fields}
        kwargs["initial"] = {**initial, **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        self.custom_fields = [field for field in fields if not field.is_removed]
        for field in self.custom_fields:
            self.fields[form_name(field)] = value_form_field(field)
        # The service's error names -> this form's fields (crm.cards.errors_onto).
        self.error_names = {field.path: form_name(field) for field in self.custom_fields}

    def values(self, *, changed_only: bool) -> dict[str, Any]:
        changed = set(self.changed_data)
        given = {}
        for field in self.custom_fields:
            name = form_name(field)
            if changed_only and name not in changed:
                continue
            value = self.cleaned_data.get(name)
            if field.kind == FieldKind.BOOLEAN and not changed_only and not value and name not in changed:
                continue  # an unticked box on a create form is no answer yet
            given[field.key] = value
        return given


# --- list filters --------------------------------------------------------------------------


def filter_form_fields(fields: Iterable[CustomField]) -> dict[str, forms.Field]:
    """The filter widgets of the filterable fields, named like the query parameters
    (`cf.<key>`, `cf.<key>__from`...), which crm.custom_fields.queries reads."""
    found: dict[str, forms.Field] = {}
    for field in fields:
        if not field.filterable or field.is_removed:
            continue
        label = field.label_in()
        kind = field.kind
        if kind in (FieldKind.CHOICE, FieldKind.MULTI_CHOICE):
            found[param_name(field, EQUALS)] = forms.ChoiceField(
                label=label, required=False, choices=[("", _("Any")), *_choices(field)]
            )
        elif kind == FieldKind.BOOLEAN:
            found[param_name(field, EQUALS)] = forms.ChoiceField(
                label=label, required=False, choices=[("", _("Any")), ("yes", _("Yes")), ("no", _("No"))]
            )
        elif kind in RANGE_KINDS and has_sort_index(field):
            widget: forms.Widget = (
                forms.DateInput(attrs={"type": "date"})
                if kind == FieldKind.DATE
                else forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"})
            )
            found[param_name(field, FROM)] = forms.CharField(
                label=_("%(field)s from") % {"field": label}, required=False, widget=widget
            )
            found[param_name(field, TO)] = forms.CharField(
                label=_("%(field)s until") % {"field": label}, required=False, widget=widget
            )
        elif kind in TEXT_KINDS and has_text_index(field):
            found[param_name(field, CONTAINS)] = forms.CharField(
                label=_("%(field)s contains") % {"field": label}, required=False, max_length=200
            )
    return found
