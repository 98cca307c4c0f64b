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
- contacts and deals are also found through the companies the text matched.

Results only hold records the actor can see (crm.access) and never trashed ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from enum import StrEnum

from django.db import connection, transaction
from django.db.models import Model, QuerySet
from django.db.models.functions import Lower

from accounts.models import User
from crm import access
from crm.clients.models import Company, Contact
from crm.deals.models import Deal
from crm.leads.models import Lead
from crm.search.terms import SearchTerms, search_terms

# A search box shows a few hits per kind; more is a list page's job.
MAX_LIMIT = 50


class SearchKind(StrEnum):
    LEAD = "lead"
    CONTACT = "contact"
    COMPANY = "company"
    DEAL = "deal"


@dataclass(frozen=True)
class SearchHit:
    """One result row; `key` ("contact/42") names the card to open."""

    kind: SearchKind
    id: int
    title: str
    subtitle: str
    key: str


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
    """One indexed query of a group; `exact` marks lookups that match a handful of rows."""

    queryset: Callable[[], QuerySet]
    exact: bool = False


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
            found.setdefault(row.pk, row)
    return list(found.values())


def _name_stages(live: QuerySet, column: str, terms: SearchTerms, *, also_prefix: str = "") -> list[Stage]:
    """Prefix of `column` (and of `also_prefix`), then in-word from three characters."""
    stages = [Stage(lambda: live.alias(_name=Lower(column)).filter(_name__startswith=terms.text))]
    if also_prefix:
        stages.append(Stage(lambda: live.alias(_prefix=Lower(also_prefix)).filter(_prefix__startswith=terms.text)))
    if terms.in_word:
        stages.append(Stage(lambda: live.alias(_name=Lower(column)).filter(_name__contains=terms.text)))
    return stages


def _companies(actor: User | None, terms: SearchTerms, limit: int) -> list[Company]:
    live = access.visible(Company.objects.all(), actor=actor).only(
        "id", "name", "website", "industry", "emails", "phones"
    )
    if terms.email:
        stages = [Stage(lambda: live.filter(emails__contains=[terms.email]), exact=True)]
    elif terms.phone:
        stages = [Stage(lambda: live.filter(phones__contains=[terms.phone]), exact=True)]
    else:
        stages = _name_stages(live, "name", terms)
    return _collect(stages, limit=limit)


def _contacts(
    actor: User | None, terms: SearchTerms, limit: int, companies: list[Company]
) -> list[tuple[Contact, str]]:
    """Matching contacts, each with its company's name."""
    live = access.visible(Contact.objects.all(), actor=actor).only(
        "id", "full_name", "job_title", "emails", "phones", "company_id"
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
    contacts = _collect(stages, limit=limit)
    # Company names come in a query of their own rather than a join: with the email and
    # phone misestimate (see _no_parallel_workers) a join made PostgreSQL hash every company.
    names = {company.pk: company.name for company in companies}
    missing = {contact.company_id for contact in contacts if contact.company_id and contact.company_id not in names}
    if missing:
        visible_companies = access.visible(Company.objects.filter(pk__in=missing), actor=actor)
        names.update(visible_companies.values_list("pk", "name"))
    return [(contact, names.get(contact.company_id, "")) for contact in contacts]


def _leads(actor: User | None, terms: SearchTerms, limit: int) -> list[Lead]:
    live = access.visible(Lead.objects.all(), actor=actor).only(
        "id", "name", "email", "phone", "company_name", "status"
    )
    if terms.email:
        stages = [Stage(lambda: live.alias(_email=Lower("email")).filter(_email=terms.email), exact=True)]
    elif terms.phone:
        stages = [Stage(lambda: live.filter(phone=terms.phone), exact=True)]
    else:
        stages = _name_stages(live, "name", terms)
    return _collect(stages, limit=limit)


def _deals(actor: User | None, terms: SearchTerms, limit: int, companies: list[Company]) -> list[Deal]:
    if terms.email or terms.phone:
        return []
    live = (
        access.visible(Deal.objects.all(), actor=actor)
        .select_related("stage", "company")
        .only("id", "title", "amount", "currency", "stage__id", "stage__name", "company__id", "company__name")
    )
    # Deal titles have a prefix index only (no trigram index), so no in-word matching here.
    stages = [Stage(lambda: live.alias(_title=Lower("title")).filter(_title__startswith=terms.text))]
    if companies:
        company_ids = [company.pk for company in companies]
        stages.append(Stage(lambda: live.filter(company__in=company_ids), exact=True))
    return _collect(stages, limit=limit)


def _first(*values: str | None) -> str:
    return next((value for value in values if value), "")


def _contact_hit(contact: Contact, company_name: str) -> SearchHit:
    subtitle = " · ".join(part for part in (company_name, contact.job_title) if part)
    subtitle = subtitle or _first(*contact.emails, *contact.phones)
    return SearchHit(SearchKind.CONTACT, contact.pk, contact.full_name, subtitle, f"contact/{contact.pk}")


def _company_hit(company: Company) -> SearchHit:
    subtitle = _first(company.industry, *company.emails, company.website, *company.phones)
    return SearchHit(SearchKind.COMPANY, company.pk, company.name, subtitle, f"company/{company.pk}")


def _lead_hit(lead: Lead) -> SearchHit:
    who = _first(lead.company_name, lead.email, lead.phone)
    subtitle = " · ".join(part for part in (who, str(lead.get_status_display())) if part)
    return SearchHit(SearchKind.LEAD, lead.pk, lead.name, subtitle, f"lead/{lead.pk}")


def _deal_hit(deal: Deal) -> SearchHit:
    parts = (deal.company.name if deal.company else "", deal.stage.name, f"{deal.amount} {deal.currency}")
    subtitle = " · ".join(part for part in parts if part)
    return SearchHit(SearchKind.DEAL, deal.pk, deal.title, subtitle, f"deal/{deal.pk}")


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
    with transaction.atomic() if exact else nullcontext():
        if exact:
            _no_parallel_workers()
        companies = _companies(actor, terms, limit)
        groups[SearchKind.LEAD] = [_lead_hit(lead) for lead in _leads(actor, terms, limit)]
        groups[SearchKind.CONTACT] = [_contact_hit(*found) for found in _contacts(actor, terms, limit, companies)]
        groups[SearchKind.COMPANY] = [_company_hit(company) for company in companies]
        groups[SearchKind.DEAL] = [_deal_hit(deal) for deal in _deals(actor, terms, limit, companies)]
    return SearchResults(text=terms.text, groups=groups)


def _no_parallel_workers() -> None:
    """For this transaction only: no parallel query.

    An email or phone matches a handful of rows, but PostgreSQL guesses 5,000 of a
    million contacts (see _collect) and may start parallel workers, whose start-up alone
    costs more than the whole index lookup (measured: 27 ms against 0.1 ms on 2 cores).
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
