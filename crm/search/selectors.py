"""Quick search: the box at the top of every page, across leads, contacts, companies, deals.

Built to stay fast on a workspace with a million contacts:

- each kind is searched by its own small queries, one per index (no OR across tables or
  columns, which would make PostgreSQL give up its indexes), each `LIMIT`ed, and the
  next one runs only while the group still has room;
- names: the start of the name through the `lower(name) text_pattern_ops` b-tree indexes
  (`LIKE 'ann%'`), then, from three characters on, anywhere in the name through the
  `gin_trgm_ops` indexes (`LIKE '%ann%'`); shorter text matches starts only, since
  trigrams need three characters;
- an email is matched exactly, case-insensitively (stored lowercased), through the GIN
  indexes on the email arrays (`emails @> ARRAY['x@y']`) and the lead's `lower(email)`;
- a phone in any local format is read with the workspace's default region and matched in
  E.164 through the GIN phone-array indexes and the lead's phone index;
- contacts and deals are also found through the companies the text matched;
- custom fields marked searchable (crm.custom_fields), after the names: in-word from
  three characters through each field's trigram index on `lower(custom_fields ->>
  'key')`, an email or a phone exactly through the GIN index on `custom_fields`; such a
  hit's subtitle says which field matched and its value.

Results only hold records the actor can see (crm.access) and never trashed ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from enum import StrEnum

from django.db import connection, transaction
from django.db.models import Model, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Lower

from accounts.models import User
from crm import access
from crm.clients.models import Company, Contact
from crm.custom_fields.models import CustomField, FieldKind
from crm.custom_fields.selectors import custom_fields_searchable
from crm.custom_fields.values import value_display
from crm.deals.models import Deal
from crm.leads.models import Lead
from crm.search.terms import SearchTerms, search_terms
from crm.selectors import workspace_settings

# A search box shows a few hits per kind; more is a list page's job.
MAX_LIMIT = 50


class SearchKind(StrEnum):
    LEAD = "lead"
    CONTACT = "contact"
    COMPANY = "company"
    DEAL = "deal"


@dataclass(frozen=True)
class SearchHit:
    """One result row; `key` ("contact/42") names the card to open; `matched` the
    custom field whose value matched (its label), when that is how it was found."""

    kind: SearchKind
    id: int
    title: str
    subtitle: str
    key: str
    matched: str = ""


@dataclass(frozen=True)
class SearchResults:
    """Hits grouped by kind (every kind present, possibly empty), best matches first."""

    text: str
    groups: dict[SearchKind, list[SearchHit]] = field(default_factory=dict)

    def __iter__(self) -> Iterator[SearchHit]:
        for hits in self.groups.values():
            yield from hits

    def __len__(self) -> int:
        return sum(len(hits) for hits in self.groups.values())

    def keys(self) -> list[str]:
        return [hit.key for hit in self]


@dataclass(frozen=True)
class Stage:
    """One indexed query of a group; `exact` marks lookups that match a handful of rows;
    `field` the custom field it searches (named on the hits it finds)."""

    queryset: Callable[[], QuerySet]
    exact: bool = False
    field: CustomField | None = None


MATCHED = "_search_matched"


# How many ids an exact lookup may collect before the rows are read.
EXACT_MATCH_CAP = 1000


def _collect(stages: Iterable[Stage], *, limit: int) -> list[Model]:
    """Run the stages in order, each asked only for the room left, skipping rows seen.

    Name matches run without ORDER BY: the pattern_ops indexes cannot give an order, and
    sorting every match of a short prefix is what would make this slow; the few rows
    returned are sorted here.

    Exact lookups (an email, a phone, a company's contacts) first collect ids, then read
    those rows. PostgreSQL has no statistics for unique array elements and guesses that
    an email is held by 0.5% of the table; asked for 8 rows it then bets on some scan
    stopping early (the whole table, or the name-ordered list index) and, when the
    email is held by one contact, reads a million rows. Asked for up to
    EXACT_MATCH_CAP ids it compares whole plans and takes the GIN index.
    """
    found: dict[int, Model] = {}
    for stage in stages:
        room = limit - len(found)
        if room <= 0:
            break
        queryset = stage.queryset().order_by()
        if found:
            queryset = queryset.exclude(pk__in=list(found))
        if stage.exact:
            ids = list(queryset.values_list("pk", flat=True)[:EXACT_MATCH_CAP])
            if not ids:
                continue
            queryset = queryset.filter(pk__in=sorted(ids)[:room])
        batch = sorted(queryset[:room], key=lambda row: (str(row).lower(), row.pk))
        for row in batch:
            if row.pk not in found and stage.field is not None:
                setattr(row, MATCHED, stage.field)
            found.setdefault(row.pk, row)
    return list(found.values())


def _custom_stages(live: QuerySet, terms: SearchTerms, fields: list[CustomField]) -> list[Stage]:
    """One stage per searchable field, each on that field's own index."""
    stages = []
    for custom in fields:
        if terms.email and custom.kind == FieldKind.EMAIL:
            stages.append(
                Stage(
                    lambda f=custom: live.filter(custom_fields__contains={f.key: terms.email}), exact=True, field=custom
                )
            )
        elif terms.phone and custom.kind == FieldKind.PHONE:
            stages.append(
                Stage(
                    lambda f=custom: live.filter(custom_fields__contains={f.key: terms.phone}), exact=True, field=custom
                )
            )
        elif terms.in_word and not (terms.email or terms.phone):
            stages.append(
                Stage(
                    lambda f=custom: live.alias(_cf_text=Lower(KeyTextTransform(f.key, "custom_fields"))).filter(
                        _cf_text__contains=terms.text
                    ),
                    field=custom,
                )
            )
    return stages


def _matched(row: Model, region: str) -> tuple[str, str]:
    """(the matching field's label, "Label: value") for a hit found by a custom field."""
    field = getattr(row, MATCHED, None)
    if field is None:
        return "", ""
    value = value_display(field, (row.custom_fields or {}).get(field.key), region=region)
    label = field.label_in()
    return label, f"{label}: {value}"


def _name_stages(live: QuerySet, column: str, terms: SearchTerms, *, also_prefix: str = "") -> list[Stage]:
    """Prefix of `column` (and of `also_prefix`), then in-word from three characters."""
    stages = [Stage(lambda: live.alias(_name=Lower(column)).filter(_name__startswith=terms.text))]
    if also_prefix:
        stages.append(Stage(lambda: live.alias(_prefix=Lower(also_prefix)).filter(_prefix__startswith=terms.text)))
    if terms.in_word:
        stages.append(Stage(lambda: live.alias(_name=Lower(column)).filter(_name__contains=terms.text)))
    return stages


def _companies(actor: User | None, terms: SearchTerms, limit: int, custom: list[CustomField]) -> list[Company]:
    live = access.visible(Company.objects.all(), actor=actor).only(
        "id", "name", "website", "industry", "emails", "phones", "custom_fields"
    )
    if terms.email:
        stages = [Stage(lambda: live.filter(emails__contains=[terms.email]), exact=True)]
    elif terms.phone:
        stages = [Stage(lambda: live.filter(phones__contains=[terms.phone]), exact=True)]
    else:
        stages = _name_stages(live, "name", terms)
    return _collect([*stages, *_custom_stages(live, terms, custom)], limit=limit)


def _contacts(
    actor: User | None, terms: SearchTerms, limit: int, companies: list[Company], custom: list[CustomField]
) -> list[tuple[Contact, str]]:
    """Matching contacts, each with its company's name."""
    live = access.visible(Contact.objects.all(), actor=actor).only(
        "id", "full_name", "job_title", "emails", "phones", "company_id", "custom_fields"
    )
    if terms.email:
        stages = [Stage(lambda: live.filter(emails__contains=[terms.email]), exact=True)]
    elif terms.phone:
        stages = [Stage(lambda: live.filter(phones__contains=[terms.phone]), exact=True)]
    else:
        stages = _name_stages(live, "full_name", terms, also_prefix="last_name")
        if companies:
            company_ids = [company.pk for company in companies]
            stages.append(Stage(lambda: live.filter(company__in=company_ids), exact=True))
    contacts = _collect([*stages, *_custom_stages(live, terms, custom)], limit=limit)
    # Company names come in a query of their own rather than a join: with the email and
    # phone misestimate (see _no_parallel_workers) a join made PostgreSQL hash every company.
    names = {company.pk: company.name for company in companies}
    missing = {contact.company_id for contact in contacts if contact.company_id and contact.company_id not in names}
    if missing:
        visible_companies = access.visible(Company.objects.filter(pk__in=missing), actor=actor)
        names.update(visible_companies.values_list("pk", "name"))
    return [(contact, names.get(contact.company_id, "")) for contact in contacts]


def _leads(actor: User | None, terms: SearchTerms, limit: int, custom: list[CustomField]) -> list[Lead]:
    live = access.visible(Lead.objects.all(), actor=actor).only(
        "id", "name", "email", "phone", "company_name", "status", "custom_fields"
    )
    if terms.email:
        stages = [Stage(lambda: live.alias(_email=Lower("email")).filter(_email=terms.email), exact=True)]
    elif terms.phone:
        stages = [Stage(lambda: live.filter(phone=terms.phone), exact=True)]
    else:
        stages = _name_stages(live, "name", terms)
    return _collect([*stages, *_custom_stages(live, terms, custom)], limit=limit)


def _deals(
    actor: User | None, terms: SearchTerms, limit: int, companies: list[Company], custom: list[CustomField]
) -> list[Deal]:
    live = (
        access.visible(Deal.objects.all(), actor=actor)
        .select_related("stage", "company")
        .only(
            "id",
            "title",
            "amount",
            "currency",
            "custom_fields",
            "stage__id",
            "stage__name",
            "company__id",
            "company__name",
        )
    )
    if terms.email or terms.phone:
        return _collect(_custom_stages(live, terms, custom), limit=limit)
    # Deal titles have a prefix index only (no trigram index), so no in-word matching here.
    stages = [Stage(lambda: live.alias(_title=Lower("title")).filter(_title__startswith=terms.text))]
    if companies:
        company_ids = [company.pk for company in companies]
        stages.append(Stage(lambda: live.filter(company__in=company_ids), exact=True))
    return _collect([*stages, *_custom_stages(live, terms, custom)], limit=limit)


def _first(*values: str | None) -> str:
    return next((value for value in values if value), "")


def _contact_hit(contact: Contact, company_name: str, region: str = "") -> SearchHit:
    subtitle = " · ".join(part for part in (company_name, contact.job_title) if part)
    subtitle = subtitle or _first(*contact.emails, *contact.phones)
    matched, shown = _matched(contact, region)
    return SearchHit(
        SearchKind.CONTACT, contact.pk, contact.full_name, shown or subtitle, f"contact/{contact.pk}", matched
    )


def _company_hit(company: Company, region: str = "") -> SearchHit:
    subtitle = _first(company.industry, *company.emails, company.website, *company.phones)
    matched, shown = _matched(company, region)
    return SearchHit(SearchKind.COMPANY, company.pk, company.name, shown or subtitle, f"company/{company.pk}", matched)


def _lead_hit(lead: Lead, region: str = "") -> SearchHit:
    who = _first(lead.company_name, lead.email, lead.phone)
    subtitle = " · ".join(part for part in (who, str(lead.get_status_display())) if part)
    matched, shown = _matched(lead, region)
    return SearchHit(SearchKind.LEAD, lead.pk, lead.name, shown or subtitle, f"lead/{lead.pk}", matched)


def _deal_hit(deal: Deal, region: str = "") -> SearchHit:
    parts = (deal.company.name if deal.company else "", deal.stage.name, f"{deal.amount} {deal.currency}")
    subtitle = " · ".join(part for part in parts if part)
    matched, shown = _matched(deal, region)
    return SearchHit(SearchKind.DEAL, deal.pk, deal.title, shown or subtitle, f"deal/{deal.pk}", matched)


def quick_search(*, actor: User | None, text: str, limit: int = 8) -> SearchResults:
    """Up to `limit` hits of each kind for `text`, only records the actor can see.

    Text shorter than three characters matches name starts only; an email matches
    exactly (any case); a phone matches in any format of the workspace's region
    (`+7 (912) 345-67-89`, `8 912 345 67 89` and `89123456789` are one number with
    region RU). Blank text returns empty groups without touching the database.
    """
    terms = search_terms(text)
    limit = min(limit, MAX_LIMIT)
    groups: dict[SearchKind, list[SearchHit]] = {kind: [] for kind in SearchKind}
    if terms.is_empty or limit <= 0:
        return SearchResults(text=terms.text, groups=groups)
    exact = bool(terms.email or terms.phone)
    custom = custom_fields_searchable()
    region = ""
    if any(field.kind == FieldKind.PHONE for fields in custom.values() for field in fields):
        region = workspace_settings().default_phone_region
    with transaction.atomic() if exact else nullcontext():
        if exact:
            _no_parallel_workers()
        companies = _companies(actor, terms, limit, custom.get("company", []))
        groups[SearchKind.LEAD] = [
            _lead_hit(lead, region) for lead in _leads(actor, terms, limit, custom.get("lead", []))
        ]
        groups[SearchKind.CONTACT] = [
            _contact_hit(*found, region)
            for found in _contacts(actor, terms, limit, companies, custom.get("contact", []))
        ]
        groups[SearchKind.COMPANY] = [_company_hit(company, region) for company in companies]
        groups[SearchKind.DEAL] = [
            _deal_hit(deal, region) for deal in _deals(actor, terms, limit, companies, custom.get("deal", []))
        ]
    return SearchResults(text=terms.text, groups=groups)


def _no_parallel_workers() -> None:
    """For this transaction only: no parallel query.

    An email or phone matches a handful of rows, but PostgreSQL guesses 5,000 of a
    million contacts (see _collect) and may start parallel workers, whose start-up alone
    costs more than the whole index lookup (measured: 27 ms against 0.1 ms on 2 cores).
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
