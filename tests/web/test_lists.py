"""List pages: what each person may see, keyset pages, bulk actions, CSV, saved views."""

from __future__ import annotations

import csv
import io

import pytest

from crm.clients.services import company_create, contact_create
from crm.deals.services import deal_create
from crm.leads.models import Lead
from crm.leads.services import lead_create
from crm.models import RecordShare
from crm.saved_views.models import SavedView
from tests.conftest import inside

LISTS = ["/leads/", "/contacts/", "/companies/", "/deals/"]


def _make_rows(owner, count: int = 3) -> None:
    for number in range(count):
        lead_create(actor=owner, name=f"Lead {number:02d}", owner=owner)
        company = company_create(actor=owner, name=f"Company {number:02d}", owner=owner)
        contact_create(actor=owner, first_name="Contact", last_name=f"{number:02d}", company=company, owner=owner)
        deal_create(actor=owner, title=f"Deal {number:02d}", owner=owner, company=company)


@pytest.mark.parametrize("path", LISTS)
def test_each_list_renders_within_a_query_bound(alice, web_alice, path, django_assert_max_num_queries):
    _make_rows(alice, count=12)
    with django_assert_max_num_queries(16):
        response = web_alice.get(path)
    assert response.status_code == 200
    assert "12 records" in response.content.decode()


@pytest.mark.parametrize("path", LISTS)
def test_a_rep_sees_only_his_own_records(alice, rex, web_rex, path):
    _make_rows(alice, count=2)
    _make_rows(rex, count=1)
    body = web_rex.get(path).content.decode()
    assert "1 record" in body
    assert " 01" not in body  # Alice's second rows are not listed


def test_a_freelancer_sees_only_what_is_shared(alice, fay, web_fay):
    lead_create(actor=alice, name="Hidden lead", owner=alice)
    shared = lead_create(actor=alice, name="Shared lead", owner=alice)
    RecordShare.objects.create(record_type="lead", record_id=shared.pk, user=fay, shared_by=alice)
    body = web_fay.get("/leads/").content.decode()
    assert "Shared lead" in body and "Hidden lead" not in body


def test_another_workspace_lists_none_of_these_records(alice, tenant_a, web_bob):
    with inside(tenant_a):
        lead_create(actor=alice, name="Acme secret lead", owner=alice)
    assert "Acme secret lead" not in web_bob.get("/leads/").content.decode()


def test_pages_follow_each_other_without_overlap(alice, web_alice):
    for number in range(30):
        lead_create(actor=alice, name=f"Paged {number:02d}", owner=alice)
    first = web_alice.get("/leads/", {"q": "Paged"}).content.decode()
    next_link = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = web_alice.get("/leads/" + next_link).content.decode()
    on_first = {f"Paged {n:02d}" for n in range(30) if f"Paged {n:02d}<" in first}
    on_second = {f"Paged {n:02d}" for n in range(30) if f"Paged {n:02d}<" in second}
    assert len(on_first) == 25 and len(on_second) == 5
    assert not on_first & on_second
    assert 'rel="next"' not in second


def test_a_broken_page_link_shows_the_first_page(alice, web_alice):
    lead_create(actor=alice, name="Still here", owner=alice)
    response = web_alice.get("/leads/", {"after": "not-a-cursor!"})
    assert response.status_code == 200 and "Still here" in response.content.decode()


def test_bad_filter_input_is_a_field_error_not_a_500(alice, web_alice):
    response = web_alice.get("/leads/", {"created_from": "yesterday-ish", "owner": "abc", "sort": "nonsense"})
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()


def test_sorting_by_name_descending(alice, web_alice):
    _make_rows(alice, count=3)
    body = web_alice.get("/companies/", {"sort": "-name"}).content.decode()
    assert body.index("Company 02") < body.index("Company 00")
    assert 'aria-sort="descending"' in body


def test_bulk_assign_goes_through_the_service(alice, rex, web_alice):
    leads = [lead_create(actor=alice, name=f"Bulk {n}", owner=alice) for n in range(3)]
    response = web_alice.post(
        "/leads/", {"action": "assign", "owner": rex.pk, "ids": [lead.pk for lead in leads[:2]], "query": "q=Bulk"}
    )
    assert response.status_code == 302 and response["Location"] == "/leads/?q=Bulk"
    owners = dict(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("pk", "owner_id"))
    assert [owners[lead.pk] for lead in leads] == [rex.pk, rex.pk, alice.pk]


def test_bulk_tag_and_trash(alice, web_alice):
    lead = lead_create(actor=alice, name="Tag me", owner=alice)
    web_alice.post("/leads/", {"action": "tag", "tag": "VIP", "ids": [lead.pk]})
    assert [tag.name for tag in Lead.objects.get(pk=lead.pk).tags.all()] == ["VIP"]
    web_alice.post("/leads/", {"action": "trash", "ids": [lead.pk]})
    assert Lead.all_objects.get(pk=lead.pk).deleted_at is not None


def test_bulk_skips_records_the_person_may_not_change(alice, rex, web_rex):
    own = lead_create(actor=rex, name="Rex's", owner=rex)
    others = lead_create(actor=alice, name="Alice's", owner=alice)
    response = web_rex.post("/leads/", {"action": "trash", "ids": [own.pk, others.pk]}, follow=True)
    assert Lead.all_objects.get(pk=own.pk).deleted_at is not None
    assert Lead.all_objects.get(pk=others.pk).deleted_at is None  # invisible to Rex: not even selected
    assert "1 record changed." in response.content.decode()


def test_bulk_cannot_reach_another_workspaces_records(alice, tenant_a, web_bob):
    with inside(tenant_a):
        lead = Lead.objects.create(pk=10**12, name="Acme lead", owner=alice)
    web_bob.post("/leads/", {"action": "trash", "ids": [lead.pk]})
    with inside(tenant_a):
        assert Lead.all_objects.get(pk=lead.pk).deleted_at is None


def test_bulk_without_selection_says_so(web_alice):
    response = web_alice.post("/leads/", {"action": "trash"}, follow=True)
    assert "Select at least one row first." in response.content.decode()


def _csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_csv_export_holds_the_current_view(alice, web_alice):
    lead_create(actor=alice, name="Exported", owner=alice)
    lead_create(actor=alice, name="Filtered out", owner=alice)
    response = web_alice.get("/leads/", {"q": "Exported", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = _csv_rows(response)
    assert rows[0][0] == "Name" and [row[0] for row in rows[1:]] == ["Exported"]


def test_csv_export_neutralises_formulas(alice, web_alice):
    lead_create(actor=alice, name="=HYPERLINK(1)", owner=alice)
    rows = _csv_rows(web_alice.get("/leads/", {"format": "csv"}))
    assert "'=HYPERLINK(1)" in [row[0] for row in rows]


def test_csv_export_only_holds_what_the_role_may_export(alice, fay, web_fay):
    shared = lead_create(actor=alice, name="Shared lead", owner=alice)
    RecordShare.objects.create(record_type="lead", record_id=shared.pk, user=fay, shared_by=alice)
    rows = _csv_rows(web_fay.get("/leads/", {"format": "csv"}))
    assert rows[1:] == []  # a freelancer may look at it, not take it away


def test_saved_views_are_personal(alice, rex, web_alice, web_rex):
    response = web_alice.post("/views/leads/", {"name": "Hot", "query": "status=new"})
    assert response["Location"] == "/leads/?status=new"
    view = SavedView.objects.get(owner=alice)
    assert 'href="?status=new"' in web_alice.get("/leads/").content.decode()
    assert "Hot" not in web_rex.get("/leads/").content.decode()
    assert web_rex.post(f"/views/leads/{view.pk}/delete/").status_code == 404
    assert web_alice.post(f"/views/leads/{view.pk}/delete/").status_code == 302
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_saving_a_view_without_a_name_explains(web_alice):
    response = web_alice.post("/views/leads/", {"name": " ", "query": ""}, follow=True)
    assert "Give the view a name." in response.content.decode()


def test_saved_view_of_an_unknown_list_is_not_found(web_alice):
    assert web_alice.post("/views/nonsense/", {"name": "x"}).status_code == 404


def test_signed_out_lists_go_to_sign_in(client_a):
    for path in LISTS:
        response = client_a.get(path)
        assert response.status_code == 302 and "/login/" in response["Location"]
