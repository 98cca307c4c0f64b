"""Forms of Settings → Custom fields: they read the shape of the input; the services of
crm.custom_fields clean, check and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from crm.custom_fields.models import CHOICE_KINDS, CustomField, FieldKind
from crm.validation import CURRENCIES

# Every language the product speaks gets a label of its own (English too: a workspace
# whose main labels are Russian can still show English ones to English readers).
LANGUAGES = [(code, name) for code, name in settings.LANGUAGES]
CHOICE_ROWS_EXTRA = 3
MAX_CHOICE_ROWS = 200


def _label_name(code: str) -> str:
    return f"label_{code}"


class CustomFieldForm(forms.Form):
    """Label (and one per language), help text, required and the flags; on a new field
    also the record type's kind, the key and the money currency."""

    label = forms.CharField(label=_("Label"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=FieldKind.choices)
    key = forms.CharField(
        label=_("Key"),
        max_length=40,
        required=False,
        help_text=_("The name in the API, imports and exports. Leave it empty to make one from the label."),
        widget=forms.TextInput(attrs={"dir": "ltr", "autocomplete": "off"}),
    )
    help_text = forms.CharField(
        label=_("Help text"), max_length=255, required=False, help_text=_("Shown under the field on cards and forms.")
    )
    required = forms.BooleanField(
        label=_("Required"),
        required=False,
        help_text=_("New records need a value; existing ones are asked for it when someone edits the field."),
    )
    currency = forms.ChoiceField(
        label=_("Currency"),
        choices=[("", _("The workspace's currency")), *((code, code) for code in sorted(CURRENCIES))],
        required=False,
        help_text=_("Money fields only."),
    )
    searchable = forms.BooleanField(
        label=_("Found by quick search"), required=False, help_text=_("Text, long text, link, email and phone fields.")
    )
    filterable = forms.BooleanField(
        label=_("Filter and sort lists by it"),
        required=False,
        help_text=_("Adds filters to the list and lets it sort by this field (an index is built in the background)."),
    )

    def __init__(self, *args: Any, field: CustomField | None = None, **kwargs: Any):
        if field is not None:
            initial = {
                "label": field.label,
                "help_text": field.help_text,
                "required": field.required,
                "searchable": field.searchable,
                "filterable": field.filterable,
                **{_label_name(code): text for code, text in (field.label_translations or {}).items()},
            }
            kwargs["initial"] = {**initial, **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        self.editing = field
        for code, name in LANGUAGES:
            self.fields[_label_name(code)] = forms.CharField(
                label=_("Label in %(language)s") % {"language": name}, max_length=100, required=False
            )
        if field is not None:
            # Fixed once the field exists: values already stored depend on them.
            for name in ("kind", "key", "currency"):
                del self.fields[name]

    @property
    def translation_fields(self) -> list[forms.BoundField]:
        return [self[_label_name(code)] for code, _name in LANGUAGES]

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        arguments: dict[str, Any] = {
            "label": data["label"],
            "label_translations": {
                code: data[_label_name(code)] for code, _name in LANGUAGES if data.get(_label_name(code))
            },
            "help_text": data["help_text"],
            "required": data["required"],
            "searchable": data["searchable"],
            "filterable": data["filterable"],
        }
        if self.editing is None:
            arguments.update(kind=data["kind"], key=data["key"], currency=data["currency"])
        return arguments


class ChoiceRowForm(forms.Form):
    """One choice: its stored value (kept when given back), its label and translations."""

    value = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    label = forms.CharField(label=_("Choice"), max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for code, name in LANGUAGES:
            self.fields[_label_name(code)] = forms.CharField(
                label=_("In %(language)s") % {"language": name}, max_length=100, required=False
            )

    def choice(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if not (data.get("label") or "").strip():
            return None  # an emptied row drops the choice
        labels = {code: data[_label_name(code)] for code, _name in LANGUAGES if data.get(_label_name(code))}
        return {"value": data.get("value") or "", "label": data["label"], "labels": labels}


ChoiceRows = forms.formset_factory(ChoiceRowForm, extra=0, max_num=MAX_CHOICE_ROWS, absolute_max=MAX_CHOICE_ROWS)


def choice_rows(data: Any = None, *, choices: list[dict[str, Any]] | None = None, extra: int = CHOICE_ROWS_EXTRA):
    """The choices editor: bound to `data`, or showing `choices` then `extra` empty rows."""
    if data is not None:
        return ChoiceRows(data, prefix="choices")
    initial = [
        {
            "value": choice.get("value", ""),
            "label": choice["label"],
            **{_label_name(code): text for code, text in (choice.get("labels") or {}).items()},
        }
        for choice in choices or []
    ]
    return ChoiceRows(initial=[*initial, *({} for _row in range(extra))], prefix="choices")


def choices_given(rows) -> list[dict[str, Any]]:
    return [choice for form in rows.forms if form.is_valid() and (choice := form.choice()) is not None]


def has_choices(kind: str) -> bool:
    return kind in CHOICE_KINDS
