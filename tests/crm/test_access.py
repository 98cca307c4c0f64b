"""Role scopes down to the record: lists, details, search, reports, timelines and sharing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts import roles
from accounts.models import Role, SeatType, Team, User
from accounts.services import user_create
from crm.activities.models import ActivityKind
from crm.activities.selectors import timeline
from crm.activities.services import activity_log
from crm.clients.selectors import contact_get, contact_list
from crm.clients.services import contact_create, contact_update
from crm.deals.models import Pipeline
from crm.deals.selectors import deal_get, deal_list
from crm.deals.services import deal_create
from crm.errors import AccessDenied, RecordNotFound
from crm.models import RecordShare
from crm.reports.selectors import sales_funnel
from crm.search.selectors import SearchKind, quick_search
from tests.conftest import ALICE_EMAIL, inside


def person(email: str, role: str) -> User:
    return user_create(
        email=email,
        full_name=email.split("@")[0].title(),
        password=None,
        role=Role.objects.get(code=role),
        seat_type=SeatType.CONCURRENT,
    )


@pytest.fixture
def office(tenant_a):
    """Alice (admin); Mona manages a team with Rick; Rita is a rep outside it; Fred freelances; Olga reads."""
    with inside(tenant_a):
        people = {
            "alice": User.objects.get(email=ALICE_EMAIL),
            "mona": person("mona@acme.example", roles.MANAGER),
            "rick": person("rick@acme.example", roles.SALES_REP),
            "rita": person("rita@acme.example", roles.SALES_REP),
            "fred": person("fred@acme.example", roles.FREELANCER),
            "olga": person("olga@acme.example", roles.READ_ONLY),
        }
        team = Team.objects.create(name="North", manager=people["mona"])
        team.members.add(people["rick"])
        records = {}
        for owner in ("rick", "rita", "mona"):
            contact = contact_create(
                actor=people[owner],
                first_name=owner.title(),
                last_name="Client",
                emails=[f"{owner}.client@example.com"],
            )
            deal = deal_create(actor=people[owner], title=f"{owner} deal", amount=Decimal("100"), contact=contact)
            records[owner] = (contact, deal)
        yield people, records


def names(queryset) -> set[str]:
    return {str(row) for row in queryset}


def test_a_rep_lists_only_their_own_records(tenant_a, office):
    people, _records = office
    with inside(tenant_a):
        assert names(deal_list(actor=people["rita"])) == {"rita deal"}
        assert names(contact_list(actor=people["rita"])) == {"Rita Client"}


def test_a_manager_sees_their_teams_records_and_no_others(tenant_a, office):
    people, _records = office
    with inside(tenant_a):
        assert names(deal_list(actor=people["mona"])) == {"rick deal", "mona deal"}


def test_admin_and_read_only_see_everything(tenant_a, office):
    people, _records = office
    with inside(tenant_a):
        assert names(deal_list(actor=people["alice"])) == {"rick deal", "rita deal", "mona deal"}
        assert names(deal_list(actor=people["olga"])) == {"rick deal", "rita deal", "mona deal"}


def test_read_only_cannot_change_what_it_sees(tenant_a, office):
    people, records = office
    with inside(tenant_a), pytest.raises(AccessDenied):
        contact_update(actor=people["olga"], contact=records["rita"][0], job_title="Boss")


def test_a_colleagues_record_is_not_found_for_a_rep(tenant_a, office):
    people, records = office
    with inside(tenant_a):
        with pytest.raises(RecordNotFound):
            deal_get(actor=people["rita"], deal_id=records["rick"][1].pk)
        with pytest.raises(RecordNotFound):
            contact_get(actor=people["rita"], contact_id=records["rick"][0].pk)


def test_search_finds_only_what_the_person_may_see(tenant_a, office):
    people, _records = office
    with inside(tenant_a):
        found = quick_search(actor=people["rita"], text="Client")
    assert [hit.title for hit in found.groups[SearchKind.CONTACT]] == ["Rita Client"]


def test_a_reps_funnel_counts_only_their_deals(tenant_a, office):
    people, _records = office
    with inside(tenant_a):
        pipeline = Pipeline.objects.get(is_default=True)
        everyone = sales_funnel(actor=people["alice"], pipeline=pipeline)
        rita = sales_funnel(actor=people["rita"], pipeline=pipeline)
    assert everyone.total_count == 3
    assert rita.total_count == 1
    assert rita.total_amount == Decimal("100.00")


def test_a_freelancer_sees_nothing_until_a_record_is_shared_then_only_that(tenant_a, office):
    people, records = office
    with inside(tenant_a):
        assert names(contact_list(actor=people["fred"])) == set()
        RecordShare.objects.create(record_type="contact", record_id=records["rita"][0].pk, user=people["fred"])
        assert names(contact_list(actor=people["fred"])) == {"Rita Client"}
        assert names(deal_list(actor=people["fred"])) == set()
        with pytest.raises(AccessDenied):
            contact_update(actor=people["fred"], contact=records["rita"][0], job_title="Freelance edit")


def test_a_record_shared_with_edit_rights_can_be_changed_by_the_freelancer(tenant_a, office):
    people, records = office
    with inside(tenant_a):
        RecordShare.objects.create(
            record_type="contact", record_id=records["rita"][0].pk, user=people["fred"], can_edit=True
        )
        updated = contact_update(actor=people["fred"], contact=records["rita"][0], job_title="Buyer")
    assert updated.job_title == "Buyer"


def test_a_freelancer_cannot_create_records(tenant_a, office):
    people, _records = office
    with inside(tenant_a), pytest.raises(AccessDenied):
        contact_create(actor=people["fred"], first_name="Sneaky")


def test_the_client_card_shows_colleagues_activities_on_a_visible_record(tenant_a, office):
    people, records = office
    contact = records["rita"][0]
    with inside(tenant_a):
        activity_log(actor=people["alice"], kind=ActivityKind.NOTE, subject="Called by the boss", contact=contact)
        page = timeline(actor=people["rita"], contact=contact)
    assert "Called by the boss" in [entry.subject for entry in page.activities]


def test_my_records_are_what_i_own_and_may_see(tenant_a, office):
    from crm.access import visible_and_owned
    from crm.deals.models import Deal

    people, records = office
    with inside(tenant_a):
        # Rita's deal shared with Rick is visible to him but not his
        RecordShare.objects.create(record_type="deal", record_id=records["rita"][1].pk, user=people["rick"])
        # Fred (freelancer) owns a deal nobody shared with him, and one that was shared
        hidden = deal_create(actor=people["alice"], title="fred hidden", amount=Decimal("1"), owner=people["fred"])
        shared = deal_create(actor=people["alice"], title="fred shared", amount=Decimal("1"), owner=people["fred"])
        RecordShare.objects.create(record_type="deal", record_id=shared.pk, user=people["fred"])

        assert names(visible_and_owned(Deal.objects.all(), actor=people["rick"])) == {"rick deal"}
        assert names(visible_and_owned(Deal.objects.all(), actor=people["alice"])) == set()
        assert names(visible_and_owned(Deal.objects.all(), actor=people["fred"])) == {"fred shared"}
        assert hidden.pk not in visible_and_owned(Deal.objects.all(), actor=people["fred"]).values_list("pk", flat=True)
