"""Writes of custom field definitions: add, change, reorder, remove (restorable), purge.

Only people with the `settings` power shape fields; every change is in the audit log.
A field's `key` and `kind` never change once it exists (values already stored in that
form would stop meaning what they meant); everything a person reads (label in each
language, help text, choices' labels, required, order) can change at any time.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from enum import Enum
from typing import Any, Final

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import roles
from accounts.audit import audit_record
from accounts.models import User
from accounts.policy import require_capability
from config.task_queue import task_after_commit
from crm.custom_fields.models import CHOICE_KINDS, SEARCHABLE_KINDS, CustomField, Entity, FieldKind
from crm.custom_fields.selectors import REMOVED_KEEP_DAYS, custom_fields_expired, record_model
from crm.errors import Conflict
from crm.selectors import workspace_settings
from crm.validation import FieldErrors, clean_currency


class _Unset(Enum):
    UNSET = "unset"


UNSET: Final = _Unset.UNSET

MAX_FIELDS_PER_ENTITY = 100
MAX_CHOICES = 200
LABEL_MAX = CustomField._meta.get_field("label").max_length
HELP_MAX = CustomField._meta.get_field("help_text").max_length
KEY_MAX = CustomField._meta.get_field("key").max_length
# Small Latin letters and digits in words joined by single underscores: no `__` (Django's
# lookup separator, and the API's `cf.<key>__from`) and no trailing `_`.
KEY_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
LANGUAGES = {code for code, _name in settings.LANGUAGES}
PURGE_BATCH = 5000

# Names a custom field may not take: they would be confused with the record's own
# fields in imports, exports and the API.
RESERVED_KEYS = frozenset(
    {
        "id",
        "name",
        "first_name",
        "last_name",
        "full_name",
        "email",
        "emails",
        "phone",
        "phones",
        "owner",
        "team",
        "tags",
        "company",
        "contact",
        "title",
        "status",
        "stage",
        "pipeline",
        "amount",
        "currency",
        "created_at",
        "updated_at",
        "custom_fields",
    }
)

_CYRILLIC_LETTERS = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяієїґ"
_LATIN_SPELLINGS = "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya i ye yi g"
# Hard and soft signs are dropped (`Объём` → `obem`), as passports and street signs do.
_CYRILLIC = {
    letter: "" if spelling == "-" else spelling
    for letter, spelling in zip(_CYRILLIC_LETTERS, _LATIN_SPELLINGS.split(" "), strict=True)
}
# Letters NFKD does not split into a base letter and an accent.
_OTHER_LATIN = {"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "þ": "th"}


def key_from_label(label: str) -> str:
    """A stable ASCII key from a label: `Номер договора` → `nomer_dogovora`,
    `Año de fundación` → `ano_de_fundacion`; "" when nothing Latin can be made of it."""
    text = "".join(_CYRILLIC.get(char, _OTHER_LATIN.get(char, char)) for char in label.lower())
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    text = re.sub(r"_+", "_", text)
    if text and not text[0].isalpha():
        text = f"f_{text}"
    return text[:KEY_MAX].rstrip("_")


def _clean_label(label: Any, errors: FieldErrors, field: str = "label") -> str:
    text = " ".join(str(label or "").split())
    if not text:
        errors.add(field, _("Give the field a label."), "required")
    elif len(text) > LABEL_MAX:
        errors.add(field, _("Use at most %(limit)d characters.") % {"limit": LABEL_MAX}, "max_length")
    return text


def _clean_translations(value: Any, errors: FieldErrors, field: str = "label_translations") -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, Mapping):
        errors.add(field, _('Give the labels as language: label, e.g. {"ru": "…"}.'), "invalid")
        return {}
    cleaned: dict[str, str] = {}
    for language, label in value.items():
        if language not in LANGUAGES:
            errors.add(
                field,
                _("“%(language)s” is not one of our languages (%(languages)s).")
                % {"language": str(language)[:10], "languages": ", ".join(sorted(LANGUAGES))},
                "invalid_language",
            )
            continue
        text = " ".join(str(label or "").split())
        if len(text) > LABEL_MAX:
            errors.add(field, _("Use at most %(limit)d characters.") % {"limit": LABEL_MAX}, "max_length")
        elif text:
            cleaned[language] = text
    return cleaned


def _clean_choices(value: Any, errors: FieldErrors, *, previous: Sequence[Mapping] = ()) -> list[dict[str, Any]]:
    """[{"value", "label", "labels"}], from dicts or plain labels; a choice keeps its
    value when it is given back with it (renaming a label keeps the records' values)."""
    if not isinstance(value, list | tuple):
        errors.add("choices", _("Give the choices as a list."), "invalid")
        return []
    if len(value) > MAX_CHOICES:
        errors.add("choices", _("A field can have at most %(limit)d choices.") % {"limit": MAX_CHOICES}, "max_length")
        return []
    previous_by_label = {str(choice.get("label", "")).casefold(): choice["value"] for choice in previous}
    cleaned: list[dict[str, Any]] = []
    seen_values: set[str] = set()
    seen_labels: set[str] = set()
    for position, item in enumerate(value, start=1):
        entry = item if isinstance(item, Mapping) else {"label": item}
        label = " ".join(str(entry.get("label") or "").split())
        if not label:
            errors.add("choices", _("Choice %(number)d has no label.") % {"number": position}, "required")
            continue
        if len(label) > LABEL_MAX:
            errors.add("choices", _("Use at most %(limit)d characters.") % {"limit": LABEL_MAX}, "max_length")
            continue
        given_value = str(entry.get("value") or "").strip()
        if given_value and not KEY_PATTERN.fullmatch(given_value):
            errors.add(
                "choices",
                _("A choice's value uses small Latin letters, digits and _: “%(value)s”.")
                % {"value": given_value[:40]},
                "invalid",
            )
            continue
        # A label given back without its value keeps the value it had.
        choice_value = (
            given_value
            or previous_by_label.get(label.casefold())
            or key_from_label(label)[: KEY_MAX - 4]
            or f"choice_{position}"
        )
        if not given_value:
            base, number = choice_value, 2
            while choice_value in seen_values:
                choice_value, number = f"{base}_{number}", number + 1
        if choice_value in seen_values or label.casefold() in seen_labels:
            errors.add("choices", _("“%(label)s” is listed twice.") % {"label": label}, "duplicate")
            continue
        seen_values.add(choice_value)
        seen_labels.add(label.casefold())
        labels = _clean_translations(entry.get("labels"), errors, field="choices")
        cleaned.append({"value": choice_value, "label": label, "labels": labels})
    return cleaned


def _choices_in_use(field: CustomField, values: Iterable[str]) -> dict[str, int]:
    """How many records (trashed included) hold each of `values` of a choice field, in
    one query (each count a containment test the GIN index answers)."""
    values = list(values)
    if not values:
        return {}
    model = record_model(field.entity)
    multi = field.kind == FieldKind.MULTI_CHOICE
    counts = model._base_manager.aggregate(
        **{
            f"c{index}": Count("pk", filter=Q(custom_fields__contains={field.key: [value] if multi else value}))
            for index, value in enumerate(values)
        }
    )
    return {value: counts[f"c{index}"] for index, value in enumerate(values) if counts[f"c{index}"]}


def _audit_shape(field: CustomField) -> dict[str, Any]:
    return {
        "entity": field.entity,
        "key": field.key,
        "kind": field.kind,
        "label": field.label,
        "required": field.required,
        "searchable": field.searchable,
        "filterable": field.filterable,
    }


def _free_key(entity: str, base: str) -> str:
    """A key made from a label that no field of `entity` uses (removed ones included) and
    that is no built-in field's name: `source`, else `source_2`, `source_3`...; a label
    with no Latin spelling (Arabic) becomes `field_<n>`."""
    base = base or "field"
    taken = set(CustomField.all_objects.filter(entity=entity).values_list("key", flat=True)) | RESERVED_KEYS
    if base not in taken and base != "field":
        return base
    number = 2 if base != "field" else 1
    while True:
        suffix = f"_{number}"
        candidate = f"{base[: KEY_MAX - len(suffix)].rstrip('_')}{suffix}"
        if candidate not in taken:
            return candidate
        number += 1


def _check_flags(kind: str, *, searchable: Any, errors: FieldErrors) -> None:
    if searchable and kind in FieldKind.values and kind not in SEARCHABLE_KINDS:
        errors.add(
            "searchable",
            _("Quick search finds text, long text, link, email and phone fields only."),
            "invalid",
        )


def _index_sync_queue(field: CustomField) -> None:
    task_after_commit("crm.custom_fields.tasks.custom_field_index_sync", field_id=field.pk, entity=field.entity)


@transaction.atomic
def custom_field_create(
    *,
    actor: User | None,
    entity: str,
    label: str,
    kind: str,
    key: str = "",
    label_translations: Mapping[str, str] | None = None,
    required: bool = False,
    help_text: str = "",
    choices: Sequence[Any] = (),
    currency: str = "",
    searchable: bool = False,
    filterable: bool = False,
) -> CustomField:
    """Add a field to `entity` at the end of its list. Needs the `settings` power.

    Without a `key`, one is made from the label (`Номер договора` → `nomer_dogovora`,
    then `nomer_dogovora_2` when taken or a built-in name; `field_<n>` for a label with no
    Latin spelling). A given key must be small Latin letters and digits in words joined
    by single `_`, start with a letter, not be one of the record's own field names
    (`reserved`), and be unused, also by a removed field still restorable (`taken`).
    Choice kinds need at least one choice; money takes the workspace's base currency
    unless given; only text-like kinds can be `searchable`. Raises ValidationError per
    field, Conflict `too_many_fields` past 100 per record type.
    """
    require_capability(actor, roles.SETTINGS)
    errors = FieldErrors()
    if entity not in Entity.values:
        errors.add("entity", _("Choose contacts, companies, leads or deals."), "invalid_choice")
    if kind not in FieldKind.values:
        errors.add("kind", _("Choose one of the listed kinds."), "invalid_choice")
    label = _clean_label(label, errors)
    translations = _clean_translations(label_translations, errors)
    help_text = " ".join(str(help_text or "").split())
    if len(help_text) > HELP_MAX:
        errors.add("help_text", _("Use at most %(limit)d characters.") % {"limit": HELP_MAX}, "max_length")
    given_key = (key or "").strip()
    if given_key:
        key = given_key
        if not KEY_PATTERN.fullmatch(key):
            errors.add(
                "key",
                _("Use small Latin letters and digits, words joined by single _, starting with a letter."),
                "invalid",
            )
        elif len(key) > KEY_MAX:
            errors.add("key", _("Use at most %(limit)d characters.") % {"limit": KEY_MAX}, "max_length")
        elif key in RESERVED_KEYS:
            errors.add(
                "key", _("“%(key)s” is the name of a built-in field; choose another.") % {"key": key}, "reserved"
            )
    elif label and entity in Entity.values:
        key = _free_key(entity, key_from_label(label))
    _check_flags(kind, searchable=searchable, errors=errors)
    cleaned_choices: list[dict[str, Any]] = []
    if kind in CHOICE_KINDS:
        cleaned_choices = _clean_choices(list(choices or []), errors)
        if not cleaned_choices and "choices" not in errors.errors:
            errors.add("choices", _("Add at least one choice."), "required")
    if kind == FieldKind.MONEY:
        currency = clean_currency(currency or workspace_settings().base_currency, field="currency", errors=errors)
    else:
        currency = ""
    errors.raise_if_any()
    if CustomField.objects.filter(entity=entity).count() >= MAX_FIELDS_PER_ENTITY:
        raise Conflict(
            _("A record type can have at most %(limit)d fields. Remove one you no longer use.")
            % {"limit": MAX_FIELDS_PER_ENTITY},
            code="too_many_fields",
        )
    last = CustomField.objects.filter(entity=entity).order_by("-position").values_list("position", flat=True).first()
    try:
        with transaction.atomic():
            field = CustomField.objects.create(
                entity=entity,
                key=key,
                label=label,
                label_translations=translations,
                kind=kind,
                required=bool(required),
                position=(last or 0) + 1,
                help_text=help_text,
                choices=cleaned_choices,
                currency=currency,
                searchable=bool(searchable),
                filterable=bool(filterable),
                created_by=actor,
            )
    except IntegrityError:
        errors.add("key", _("Another field already uses the key “%(key)s”.") % {"key": key}, "taken")
        errors.raise_if_any()
        raise
    audit_record(actor=actor, action="custom_field.create", target=field, changes=_audit_shape(field))
    if filterable or searchable:
        _index_sync_queue(field)
    return field


@transaction.atomic
def custom_field_update(
    *,
    actor: User | None,
    field: CustomField,
    label: str | _Unset = UNSET,
    label_translations: Mapping[str, str] | _Unset | None = UNSET,
    required: bool | _Unset = UNSET,
    help_text: str | _Unset = UNSET,
    choices: Sequence[Any] | _Unset = UNSET,
    searchable: bool | _Unset = UNSET,
    filterable: bool | _Unset = UNSET,
) -> CustomField:
    """Change what people read of a field (its key and kind stay).

    Choices: give the whole list; a choice given back with its `value` keeps it (its
    label may change); a choice that records still hold cannot be dropped
    (Conflict `choice_in_use`, naming how many records hold it). Turning `filterable`
    or `searchable` on or off builds or drops the field's list index in the background.
    """
    require_capability(actor, roles.SETTINGS)
    locked = CustomField.objects.select_for_update().filter(pk=field.pk).first()
    if locked is None:
        raise Conflict(_("This field was removed meanwhile."), code="field_removed")
    errors = FieldErrors()
    changed: dict[str, Any] = {}
    if label is not UNSET:
        changed["label"] = _clean_label(label, errors)
    if label_translations is not UNSET:
        changed["label_translations"] = _clean_translations(label_translations, errors)
    if required is not UNSET:
        changed["required"] = bool(required)
    if help_text is not UNSET:
        text = " ".join(str(help_text or "").split())
        if len(text) > HELP_MAX:
            errors.add("help_text", _("Use at most %(limit)d characters.") % {"limit": HELP_MAX}, "max_length")
        changed["help_text"] = text
    if searchable is not UNSET:
        changed["searchable"] = bool(searchable)
        _check_flags(locked.kind, searchable=searchable, errors=errors)
    if filterable is not UNSET:
        changed["filterable"] = bool(filterable)
    if choices is not UNSET:
        if locked.kind not in CHOICE_KINDS:
            errors.add("choices", _("Only choice fields have choices."), "invalid")
        else:
            cleaned = _clean_choices(list(choices or []), errors, previous=locked.choices)
            if not cleaned and "choices" not in errors.errors:
                errors.add("choices", _("Add at least one choice."), "required")
            dropped = {choice["value"] for choice in locked.choices} - {choice["value"] for choice in cleaned}
            errors.raise_if_any()
            used = _choices_in_use(locked, sorted(dropped))
            if used:
                labels = {choice["value"]: choice["label"] for choice in locked.choices}
                described = ", ".join(
                    ngettext("“%(label)s” (%(count)d record)", "“%(label)s” (%(count)d records)", count)
                    % {"label": labels.get(value, value), "count": count}
                    for value, count in used.items()
                )
                raise Conflict(
                    _("These choices are still in use and cannot be dropped: %(choices)s. Change those records first.")
                    % {"choices": described},
                    code="choice_in_use",
                )
            changed["choices"] = cleaned
    errors.raise_if_any()
    index_changed = any(
        name in changed and changed[name] != getattr(locked, name) for name in ("searchable", "filterable")
    )
    differences = {
        name: [getattr(locked, name), value] for name, value in changed.items() if getattr(locked, name) != value
    }
    if not differences:
        return locked
    for name, value in changed.items():
        setattr(locked, name, value)
    locked.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=actor,
        action="custom_field.update",
        target=locked,
        changes={**_audit_shape(locked), "changed": differences},
    )
    if index_changed:
        _index_sync_queue(locked)
    return locked


@transaction.atomic
def custom_fields_reorder(*, actor: User | None, entity: str, field_ids: Sequence[int]) -> list[CustomField]:
    """Put `entity`'s live fields in the order of `field_ids` (every one, once)."""
    require_capability(actor, roles.SETTINGS)
    if entity not in Entity.values:
        raise Conflict(_("Choose contacts, companies, leads or deals."), code="invalid_entity")
    fields = {field.pk: field for field in CustomField.objects.select_for_update().filter(entity=entity)}
    if sorted(field_ids) != sorted(fields) or len(set(field_ids)) != len(field_ids):
        raise Conflict(_("The fields changed meanwhile; reload the page and try again."), code="stale_order")
    now = timezone.now()
    for position, field_id in enumerate(field_ids, start=1):
        fields[field_id].position = position
        fields[field_id].updated_at = now  # bulk_update does not touch auto_now fields
    CustomField.objects.bulk_update(fields.values(), ["position", "updated_at"])
    audit_record(
        actor=actor, action="custom_field.reorder", target=None, changes={"entity": entity, "order": list(field_ids)}
    )
    return [fields[field_id] for field_id in field_ids]


@transaction.atomic
def custom_field_remove(*, actor: User | None, field: CustomField) -> CustomField:
    """Hide the field everywhere; its values stay on the records for 30 days, restorable."""
    require_capability(actor, roles.SETTINGS)
    locked = CustomField.all_objects.select_for_update().get(pk=field.pk)
    if locked.removed_at is not None:
        return locked
    locked.removed_at = timezone.now()
    locked.removed_by = actor
    locked.save(update_fields=["removed_at", "removed_by", "updated_at"])
    audit_record(actor=actor, action="custom_field.remove", target=locked, changes=_audit_shape(locked))
    _index_sync_queue(locked)
    return locked


@transaction.atomic
def custom_field_restore(*, actor: User | None, field: CustomField) -> CustomField:
    """Bring a removed field back, with every value it had, at the end of the list."""
    require_capability(actor, roles.SETTINGS)
    locked = CustomField.all_objects.select_for_update().get(pk=field.pk)
    if locked.removed_at is None:
        return locked
    if locked.removed_at < timezone.now() - timedelta(days=REMOVED_KEEP_DAYS):
        # Its values are being (or about to be) deleted by the daily purge.
        raise Conflict(
            _("This field was removed more than %(days)d days ago and can no longer be restored.")
            % {"days": REMOVED_KEEP_DAYS},
            code="field_expired",
        )
    if CustomField.objects.filter(entity=locked.entity).count() >= MAX_FIELDS_PER_ENTITY:
        raise Conflict(
            _("A record type can have at most %(limit)d fields. Remove one you no longer use.")
            % {"limit": MAX_FIELDS_PER_ENTITY},
            code="too_many_fields",
        )
    last = CustomField.objects.filter(entity=locked.entity).order_by("-position").values_list("position", flat=True)
    locked.removed_at = None
    locked.removed_by = None
    locked.position = (last.first() or 0) + 1
    locked.save(update_fields=["removed_at", "removed_by", "position", "updated_at"])
    audit_record(actor=actor, action="custom_field.restore", target=locked, changes=_audit_shape(locked))
    _index_sync_queue(locked)
    return locked


def custom_fields_purge_expired() -> int:
    """Delete for good the fields removed more than 30 days ago, and their values
    (in batches, so no transaction holds a million rows). Returns how many fields went."""
    purged = 0
    for field in list(custom_fields_expired()):
        model = record_model(field.entity)
        table = connection.ops.quote_name(model._meta.db_table)
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET custom_fields = custom_fields - %s "  # noqa: S608 - a model's own table
                    f"WHERE id IN (SELECT id FROM {table} WHERE custom_fields ? %s LIMIT %s)",
                    [field.key, field.key, PURGE_BATCH],
                )
                if cursor.rowcount == 0:
                    break
        with transaction.atomic():
            audit_record(actor=None, action="custom_field.purge", target=field, changes=_audit_shape(field))
            _index_sync_queue(field)
            field.delete()
        purged += 1
    return purged
