"""Writes for leads and lead forms: capture, follow-up automation, qualification, conversion.

Every write checks the policy layer (crm.access) first. Other apps are reached through
their services (contact_create, company_create, deal_create, task_create, activity_log,
notify, task_assign, task_cancel) — except for re-linking a converted lead's open tasks
and timeline to the new contact and deal, which crm.activities has no service for yet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import ADMIN
from crm import access
from crm.access import Action
from crm.activities.models import Activity, ActivityKind, Task, TaskKind, TaskPriority, TaskStatus
from crm.activities.selectors import task_list
from crm.activities.services import activity_log, task_assign, task_cancel, task_create
from crm.bulk_writes import BulkOutcome, records_bulk_write
from crm.clients.models import Company, Contact
from crm.clients.selectors import company_duplicates
from crm.clients.services import company_create, contact_create, contact_update
from crm.custom_fields.selectors import custom_fields_for
from crm.custom_fields.values import values_clean
from crm.deals.models import Deal, Pipeline
from crm.deals.services import deal_create
from crm.errors import AccessDenied, Conflict, RecordNotFound
from crm.history.services import record_save_with_history
from crm.leads.models import Lead, LeadAssignment, LeadChannel, LeadForm, LeadStatus
from crm.leads.origins import origin_normalize, origin_normalize_or_empty
from crm.leads.source import SOURCE_FIELDS, source_data_clean
from crm.leads.throttle import lead_form_throttle
from crm.limits import require_plan_room
from crm.models import Tag, WorkspaceSettings
from crm.notifications.models import NotificationKind
from crm.notifications.services import notify
from crm.phones import phone_display, phone_normalize
from crm.selectors import workspace_settings
from crm.tags import record_tags_set, tag_name_clean
from crm.validation import FieldErrors, clean_emails
from crm.webhooks import events as webhook_events

NAME_MAX_LENGTH = 200
COMPANY_NAME_MAX_LENGTH = 200
EMAIL_MAX_LENGTH = 254
MESSAGE_MAX_LENGTH = 10_000
REASON_MAX_LENGTH = 255
FORM_NAME_MAX_LENGTH = 100
THANK_YOU_MAX_LENGTH = 2_000
REDIRECT_URL_MAX_LENGTH = 2_000
MAX_ALLOWED_ORIGINS = 50
CONTACT_NAME_PART_MAX_LENGTH = 100  # crm.clients Contact.first_name / last_name

# The public form's field names (API.md) and the hidden trap only robots fill in.
HONEYPOT_FIELD = "website"
FORM_TEXT_FIELDS = ("name", "phone", "email", "company", "message")

# NUL cannot be stored by PostgreSQL; other control characters (but line breaks and
# tabs in long text) only hide text.
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_CHARS_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _Unset(Enum):
    UNSET = "unset"


UNSET = _Unset.UNSET


# --- input cleaning ----------------------------------------------------------------


def _clean_text(value: str, *, field: str, max_length: int, errors: FieldErrors, multiline: bool = False) -> str:
    pattern = _CONTROL_CHARS_MULTILINE if multiline else _CONTROL_CHARS
    text = pattern.sub("", (value or "").replace("\r\n", "\n")).strip()
    if len(text) > max_length:
        errors.add(field, _("Use at most %(limit)d characters.") % {"limit": max_length}, "max_length")
    return text[:max_length]


def _clean_phone(value: str, *, errors: FieldErrors, region: str) -> str:
    text = _CONTROL_CHARS.sub("", value or "").strip()
    if not text:
        return ""
    try:
        return phone_normalize(text[:100], region=region)
    except ValidationError as error:
        errors.capture("phone", error)
        return ""


def _clean_email(value: str, *, errors: FieldErrors) -> str:
    text = _CONTROL_CHARS.sub("", value or "").strip()
    if len(text) > EMAIL_MAX_LENGTH:
        errors.add("email", _("An email address has at most 254 characters."), "max_length")
        return ""
    emails = clean_emails([text], field="email", errors=errors)
    return emails[0] if emails else ""


def _check_owner(owner: User | None, *, field: str, errors: FieldErrors) -> None:
    if owner is not None and not owner.is_active:
        errors.add(field, _("%(name)s is switched off and cannot own records.") % {"name": owner}, "inactive_user")


def _language_for(user: User | None) -> str:
    """The recipient's language, else the workspace's, for texts written on their behalf."""
    if user is not None and user.language:
        return user.language
    return getattr(getattr(connection, "tenant", None), "language", "") or translation.get_language() or "en"


def _local_time(moment: datetime, zone_name: str) -> str:
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _first_active_admin() -> User | None:
    return User.objects.filter(is_active=True, role__code=ADMIN).order_by("id").first()


# --- leads ---------------------------------------------------------------------------


@transaction.atomic
def lead_create(
    *,
    actor: User | None,
    name: str,
    phone: str = "",
    email: str = "",
    company_name: str = "",
    message: str = "",
    owner: User | None = None,
    channel: str = LeadChannel.MANUAL,
    source: Mapping[str, object] | None = None,
    form: LeadForm | None = None,
    tags: Iterable[str | Tag] = (),
    custom_fields: Mapping[str, Any] | None = None,
) -> Lead:
    """Create a lead and, in the same transaction, its follow-up task and notification.

    Input: the phone is stored in E.164 (the workspace's default region reads local
    formats), the email lowercased. A lead needs a name or a way to reach the person:
    when the name is empty but an email or phone is given, the lead is named after the
    email (or the formatted phone) — a visitor who left only a number is still worth a
    call, and the task then reads "Call +7 912 345-67-89". Source data is cleaned by
    `crm.leads.source.source_data_clean` (UTM tags from the landing page, search engine
    from the referrer). Raises ValidationError with per-field codes.

    Owner: `owner`, else the acting user (the system creates unowned leads). `tags` are
    names (unknown ones are created) or Tag objects. `custom_fields` (key: value) are
    cleaned by crm.custom_fields; given (even empty) means a person's input, which must
    fill the required fields; None (a website form's lead) skips that check.

    Follow-up: a high-priority call task "Call <name>" due at arrival +
    WorkspaceSettings.lead_followup_minutes, assigned to the owner, and a `lead_assigned`
    notification for the owner unless the owner created the lead themselves. An unowned
    lead's task goes to the workspace's first active administrator (who is notified),
    so no lead is left without someone to call it; the lead itself stays unowned.
    """
    access.require(actor=actor, action=Action.CREATE, model=Lead)
    errors = FieldErrors()
    workspace = workspace_settings()
    region = workspace.default_phone_region
    name = _clean_text(name, field="name", max_length=NAME_MAX_LENGTH, errors=errors)
    phone = _clean_phone(phone, errors=errors, region=region)
    email = _clean_email(email, errors=errors)
    company_name = _clean_text(company_name, field="company_name", max_length=COMPANY_NAME_MAX_LENGTH, errors=errors)
    message = _clean_text(message, field="message", max_length=MESSAGE_MAX_LENGTH, errors=errors, multiline=True)
    if channel not in LeadChannel.values:
        errors.add("channel", _("Choose one of the listed channels."), "invalid_choice")
    owner = owner if owner is not None else actor
    _check_owner(owner, field="owner", errors=errors)
    tags = list(tags)
    for item in tags:
        if not isinstance(item, Tag):
            tag_name_clean(item, field="tags", errors=errors)
    if not name and not errors.errors.get("phone") and not errors.errors.get("email"):
        name = email or phone_display(phone, region=region)
        if not name:
            errors.add("name", _("Enter the person's name, phone or email."), "required")
    custom_values = values_clean(
        fields=custom_fields_for("lead"),
        given=custom_fields,
        creating=custom_fields is not None,
        errors=errors,
        region=region,
    )
    errors.raise_if_any()

    lead = Lead.objects.create(
        name=name,
        phone=phone,
        email=email,
        company_name=company_name,
        message=message,
        owner=owner,
        channel=channel,
        form=form,
        custom_fields=custom_values,
        created_by=actor,
        updated_by=actor,
        **source_data_clean(source),
    )
    if tags:
        record_tags_set(actor=actor, record=lead, tags=tags, history=False)
    _lead_followup_create(actor=actor, lead=lead, workspace=workspace)
    webhook_events.lead_created(lead)
    return lead


def lead_values_clean(given: Mapping[str, Any], *, errors: FieldErrors, region: str) -> dict[str, Any]:
    """The cleaning lead_create applies to the fields in `given` (name, phone, email,
    company_name, message, owner, status, utm_*), with the same messages and codes, for
    writers of many leads at once. A lead with neither name nor a way to reach them is
    refused on `name` (`required`); without a name it is named after the email or phone."""
    cleaned: dict[str, Any] = {}
    for field, value in given.items():
        if field == "name":
            cleaned[field] = _clean_text(value, field="name", max_length=NAME_MAX_LENGTH, errors=errors)
        elif field == "phone":
            cleaned[field] = _clean_phone(value, errors=errors, region=region)
        elif field == "email":
            cleaned[field] = _clean_email(value, errors=errors)
        elif field == "company_name":
            cleaned[field] = _clean_text(value, field=field, max_length=COMPANY_NAME_MAX_LENGTH, errors=errors)
        elif field == "message":
            cleaned[field] = _clean_text(
                value, field=field, max_length=MESSAGE_MAX_LENGTH, errors=errors, multiline=True
            )
        elif field == "owner":
            _check_owner(value, field="owner", errors=errors)
            cleaned[field] = value
        elif field == "status":
            if value not in LeadStatus.values or value == LeadStatus.CONVERTED:
                errors.add("status", _("Choose one of the listed statuses."), "invalid_choice")
            cleaned[field] = value
        elif field.startswith("utm_"):
            cleaned[field] = _clean_text(value, field=field, max_length=255, errors=errors)
        else:
            cleaned[field] = value
    if "name" in given and not cleaned.get("name") and not errors.errors.get("name"):
        reach = cleaned.get("email") or phone_display(cleaned.get("phone", ""), region=region)
        if reach:
            cleaned["name"] = reach
        elif not errors.errors.get("phone") and not errors.errors.get("email"):
            errors.add("name", _("Enter the person's name, phone or email."), "required")
    return cleaned


@transaction.atomic
def leads_import_batch(
    *,
    actor: User | None,
    creates: Sequence[Mapping[str, Any]],
    updates: Sequence[tuple[Lead, Mapping[str, Any]]],
) -> BulkOutcome:
    """Create and update many leads at once (the import job's writer).

    Values are cleaned by `lead_values_clean` (custom fields by crm.custom_fields).
    Created leads have channel `import` and, unlike `lead_create`, get **no** follow-up
    task, notification or webhook: ten years of old leads must not become 100,000
    "call now" tasks. Updates record their field history with the bound channel and
    batch. One INSERT and one UPDATE per batch; the caller checks CREATE/EDIT.
    """
    access.require(actor=actor, action=Action.CREATE, model=Lead)
    rows = [{**values, "channel": LeadChannel.IMPORT, "owner": values.get("owner", actor)} for values in creates]
    return records_bulk_write(model=Lead, actor=actor, creates=rows, updates=list(updates))


def _lead_followup_create(*, actor: User | None, lead: Lead, workspace: WorkspaceSettings) -> Task:
    """The "call this lead within the hour" discipline of seed 001."""
    assignee = lead.owner or _first_active_admin()
    region = workspace.default_phone_region
    due_at = lead.created_at + timedelta(minutes=workspace.lead_followup_minutes)
    with translation.override(_language_for(assignee)):
        details = [
            phone_display(lead.phone, region=region),
            lead.email,
            lead.company_name,
            lead.message[:500],
        ]
        task = task_create(
            actor=actor,
            title=_("Call %(name)s") % {"name": lead.name},
            description="\n".join(part for part in details if part),
            due_at=due_at,
            owner=assignee,
            kind=TaskKind.CALL,
            priority=TaskPriority.HIGH,
            lead=lead,
        )
        if assignee is not None and assignee != actor:
            came_from = lead.form.name if lead.form_id else str(LeadChannel(lead.channel).label)
            notify(
                recipient=assignee,
                kind=NotificationKind.LEAD_ASSIGNED,
                title=_("New lead: %(name)s") % {"name": lead.name},
                body=_("From %(source)s. Call by %(due)s.")
                % {"source": came_from, "due": _local_time(due_at, workspace.time_zone)},
            )
    return task


def _form_text(data: Mapping[str, object], field: str, errors: FieldErrors) -> str:
    """A text field of a form post: strings and numbers are taken, other JSON types refused."""
    value = data.get(field)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        errors.add(field, _("Send this field as text."), "invalid")
        return ""
    return str(value)


def lead_form_origin_allowed(*, form: LeadForm, origin: str) -> bool:
    """Whether a post with this `Origin` header may reach `form`.

    No header (server-to-server posts, old browsers): allowed — CORS protects browsers'
    visitors, it is no authentication, and the rate limits still apply. A form with no
    allowed origins listed accepts any site. Otherwise the origin must be listed;
    `null` (sandboxed frames, local files) and malformed origins never are.
    """
    if not origin:
        return True
    if not form.allowed_origins:
        return True
    normalized = origin_normalize_or_empty(origin)
    return bool(normalized) and normalized in form.allowed_origins


def lead_capture_from_form(*, form: LeadForm, data: Mapping[str, object], remote_addr: str, origin: str) -> Lead | None:
    """Take a submission of the public form `form`; returns the lead, or None for spam.

    Order and guarantees:
    1. AccessDenied (code `origin_not_allowed`) when `origin` may not post here;
    2. Throttled (code `throttled`, `retry_after`) past the per-address or per-form rate
       limit — counted before anything else, so invalid posts use up budget too;
    3. a filled honeypot field answers None and creates nothing (the caller pretends
       success, so the robot learns nothing);
    4. ValidationError per field (also: a phone or an email is required — a web lead
       nobody can call back is no lead);
    5. in one transaction, with the form row locked: the owner is chosen (the form's
       owner, or round robin among its active people continuing after the one who got
       the previous lead — concurrent submissions rotate correctly), and the lead is
       created with channel `web_form` plus its follow-up task (see `lead_create`).
       RecordNotFound when the form was switched off meanwhile.

    Not wrapped in one transaction as a whole on purpose: the rate-limit counters live
    in the cache, which may be the database, and must survive a refused submission.
    """
    if not lead_form_origin_allowed(form=form, origin=origin):
        raise AccessDenied(_("This site may not send leads to this form."), code="origin_not_allowed")
    lead_form_throttle(form_id=form.pk, remote_addr=remote_addr)
    honeypot = data.get(HONEYPOT_FIELD)
    if honeypot not in (None, "", [], {}):
        return None

    errors = FieldErrors()
    fields = {field: _form_text(data, field, errors) for field in FORM_TEXT_FIELDS}
    if not fields["phone"].strip() and not fields["email"].strip() and not errors.errors:
        errors.add("phone", _("Leave a phone number or an email so we can get back to you."), "contact_required")
    errors.raise_if_any()
    source = {field: data.get(field) for field in SOURCE_FIELDS if field != "search_engine"}
    try:
        return _lead_capture_commit(form_id=form.pk, fields=fields, source=source)
    except ValidationError as error:
        # Answer in the public form's field names (API.md: `company`, not `company_name`).
        if not hasattr(error, "error_dict"):
            raise
        renamed = {
            ("company" if field == "company_name" else field): items for field, items in error.error_dict.items()
        }
        raise ValidationError(renamed) from error


@transaction.atomic
def _lead_capture_commit(*, form_id: int, fields: dict[str, str], source: Mapping[str, object]) -> Lead:
    form = LeadForm.objects.select_for_update(of=("self",)).filter(pk=form_id, is_active=True).first()
    if form is None:
        raise RecordNotFound(_("This form no longer accepts submissions."))
    owner = _lead_form_next_owner(form)
    lead = lead_create(
        actor=None,
        name=fields["name"],
        phone=fields["phone"],
        email=fields["email"],
        company_name=fields["company"],
        message=fields["message"],
        owner=owner,
        channel=LeadChannel.WEB_FORM,
        source=source,
        form=form,
    )
    if form.assignment == LeadAssignment.ROUND_ROBIN and owner is not None:
        LeadForm.objects.filter(pk=form.pk).update(last_assigned=owner)
    return lead


def _lead_form_next_owner(form: LeadForm) -> User | None:
    """Who gets the next lead of `form` (the caller holds the form's row lock)."""
    if form.assignment == LeadAssignment.ROUND_ROBIN:
        people = list(form.round_robin_users.filter(is_active=True).order_by("id"))
        if people:
            after = form.last_assigned_id or 0
            return next((person for person in people if person.pk > after), people[0])
    if form.owner is not None and form.owner.is_active:
        return form.owner
    return None


def _lead_for_update(lead: Lead) -> Lead:
    """The lead's current row, locked; RecordNotFound when it was trashed meanwhile."""
    locked = Lead.objects.select_for_update(of=("self",)).filter(pk=lead.pk).first()
    if locked is None:
        raise RecordNotFound(_("This lead no longer exists."))
    return locked


def _collecting(failures: FieldErrors, record: str, create):
    """`create()`, or None with its field errors added to `failures` (custom fields named
    `<record>.custom_fields.<key>`, so a contact's and a deal's same key stay apart)."""
    try:
        return create()
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise
        for name, problems in error.error_dict.items():
            target = f"{record}.{name}" if name.startswith("custom_fields") else name
            failures.errors.setdefault(target, []).extend(problems)
        return None


def _refuse_if_closed(lead: Lead) -> None:
    if lead.status == LeadStatus.CONVERTED:
        raise Conflict(_("This lead has already been converted."), code="already_converted")


@transaction.atomic
def lead_update(
    *,
    actor: User | None,
    lead: Lead,
    name: str | _Unset = UNSET,
    phone: str | _Unset = UNSET,
    email: str | _Unset = UNSET,
    company_name: str | _Unset = UNSET,
    message: str | _Unset = UNSET,
    owner: User | _Unset | None = UNSET,
    tags: Iterable[str | Tag] | _Unset = UNSET,
    custom_fields: Mapping[str, Any] | _Unset = UNSET,
) -> Lead:
    """Change the given fields of a lead (others stay as they are); `tags` replaces the
    list; `custom_fields` changes the keys given. Any change moves `updated_at` (the
    API's ETag), tags included, and goes to the field history.

    A converted lead is history and refuses changes (Conflict `already_converted`).
    A new owner is notified, and the lead's open tasks assigned to the previous owner
    move to the new one, so the follow-up call is not left with someone who no longer
    works the lead. Raises ValidationError per field.
    """
    access.require(actor=actor, action=Action.EDIT, record=lead)
    lead = _lead_for_update(lead)
    _refuse_if_closed(lead)
    errors = FieldErrors()
    region = workspace_settings().default_phone_region
    values: dict[str, Any] = {}
    if name is not UNSET:
        values["name"] = _clean_text(name, field="name", max_length=NAME_MAX_LENGTH, errors=errors)
        if not values["name"]:
            errors.add("name", _("Enter the person's name."), "required")
    if phone is not UNSET:
        values["phone"] = _clean_phone(phone, errors=errors, region=region)
    if email is not UNSET:
        values["email"] = _clean_email(email, errors=errors)
    if company_name is not UNSET:
        values["company_name"] = _clean_text(
            company_name, field="company_name", max_length=COMPANY_NAME_MAX_LENGTH, errors=errors
        )
    if message is not UNSET:
        values["message"] = _clean_text(
            message, field="message", max_length=MESSAGE_MAX_LENGTH, errors=errors, multiline=True
        )
    previous_owner_id = lead.owner_id
    if owner is not UNSET:
        _check_owner(owner, field="owner", errors=errors)
        values["owner"] = owner
    if custom_fields is not UNSET:
        values["custom_fields"] = values_clean(
            fields=custom_fields_for("lead"),
            given=custom_fields,
            current=lead.custom_fields,
            creating=False,
            errors=errors,
            region=region,
        )
    if tags is not UNSET:
        tags = list(tags)
        for item in tags:
            if not isinstance(item, Tag):
                tag_name_clean(item, field="tags", errors=errors)
    errors.raise_if_any()
    if not values and tags is UNSET:
        return lead
    record_save_with_history(lead, values, actor=actor)
    if tags is not UNSET:
        record_tags_set(actor=actor, record=lead, tags=tags)
    if owner is not UNSET and lead.owner_id != previous_owner_id and lead.owner is not None:
        # An unowned lead's tasks went to an administrator as a stand-in: they all move.
        for task in _lead_open_tasks(actor=actor, lead=lead):
            if previous_owner_id is None or task.owner_id == previous_owner_id:
                task_assign(actor=actor, task=task, owner=lead.owner)
        if lead.owner != actor:
            with translation.override(_language_for(lead.owner)):
                notify(
                    recipient=lead.owner,
                    kind=NotificationKind.LEAD_ASSIGNED,
                    title=_("Lead assigned to you: %(name)s") % {"name": lead.name},
                )
    return lead


# Statuses a person sets by hand; `disqualified` and `converted` have their own services.
MANUAL_STATUSES = (LeadStatus.NEW, LeadStatus.IN_PROGRESS, LeadStatus.QUALIFIED)


@transaction.atomic
def lead_set_status(*, actor: User | None, lead: Lead, status: str) -> Lead:
    """Move a lead between new / in progress / qualified.

    Setting one of these on a disqualified lead reopens it (the reason is cleared).
    A converted lead refuses (Conflict `already_converted`); `disqualified` goes through
    `lead_disqualify` (it needs a reason) and `converted` through `lead_convert`.
    """
    access.require(actor=actor, action=Action.EDIT, record=lead)
    if status not in MANUAL_STATUSES:
        raise ValidationError(
            {"status": ValidationError(_("Choose new, in progress or qualified."), code="invalid_choice")}
        )
    lead = _lead_for_update(lead)
    _refuse_if_closed(lead)
    record_save_with_history(lead, {"status": status, "disqualified_reason": ""}, actor=actor)
    return lead


@transaction.atomic
def lead_disqualify(*, actor: User | None, lead: Lead, reason: str) -> Lead:
    """Disqualify a lead with a reason (required, code `required`).

    Its open tasks are cancelled, so nobody is reminded every hour to call a lead that
    is off the table, and the reason goes on the lead's timeline. A converted lead
    refuses (Conflict `already_converted`).
    """
    access.require(actor=actor, action=Action.EDIT, record=lead)
    errors = FieldErrors()
    reason = _clean_text(reason, field="reason", max_length=REASON_MAX_LENGTH, errors=errors)
    if not reason:
        errors.add("reason", _("Say why this lead is disqualified."), "required")
    errors.raise_if_any()
    lead = _lead_for_update(lead)
    _refuse_if_closed(lead)
    # The note tells the change on the timeline: one time for both (crm.history).
    now = timezone.now()
    record_save_with_history(
        lead, {"status": LeadStatus.DISQUALIFIED, "disqualified_reason": reason}, actor=actor, at=now
    )
    for task in _lead_open_tasks(actor=actor, lead=lead):
        task_cancel(actor=actor, task=task)
    activity_log(
        actor=actor, kind=ActivityKind.NOTE, lead=lead, subject=_("Disqualified"), body=reason, occurred_at=now
    )
    return lead


# --- conversion ----------------------------------------------------------------------


@dataclass(frozen=True)
class LeadConversion:
    lead: Lead
    contact: Contact
    company: Company | None
    deal: Deal


def _split_name(name: str) -> tuple[str, str]:
    """ "Ivan Petrov" → ("Ivan", "Petrov"); one word is a first name; the rest is the last name.

    Word order differs between cultures ("Petrov Ivan Ivanovich"), so nothing cleverer
    is guessed; the contact card can be corrected by hand.
    """
    words = name.split()
    if not words:
        return "", ""
    first = words[0][:CONTACT_NAME_PART_MAX_LENGTH]
    last = " ".join(words[1:])[:CONTACT_NAME_PART_MAX_LENGTH].strip()
    return first, last


def _contact_complete(*, actor: User | None, contact: Contact, lead: Lead, company: Company | None) -> Contact:
    """Add what the lead knows and the chosen contact lacks: its email, its phone, and the
    company when the contact has none. Nothing the contact already has is replaced."""
    changes: dict[str, object] = {}
    if lead.email and lead.email not in contact.emails:
        changes["emails"] = [*contact.emails, lead.email]
    if lead.phone and lead.phone not in contact.phones:
        changes["phones"] = [*contact.phones, lead.phone]
    if company is not None and contact.company_id is None:
        changes["company"] = company
    if not changes:
        return contact
    return contact_update(actor=actor, contact=contact, **changes)


def _lead_source(lead: Lead) -> dict[str, str]:
    return {field: getattr(lead, field) for field in ("channel", *SOURCE_FIELDS)}


@transaction.atomic
def lead_convert(
    *,
    actor: User | None,
    lead: Lead,
    pipeline: Pipeline | None = None,
    existing_contact: Contact | None = None,
    existing_company: Company | None = None,
    create_company: bool = True,
    deal_title: str | None = None,
    amount: Decimal | None = None,
    currency: str | None = None,
    contact_custom_fields: Mapping[str, Any] | None = None,
    company_custom_fields: Mapping[str, Any] | None = None,
    deal_custom_fields: Mapping[str, Any] | None = None,
) -> LeadConversion:
    """Turn a lead into a contact, a company (when one is named) and a deal — all or nothing.

    - Contact: `existing_contact` when the user chose a duplicate (see
      `lead_conversion_candidates`), given the lead's email, phone and company where it
      lacks them; else a new one named after the lead (first word → first name, the
      rest → last name) with the lead's email and phone.
    - Company: `existing_company`; else, when `create_company` and the lead names a
      company, the visible company with that exact name (case-insensitive) if there is
      one — one account per organisation rather than a duplicate per lead — or a new
      one; else the chosen existing contact's company. A new contact is linked to it.
    - Deal: in the first stage of `pipeline` (default: the workspace's default
      pipeline), titled `deal_title` or the company / lead name, carrying the lead's
      channel, UTM tags, search engine, landing page and referrer, linked to contact
      and company, owned by the lead's owner (else the actor).
    - The lead becomes `converted` with `converted_at` and links to all three; a
      `lead_converted` entry goes on every timeline involved; the lead's open tasks
      (its follow-up call) and its timeline are linked to the new contact and deal.

    - Custom fields: `contact_custom_fields` / `company_custom_fields` /
      `deal_custom_fields` (key: value) go to the records this conversion creates (a
      linked existing contact or company keeps its own); given, they must fill the
      required fields (a person's input), None skips that check. Their problems come
      back as `contact.custom_fields.<key>`, `company.custom_fields.<key>` and
      `deal.custom_fields.<key>`, all at once.

    Refuses with Conflict `already_converted` for a converted lead (also when two
    people convert at once: the lead row is locked) and `lead_disqualified` for a
    disqualified one. Raises ValidationError per field (amount, currency, pipeline).
    """
    access.require(actor=actor, action=Action.EDIT, record=lead)
    access.require(actor=actor, action=Action.CREATE, model=Contact)
    lead = _lead_for_update(lead)
    _refuse_if_closed(lead)
    if lead.status == LeadStatus.DISQUALIFIED:
        raise Conflict(_("A disqualified lead cannot be converted; reopen it first."), code="lead_disqualified")

    errors = FieldErrors()
    for field, record in (("existing_contact", existing_contact), ("existing_company", existing_company)):
        if record is not None:
            if record.is_trashed:
                errors.add(field, _("This record is in the trash."), "trashed")
            else:
                access.require(actor=actor, action=Action.EDIT, record=record)
    amount_value = Decimal("0")
    if amount is not None:
        try:
            amount_value = Decimal(str(amount))
            if not amount_value.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors.add("amount", _("Enter a number."), "invalid")
            amount_value = Decimal("0")
    errors.raise_if_any()
    owner = lead.owner if lead.owner is not None and lead.owner.is_active else actor

    failures = FieldErrors()
    company = existing_company
    if company is None and create_company and lead.company_name:
        company = company_duplicates(actor=actor, name=lead.company_name).order_by("id").first()
        if company is None:
            company = _collecting(
                failures,
                "company",
                lambda: company_create(
                    actor=actor,
                    name=lead.company_name,
                    owner=owner,
                    website=_website_of(lead.email),
                    custom_fields=company_custom_fields,
                ),
            )
    if company is None and existing_contact is not None and existing_contact.company_id:
        company = existing_contact.company

    contact = existing_contact
    if contact is not None:
        contact = _contact_complete(actor=actor, contact=contact, lead=lead, company=company)
    else:
        first_name, last_name = _split_name(lead.name)
        contact = _collecting(
            failures,
            "contact",
            lambda: contact_create(
                actor=actor,
                first_name=first_name,
                last_name=last_name,
                emails=[lead.email] if lead.email else [],
                phones=[lead.phone] if lead.phone else [],
                company=company,
                owner=owner,
                notes=lead.message,
                custom_fields=contact_custom_fields,
            ),
        )

    deal = _collecting(
        failures,
        "deal",
        lambda: deal_create(
            actor=actor,
            title=(deal_title or "").strip() or lead.company_name or lead.name,
            amount=amount_value,
            currency=currency or "",
            pipeline=pipeline,
            contact=contact,
            company=company,
            owner=owner,
            source=_lead_source(lead),
            custom_fields=deal_custom_fields,
        ),
    )
    # Every record's problems at once; the transaction then writes nothing.
    failures.raise_if_any()

    now = timezone.now()
    lead.converted_at = now  # the time of the change itself: not recorded twice
    record_save_with_history(
        lead,
        {
            "status": LeadStatus.CONVERTED,
            "converted_contact": contact,
            "converted_company": company,
            "converted_deal": deal,
        },
        actor=actor,
        also_save=("converted_at",),
        at=now,
    )
    # crm.activities has no service to re-link records yet; these two bulk updates are the
    # only writes this app makes to its tables (they move there once one exists).
    Task.objects.filter(lead=lead, status=TaskStatus.OPEN).update(
        contact=contact, deal=deal, company=company, updated_at=now
    )
    Activity.objects.filter(lead=lead, contact__isnull=True).update(contact=contact, updated_at=now)
    activity_log(
        actor=actor,
        kind=ActivityKind.LEAD_CONVERTED,
        lead=lead,
        contact=contact,
        company=company,
        deal=deal,
        subject=_("Lead converted: %(name)s") % {"name": lead.name},
        occurred_at=now,
    )
    conversion = LeadConversion(lead=lead, contact=contact, company=company, deal=deal)
    webhook_events.lead_converted(conversion)
    return conversion


# Free mail services: their domain is no company's website.
_FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "yandex.ru",
        "ya.ru",
        "yandex.com",
        "mail.ru",
        "bk.ru",
        "inbox.ru",
        "list.ru",
        "rambler.ru",
        "qq.com",
        "163.com",
    }
)


def _website_of(email: str) -> str:
    """The company site guessed from a work email (`ivan@acme.ru` → `https://acme.ru`)."""
    domain = email.rpartition("@")[2].lower()
    if not domain or domain in _FREE_MAIL_DOMAINS or "." not in domain:
        return ""
    return f"https://{domain}"


def _lead_open_tasks(*, actor: User | None, lead: Lead) -> list[Task]:
    """The lead's open tasks (a handful at most: the follow-up call and a few more)."""
    return list(task_list(actor=actor, status=TaskStatus.OPEN).filter(lead=lead))


# --- lead forms ----------------------------------------------------------------------


def _clean_origins(values: Iterable[str], errors: FieldErrors) -> list[str]:
    cleaned: list[str] = []
    for value in values:
        if not (value or "").strip():
            continue
        try:
            origin = origin_normalize(value)
        except ValidationError as error:
            errors.capture("allowed_origins", error)
            continue
        if origin not in cleaned:
            cleaned.append(origin)
    if len(cleaned) > MAX_ALLOWED_ORIGINS:
        errors.add(
            "allowed_origins",
            _("List at most %(count)d sites.") % {"count": MAX_ALLOWED_ORIGINS},
            "max_length",
        )
    return cleaned


def _clean_redirect_url(value: str, errors: FieldErrors) -> str:
    text = (value or "").strip()
    if not text:
        return ""
    if len(text) > REDIRECT_URL_MAX_LENGTH:
        errors.add("redirect_url", _("This address is too long."), "max_length")
        return ""
    try:
        URLValidator(schemes=["http", "https"])(text)
    except ValidationError:
        errors.add("redirect_url", _("Enter a full address starting with https://."), "invalid_url")
        return ""
    return text


def _clean_form_people(
    *, assignment: str, owner: User | None, round_robin_users: list[User], errors: FieldErrors
) -> None:
    if assignment not in LeadAssignment.values:
        errors.add("assignment", _("Choose one of the listed ways."), "invalid_choice")
    _check_owner(owner, field="owner", errors=errors)
    for person in round_robin_users:
        _check_owner(person, field="round_robin_users", errors=errors)
    if assignment == LeadAssignment.ROUND_ROBIN and not round_robin_users:
        errors.add("round_robin_users", _("Choose the people who take turns."), "required")


@transaction.atomic
def lead_form_create(
    *,
    actor: User | None,
    name: str,
    allowed_origins: Iterable[str] = (),
    assignment: str = LeadAssignment.OWNER,
    owner: User | None = None,
    round_robin_users: Iterable[User] = (),
    thank_you_text: str = "",
    redirect_url: str = "",
) -> LeadForm:
    """Create a web-to-lead form (administrators only: AccessDenied otherwise).

    Origins are stored normalised (`https://www.example.com`, no path, default port
    dropped); an empty list accepts posts from any site. With `owner` assignment and no
    owner given, the creating admin receives the leads. Raises ValidationError per field.
    """
    access.require(actor=actor, action=Action.CONFIGURE)
    require_plan_room("lead_forms", in_use=LeadForm.objects.count)
    errors = FieldErrors()
    name = _clean_text(name, field="name", max_length=FORM_NAME_MAX_LENGTH, errors=errors)
    if not name:
        errors.add("name", _("Give the form a name."), "required")
    origins = _clean_origins(allowed_origins, errors)
    people = list(round_robin_users)
    if assignment == LeadAssignment.OWNER and owner is None:
        owner = actor
    _clean_form_people(assignment=assignment, owner=owner, round_robin_users=people, errors=errors)
    thank_you_text = _clean_text(
        thank_you_text, field="thank_you_text", max_length=THANK_YOU_MAX_LENGTH, errors=errors, multiline=True
    )
    redirect_url = _clean_redirect_url(redirect_url, errors)
    errors.raise_if_any()
    form = LeadForm.objects.create(
        name=name,
        allowed_origins=origins,
        assignment=assignment,
        owner=owner,
        thank_you_text=thank_you_text,
        redirect_url=redirect_url,
        created_by=actor,
    )
    form.round_robin_users.set(people)
    return form


@transaction.atomic
def lead_form_update(
    *,
    actor: User | None,
    form: LeadForm,
    name: str | _Unset = UNSET,
    allowed_origins: Iterable[str] | _Unset = UNSET,
    assignment: str | _Unset = UNSET,
    owner: User | _Unset | None = UNSET,
    round_robin_users: Iterable[User] | _Unset = UNSET,
    thank_you_text: str | _Unset = UNSET,
    redirect_url: str | _Unset = UNSET,
    is_active: bool | _Unset = UNSET,
) -> LeadForm:
    """Change the given settings of a form (administrators only). The key never changes,
    so snippets already pasted on websites keep working. Raises ValidationError per field."""
    access.require(actor=actor, action=Action.CONFIGURE)
    form = LeadForm.objects.select_for_update(of=("self",)).get(pk=form.pk)
    errors = FieldErrors()
    if name is not UNSET:
        form.name = _clean_text(name, field="name", max_length=FORM_NAME_MAX_LENGTH, errors=errors)
        if not form.name:
            errors.add("name", _("Give the form a name."), "required")
    if allowed_origins is not UNSET:
        form.allowed_origins = _clean_origins(allowed_origins, errors)
    if assignment is not UNSET:
        form.assignment = assignment
    if owner is not UNSET:
        form.owner = owner
    people = list(form.round_robin_users.all()) if round_robin_users is UNSET else list(round_robin_users)
    _clean_form_people(assignment=form.assignment, owner=form.owner, round_robin_users=people, errors=errors)
    if thank_you_text is not UNSET:
        form.thank_you_text = _clean_text(
            thank_you_text, field="thank_you_text", max_length=THANK_YOU_MAX_LENGTH, errors=errors, multiline=True
        )
    if redirect_url is not UNSET:
        form.redirect_url = _clean_redirect_url(redirect_url, errors)
    if is_active is not UNSET:
        form.is_active = bool(is_active)
    errors.raise_if_any()
    form.save()
    if round_robin_users is not UNSET:
        form.round_robin_users.set(people)
    return form


@transaction.atomic
def lead_form_deactivate(*, actor: User | None, form: LeadForm) -> LeadForm:
    """Stop a form accepting leads (administrators only); its public address answers 404
    from now on. Its leads are kept; `lead_form_update(is_active=True)` switches it back on."""
    return lead_form_update(actor=actor, form=form, is_active=False)


def lead_form_snippet(form: LeadForm, base_url: str) -> str:
    """Copy-paste HTML for a customer's website: the form, its hidden source fields, a
    honeypot and a small script.

    `base_url` is the workspace's address (`https://acme.example.com`). The script fills
    the UTM fields from the page address, the landing page and the referrer, and sends
    with fetch asking for JSON, showing the thank-you text or the field errors in place;
    without JavaScript the browser posts normally and is redirected to the thank-you page.
    Labels are in the current language (the admin's).
    """
    parts = urlsplit(base_url.strip())
    root = f"{parts.scheme or 'https'}://{parts.netloc or parts.path}".rstrip("/")
    return render_to_string(
        "leads/snippet.html",
        {
            "form": form,
            "action": f"{root}/forms/{form.key}/",
            "element_id": f"crm-lead-form-{form.key}",
            "honeypot": HONEYPOT_FIELD,
            "utm_fields": ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"),
        },
    )
