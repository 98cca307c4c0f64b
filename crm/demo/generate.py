"""The demo world: companies, contacts, leads, deals with their stage history, activities,
tasks and products, as rows ready for COPY (crm.demo.copy_load).

Deterministic: the same seed, volume and `now` give the same rows. A contact is a pure
function of (seed, index), so leads converted into it can repeat its name, email and
phone without keeping a million contacts in memory.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from crm.deals.services import stage_summary_after_move
from crm.demo import fake

CENT = Decimal("0.01")
PUBLIC_MAIL_DOMAINS = {
    "en": ["gmail.com", "outlook.com", "yahoo.com"],
    "ru": ["yandex.ru", "mail.ru", "gmail.com"],
    "es": ["gmail.com", "hotmail.es", "outlook.es"],
    "ar": ["gmail.com", "outlook.com", "yahoo.com"],
}
# Value of one unit in US dollars, for the few demo deals priced in another currency.
USD_VALUE = {
    "USD": Decimal("1"),
    "EUR": Decimal("1.08"),
    "GBP": Decimal("1.27"),
    "RUB": Decimal("0.011"),
    "AED": Decimal("0.2723"),
}
# Per open stage: chance a deal is lost there, and mean days spent there.
LOSE_CHANCE = [0.15, 0.2, 0.2, 0.15, 0.1]
MEAN_DAYS = [2.0, 5.0, 6.0, 9.0, 20.0]
WIN_CHANCE_AT_LAST_OPEN = 0.85
# Phone indexes of people who are leads only, kept apart from contacts' numbers.
LEAD_PHONE_OFFSET = 3_000_000
SECOND_PHONE_OFFSET = 2_000_000


@dataclass(frozen=True)
class Volume:
    companies: int
    contacts: int
    leads: int
    deals: int
    activities: int
    tasks: int = 0
    products: int = 0


@dataclass(frozen=True)
class StageInfo:
    id: int
    name: str
    kind: str


@dataclass(frozen=True)
class ContactData:
    id: int
    first_name: str
    last_name: str
    full_name: str
    email: str
    phones: list[str]
    company_id: int | None
    culture: str


@dataclass
class Ids:
    """First primary key of each table's reserved range (crm.demo.copy_load.IdRange)."""

    company: int
    contact: int
    lead: int
    deal: int


@dataclass
class DealLink:
    contact_id: int | None
    company_id: int | None
    created_at: datetime


@dataclass
class Generated:
    """What later tables need from earlier ones."""

    deal_links: list[DealLink] = field(default_factory=list)
    # Per converted lead with a deal: (lead id, contact index, created_at, traffic fields).
    leads_to_deals: list[tuple[int, int, datetime, dict[str, str]]] = field(default_factory=list)
    history: list[tuple[int, int | None, int, datetime, int | None]] = field(default_factory=list)
    stage_changes: list[tuple[int, str, datetime, int | None]] = field(default_factory=list)


class DemoWorld:
    """Generates the rows; `rich` adds what only a demo someone looks at needs
    (stage-change entries on timelines, a few deals in foreign currencies)."""

    def __init__(
        self,
        *,
        seed: int,
        now: datetime,
        volume: Volume,
        ids: Ids,
        owner_ids: list[int],
        open_stages: list[StageInfo],
        won_stage: StageInfo,
        lost_stage: StageInfo,
        pipeline_id: int,
        base_currency: str,
        span_days: int,
        rich: bool,
    ) -> None:
        self.seed = seed
        self.now = now
        self.volume = volume
        self.ids = ids
        self.owner_ids = owner_ids or [None]
        self.open_stages = open_stages
        self.won_stage = won_stage
        self.lost_stage = lost_stage
        self.stage_names = {stage.id: stage.name for stage in [*open_stages, won_stage, lost_stage]}
        self.pipeline_id = pipeline_id
        self.base_currency = base_currency
        self.span_days = span_days
        self.rich = rich
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
        self.generated = Generated()
        self.company_domains: list[str] = []
        self.company_cultures: list[str] = []
        self.company_names: list[str] = []

    # --- shared pieces ---

    def _owner(self) -> int | None:
        return self.owner_ids[int(self.rng.random() * len(self.owner_ids))]

    def _moment(self, rng: random.Random | None = None) -> datetime:
        """A time in the span, more of them recent (the business grows)."""
        rng = rng or self.rng
        return self.now - timedelta(days=self.span_days * rng.random() ** 1.3, seconds=rng.random() * 3600)

    def stamps(self, created: datetime, updated: datetime | None = None) -> dict[str, Any]:
        return {"created_at": created, "updated_at": updated or created}

    # --- companies and contacts ---

    def companies(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        for index in range(self.volume.companies):
            name = fake.company(rng, index, unique=not self.rich)
            created = self._moment()
            self.company_domains.append(name.domain)
            self.company_names.append(name.name)
            self.company_cultures.append(name.culture)
            yield {
                "id": self.ids.company + index,
                "name": name.name,
                "website": f"https://www.{name.domain}/",
                "industry": rng.choice(fake.INDUSTRIES),
                "emails": [f"info@{name.domain}"],
                "phones": [fake.phone(SECOND_PHONE_OFFSET * 2 + index, name.culture)],
                "city": rng.choice(fake.CULTURE_CITIES[name.culture]),
                "country": fake.CULTURE_COUNTRY[name.culture],
                "owner_id": self._owner(),
                **self.stamps(created),
            }

    def contact_company_index(self, index: int) -> int | None:
        """One contact in eight works on their own; the others spread over the companies."""
        if not self.volume.companies or index % 8 == 7:
            return None
        return (index * 7 + index // self.volume.companies) % self.volume.companies

    def contact(self, index: int) -> ContactData:
        rng = random.Random(self.seed * 7_919 + index)  # noqa: S311 - demo data
        company_index = self.contact_company_index(index)
        if company_index is None:
            culture = fake.CULTURES.pick(rng)
            domain = rng.choice(PUBLIC_MAIL_DOMAINS[culture])
        else:
            culture = self.company_cultures[company_index]
            domain = self.company_domains[company_index]
        person = fake.person(rng, culture)
        phones = [fake.phone(index, culture)]
        if rng.random() < 0.2:
            phones.append(fake.phone(SECOND_PHONE_OFFSET + index, culture))
        return ContactData(
            id=self.ids.contact + index,
            first_name=person.first_name,
            last_name=person.last_name,
            full_name=person.full_name,
            # Bulk volumes number every address so that an email search finds one person.
            email=f"{person.first_latin}.{person.last_latin}{'' if self.rich else index}@{domain}",
            phones=phones,
            company_id=None if company_index is None else self.ids.company + company_index,
            culture=culture,
        )

    def contacts(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        for index in range(self.volume.contacts):
            data = self.contact(index)
            created = self._moment()
            yield {
                "id": data.id,
                "first_name": data.first_name,
                "last_name": data.last_name,
                "full_name": data.full_name,
                "emails": [data.email],
                "phones": data.phones,
                "company_id": data.company_id,
                "job_title": fake.JOB_TITLES[int(rng.random() * len(fake.JOB_TITLES))],
                "city": rng.choice(fake.CULTURE_CITIES[data.culture]),
                "country": fake.CULTURE_COUNTRY[data.culture],
                "owner_id": self._owner(),
                **self.stamps(created),
            }

    # --- leads ---

    def leads(self) -> Iterator[dict[str, Any]]:
        """Leads from the traffic mix; about a third converted, most of those into a deal."""
        rng = self.rng
        deals_from_leads = 0
        deal_quota = int(self.volume.deals * 0.4)
        for index in range(self.volume.leads):
            created = self._moment()
            traffic = fake.traffic(rng).as_fields()
            roll = rng.random()
            row: dict[str, Any] = {
                "id": self.ids.lead + index,
                "message": rng.choice(fake.LEAD_MESSAGES),
                "owner_id": self._owner(),
                **traffic,
            }
            age_days = (self.now - created).total_seconds() / 86400
            if roll < 0.35 and self.volume.contacts and age_days > 1:
                contact_index = int(rng.random() * self.volume.contacts)
                contact = self.contact(contact_index)
                converted = min(created + timedelta(hours=2 + rng.random() * 70), self.now)
                row.update(
                    name=contact.full_name,
                    email=contact.email,
                    phone=contact.phones[0],
                    status="converted",
                    converted_at=converted,
                    converted_contact_id=contact.id,
                    converted_company_id=contact.company_id,
                )
                if contact.company_id is not None:
                    row["company_name"] = ""
                if deals_from_leads < deal_quota and rng.random() < 0.85:
                    deal_id = self.ids.deal + deals_from_leads
                    row["converted_deal_id"] = deal_id
                    self.generated.leads_to_deals.append((row["id"], contact_index, converted, traffic))
                    deals_from_leads += 1
                row.update(self.stamps(created, converted))
            else:
                person = fake.person(rng)
                status = "new" if age_days < 3 else rng.choice(["in_progress", "qualified", "disqualified", "new"])
                row.update(
                    name=person.full_name,
                    email=f"{person.first_latin}.{person.last_latin}{'' if self.rich else index}@"
                    f"{rng.choice(PUBLIC_MAIL_DOMAINS[person.culture])}",
                    phone=fake.phone(LEAD_PHONE_OFFSET + index, person.culture),
                    company_name=fake.company(rng, index).name if rng.random() < 0.5 else "",
                    status=status,
                    disqualified_reason=rng.choice(fake.DISQUALIFY_REASONS) if status == "disqualified" else "",
                    **self.stamps(created),
                )
            yield row

    # --- deals and their stage history ---

    def _path(self, rng: random.Random, created: datetime) -> list[tuple[StageInfo, datetime]]:
        """Where a deal went and when: along the open stages, lost on the way or won."""
        stages = self.open_stages
        position = 0
        moment = created
        path = [(stages[0], created)]
        stalled_after = rng.choice([1, 2, 3]) if rng.random() < 0.08 else None
        while True:
            if stalled_after is not None and len(path) >= stalled_after:
                return path
            moment = moment + timedelta(days=0.05 + rng.expovariate(1 / MEAN_DAYS[min(position, 4)]))
            if moment > self.now:
                return path
            last_open = position == len(stages) - 1
            if last_open:
                closing = self.won_stage if rng.random() < WIN_CHANCE_AT_LAST_OPEN else self.lost_stage
                path.append((closing, moment))
                return path
            if rng.random() < LOSE_CHANCE[min(position, 4)]:
                path.append((self.lost_stage, moment))
                return path
            step = 2 if rng.random() < 0.06 and position + 2 < len(stages) else 1
            position += step
            path.append((stages[position], moment))

    def _amount(self, rng: random.Random) -> Decimal:
        # Service deals: mostly a few thousand, now and then a large project.
        value = Decimal(str(round(rng.lognormvariate(8.1, 0.8), -1)))
        return max(value, Decimal("300")).quantize(CENT)

    def _currency(self, rng: random.Random) -> tuple[str, Decimal]:
        """The deal's currency and its rate to the base currency."""
        if not self.rich or self.base_currency not in USD_VALUE or rng.random() > 0.1:
            return self.base_currency, Decimal("1")
        others = [code for code in ("EUR", "USD", "GBP") if code != self.base_currency]
        currency = rng.choice(others)
        return currency, deal_rate(currency, self.base_currency)

    def deals(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        from_leads = self.generated.leads_to_deals
        for index in range(self.volume.deals):
            deal_id = self.ids.deal + index
            if index < len(from_leads):
                _lead_id, contact_index, created, traffic = from_leads[index]
            else:
                contact_index = int(rng.random() * self.volume.contacts) if self.volume.contacts else None
                created = self._moment()
                traffic = {"channel": "manual"}
            contact = self.contact(contact_index) if contact_index is not None else None
            company_id = contact.company_id if contact else None
            path = self._path(rng, created)
            stage, entered_at = path[-1]
            amount = self._amount(rng)
            currency, rate = self._currency(rng)
            service = fake.SERVICES[int(rng.random() * len(fake.SERVICES))]
            if contact is not None and company_id is not None:
                title = f"{service} — {self.company_name_for(company_id)}"
            elif contact is not None:
                title = f"{service} — {contact.full_name}"
            else:
                title = service
            if stage.kind == "open":
                expected = (created + timedelta(days=20 + rng.random() * 70)).date()
            else:
                expected = entered_at.date()
            self.generated.deal_links.append(DealLink(contact.id if contact else None, company_id, created))
            previous: tuple[StageInfo, datetime] | None = None
            entered: list[int] = [path[0][0].id]
            stage_seconds: list[int | None] = [None]
            for step_stage, moment in path:
                seconds = int((moment - previous[1]).total_seconds()) if previous else None
                self.generated.history.append(
                    (deal_id, previous[0].id if previous else None, step_stage.id, moment, seconds)
                )
                if previous is not None and seconds is not None:
                    entered, stage_seconds = stage_summary_after_move(
                        entered,
                        stage_seconds,
                        from_stage_id=previous[0].id,
                        to_stage_id=step_stage.id,
                        seconds_spent=seconds,
                    )
                if previous is not None and self.rich:
                    self.generated.stage_changes.append(
                        (deal_id, f"{previous[0].name} → {step_stage.name}", moment, None)
                    )
                previous = (step_stage, moment)
            yield {
                "id": deal_id,
                "title": title[:200],
                "amount": amount,
                "currency": currency,
                "amount_base": (amount * rate).quantize(CENT, ROUND_HALF_UP),
                "expected_close_date": expected,
                "pipeline_id": self.pipeline_id,
                "stage_id": stage.id,
                "stage_entered_at": entered_at,
                "stages_entered": entered,
                "stage_seconds": stage_seconds,
                "previous_stage_id": path[-2][0].id if len(path) > 1 else None,
                "contact_id": contact.id if contact else None,
                "company_id": company_id,
                "lost_reason": rng.choice(fake.LOST_REASONS) if stage.kind == "lost" else "",
                "closed_at": entered_at if stage.kind != "open" else None,
                "last_activity_at": entered_at,
                "owner_id": self._owner(),
                **traffic,
                **self.stamps(created, entered_at),
            }

    def company_name_for(self, company_id: int) -> str:
        return self.company_names[company_id - self.ids.company]

    def stage_history(self, take_id) -> Iterator[dict[str, Any]]:
        for deal_id, from_stage_id, to_stage_id, moment, seconds in self.generated.history:
            yield {
                "id": take_id(),
                "deal_id": deal_id,
                "from_stage_id": from_stage_id,
                "to_stage_id": to_stage_id,
                "changed_at": moment,
                "seconds_in_previous_stage": seconds,
                "changed_by_id": None,
            }

    # --- activities, tasks, products ---

    def activities(self, take_id) -> Iterator[dict[str, Any]]:
        """Calls, emails, meetings and notes: a third about deals, the rest about
        contacts, some contacts (key clients) far busier than others."""
        rng = self.rng
        links = self.generated.deal_links
        contacts = self.volume.contacts
        for _ in range(self.volume.activities):
            roll = rng.random()
            if links and roll < 0.35:
                deal_index = int(rng.random() * len(links))
                link = links[deal_index]
                deal_id = self.ids.deal + deal_index
                contact_id, company_id, since = link.contact_id, link.company_id, link.created_at
            elif contacts:
                deal_id = None
                index = int(contacts * rng.random() ** 2)
                company_index = self.contact_company_index(index)
                contact_id = self.ids.contact + index
                company_id = None if company_index is None else self.ids.company + company_index
                since = self.now - timedelta(days=self.span_days)
            else:
                continue
            yield self._activity(rng, take_id(), since, contact_id, company_id, deal_id)
        if self.rich:
            for deal_id, subject, moment, author in self.generated.stage_changes:
                link = links[deal_id - self.ids.deal]
                yield {
                    "id": take_id(),
                    "kind": "stage_change",
                    "occurred_at": moment,
                    "author_id": author,
                    "subject": subject,
                    "deal_id": deal_id,
                    "contact_id": link.contact_id,
                    "company_id": link.company_id,
                    **self.stamps(moment),
                }

    def _activity(
        self,
        rng: random.Random,
        activity_id: int,
        since: datetime,
        contact_id: int | None,
        company_id: int | None,
        deal_id: int | None,
    ) -> dict[str, Any]:
        seconds = max((self.now - since).total_seconds(), 60)
        when = since + timedelta(seconds=rng.random() * seconds)
        kind_roll = rng.random()
        row: dict[str, Any] = {
            "id": activity_id,
            "occurred_at": when,
            "author_id": self._owner(),
            "contact_id": contact_id,
            "company_id": company_id,
            "deal_id": deal_id,
            **self.stamps(when),
        }
        if kind_roll < 0.35:
            row.update(
                kind="call",
                subject=rng.choice(fake.CALL_SUBJECTS),
                direction="outbound" if rng.random() < 0.7 else "inbound",
                duration_seconds=int(30 + rng.random() * 1500),
                outcome=rng.choice(fake.CALL_OUTCOMES),
            )
        elif kind_roll < 0.7:
            row.update(
                kind="email",
                subject=rng.choice(fake.EMAIL_SUBJECTS),
                body="Hello! Following up on our conversation; details below.",
                direction="outbound" if rng.random() < 0.6 else "inbound",
            )
        elif kind_roll < 0.85:
            row.update(kind="meeting", subject=rng.choice(fake.MEETING_SUBJECTS))
        else:
            row.update(kind="note", body=rng.choice(fake.NOTES))
        return row

    def tasks(self, take_id) -> Iterator[dict[str, Any]]:
        """Open tasks due from ten days ago (overdue) to two weeks ahead; some done."""
        rng = self.rng
        links = self.generated.deal_links
        for index in range(self.volume.tasks):
            due = self.now + timedelta(days=-10 + rng.random() * 24)
            created = due - timedelta(days=1 + rng.random() * 5)
            done = due < self.now and rng.random() < 0.4
            row: dict[str, Any] = {
                "id": take_id(),
                "kind": rng.choice(["call", "email", "meeting", "todo"]),
                "due_at": due,
                "priority": rng.choice(["low", "normal", "normal", "high"]),
                "status": "done" if done else "open",
                "completed_at": due if done else None,
                "owner_id": self._owner(),
                **self.stamps(created, due if done else created),
            }
            if links and index % 3 != 2:
                deal_index = int(rng.random() * len(links))
                link = links[deal_index]
                row.update(deal_id=self.ids.deal + deal_index, contact_id=link.contact_id, company_id=link.company_id)
                name = self.contact(link.contact_id - self.ids.contact).full_name if link.contact_id else "the client"
            elif self.volume.leads:
                row["lead_id"] = self.ids.lead + int(rng.random() * self.volume.leads)
                name = "the new lead"
            else:
                name = "the client"
            row["title"] = rng.choice(fake.TASK_TITLES).format(name=name)[:200]
            yield row

    def products(self, take_id) -> Iterator[dict[str, Any]]:
        for sku, name, unit, price, tax in fake.PRODUCTS[: self.volume.products]:
            yield {
                "id": take_id(),
                "sku": sku,
                "name": name,
                "unit": unit,
                "price": Decimal(price),
                "currency": self.base_currency,
                "tax_rate": Decimal(tax),
                "is_active": True,
                **self.stamps(self.now - timedelta(days=self.span_days)),
            }


def deal_rate(currency: str, base: str) -> Decimal:
    """Units of `base` one unit of `currency` is worth (demo rates)."""
    if currency == base:
        return Decimal("1")
    return (USD_VALUE[currency] / USD_VALUE.get(base, Decimal("1"))).quantize(Decimal("0.00000001"))
