"""Reads for companies and contacts, always through the policy layer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from crm import access
from crm.clients.models import Company, Contact
from crm.errors import RecordNotFound
from crm.models import Tag
from crm.search.terms import SearchTerms, search_terms
from crm.selectors import workspace_settings
from crm.validation import FieldErrors, clean_emails, clean_phones

# ordering parameter → ORDER BY; the id makes pages stable.
CONTACT_ORDERINGS = {
    "name": ("full_name", "id"),
    "-name": ("-full_name", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}
COMPANY_ORDERINGS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}


def contact_duplicates(*, actor: User | None, emails: list[str], phones: list[str]) -> QuerySet[Contact]:
    """Visible contacts sharing any email (case-insensitive) or phone (any format) with the given ones."""
    ignored = FieldErrors()
    region = workspace_settings().default_phone_region
    wanted_emails = clean_emails(emails, field="emails", errors=ignored)
    wanted_phones = clean_phones(phones, region=region, field="phones", errors=ignored)
    if not wanted_emails and not wanted_phones:
        return Contact.objects.none()
    match = Q()
    if wanted_emails:
        match |= Q(emails__overlap=wanted_emails)
    if wanted_phones:
        match |= Q(phones__overlap=wanted_phones)
    return access.visible(Contact.objects.filter(match), actor=actor).select_related("company")


def company_duplicates(*, actor: User | None, name: str) -> QuerySet[Company]:
    """Visible companies with the same name, whatever the case."""
    if not name.strip():
        return Company.objects.none()
    return access.visible(Company.objects.filter(name__iexact=name.strip()), actor=actor)


# --- lists --------------------------------------------------------------------------


# How many records an email or a phone may match in a list filter (it is one person's).
EXACT_MATCH_CAP = 1000


def _text_filter(model: type[Contact] | type[Company], terms: SearchTerms, *, name: str, prefix: str = "") -> Q:
    """Email or phone exactly, else the name (in-word from three characters, else its start).

    The name goes through lower(column), so the trigram and text_pattern_ops indexes
    apply. An email or phone is looked up first, into a handful of ids: left inside
    the list query, PostgreSQL's blind 0.5% estimate for array containment made it walk
    the whole name-ordered index looking for 25 matches (4.6 s on a million contacts).
    """
    if terms.email or terms.phone:
        lookup = {"emails__contains": [terms.email]} if terms.email else {"phones__contains": [terms.phone]}
        ids = list(model.objects.filter(**lookup).order_by().values_list("pk", flat=True)[:EXACT_MATCH_CAP])
        return Q(pk__in=ids)
    if terms.in_word:
        return Q(**{f"_{name}__contains": terms.text})
    match = Q(**{f"_{name}__startswith": terms.text})
    if prefix:
        match |= Q(**{f"_{prefix}__startswith": terms.text})
    return match


def _aware_bounds(created_from: date | datetime | None, created_to: date | datetime | None) -> Q:
    """Created-at range; a bare date means the whole day in the current time zone (both ends inclusive)."""
    condition = Q()
    if created_from is not None:
        if not isinstance(created_from, datetime):
            created_from = timezone.make_aware(datetime.combine(created_from, time.min))
        condition &= Q(created_at__gte=created_from)
    if created_to is not None:
        if not isinstance(created_to, datetime):
            end = timezone.make_aware(datetime.combine(created_to + timedelta(days=1), time.min))
            condition &= Q(created_at__lt=end)
        else:
            condition &= Q(created_at__lte=created_to)
    return condition


def _ordering(ordering: str, choices: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    if ordering not in choices:
        errors = FieldErrors()
        errors.add("ordering", _("Sort by one of: %(choices)s.") % {"choices": ", ".join(choices)}, "invalid_choice")
        errors.raise_if_any()
    return choices[ordering]


def _tag_id(tag: Tag | int | None) -> int | None:
    return tag.pk if isinstance(tag, Tag) else tag


def contact_list(
    *,
    actor: User | None,
    owner: User | None = None,
    tag: Tag | int | None = None,
    company: Company | int | None = None,
    created_from: date | datetime | None = None,
    created_to: date | datetime | None = None,
    search: str = "",
    ordering: str = "name",
) -> QuerySet[Contact]:
    """Live contacts the actor can see, filtered; company, owner and tags come along
    (two queries for any page: the rows and their tags).

    `search` matches the name (in-word from three characters, otherwise the start of
    the first or last name), an email exactly or a phone in any format. `ordering` is a
    key of CONTACT_ORDERINGS (ValidationError on `ordering`, code `invalid_choice`).
    """
    order_by = _ordering(ordering, CONTACT_ORDERINGS)
    queryset = Contact.objects.all()
    if owner is not None:
        queryset = queryset.filter(owner=owner)
    if tag is not None:
        queryset = queryset.filter(tags=_tag_id(tag))
    if company is not None:
        queryset = queryset.filter(company=company)
    queryset = queryset.filter(_aware_bounds(created_from, created_to))
    terms = search_terms(search)
    if not terms.is_empty:
        queryset = queryset.alias(_full_name=Lower("full_name"), _last_name=Lower("last_name")).filter(
            _text_filter(Contact, terms, name="full_name", prefix="last_name")
        )
    return (
        access.visible(queryset, actor=actor)
        .select_related("company", "owner")
        .prefetch_related("tags")
        .order_by(*order_by)
    )


def company_list(
    *,
    actor: User | None,
    owner: User | None = None,
    tag: Tag | int | None = None,
    created_from: date | datetime | None = None,
    created_to: date | datetime | None = None,
    search: str = "",
    ordering: str = "name",
) -> QuerySet[Company]:
    """Live companies the actor can see, filtered; owner and tags come along.

    `search` matches the name (in-word from three characters, otherwise its start), an
    email exactly or a phone in any format. `ordering` is a key of COMPANY_ORDERINGS.
    """
    order_by = _ordering(ordering, COMPANY_ORDERINGS)
    queryset = Company.objects.all()
    if owner is not None:
        queryset = queryset.filter(owner=owner)
    if tag is not None:
        queryset = queryset.filter(tags=_tag_id(tag))
    queryset = queryset.filter(_aware_bounds(created_from, created_to))
    terms = search_terms(search)
    if not terms.is_empty:
        queryset = queryset.alias(_name=Lower("name")).filter(_text_filter(Company, terms, name="name"))
    return access.visible(queryset, actor=actor).select_related("owner").prefetch_related("tags").order_by(*order_by)


# --- single records -----------------------------------------------------------------


def contact_get(*, actor: User | None, contact_id: int) -> Contact:
    """The live contact with this id if the actor can see it; RecordNotFound otherwise
    (missing, trashed, invisible and another workspace's all look the same)."""
    queryset = access.visible(Contact.objects.filter(pk=contact_id), actor=actor)
    contact = queryset.select_related("company", "owner", "team").prefetch_related("tags").first()
    if contact is None:
        raise RecordNotFound(_("This contact does not exist or you cannot see it."))
    return contact


def company_get(*, actor: User | None, company_id: int) -> Company:
    """The live company with this id if the actor can see it; RecordNotFound otherwise."""
    queryset = access.visible(Company.objects.filter(pk=company_id), actor=actor)
    company = queryset.select_related("owner", "team").prefetch_related("tags").first()
    if company is None:
        raise RecordNotFound(_("This company does not exist or you cannot see it."))
    return company


# --- possible duplicates ------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateGroup:
    """Contacts that share at least one email or phone, directly or through each other."""

    contacts: list[Contact]
    shared_emails: list[str]
    shared_phones: list[str]


_SHARED_VALUES_SQL = """
    SELECT value, array_agg(contact.id ORDER BY contact.id)
    FROM {table} AS contact, unnest(contact.{column}) AS value
    WHERE contact.id IN ({visible})
    GROUP BY value
    HAVING count(*) > 1
    ORDER BY count(*) DESC, value
    LIMIT %s
"""


def _shared_values(column: str, visible_sql: str, params: tuple, limit: int) -> list[tuple[str, list[int]]]:
    sql = _SHARED_VALUES_SQL.format(
        table=connection.ops.quote_name(Contact._meta.db_table),
        column=connection.ops.quote_name(column),
        visible=visible_sql,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params, limit))
        return [(value, list(ids)) for value, ids in cursor.fetchall()]


# How many recently changed contacts a scoped duplicates check starts from.
RECENT_CONTACTS_CAP = 2000


_HOLDERS_SQL = """
    SELECT wanted.value, array_agg(contact.id ORDER BY contact.id)
    FROM unnest(%s::text[]) AS wanted(value)
    JOIN {table} AS contact ON contact.{column} @> ARRAY[wanted.value]::{array_type}
    WHERE contact.deleted_at IS NULL
    GROUP BY wanted.value
    HAVING count(*) > 1
"""


def _holders(column: str, values: set[str]) -> list[tuple[str, list[int]]]:
    """For each value, the live contacts holding it (one GIN lookup per value)."""
    if not values:
        return []
    sql = _HOLDERS_SQL.format(
        table=connection.ops.quote_name(Contact._meta.db_table),
        column=connection.ops.quote_name(column),
        array_type=Contact._meta.get_field(column).db_type(connection),
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # Guessing 5,000 holders per value (no statistics for unique array elements),
        # PostgreSQL expects millions of rows and compiles the query (JIT): a third of
        # a second, more than the lookups themselves.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, [sorted(values)])
        return [(value, list(ids)) for value, ids in cursor.fetchall()]


def _shared_values_since(visible: QuerySet[Contact], changed_since: datetime) -> list[tuple[str, str, list[int]]]:
    """Shared values involving a contact changed since then, found through the indexes.

    One value at a time against the GIN indexes: a single `&&` with thousands of values
    looked cheap to PostgreSQL and compared every row with every value instead (minutes).
    """
    recent = visible.filter(updated_at__gte=changed_since).order_by("-updated_at")[:RECENT_CONTACTS_CAP]
    emails: set[str] = set()
    phones: set[str] = set()
    for contact_emails, contact_phones in recent.values_list("emails", "phones"):
        emails.update(contact_emails)
        phones.update(contact_phones)
    shared = [("email", value, ids) for value, ids in _holders("emails", emails)]
    shared += [("phone", value, ids) for value, ids in _holders("phones", phones)]
    if not shared:
        return []
    # The lookups above see every live contact; keep those the actor may see.
    allowed = set(visible.filter(pk__in={pk for _, _, ids in shared for pk in ids}).values_list("pk", flat=True))
    shared = [(kind, value, [pk for pk in ids if pk in allowed]) for kind, value, ids in shared]
    return [(kind, value, ids) for kind, value, ids in shared if len(ids) > 1]


def duplicate_groups(
    *, actor: User | None, limit: int = 100, changed_since: datetime | None = None
) -> list[DuplicateGroup]:
    """Groups of visible live contacts sharing an email or a phone, largest first,
    for a "possible duplicates" screen.

    Contacts linked through different values end up in one group (A shares an email
    with B, B a phone with C: A, B, C). Without `changed_since` every contact's emails
    and phones are grouped in the database (three queries, but a full scan: seconds on
    a million contacts, so for small workspaces or a nightly job). With it, only groups
    involving contacts changed since then (at most RECENT_CONTACTS_CAP of them) are
    found, through the indexes, fast at any size. At most `limit` shared values of each
    kind are considered.
    """
    visible = access.visible(Contact.objects.all(), actor=actor)
    if changed_since is not None:
        shared = _shared_values_since(visible, changed_since)
        shared = [entry for entry in shared if entry[0] == "email"][:limit] + [
            entry for entry in shared if entry[0] == "phone"
        ][:limit]
    else:
        try:
            visible_sql, params = visible.values("pk").query.sql_with_params()
        except EmptyResultSet:  # the actor may see no contact at all
            return []
        shared = [("email", value, ids) for value, ids in _shared_values("emails", visible_sql, params, limit)]
        shared += [("phone", value, ids) for value, ids in _shared_values("phones", visible_sql, params, limit)]
    if not shared:
        return []
    return _groups(shared)


def _groups(shared: list[tuple[str, str, list[int]]]) -> list[DuplicateGroup]:
    """Join contacts through the values they share (union-find), then load them."""
    parent: dict[int, int] = {}

    def root(pk: int) -> int:
        parent.setdefault(pk, pk)
        while parent[pk] != pk:
            parent[pk] = parent[parent[pk]]
            pk = parent[pk]
        return pk

    for _kind, _value, ids in shared:
        first = root(ids[0])
        for other in ids[1:]:
            parent[root(other)] = first

    contacts = Contact.objects.select_related("company").in_bulk(list(parent))
    members: dict[int, list[Contact]] = {}
    for pk in sorted(parent):
        if pk in contacts:
            members.setdefault(root(pk), []).append(contacts[pk])
    emails: dict[int, list[str]] = {}
    phones: dict[int, list[str]] = {}
    for kind, value, ids in shared:
        (emails if kind == "email" else phones).setdefault(root(ids[0]), []).append(value)
    groups = [
        DuplicateGroup(
            contacts=group, shared_emails=sorted(emails.get(key, [])), shared_phones=sorted(phones.get(key, []))
        )
        for key, group in members.items()
        if len(group) > 1
    ]
    groups.sort(key=lambda group: (-len(group.contacts), group.contacts[0].full_name.lower(), group.contacts[0].pk))
    return groups
