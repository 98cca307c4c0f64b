"""Every main page makes as many SQL queries with many rows as with one (issue 6: "each
page renders with a bounded number of SQL queries"), for the administrator and for a
sales rep, whose role scoping changes the queries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import roles
from accounts.models import Role, SeatType
from accounts.services import user_create
from crm.activities.services import note_add, task_create
from crm.clients.services import company_create, contact_create
from crm.deals.models import Pipeline
from crm.deals.services import deal_create, deal_move_stage
from crm.leads.services import lead_create
from crm.trash import record_trash
from tests.conftest import PASSWORD

# name -> path, given the records of the first batch ({"contact": pk, "deal": pk})
PAGES = {
    "home": lambda first: "/",
    "leads": lambda first: "/leads/",
    "contacts": lambda first: "/contacts/",
    "contacts searched": lambda first: "/contacts/?q=Counted",
    "contacts sorted": lambda first: "/contacts/?sort=-created",
    "companies": lambda first: "/companies/",
    "deals": lambda first: "/deals/",
    "tasks": lambda first: "/tasks/",
    "pipeline board": lambda first: "/deals/board/",
    "contact card": lambda first: f"/contacts/{first['contact']}/",
    "deal card": lambda first: f"/deals/{first['deal']}/",
    "reports": lambda first: "/reports/",
    "quick search": lambda first: "/search/?q=Counted",
    "trash": lambda first: "/trash/",
    "settings users": lambda first: "/settings/users/",
}
ADMIN_ONLY = {"settings users"}


def _batch(owner, number: int, stages) -> dict[str, int]:
    """One of everything owned by `owner`: lead, company, contact with notes and a task,
    a deal moved along the pipeline, and a trashed contact."""
    lead_create(actor=owner, name=f"Counted Lead {number}", owner=owner)
    company = company_create(actor=owner, name=f"Counted Company {number}", owner=owner)
    contact = contact_create(
        actor=owner, first_name="Counted", last_name=f"Person {number}", company=company, owner=owner
    )
    deal = deal_create(
        actor=owner,
        title=f"Counted Deal {number}",
        amount=Decimal("100"),
        owner=owner,
        company=company,
        contact=contact,
    )
    deal_move_stage(actor=owner, deal=deal, stage=stages[number % len(stages)])
    note_add(actor=owner, body=f"Note {number}", contact=contact)
    task_create(
        actor=owner, title=f"Call {number}", due_at=timezone.now() + timedelta(days=1), owner=owner, contact=contact
    )
    trashed = contact_create(actor=owner, first_name="Trashed", last_name=f"Person {number}", owner=owner)
    record_trash(actor=owner, record=trashed)
    return {"contact": contact.pk, "deal": deal.pk}


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, HTTP_HX_REQUEST="true") if path.startswith("/search/") else client.get(path)
    assert response.status_code == 200, path
    return len(captured)


@pytest.fixture
def people(alice, rex, web_alice, web_rex):
    return {"admin": (alice, web_alice), "rep": (rex, web_rex)}


@pytest.mark.parametrize("who", ["admin", "rep"])
def test_no_main_page_makes_more_queries_with_more_rows(people, who, django_assert_max_num_queries):
    # given: one record of each kind, and each page's query count with it
    actor, client = people[who]
    stages = list(Pipeline.objects.get(is_default=True).stages.filter(kind="open").order_by("position"))
    first = _batch(actor, 0, stages)
    pages = {name: path(first) for name, path in PAGES.items() if who == "admin" or name not in ADMIN_ONLY}
    baseline = {name: _queries(client, path) for name, path in pages.items()}
    # when: many more rows of every kind, a longer timeline on the first contact, and
    # more people in the workspace
    for number in range(1, 16):
        _batch(actor, number, stages)
        note_add(actor=actor, body=f"More on the first contact {number}", contact=_contact(first["contact"]))
    for number in range(3):
        user_create(
            email=f"counted{number}@acme.example",
            full_name=f"Counted Colleague {number}",
            password=PASSWORD,
            role=Role.objects.get(code=roles.SALES_REP),
            seat_type=SeatType.NONE,
        )
    # then: no page asks for more
    for name, path in pages.items():
        with django_assert_max_num_queries(baseline[name], info=f"{name} ({who}): {path}"):
            _queries(client, path)


def _contact(pk: int):
    from crm.clients.models import Contact

    return Contact.objects.get(pk=pk)
