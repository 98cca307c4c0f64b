"""/trash/: what each person may see in the trash, restore by administrators, isolation."""

from __future__ import annotations

from crm.clients.services import contact_create
from crm.leads.models import Lead
from crm.leads.services import lead_create
from crm.trash import record_trash
from tests.conftest import inside


def _trashed_lead(owner, name: str) -> Lead:
    lead = lead_create(actor=owner, name=name, owner=owner)
    record_trash(actor=owner, record=lead)
    return lead


def test_trash_lists_records_by_kind_within_a_query_bound(alice, web_alice, django_assert_max_num_queries):
    _trashed_lead(alice, "Binned lead")
    record_trash(actor=alice, record=contact_create(actor=alice, first_name="Binned", last_name="Contact"))
    with django_assert_max_num_queries(22):
        response = web_alice.get("/trash/")
    body = response.content.decode()
    assert "Binned lead" in body and "Binned Contact" in body
    only_leads = web_alice.get("/trash/", {"kind": "lead"}).content.decode()
    assert "Binned lead" in only_leads and "Binned Contact" not in only_leads


def test_an_admin_restores_a_record(alice, web_alice):
    lead = _trashed_lead(alice, "Comes back")
    response = web_alice.post(f"/trash/lead/{lead.pk}/restore/", {"back": "?kind=lead"})
    assert response.status_code == 302 and response["Location"] == "/trash/?kind=lead"
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_the_back_address_never_leaves_the_trash(alice, web_alice):
    lead = _trashed_lead(alice, "Comes back")
    response = web_alice.post(f"/trash/lead/{lead.pk}/restore/", {"back": "https://evil.example/"})
    assert response["Location"] == "/trash/"


def test_a_rep_sees_only_his_trash_and_cannot_restore(alice, rex, web_rex):
    _trashed_lead(alice, "Alice's binned lead")
    own = _trashed_lead(rex, "Rex's binned lead")
    body = web_rex.get("/trash/").content.decode()
    assert "Rex's binned lead" in body.replace("&#x27;", "'") and "Alice" not in body.split('id="trash"')[1]
    assert "Restore" not in body
    response = web_rex.post(f"/trash/lead/{own.pk}/restore/", follow=True)
    assert not Lead.objects.filter(pk=own.pk).exists()
    assert "Only a workspace administrator can change this." in response.content.decode()


def test_a_rep_cannot_restore_what_he_cannot_see(alice, web_rex):
    lead = _trashed_lead(alice, "Invisible")
    assert web_rex.post(f"/trash/lead/{lead.pk}/restore/").status_code == 404


def test_another_workspaces_record_is_not_found(tenant_b, web_alice):
    with inside(tenant_b):
        from django.utils import timezone

        Lead.all_objects.create(pk=10**12, name="Globex binned", deleted_at=timezone.now())
    assert web_alice.post(f"/trash/lead/{10**12}/restore/").status_code == 404
    assert "Globex binned" not in web_alice.get("/trash/").content.decode()
    with inside(tenant_b):
        assert Lead.all_objects.get(pk=10**12).deleted_at is not None


def test_unknown_kind_and_broken_cursor_are_not_500s(web_alice):
    assert web_alice.post("/trash/planet/1/restore/").status_code == 404
    response = web_alice.get("/trash/", {"before": "garbage", "kind": "planet"})
    assert response.status_code == 200 and "This page link is broken." in response.content.decode()


def test_pages_follow_each_other(alice, web_alice):
    for number in range(52):
        _trashed_lead(alice, f"Paged {number:02d}")
    first = web_alice.get("/trash/", {"kind": "lead"}).content.decode()
    link = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = web_alice.get("/trash/" + link).content.decode()
    assert second.count("Paged ") >= 2 and 'rel="next"' not in second
