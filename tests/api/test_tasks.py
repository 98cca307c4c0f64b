"""Tasks over the API: lists and filters, state actions, the policy, isolation, query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import roles
from accounts.models import User
from crm.activities.models import Task, TaskStatus
from crm.activities.services import task_create
from crm.clients.services import contact_create
from crm.notifications.models import Notification
from tests.api.colleagues import alice, colleague, only_in_b, queries_of
from tests.conftest import BOB_EMAIL, inside

SOON = timezone.now() + timedelta(days=2)


def make_task(tenant, actor, title="Call back", **kwargs):
    with inside(tenant):
        return task_create(actor=actor, title=title, due_at=kwargs.pop("due_at", SOON), owner=actor, **kwargs)


def test_a_task_created_is_fetched_with_its_etag(api_a, tenant_a):
    # Given a contact
    me = alice(tenant_a)
    with inside(tenant_a):
        contact = contact_create(actor=me, first_name="Ivan", last_name="Petrov")
    # When Alice creates a task about it
    created = api_a.post(
        "/api/v1/tasks/",
        {"title": "Send the price list", "due_at": SOON.isoformat(), "contact": contact.pk, "priority": "high"},
    )
    # Then it is hers, open, linked, and fetching it gives the same ETag
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["priority"], body["contact"]) == ("open", "high", contact.pk)
    assert body["owner"]["email"] == "alice@acme.example"
    fetched = api_a.get(f"/api/v1/tasks/{body['id']}/")
    assert fetched.status_code == 200
    assert fetched["ETag"] == created["ETag"]


def test_bad_input_names_each_field_and_writes_nothing(api_a, tenant_a):
    with inside(tenant_a):
        before = Task.all_objects.count()
    response = api_a.post(
        "/api/v1/tasks/", {"title": " ", "due_at": "tomorrow", "kind": "fax", "contact": 2**70, "owner": "x"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert {"due_at", "kind", "contact", "owner"} <= set(response.json()["errors"])
    with inside(tenant_a):
        assert Task.all_objects.count() == before


def test_a_blank_title_is_refused_by_the_service(api_a, tenant_a):
    response = api_a.post("/api/v1/tasks/", {"title": "   ", "due_at": SOON.isoformat()})
    assert response.status_code == 400
    assert "title" in response.json()["errors"]


def test_list_filters_by_status_overdue_link_and_search(api_a, tenant_a):
    me = alice(tenant_a)
    with inside(tenant_a):
        contact = contact_create(actor=me, first_name="Olga", last_name="Link")
    late = make_task(tenant_a, me, "Late call", due_at=timezone.now() - timedelta(hours=3))
    linked = make_task(tenant_a, me, "Linked follow-up", contact=contact)
    make_task(tenant_a, me, "Something else")

    def ids(**params):
        response = api_a.get("/api/v1/tasks/", params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids(overdue="true") == [late.pk]
    assert ids(contact=contact.pk) == [linked.pk]
    assert ids(search="follow-") == [linked.pk]
    assert late.pk not in ids(due_from=timezone.localdate().isoformat(), overdue="false")
    assert ids(status="done") == []
    assert ids(ordering="-due")[0] != ids(ordering="due")[0]


def test_unknown_filter_values_are_field_errors(api_a):
    response = api_a.get("/api/v1/tasks/", {"status": "someday", "ordering": "colour", "due_from": "x"})
    assert response.status_code == 400
    assert {"status", "ordering", "due_from"} <= set(response.json()["errors"])


def test_complete_reopen_cancel_and_reschedule_follow_the_services(api_a, tenant_a):
    task = make_task(tenant_a, alice(tenant_a))
    done = api_a.post(f"/api/v1/tasks/{task.pk}/complete/")
    assert done.status_code == 200 and done.json()["status"] == "done"
    # A done task can't be rescheduled or cancelled: 409 with the service's code
    refused = api_a.post(f"/api/v1/tasks/{task.pk}/reschedule/", {"due_at": SOON.isoformat()})
    assert (refused.status_code, refused.json()["code"]) == (409, "task_closed")
    assert api_a.post(f"/api/v1/tasks/{task.pk}/cancel/").json()["code"] == "task_done"
    reopened = api_a.post(f"/api/v1/tasks/{task.pk}/reopen/")
    assert reopened.json()["status"] == "open"
    later = SOON + timedelta(days=5)
    moved = api_a.post(f"/api/v1/tasks/{task.pk}/reschedule/", {"due_at": later.isoformat()})
    assert moved.status_code == 200
    with inside(tenant_a):
        assert Task.objects.get(pk=task.pk).due_at == later.replace(microsecond=later.microsecond)
    assert api_a.post(f"/api/v1/tasks/{task.pk}/cancel/").json()["status"] == TaskStatus.CANCELLED


def test_assigning_tells_the_new_assignee(api_a, tenant_a):
    _client, rep = colleague(tenant_a, "sam@acme.example", roles.SALES_REP)
    task = make_task(tenant_a, alice(tenant_a))
    response = api_a.post(f"/api/v1/tasks/{task.pk}/assign/", {"owner": rep.pk})
    assert response.status_code == 200
    assert response.json()["owner"]["id"] == rep.pk
    with inside(tenant_a):
        assert Notification.objects.filter(recipient=rep, kind="task_assigned").count() == 1
    assert api_a.post(f"/api/v1/tasks/{task.pk}/assign/", {"owner": None}).status_code == 400


def test_patch_with_a_stale_etag_is_refused(api_a, tenant_a):
    task = make_task(tenant_a, alice(tenant_a))
    etag = api_a.get(f"/api/v1/tasks/{task.pk}/")["ETag"]
    changed = api_a.patch(f"/api/v1/tasks/{task.pk}/", {"title": "First edit"}, HTTP_IF_MATCH=etag)
    assert changed.status_code == 200 and changed.json()["title"] == "First edit"
    stale = api_a.patch(f"/api/v1/tasks/{task.pk}/", {"title": "Second edit"}, HTTP_IF_MATCH=etag)
    assert (stale.status_code, stale.json()["code"]) == (412, "edit_conflict")
    assert api_a.post(f"/api/v1/tasks/{task.pk}/complete/", HTTP_IF_MATCH=etag).status_code == 412


def test_delete_moves_the_task_to_the_trash(api_a, tenant_a):
    task = make_task(tenant_a, alice(tenant_a))
    assert api_a.delete(f"/api/v1/tasks/{task.pk}/").status_code == 204
    assert api_a.get(f"/api/v1/tasks/{task.pk}/").status_code == 404
    with inside(tenant_a):
        assert Task.all_objects.get(pk=task.pk).deleted_at is not None


def test_a_rep_sees_and_changes_only_their_own_tasks(api_a, tenant_a):
    rep_api, rep = colleague(tenant_a, "rita@acme.example", roles.SALES_REP)
    theirs = make_task(tenant_a, rep, "Rita's task")
    alices = make_task(tenant_a, alice(tenant_a), "Alice's task")
    listed = [row["id"] for row in rep_api.get("/api/v1/tasks/").json()["results"]]
    assert theirs.pk in listed and alices.pk not in listed
    assert rep_api.get(f"/api/v1/tasks/{alices.pk}/").status_code == 404
    assert rep_api.post(f"/api/v1/tasks/{alices.pk}/complete/").status_code == 404
    assert rep_api.post(f"/api/v1/tasks/{theirs.pk}/complete/").status_code == 200


def test_read_only_role_cannot_write(tenant_a):
    reader_api, _reader = colleague(tenant_a, "olga@acme.example", roles.READ_ONLY)
    task = make_task(tenant_a, alice(tenant_a))
    assert reader_api.get(f"/api/v1/tasks/{task.pk}/").status_code == 200
    assert reader_api.post("/api/v1/tasks/", {"title": "x", "due_at": SOON.isoformat()}).status_code == 403
    assert reader_api.patch(f"/api/v1/tasks/{task.pk}/", {"title": "x"}).status_code == 403
    assert reader_api.post(f"/api/v1/tasks/{task.pk}/complete/").status_code == 403
    assert reader_api.delete(f"/api/v1/tasks/{task.pk}/").status_code == 403


def test_another_workspace_is_out_of_reach(api_a, api_b, tenant_a, tenant_b):
    # Acme's token on globex's host is unknown there
    api_a.defaults["HTTP_HOST"] = "globex.localhost:8000"
    assert api_a.get("/api/v1/tasks/").status_code == 401
    api_a.defaults["HTTP_HOST"] = "acme.localhost:8000"
    # A globex task's id on acme's host looks missing
    with inside(tenant_b):
        bob = User.objects.select_related("role").get(email=BOB_EMAIL)
    pk = only_in_b(tenant_a, tenant_b, lambda: task_create(actor=bob, title="Globex", due_at=SOON, owner=bob))
    assert api_a.get(f"/api/v1/tasks/{pk}/").status_code == 404
    assert api_a.post(f"/api/v1/tasks/{pk}/complete/").status_code == 404
    assert api_a.delete(f"/api/v1/tasks/{pk}/").status_code == 404


@pytest.mark.parametrize("pk", ["0", "9" * 18])
def test_ids_out_of_range_are_not_found(api_a, pk):
    assert api_a.get(f"/api/v1/tasks/{pk}/").status_code == 404


def test_the_list_costs_the_same_for_5_and_15_tasks(api_a, tenant_a, django_assert_max_num_queries):
    me = alice(tenant_a)
    with inside(tenant_a):
        contact = contact_create(actor=me, first_name="Query", last_name="Count")
    for index in range(5):
        make_task(tenant_a, me, f"Task {index}", contact=contact)
    five = queries_of(api_a, "/api/v1/tasks/")
    for index in range(10):
        make_task(tenant_a, me, f"More {index}", contact=contact)
    with django_assert_max_num_queries(five):
        assert len(api_a.get("/api/v1/tasks/").json()["results"]) >= 15
    assert five <= 12
