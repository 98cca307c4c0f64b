"""Reads of custom field definitions (the values are read with their records)."""

from __future__ import annotations

from datetime import timedelta

from django.apps import apps
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.custom_fields.models import CustomField, Entity
from crm.errors import RecordNotFound

# How long a removed field's values stay on the records, restorable.
REMOVED_KEEP_DAYS = 30
RECORD_MODELS = {
    Entity.CONTACT: ("clients", "Contact"),
    Entity.COMPANY: ("clients", "Company"),
    Entity.LEAD: ("leads", "Lead"),
    Entity.DEAL: ("deals", "Deal"),
}


def record_model(entity: str) -> type[Model]:
    """The model whose `custom_fields` hold `entity`'s values."""
    app_label, model_name = RECORD_MODELS[Entity(entity)]
    return apps.get_model(app_label, model_name)


def custom_fields_for(entity: str) -> list[CustomField]:
    """The live fields of `entity` in their order (what cards, lists, the API and imports show)."""
    return list(CustomField.objects.filter(entity=entity).order_by("position", "id"))


def custom_fields_searchable() -> dict[str, list[CustomField]]:
    """The live fields quick search matches, by record type (one query for all four)."""
    found: dict[str, list[CustomField]] = {}
    for field in CustomField.objects.filter(searchable=True).order_by("entity", "position", "id"):
        found.setdefault(field.entity, []).append(field)
    return found


def custom_fields_removed(entity: str | None = None) -> QuerySet[CustomField]:
    """Removed fields still within their 30 days, most recently removed first."""
    queryset = CustomField.all_objects.filter(removed_at__isnull=False).order_by("-removed_at", "-id")
    return queryset.filter(entity=entity) if entity else queryset


def custom_field_get(field_id: int, *, include_removed: bool = False) -> CustomField:
    manager = CustomField.all_objects if include_removed else CustomField.objects
    field = manager.filter(pk=field_id).first()
    if field is None:
        raise RecordNotFound(_("This field does not exist."))
    return field


def custom_field_purge_date(field: CustomField):
    """When a removed field's values go for good."""
    return field.removed_at + timedelta(days=REMOVED_KEEP_DAYS) if field.removed_at else None


def custom_fields_expired(now=None) -> QuerySet[CustomField]:
    now = now or timezone.now()
    return CustomField.all_objects.filter(removed_at__lt=now - timedelta(days=REMOVED_KEEP_DAYS))


def entity_labels() -> dict[str, str]:
    return {value: str(label) for value, label in Entity.choices}
