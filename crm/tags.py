"""Tags on client records (contacts, companies, leads, deals): one vocabulary per workspace.

Tag names are unique whatever their case ("VIP" and "vip" are one tag), so the services
here look tags up case-insensitively and create a tag only when none matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from crm import access
from crm.access import Action
from crm.errors import RecordNotFound
from crm.history.services import field_changes_record, tag_change
from crm.models import Tag
from crm.validation import FieldErrors

NAME_MAX_LENGTH = Tag._meta.get_field("name").max_length
DEFAULT_COLOR = Tag._meta.get_field("color").default
COLOR_PATTERN = re.compile(r"#[0-9a-fA-F]{6}")


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
    ValidationError on `name` (`required`, `max_length`) and `color` (not `#rrggbb`).
    """
    access.require(actor=actor, action=Action.CREATE)
    errors = FieldErrors()
    cleaned = tag_name_clean(name, field="name", errors=errors)
    if not cleaned and not errors.errors:
        errors.add("name", _("Give the tag a name."), "required")
    if color and not COLOR_PATTERN.fullmatch(color):
        errors.add("color", _("Give the colour as #rrggbb, for example #64748b."), "invalid")
    errors.raise_if_any()
    existing = Tag.objects.filter(name__iexact=cleaned).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Tag.objects.create(name=cleaned, color=(color or DEFAULT_COLOR).lower())
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
def record_tags_set(
    *, actor: User | None, record: models.Model, tags: Iterable[str | Tag], history: bool = True
) -> list[Tag]:
    """Make `record`'s tags exactly `tags` (Tag objects or names; unknown names are created).

    `record` is any model with a `tags` many-to-many to Tag (contact, company, lead, deal).
    Names are matched case-insensitively, blanks are ignored, duplicates collapse. A
    change of the set goes to the record's field history (`history=False` for a record
    being created, whose tags are part of its first version).
    Raises ValidationError on `tags` (`max_length`) and AccessDenied without EDIT.
    """
    access.require(actor=actor, action=Action.EDIT, record=record)
    if not hasattr(record, "tags"):
        raise TypeError(f"{type(record).__name__} has no tags")
    wanted = _tags_resolve(actor=actor, tags=tags, field="tags")
    before = list(record.tags.values_list("name", flat=True)) if history else []
    record.tags.set(wanted)
    if history:
        field_changes_record(record=record, changes=tag_change(before, [tag.name for tag in wanted]), actor=actor)
    return wanted


# --- the vocabulary itself ----------------------------------------------------------------


def tag_list(*, actor: User | None, search: str = "") -> QuerySet[Tag]:
    """The workspace's tags by name (every active member may read them); `search` matches
    part of the name, whatever the case."""
    if actor is not None and not actor.is_active:
        return Tag.objects.none()
    tags = Tag.objects.all()
    if (search or "").strip():
        tags = tags.filter(name__icontains=search.strip())
    return tags.order_by("name", "id")


def tag_get(*, actor: User | None, tag_id: int) -> Tag:
    """One tag, or RecordNotFound."""
    tag = tag_list(actor=actor).filter(pk=tag_id).first()
    if tag is None:
        raise RecordNotFound(_("This tag does not exist."))
    return tag


@transaction.atomic
def tag_update(*, actor: User | None, tag: Tag, name: str | None = None, color: str | None = None) -> Tag:
    """Rename or recolour a tag everywhere it is used (needs the settings power).

    Raises ValidationError: `name` required / max_length / `name_taken` (another tag
    has this name whatever the case), `color` invalid (not `#rrggbb`).
    """
    access.require(actor=actor, action=Action.CONFIGURE)
    locked = Tag.objects.select_for_update().filter(pk=tag.pk).first()
    if locked is None:
        raise RecordNotFound(_("This tag does not exist."))
    errors = FieldErrors()
    if name is not None:
        cleaned = tag_name_clean(name, field="name", errors=errors)
        if not cleaned and not errors.errors:
            errors.add("name", _("Give the tag a name."), "required")
        elif cleaned and Tag.objects.filter(name__iexact=cleaned).exclude(pk=locked.pk).exists():
            errors.add("name", _("Another tag already has this name."), "name_taken")
        locked.name = cleaned
    if color is not None:
        if not COLOR_PATTERN.fullmatch(color):
            errors.add("color", _("Give the colour as #rrggbb, for example #64748b."), "invalid")
        locked.color = color.lower()
    errors.raise_if_any()
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError:
        errors.add("name", _("Another tag already has this name."), "name_taken")
        errors.raise_if_any()
    return locked


@transaction.atomic
def tag_delete(*, actor: User | None, tag: Tag) -> None:
    """Delete a tag for good (needs the settings power): it comes off every record that
    had it; the records themselves are untouched."""
    access.require(actor=actor, action=Action.CONFIGURE)
    Tag.objects.filter(pk=tag.pk).delete()
