"""Writes for companies and contacts: create, update, tag, merge duplicates.

Input is cleaned the same way on create and update: names and texts stripped, emails
lowercased, phones in E.164 read with the workspace's default region, websites given a
scheme. Problems a person can cause are collected and raised together as a
ValidationError with a code per field.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from enum import Enum
from typing import Any, Final, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Team, User
from crm import access
from crm.access import Action
from crm.activities.models import ActivityKind
from crm.activities.services import activity_log
from crm.bulk_writes import BulkOutcome, records_bulk_write
from crm.clients.models import Company, Contact
from crm.custom_fields.selectors import custom_fields_for
from crm.custom_fields.values import values_clean
from crm.errors import Conflict, RecordNotFound
from crm.history.services import (
    HISTORY_RECORD_TYPES,
    MERGED_FROM,
    MERGED_INTO,
    Change,
    event_change,
    field_changes_record,
    history_batch,
    record_changes,
    record_save_with_history,
    records_changes_record,
    tag_change,
)
from crm.limits import require_plan_room
from crm.models import Tag
from crm.records import ClientRecord
from crm.selectors import workspace_settings
from crm.tags import record_tags_set, tag_name_clean
from crm.trash import record_trash
from crm.validation import FieldErrors, clean_emails, clean_phones
from crm.webhooks import events as webhook_events

R = TypeVar("R", bound=ClientRecord)


class Unchanged(Enum):
    """Marks an update argument that was not given (None is a value: "clear it")."""

    UNCHANGED = "unchanged"


UNCHANGED: Final = Unchanged.UNCHANGED

ADDRESS_FIELDS = ("address", "city", "region", "postal_code", "country")
# Plain one-line texts: stripped and held to the column's length.
TEXT_FIELDS = frozenset({"name", "first_name", "last_name", "job_title", "industry", *ADDRESS_FIELDS})

_website_validator = URLValidator(schemes=["http", "https"])


# --- input cleaning -----------------------------------------------------------------


def _clean_text(model: type[models.Model], field: str, value: str | None, errors: FieldErrors) -> str:
    text = " ".join((value or "").split()) if field != "address" else (value or "").strip()
    limit = model._meta.get_field(field).max_length
    if limit and len(text) > limit:
        errors.add(field, _("Use at most %(limit)d characters.") % {"limit": limit}, "max_length")
    return text


def _clean_country(value: str | None, errors: FieldErrors) -> str:
    country = (value or "").strip().upper()
    if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
        errors.add("country", _("Use a two-letter country code such as RU, ES or AE."), "invalid_country")
    return country


def _clean_website(model: type[models.Model], value: str | None, errors: FieldErrors) -> str:
    website = (value or "").strip()
    if not website:
        return ""
    # People type "example.com"; the stored form is a link that opens.
    if "://" not in website:
        website = f"https://{website}"
    try:
        _website_validator(website)
    except ValidationError:
        errors.add("website", _("“%(url)s” is not a web address.") % {"url": value}, "invalid_url")
        return website
    limit = model._meta.get_field("website").max_length
    if len(website) > limit:
        errors.add("website", _("Use at most %(limit)d characters.") % {"limit": limit}, "max_length")
    return website


def _clean_values(
    model: type[models.Model], given: dict[str, Any], errors: FieldErrors, *, region: str = ""
) -> dict[str, Any]:
    """The cleaned form of every field in `given`; problems go to `errors`. Phones are
    read in `region` (default: the workspace's phone region)."""
    cleaned: dict[str, Any] = {}
    for field, value in given.items():
        if field == "emails":
            cleaned[field] = clean_emails(value or [], field=field, errors=errors)
        elif field == "phones":
            region = region or workspace_settings().default_phone_region
            cleaned[field] = clean_phones(value or [], region=region, field=field, errors=errors)
        elif field == "website":
            cleaned[field] = _clean_website(model, value, errors)
        elif field == "country":
            cleaned[field] = _clean_country(value, errors)
        elif field in TEXT_FIELDS:
            cleaned[field] = _clean_text(model, field, value, errors)
        elif field == "notes":
            cleaned[field] = value or ""
        elif field == "birthday":
            if value is not None and value > timezone.localdate():
                errors.add(field, _("A birthday cannot be in the future."), "invalid")
            cleaned[field] = value
        elif field == "company":
            if value is not None and value.deleted_at is not None:
                errors.add(field, _("This company is in the trash."), "trashed")
            cleaned[field] = value
        elif field == "owner":
            if value is not None and not value.is_active:
                errors.add(field, _("This person's account is switched off."), "inactive")
            cleaned[field] = value
        elif field == "tags":
            # Only checked here, so every problem shows at once; record_tags_set writes them.
            for item in value or []:
                if not isinstance(item, Tag):
                    tag_name_clean(item, field="tags", errors=errors)
            cleaned[field] = list(value or [])
        else:
            cleaned[field] = value
    return cleaned


def _custom_values(
    entity: str,
    given: Mapping[str, Any] | None,
    *,
    current: Mapping[str, Any] | None,
    creating: bool,
    errors: FieldErrors,
) -> dict[str, Any]:
    return values_clean(
        fields=custom_fields_for(entity),
        given=given,
        current=current,
        creating=creating,
        errors=errors,
        region=workspace_settings().default_phone_region,
    )


def _address_checked(address: dict[str, str]) -> dict[str, str]:
    unknown = set(address) - set(ADDRESS_FIELDS)
    if unknown:
        raise TypeError(f"unexpected fields: {', '.join(sorted(unknown))}")
    return address


def _given(**arguments: Any) -> dict[str, Any]:
    return {field: value for field, value in arguments.items() if value is not UNCHANGED}


def _locked_visible(model: type[R], pk: int, *, actor: User | None, action: Action) -> R:
    """The live row, locked for the rest of the transaction, if the actor may act on it."""
    queryset = access.visible(model.objects.filter(pk=pk), actor=actor, action=action)
    row = queryset.select_for_update(of=("self",)).first()
    if row is None:
        raise RecordNotFound(_("This record does not exist or you cannot see it."))
    return row


# --- companies ----------------------------------------------------------------------


@transaction.atomic
def company_create(
    *,
    actor: User | None,
    name: str,
    emails: list[str] | None = None,
    phones: list[str] | None = None,
    website: str = "",
    industry: str = "",
    owner: User | None = None,
    notes: str = "",
    team: Team | None = None,
    tags: Iterable[str | Tag] | None = None,
    custom_fields: Mapping[str, Any] | None = None,
    **address: str,
) -> Company:
    """Create a company; emails lowercased, phones in E.164. Raises ValidationError per field.

    The owner defaults to the actor. `address` takes the postal fields (address, city,
    region, postal_code, country). `custom_fields` (key: value) are cleaned by
    crm.custom_fields; given (even empty) means a person's input, which must fill the
    required fields; None (a record made from another, like a converted lead's) skips
    that check.
    """
    access.require(actor=actor, action=Action.CREATE, model=Company)
    errors = FieldErrors()
    given = {
        "name": name,
        "emails": emails,
        "phones": phones,
        "website": website,
        "industry": industry,
        "notes": notes,
        "owner": owner,
        "tags": list(tags or []),
        **_address_checked(address),
    }
    cleaned = _clean_values(Company, given, errors)
    if not cleaned["name"]:
        errors.add("name", _("Enter the company's name."), "required")
    cleaned["custom_fields"] = _custom_values(
        "company", custom_fields, current=None, creating=custom_fields is not None, errors=errors
    )
    errors.raise_if_any()
    tag_list = cleaned.pop("tags")
    cleaned["owner"] = owner if owner is not None else actor
    company = Company.objects.create(**cleaned, team=team, created_by=actor, updated_by=actor)
    if tag_list:
        record_tags_set(actor=actor, record=company, tags=tag_list, history=False)
    return company


@transaction.atomic
def company_update(
    *,
    actor: User | None,
    company: Company,
    name: str | Unchanged = UNCHANGED,
    emails: list[str] | Unchanged = UNCHANGED,
    phones: list[str] | Unchanged = UNCHANGED,
    website: str | Unchanged = UNCHANGED,
    industry: str | Unchanged = UNCHANGED,
    notes: str | Unchanged = UNCHANGED,
    owner: User | Unchanged | None = UNCHANGED,
    team: Team | Unchanged | None = UNCHANGED,
    tags: Iterable[str | Tag] | Unchanged = UNCHANGED,
    address: str | Unchanged = UNCHANGED,
    city: str | Unchanged = UNCHANGED,
    region: str | Unchanged = UNCHANGED,
    postal_code: str | Unchanged = UNCHANGED,
    country: str | Unchanged = UNCHANGED,
    custom_fields: Mapping[str, Any] | Unchanged = UNCHANGED,
) -> Company:
    """Change the given fields of `company` (others stay as they are), with the same
    cleaning and errors as company_create; `emails`/`phones`/`tags` replace the lists;
    `custom_fields` changes the keys given (an empty value clears one).

    Needs EDIT on a company the actor can see (else RecordNotFound; a trashed company
    cannot be edited). Returns the updated row; `updated_by` becomes the actor. Every
    field that changed goes to the field history (crm.history), in the same transaction.
    """
    access.require(actor=actor, action=Action.EDIT, record=company)
    locked = _locked_visible(Company, company.pk, actor=actor, action=Action.EDIT)
    errors = FieldErrors()
    given = _given(
        name=name,
        emails=emails,
        phones=phones,
        website=website,
        industry=industry,
        notes=notes,
        owner=owner,
        team=team,
        tags=tags,
        address=address,
        city=city,
        region=region,
        postal_code=postal_code,
        country=country,
    )
    cleaned = _clean_values(Company, given, errors)
    if "name" in cleaned and not cleaned["name"]:
        errors.add("name", _("Enter the company's name."), "required")
    if custom_fields is not UNCHANGED:
        cleaned["custom_fields"] = _custom_values(
            "company", custom_fields, current=locked.custom_fields, creating=False, errors=errors
        )
    errors.raise_if_any()
    tag_list = cleaned.pop("tags", None)
    record_save_with_history(locked, cleaned, actor=actor)
    if tag_list is not None:
        record_tags_set(actor=actor, record=locked, tags=tag_list)
    return locked


# --- contacts -----------------------------------------------------------------------


def contact_full_name(first_name: str, last_name: str) -> str:
    return " ".join(part for part in (first_name.strip(), last_name.strip()) if part)


@transaction.atomic
def contact_create(
    *,
    actor: User | None,
    first_name: str = "",
    last_name: str = "",
    emails: list[str] | None = None,
    phones: list[str] | None = None,
    company: Company | None = None,
    job_title: str = "",
    birthday: date | None = None,
    owner: User | None = None,
    notes: str = "",
    team: Team | None = None,
    tags: Iterable[str | Tag] | None = None,
    custom_fields: Mapping[str, Any] | None = None,
    **address: str,
) -> Contact:
    """Create a contact; needs a first or last name. Raises ValidationError per field.

    The owner defaults to the actor; the company must not be in the trash.
    `custom_fields` as in company_create (None skips the required-fields check).
    """
    access.require(actor=actor, action=Action.CREATE, model=Contact)
    require_plan_room("contacts", in_use=Contact.objects.count)
    errors = FieldErrors()
    given = {
        "first_name": first_name,
        "last_name": last_name,
        "emails": emails,
        "phones": phones,
        "company": company,
        "job_title": job_title,
        "birthday": birthday,
        "owner": owner,
        "notes": notes,
        "tags": list(tags or []),
        **_address_checked(address),
    }
    cleaned = _clean_values(Contact, given, errors)
    full_name = contact_full_name(cleaned["first_name"], cleaned["last_name"])
    if not full_name:
        errors.add("last_name", _("Enter the contact's name."), "required")
    cleaned["custom_fields"] = _custom_values(
        "contact", custom_fields, current=None, creating=custom_fields is not None, errors=errors
    )
    errors.raise_if_any()
    tag_list = cleaned.pop("tags")
    cleaned["owner"] = owner if owner is not None else actor
    contact = Contact.objects.create(**cleaned, full_name=full_name, team=team, created_by=actor, updated_by=actor)
    if tag_list:
        record_tags_set(actor=actor, record=contact, tags=tag_list, history=False)
    webhook_events.contact_created(contact)
    return contact


@transaction.atomic
def contact_update(
    *,
    actor: User | None,
    contact: Contact,
    first_name: str | Unchanged = UNCHANGED,
    last_name: str | Unchanged = UNCHANGED,
    emails: list[str] | Unchanged = UNCHANGED,
    phones: list[str] | Unchanged = UNCHANGED,
    company: Company | Unchanged | None = UNCHANGED,
    job_title: str | Unchanged = UNCHANGED,
    birthday: date | Unchanged | None = UNCHANGED,
    notes: str | Unchanged = UNCHANGED,
    owner: User | Unchanged | None = UNCHANGED,
    team: Team | Unchanged | None = UNCHANGED,
    tags: Iterable[str | Tag] | Unchanged = UNCHANGED,
    address: str | Unchanged = UNCHANGED,
    city: str | Unchanged = UNCHANGED,
    region: str | Unchanged = UNCHANGED,
    postal_code: str | Unchanged = UNCHANGED,
    country: str | Unchanged = UNCHANGED,
    custom_fields: Mapping[str, Any] | Unchanged = UNCHANGED,
) -> Contact:
    """Change the given fields of `contact` (others stay as they are), with the same
    cleaning and errors as contact_create; the display name is recomputed, and a contact
    left without first and last name is refused (`last_name`, `required`);
    `custom_fields` changes the keys given (an empty value clears one).

    Needs EDIT on a contact the actor can see (else RecordNotFound). Returns the
    updated row; `updated_by` becomes the actor. Every field that changed goes to the
    field history (crm.history), in the same transaction.
    """
    access.require(actor=actor, action=Action.EDIT, record=contact)
    locked = _locked_visible(Contact, contact.pk, actor=actor, action=Action.EDIT)
    errors = FieldErrors()
    given = _given(
        first_name=first_name,
        last_name=last_name,
        emails=emails,
        phones=phones,
        company=company,
        job_title=job_title,
        birthday=birthday,
        notes=notes,
        owner=owner,
        team=team,
        tags=tags,
        address=address,
        city=city,
        region=region,
        postal_code=postal_code,
        country=country,
    )
    cleaned = _clean_values(Contact, given, errors)
    full_name = contact_full_name(
        cleaned.get("first_name", locked.first_name), cleaned.get("last_name", locked.last_name)
    )
    if not full_name:
        errors.add("last_name", _("Enter the contact's name."), "required")
    if custom_fields is not UNCHANGED:
        cleaned["custom_fields"] = _custom_values(
            "contact", custom_fields, current=locked.custom_fields, creating=False, errors=errors
        )
    errors.raise_if_any()
    tag_list = cleaned.pop("tags", None)
    locked.full_name = full_name
    record_save_with_history(locked, cleaned, actor=actor, also_save=("full_name",))
    if tag_list is not None:
        record_tags_set(actor=actor, record=locked, tags=tag_list)
    return locked


# --- bulk writes (imports) ----------------------------------------------------------


def client_values_clean(
    model: type[Company] | type[Contact], given: dict[str, Any], *, errors: FieldErrors, region: str
) -> dict[str, Any]:
    """The cleaning company_create/contact_create and the updates apply to `given` (the
    same messages and codes per field), for writers of many records at once. Phones are
    read in `region`. Problems go to `errors`; required fields are the caller's to check
    (`contact_full_name` must not be empty, a company needs a name)."""
    return _clean_values(model, given, errors, region=region)


@transaction.atomic
def contacts_import_batch(
    *,
    actor: User | None,
    creates: Sequence[Mapping[str, Any]],
    updates: Sequence[tuple[Contact, Mapping[str, Any]]],
) -> BulkOutcome:
    """Create and update many contacts at once (the import job's writer).

    `creates` and `updates` hold values already cleaned by `client_values_clean` (and
    custom fields by crm.custom_fields.values); `tags` are names (added on update, never
    removed). Guarantees: the display name is computed as contact_create does; every
    changed field of an update goes to the field history with the bound channel and
    batch, in this transaction; one INSERT and one UPDATE per batch, no webhook per
    contact (an import of 100,000 old contacts is no news to subscribers). The caller
    checks CREATE/EDIT and the plan's contact limit (it holds the limit's lock).
    """
    access.require(actor=actor, action=Action.CREATE, model=Contact)
    rows = []
    for values in creates:
        fields = dict(values)
        fields["full_name"] = contact_full_name(fields.get("first_name", ""), fields.get("last_name", ""))
        fields.setdefault("owner", actor)
        rows.append(fields)
    changed = []
    for contact, values in updates:
        if "first_name" in values or "last_name" in values:
            contact.full_name = contact_full_name(
                values.get("first_name", contact.first_name), values.get("last_name", contact.last_name)
            )
        changed.append((contact, values))
    return records_bulk_write(model=Contact, actor=actor, creates=rows, updates=changed, also_save=("full_name",))


@transaction.atomic
def companies_import_batch(
    *,
    actor: User | None,
    creates: Sequence[Mapping[str, Any]],
    updates: Sequence[tuple[Company, Mapping[str, Any]]],
) -> BulkOutcome:
    """Create and update many companies at once; the guarantees of contacts_import_batch
    (values cleaned by `client_values_clean`, history of updates, no webhooks)."""
    access.require(actor=actor, action=Action.CREATE, model=Company)
    rows = [{**values, "owner": values.get("owner", actor)} for values in creates]
    return records_bulk_write(model=Company, actor=actor, creates=rows, updates=list(updates))


# --- merging duplicates -------------------------------------------------------------


def _merge_lock(model: type[R], *, actor: User | None, primary: R, duplicates: Sequence[R]) -> tuple[R, list[R]]:
    """Check the request, then lock primary and duplicates (in id order, so two merges
    touching the same records wait for each other instead of deadlocking)."""
    access.require(actor=actor, action=Action.EDIT, record=primary)
    for duplicate in duplicates:
        access.require(actor=actor, action=Action.DELETE, record=duplicate)
    duplicate_pks = list(dict.fromkeys(duplicate.pk for duplicate in duplicates))
    if not duplicate_pks:
        raise Conflict(_("Choose at least one duplicate to merge."), code="merge_nothing")
    if primary.pk in duplicate_pks:
        raise Conflict(_("A record cannot be merged with itself."), code="merge_with_itself")
    wanted = [primary.pk, *duplicate_pks]
    rows = {
        row.pk: row
        for row in access.visible(model.all_objects.filter(pk__in=wanted), actor=actor, action=Action.EDIT)
        .select_for_update(of=("self",))
        .order_by("pk")
    }
    deletable = access.visible(model.all_objects.filter(pk__in=duplicate_pks), actor=actor, action=Action.DELETE)
    if len(rows) != len(wanted) or deletable.count() != len(duplicate_pks):
        raise RecordNotFound(_("One of these records does not exist or you cannot see it."))
    trashed = [str(row) for row in rows.values() if row.deleted_at is not None]
    if trashed:
        raise Conflict(
            _("Records in the trash cannot be merged: %(names)s.") % {"names": ", ".join(trashed)},
            code="merge_trashed",
        )
    return rows[primary.pk], [rows[pk] for pk in duplicate_pks]


def _union(first: list[str], others: Iterable[list[str]]) -> list[str]:
    merged = list(first)
    for values in others:
        merged.extend(value for value in values if value not in merged)
    return merged


def _fill_empty(primary: R, duplicates: Sequence[R], fields: Iterable[str]) -> None:
    """Give `primary` the first non-empty value a duplicate has for each field it lacks."""
    for field in fields:
        if getattr(primary, field) in (None, ""):
            for duplicate in duplicates:
                value = getattr(duplicate, field)
                if value not in (None, ""):
                    setattr(primary, field, value)
                    break


def _custom_fields_united(primary: Mapping[str, Any], others: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The primary's custom field values, plus those it lacks from the duplicates (first wins)."""
    united = dict(primary or {})
    for values in others:
        for key, value in (values or {}).items():
            united.setdefault(key, value)
    return united


def _fill_address(primary: R, duplicates: Sequence[R]) -> None:
    # The address moves as a block: one street with another's city would be wrong.
    if any(getattr(primary, field) for field in ADDRESS_FIELDS):
        return
    for duplicate in duplicates:
        if any(getattr(duplicate, field) for field in ADDRESS_FIELDS):
            for field in ADDRESS_FIELDS:
                setattr(primary, field, getattr(duplicate, field))
            return


def _m2m_move(through: type[models.Model], own: str, other: str, primary_pk: int, duplicate_pks: list[int]) -> None:
    """Link `primary` to everything the duplicates were linked to, once."""
    rows = through._base_manager.filter(**{f"{own}__in": duplicate_pks})
    linked = set(rows.values_list(other, flat=True))
    already = set(through._base_manager.filter(**{own: primary_pk}).values_list(other, flat=True))
    rows.delete()
    through._base_manager.bulk_create(through(**{own: primary_pk, other: pk}) for pk in sorted(linked - already))


# (record type, field name, [(record id, the duplicate's id it pointed at)]): references
# a merge moved on records that keep a field history.
MovedReferences = list[tuple[str, str, list[tuple[int, int]]]]


def _references_move(model: type[models.Model], *, primary_pk: int, duplicate_pks: list[int]) -> MovedReferences:
    """Point every row that references a duplicate at the primary instead.

    This walks the model's relations rather than naming them, so deals, tasks,
    activities, quotes, converted leads, tags (and whatever references a contact or a
    company tomorrow) all move: a merge must move everything or nothing, so it writes
    through the other apps' models here, inside the one transaction, instead of calling
    their services one record at a time. `_base_manager` includes trashed rows, which
    then point at the primary if they are restored. Returns what moved on records with
    a field history, for the merge to record.
    """
    moved: MovedReferences = []
    for field in model._meta.many_to_many:
        through = field.remote_field.through
        own = through._meta.get_field(field.m2m_field_name()).attname
        other = through._meta.get_field(field.m2m_reverse_field_name()).attname
        _m2m_move(through, own, other, primary_pk, duplicate_pks)
    for relation in model._meta.related_objects:
        if relation.many_to_many:
            through = relation.through
            own = through._meta.get_field(relation.field.m2m_reverse_field_name()).attname
            other = through._meta.get_field(relation.field.m2m_field_name()).attname
            _m2m_move(through, own, other, primary_pk, duplicate_pks)
        else:
            column = relation.field.attname
            pointing = relation.related_model._base_manager.filter(**{f"{column}__in": duplicate_pks})
            record_type = relation.related_model._meta.model_name
            if record_type in HISTORY_RECORD_TYPES:
                moved.append((record_type, relation.field.name, list(pointing.values_list("pk", column))))
            pointing.update(**{column: primary_pk})
    return moved


def _merge_history(
    *,
    actor: User | None,
    primary: R,
    before: R,
    duplicates: Sequence[R],
    fields: Sequence[str],
    tags_before: list[str],
    moved: MovedReferences,
) -> None:
    """The merge in the field history: on the primary what it gained (filled fields,
    united emails and phones, tags) and which duplicates went into it; on each
    duplicate where it went; on records that pointed at a duplicate, the new link."""
    changes = record_changes(before, primary, fields)
    changes += tag_change(tags_before, primary.tags.values_list("name", flat=True))
    changes += [event_change(MERGED_FROM, new=duplicate.pk, new_label=str(duplicate)) for duplicate in duplicates]
    field_changes_record(record=primary, changes=changes, actor=actor)
    for duplicate in duplicates:
        into = event_change(MERGED_INTO, new=primary.pk, new_label=str(primary))
        field_changes_record(record=duplicate, changes=[into], actor=actor)
    names = {duplicate.pk: str(duplicate) for duplicate in duplicates}
    for record_type, field, rows in moved:
        changes_by_id: dict[int, list[Change]] = {
            pk: [Change(field=field, old=old, new=primary.pk, old_label=names.get(old, ""), new_label=str(primary))]
            for pk, old in rows
        }
        records_changes_record(record_type=record_type, changes_by_id=changes_by_id, actor=actor)


def _merge(
    model: type[R], *, actor: User | None, primary: R, duplicates: Sequence[R], fill: Sequence[str]
) -> tuple[R, list[R]]:
    primary, duplicates = _merge_lock(model, actor=actor, primary=primary, duplicates=duplicates)
    duplicate_pks = [duplicate.pk for duplicate in duplicates]
    before = copy.copy(primary)
    tags_before = list(primary.tags.values_list("name", flat=True))
    primary.emails = _union(primary.emails, (duplicate.emails for duplicate in duplicates))
    primary.phones = _union(primary.phones, (duplicate.phones for duplicate in duplicates))
    _fill_empty(primary, duplicates, fill)
    _fill_address(primary, duplicates)
    primary.custom_fields = _custom_fields_united(primary.custom_fields, [d.custom_fields for d in duplicates])
    primary.updated_by = actor
    try:
        # A savepoint, so a clash becomes a clear Conflict and the caller's transaction survives.
        with transaction.atomic():
            moved = _references_move(model, primary_pk=primary.pk, duplicate_pks=duplicate_pks)
            primary.save()
    except IntegrityError as error:
        raise Conflict(
            _("These records cannot be merged: their linked records clash. Nothing was changed."),
            code="merge_conflict",
        ) from error
    with history_batch("merge"):
        fields = ["emails", "phones", *fill, *ADDRESS_FIELDS]
        _merge_history(
            actor=actor,
            primary=primary,
            before=before,
            duplicates=duplicates,
            fields=fields,
            tags_before=tags_before,
            moved=moved,
        )
        for duplicate in duplicates:
            record_trash(actor=actor, record=duplicate)
    return primary, duplicates


def _merge_note(duplicates: Sequence[ClientRecord]) -> tuple[str, str]:
    subject = ngettext("Merged %(count)d duplicate", "Merged %(count)d duplicates", len(duplicates)) % {
        "count": len(duplicates)
    }
    body = "\n".join(f"{duplicate} (#{duplicate.pk})" for duplicate in duplicates)
    return subject, body


@transaction.atomic
def contacts_merge(*, actor: User | None, primary: Contact, duplicates: Sequence[Contact]) -> Contact:
    """Fold `duplicates` into `primary`: all or nothing.

    Every reference to a duplicate (deals, tasks, activities, quotes, leads converted into
    it, tags) moves to the primary; emails and phones are united; fields the primary
    lacks (custom fields too) are filled from the duplicates in the order given; the
    duplicates go to the trash and a note on the primary's timeline says what was merged. Needs EDIT on the
    primary and DELETE on the duplicates. Refuses with Conflict: nothing to merge
    (`merge_nothing`), merging a record with itself (`merge_with_itself`), a record in
    the trash (`merge_trashed`); RecordNotFound for records the actor cannot see.
    """
    primary, duplicates = _merge(
        Contact,
        actor=actor,
        primary=primary,
        duplicates=duplicates,
        fill=("company_id", "job_title", "birthday", "notes", "owner_id", "team_id"),
    )
    subject, body = _merge_note(duplicates)
    activity_log(actor=actor, kind=ActivityKind.NOTE, contact=primary, subject=subject, body=body)
    return primary


@transaction.atomic
def companies_merge(*, actor: User | None, primary: Company, duplicates: Sequence[Company]) -> Company:
    """Fold `duplicates` into `primary`: all or nothing.

    Like contacts_merge, and the duplicates' contacts become the primary's contacts.
    Same refusals and permissions.
    """
    primary, duplicates = _merge(
        Company,
        actor=actor,
        primary=primary,
        duplicates=duplicates,
        fill=("website", "industry", "notes", "owner_id", "team_id"),
    )
    subject, body = _merge_note(duplicates)
    activity_log(actor=actor, kind=ActivityKind.NOTE, company=primary, subject=subject, body=body)
    return primary
