"""Timeline entries and record timelines over the API."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts import roles
from accounts.models import User
from crm.activities.models import Activity
from crm.activities.services import note_add
from crm.clients.services import company_create, contact_create
from tests.api.colleagues import alice, colleague, only_in_b, queries_of
from tests.conftest import BOB_EMAIL, inside


def a_contact(tenant, actor, name="Ivan"):
    with inside(tenant):
        return contact_create(actor=actor, first_name=name, last_name="Client")


def test_each_kind_goes_through_its_own_service(api_a, tenant_a):
    contact = a_contact(tenant_a, alice(tenant_a))
    entries = [
        {"kind": "call", "direction": "outbound", "duration_seconds": 90, "outcome": "Interested"},
        {"kind": "email", "direction": "sent", "subject": "Prices"},
        {"kind": "meeting", "subject": "Demo", "duration_seconds": 3600},
        {"kind": "note", "body": "Prefers mornings"},
    ]
    for entry in entries:
        response = api_a.post("/api/v1/activities/", {**entry, "contact": contact.pk})
        assert response.status_code == 201, response.content
        assert response.json()["kind"] == entry["kind"]
        assert response.json()["author"]["email"] == "alice@acme.example"
    email = api_a.get("/api/v1/activities/", {"kind": "email", "contact": contact.pk}).json()["results"]
    assert [(row["subject"], row["direction"]) for row in email] == [("Prices", "outbound")]


def test_bad_entries_are_field_errors_and_write_nothing(api_a, tenant_a):
    contact = a_contact(tenant_a, alice(tenant_a))
    with inside(tenant_a):
        before = Activity.all_objects.count()
    cases = [
        ({"kind": "call", "contact": contact.pk}, "direction"),
        ({"kind": "call", "direction": "sideways", "contact": contact.pk}, "direction"),
        ({"kind": "note", "body": "x"}, "non_field_errors"),
        ({"kind": "note", "body": "x", "duration_seconds": 5, "contact": contact.pk}, "duration_seconds"),
        ({"kind": "stage_change", "contact": contact.pk}, "kind"),
        ({"kind": "meeting", "subject": "x", "duration_seconds": 10**6, "contact": contact.pk}, "duration_seconds"),
        ({"kind": "note", "body": "x", "contact": "abc"}, "contact"),
    ]
    for body, field in cases:
        response = api_a.post("/api/v1/activities/", body)
        assert response.status_code == 400, (body, response.content)
        assert field in response.json()["errors"], (body, response.json())
    with inside(tenant_a):
        assert Activity.all_objects.count() == before


def test_a_company_timeline_holds_its_contacts_entries_and_pages_by_cursor(api_a, tenant_a):
    me = alice(tenant_a)
    with inside(tenant_a):
        company = company_create(actor=me, name="Timeline Ltd")
        contact = contact_create(actor=me, first_name="Tim", last_name="Line", company=company)
        start = timezone.now() - timedelta(days=1)
        for index in range(5):
            note_add(actor=me, body=f"note {index}", contact=contact, occurred_at=start + timedelta(minutes=index))
    first = api_a.get("/api/v1/timeline/", {"company": company.pk, "page_size": 3})
    assert first.status_code == 200, first.content
    page = first.json()
    assert [row["body"] for row in page["results"]] == ["note 4", "note 3", "note 2"]
    second = api_a.get(page["next"]).json()
    assert [row["body"] for row in second["results"]] == ["note 1", "note 0"]
    assert second["next"] is None


def test_timeline_needs_exactly_one_visible_record(api_a, tenant_a):
    contact = a_contact(tenant_a, alice(tenant_a))
    assert api_a.get("/api/v1/timeline/").status_code == 400
    assert api_a.get("/api/v1/timeline/", {"contact": contact.pk, "deal": 1}).status_code == 400
    assert api_a.get("/api/v1/timeline/", {"contact": contact.pk, "before": "garbage"}).status_code == 400
    assert api_a.get("/api/v1/timeline/", {"contact": 2**62}).status_code == 404


def test_a_rep_sees_entries_of_records_they_can_see_only(api_a, tenant_a):
    rep_api, rep = colleague(tenant_a, "rita@acme.example", roles.SALES_REP)
    me = alice(tenant_a)
    theirs = a_contact(tenant_a, rep, "Rita's")
    alices = a_contact(tenant_a, me, "Alice's")
    with inside(tenant_a):
        note_add(actor=me, body="on Rita's contact", contact=theirs)
        hidden = note_add(actor=me, body="on Alice's contact", contact=alices)
    bodies = [row["body"] for row in rep_api.get("/api/v1/activities/").json()["results"]]
    assert "on Rita's contact" in bodies and "on Alice's contact" not in bodies
    assert rep_api.get(f"/api/v1/activities/{hidden.pk}/").status_code == 404
    assert rep_api.get("/api/v1/timeline/", {"contact": alices.pk}).status_code == 404
    # Linking an entry to a record they can't see reads like a missing one
    refused = rep_api.post("/api/v1/activities/", {"kind": "note", "body": "x", "contact": alices.pk})
    assert refused.status_code == 400 and "contact" in refused.json()["errors"]


def test_read_only_role_cannot_log_or_delete(tenant_a):
    reader_api, _reader = colleague(tenant_a, "olga@acme.example", roles.READ_ONLY)
    contact = a_contact(tenant_a, alice(tenant_a))
    with inside(tenant_a):
        entry = note_add(actor=None, body="system", contact=contact)
    assert reader_api.get(f"/api/v1/activities/{entry.pk}/").status_code == 200
    note = {"kind": "note", "body": "x", "contact": contact.pk}
    assert reader_api.post("/api/v1/activities/", note).status_code == 403
    assert reader_api.delete(f"/api/v1/activities/{entry.pk}/").status_code == 403


def test_delete_moves_an_entry_to_the_trash(api_a, tenant_a):
    contact = a_contact(tenant_a, alice(tenant_a))
    with inside(tenant_a):
        entry = note_add(actor=None, body="oops", contact=contact)
    assert api_a.delete(f"/api/v1/activities/{entry.pk}/").status_code == 204
    assert api_a.get(f"/api/v1/activities/{entry.pk}/").status_code == 404


def test_another_workspace_is_out_of_reach(api_a, tenant_a, tenant_b):
    with inside(tenant_b):
        bob = User.objects.select_related("role").get(email=BOB_EMAIL)

    def globex_note():
        return note_add(actor=bob, body="globex", contact=contact_create(actor=bob, first_name="G"))

    pk = only_in_b(tenant_a, tenant_b, globex_note)
    assert api_a.get(f"/api/v1/activities/{pk}/").status_code == 404
    assert api_a.delete(f"/api/v1/activities/{pk}/").status_code == 404
    api_a.defaults["HTTP_HOST"] = "globex.localhost:8000"
    assert api_a.get("/api/v1/activities/").status_code == 401
    assert api_a.get("/api/v1/timeline/", {"contact": 1}).status_code == 401


def test_list_and_timeline_cost_the_same_for_5_and_15_entries(api_a, tenant_a, django_assert_max_num_queries):
    me = alice(tenant_a)
    contact = a_contact(tenant_a, me)

    def add(count):
        with inside(tenant_a):
            for index in range(count):
                note_add(actor=me, body=f"n{index}", contact=contact)

    add(5)
    list_five = queries_of(api_a, "/api/v1/activities/")
    timeline_five = queries_of(api_a, "/api/v1/timeline/", {"contact": contact.pk})
    add(10)
    with django_assert_max_num_queries(list_five):
        assert len(api_a.get("/api/v1/activities/").json()["results"]) >= 15
    with django_assert_max_num_queries(timeline_five):
        assert len(api_a.get("/api/v1/timeline/", {"contact": contact.pk}).json()["results"]) == 15
