"""Tags on client records (contacts, companies, leads, deals): one vocabulary per workspace.

Tag names are unique whatever their case ("VIP" and "vip" are one tag), so the services
here look tags up case-insensitively and create a tag only when none matches.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from crm import access
from crm.access import Action
from crm.models import Tag
from crm.validation import FieldErrors

NAME_MAX_LENGTH = Tag._meta.get_field("name").max_length
DEFAULT_COLOR = Tag._meta.get_field("color").default


def tag_name_clean(name: str, *, field: str, errors: FieldErrors) -> str:
    """Collapse inner whitespace; records a field error (`max_length`) for names too long."""
    cleaned = " ".join((name or "").split())
    if len(cleaned) > NAME_MAX_LENGTH:
        errors.add(
            field,
            _("A tag name can be at most %(limit)d characters: “%(name)s”.")
            % {"limit": NAME_MAX_LENGTH, "name": cleaned},
            "max_length",
        )
        return ""
    return cleaned


@transaction.atomic
def tag_get_or_create(*, actor: User | None, name: str, color: str = "") -> Tag:
    """The tag called `name` whatever its case, created (with `color`) if there is none.

    Two people adding the same new tag at once get the same row: the case-insensitive
    unique constraint decides, and the loser reads the winner's tag. Raises
    ValidationError on `name` (`required`, `max_length`).
    """
    access.require(actor=actor, action=Action.CREATE)
    errors = FieldErrors()
    cleaned = tag_name_clean(name, field="name", errors=errors)
    if not cleaned and not errors.errors:
        errors.add("name", _("Give the tag a name."), "required")
    errors.raise_if_any()
    existing = Tag.objects.filter(name__iexact=cleaned).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Tag.objects.create(name=cleaned, color=color or DEFAULT_COLOR)
    except IntegrityError:
        return Tag.objects.get(name__iexact=cleaned)


def _tags_resolve(*, actor: User | None, tags: Iterable[str | Tag], field: str) -> list[Tag]:
    errors = FieldErrors()
    names: list[str] = []
    resolved: dict[int, Tag] = {}
    for item in tags:
        if isinstance(item, Tag):
            resolved[item.pk] = item
            continue
        cleaned = tag_name_clean(item, field=field, errors=errors)
        if cleaned and cleaned.lower() not in {name.lower() for name in names}:
            names.append(cleaned)
    errors.raise_if_any()
    for name in names:
        tag = tag_get_or_create(actor=actor, name=name)
        resolved.setdefault(tag.pk, tag)
    return sorted(resolved.values(), key=lambda tag: tag.name.lower())


@transaction.atomic
def record_tags_set(*, actor: User | None, record: models.Model, tags: Iterable[str | Tag]) -> list[Tag]:
    """Make `record`'s tags exactly `tags` (Tag objects or names; unknown names are created).

    `record` is any model with a `tags` many-to-many to Tag (contact, company, lead, deal).
    Names are matched case-insensitively, blanks are ignored, duplicates collapse.
    Raises ValidationError on `tags` (`max_length`) and AccessDenied without EDIT.
    """
    access.require(actor=actor, action=Action.EDIT, record=record)
    if not hasattr(record, "tags"):
        raise TypeError(f"{type(record).__name__} has no tags")
    wanted = _tags_resolve(actor=actor, tags=tags, field="tags")
    record.tags.set(wanted)
    return wanted
