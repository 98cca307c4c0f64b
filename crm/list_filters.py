"""Filter fields shared by several list pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.models import Tag

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


def tag_choices() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=_("Tag"), queryset=Tag.objects.order_by("name", "id"), required=False, empty_label=_("Any tag")
    )


def created_from() -> forms.DateField:
    return forms.DateField(label=_("Created from"), required=False, widget=DATE_INPUT)


def created_to() -> forms.DateField:
    return forms.DateField(label=_("Created until"), required=False, widget=DATE_INPUT)


def tags_plus(record, name: str) -> list:
    """The record's tags with `name` added (for the "add tag" bulk action)."""
    return [*record.tags.all(), name]
