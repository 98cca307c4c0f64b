"""Tags, the inbox, the trash and quick search over the API."""

from __future__ import annotations

from accounts import roles
from accounts.models import User
from crm.clients.services import contact_create
from crm.models import Tag
from crm.notifications.services import notify
from crm.tags import tag_get_or_create
from crm.trash import record_trash
from tests.api.colleagues import alice, colleague, only_in_b, queries_of
from tests.conftest import BOB_EMAIL, inside

# --- tags ------------------------------------------------------------------------------


def test_a_tag_is_added_once_whatever_the_case(api_a, tenant_a):
    created = api_a.post("/api/v1/tags/", {"name": "VIP Client", "color": "#AA0000"})
    assert created.status_code == 201, created.content
    assert (created.json()["name"], created.json()["color"]) == ("VIP Client", "#aa0000")
    again = api_a.post("/api/v1/tags/", {"name": "vip   client"})
    assert again.json()["id"] == created.json()["id"]
    listed = api_a.get("/api/v1/tags/", {"search": "vip"}).json()["results"]
    assert [row["id"] for row in listed] == [created.json()["id"]]


def test_bad_tags_are_field_errors_and_write_nothing(api_a, tenant_a):
    with inside(tenant_a):
        before = Tag.objects.count()
    assert set(api_a.post("/api/v1/tags/", {"name": " ", "color": "red"}).json()["errors"]) == {"name", "color"}
    assert "name" in api_a.post("/api/v1/tags/", {"name": "x" * 51}).json()["errors"]
    with inside(tenant_a):
        assert Tag.objects.count() == before


def test_an_admin_renames_and_deletes_a_tag_with_if_match(api_a, tenant_a):
    me = alice(tenant_a)
    with inside(tenant_a):
        tag = tag_get_or_create(actor=me, name="Old")
        taken = tag_get_or_create(actor=me, name="Taken")
        contact = contact_create(actor=me, first_name="Tagged", tags=[tag])
    etag = api_a.get(f"/api/v1/tags/{tag.pk}/")["ETag"]
    assert api_a.patch(f"/api/v1/tags/{tag.pk}/", {"name": "taken"}).json()["errors"]["name"]
    renamed = api_a.patch(f"/api/v1/tags/{tag.pk}/", {"name": "New"}, HTTP_IF_MATCH=etag)
    assert renamed.status_code == 200 and renamed.json()["name"] == "New"
    assert api_a.delete(f"/api/v1/tags/{tag.pk}/", HTTP_IF_MATCH=etag).status_code == 412
    assert api_a.delete(f"/api/v1/tags/{tag.pk}/", HTTP_IF_MATCH=renamed["ETag"]).status_code == 204
    with inside(tenant_a):
        assert list(contact.tags.all()) == []
        assert Tag.objects.filter(pk=taken.pk).exists()


def test_a_rep_may_add_tags_but_not_rename_or_delete_them(api_a, tenant_a):
    rep_api, _rep = colleague(tenant_a, "rita@acme.example", roles.SALES_REP)
    tag = api_a.post("/api/v1/tags/", {"name": "Shared"}).json()
    assert rep_api.post("/api/v1/tags/", {"name": "Mine"}).status_code == 201
    assert rep_api.patch(f"/api/v1/tags/{tag['id']}/", {"name": "Hijack"}).status_code == 403
    assert rep_api.delete(f"/api/v1/tags/{tag['id']}/").status_code == 403


def test_read_only_role_cannot_add_tags(tenant_a):
    reader_api, _reader = colleague(tenant_a, "olga@acme.example", roles.READ_ONLY)
    assert reader_api.get("/api/v1/tags/").status_code == 200
    assert reader_api.post("/api/v1/tags/", {"name": "Nope"}).status_code == 403


def test_another_workspaces_tag_is_out_of_reach(api_a, tenant_a, tenant_b):
    names = iter(range(100))
    pk = only_in_b(tenant_a, tenant_b, lambda: tag_get_or_create(actor=None, name=f"Globex {next(names)}"))
    assert api_a.get(f"/api/v1/tags/{pk}/").status_code == 404
    assert api_a.patch(f"/api/v1/tags/{pk}/", {"name": "x"}).status_code == 404
    api_a.defaults["HTTP_HOST"] = "globex.localhost:8000"
    assert api_a.get("/api/v1/tags/").status_code == 401


# --- notifications ---------------------------------------------------------------------


def test_the_inbox_pages_filters_and_marks_read(api_a, tenant_a):
    me = alice(tenant_a)
    with inside(tenant_a):
        notes = [notify(recipient=me, kind="system", title=f"Message {index}") for index in range(3)]
    count = api_a.get("/api/v1/notifications/unread-count/").json()["unread"]
    first = api_a.get("/api/v1/notifications/", {"page_size": 2}).json()
    assert [row["title"] for row in first["results"]] == ["Message 2", "Message 1"]
    assert api_a.get(first["next"]).json()["results"][0]["title"] == "Message 0"
    read = api_a.post(f"/api/v1/notifications/{notes[0].pk}/read/")
    assert read.status_code == 200 and read.json()["read_at"]
    assert api_a.get("/api/v1/notifications/unread-count/").json()["unread"] == count - 1
    unread = [row["id"] for row in api_a.get("/api/v1/notifications/", {"unread": "true"}).json()["results"]]
    assert notes[0].pk not in unread and notes[1].pk in unread
    assert api_a.post("/api/v1/notifications/read-all/").json()["marked"] == count - 1
    assert api_a.get("/api/v1/notifications/unread-count/").json()["unread"] == 0
    assert api_a.get("/api/v1/notifications/", {"unread": "maybe"}).status_code == 400


def test_someone_elses_notification_looks_missing(api_a, tenant_a, tenant_b):
    rep_api, rep = colleague(tenant_a, "rita@acme.example", roles.SALES_REP)
    with inside(tenant_a):
        hers = notify(recipient=rep, kind="system", title="For Rita")
    assert api_a.post(f"/api/v1/notifications/{hers.pk}/read/").status_code == 404
    assert hers.pk not in [row["id"] for row in api_a.get("/api/v1/notifications/").json()["results"]]
    with inside(tenant_b):
        bob = User.objects.get(email=BOB_EMAIL)
    pk = only_in_b(tenant_a, tenant_b, lambda: notify(recipient=bob, kind="system", title="Globex"))
    assert api_a.post(f"/api/v1/notifications/{pk}/read/").status_code == 404
    rep_api.defaults["HTTP_HOST"] = "globex.localhost:8000"
    assert rep_api.get("/api/v1/notifications/unread-count/").status_code == 401


def test_the_inbox_costs_the_same_for_5_and_15(api_a, tenant_a, django_assert_max_num_queries):
    me = alice(tenant_a)

    def add(count):
        with inside(tenant_a):
            for index in range(count):
                notify(recipient=me, kind="system", title=f"n{index}")

    add(5)
    five = queries_of(api_a, "/api/v1/notifications/")
    add(10)
    with django_assert_max_num_queries(five):
        assert len(api_a.get("/api/v1/notifications/").json()["results"]) >= 15


# --- trash -----------------------------------------------------------------------------


def test_the_trash_lists_across_kinds_pages_and_restores(api_a, tenant_a):
    me = alice(tenant_a)
    with inside(tenant_a):
        contacts = [contact_create(actor=me, first_name=f"Binned {index}") for index in range(3)]
        for contact in contacts:
            record_trash(actor=me, record=contact)
    first = api_a.get("/api/v1/trash/", {"page_size": 2, "kind": "contact"}).json()
    assert [row["id"] for row in first["results"]] == [contacts[2].pk, contacts[1].pk]
    rest = api_a.get(first["next"]).json()
    assert [row["id"] for row in rest["results"]][:1] == [contacts[0].pk]
    everything = api_a.get("/api/v1/trash/").json()["results"]
    assert {"kind": "contact", "id": contacts[2].pk} == {key: everything[0][key] for key in ("kind", "id")}
    restored = api_a.post(f"/api/v1/trash/contact/{contacts[0].pk}/restore/")
    assert restored.status_code == 200, restored.content
    assert api_a.get(f"/api/v1/contacts/{contacts[0].pk}/").status_code == 200
    assert api_a.post(f"/api/v1/trash/contact/{contacts[0].pk}/restore/").status_code == 404
    assert api_a.post(f"/api/v1/trash/planet/{contacts[1].pk}/restore/").status_code == 404
    assert api_a.get("/api/v1/trash/", {"kind": "planet"}).status_code == 400
    assert api_a.get("/api/v1/trash/", {"before": "broken"}).status_code == 400


def test_restoring_needs_the_settings_power(tenant_a):
    rep_api, rep = colleague(tenant_a, "rita@acme.example", roles.SALES_REP)
    with inside(tenant_a):
        contact = contact_create(actor=rep, first_name="Rita's binned")
        record_trash(actor=rep, record=contact)
    assert [row["id"] for row in rep_api.get("/api/v1/trash/").json()["results"]] == [contact.pk]
    refused = rep_api.post(f"/api/v1/trash/contact/{contact.pk}/restore/")
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")


def test_another_workspaces_trash_is_out_of_reach(api_a, tenant_a, tenant_b):
    with inside(tenant_b):
        bob = User.objects.select_related("role").get(email=BOB_EMAIL)

    def globex_binned():
        contact = contact_create(actor=bob, first_name="Globex binned")
        return record_trash(actor=bob, record=contact)

    pk = only_in_b(tenant_a, tenant_b, globex_binned)
    assert pk not in [row["id"] for row in api_a.get("/api/v1/trash/", {"kind": "contact"}).json()["results"]]
    assert api_a.post(f"/api/v1/trash/contact/{pk}/restore/").status_code == 404
    api_a.defaults["HTTP_HOST"] = "globex.localhost:8000"
    assert api_a.get("/api/v1/trash/").status_code == 401


def test_the_trash_costs_the_same_for_5_and_15(api_a, tenant_a, django_assert_max_num_queries):
    me = alice(tenant_a)

    def binned(count):
        with inside(tenant_a):
            for index in range(count):
                record_trash(actor=me, record=contact_create(actor=me, first_name=f"b{index}"))

    binned(5)
    five = queries_of(api_a, "/api/v1/trash/")
    binned(10)
    with django_assert_max_num_queries(five):
        assert len(api_a.get("/api/v1/trash/").json()["results"]) >= 15


# --- search ----------------------------------------------------------------------------


def test_search_finds_records_by_kind_and_only_visible_ones(api_a, tenant_a):
    rep_api, rep = colleague(tenant_a, "rita@acme.example", roles.SALES_REP)
    me = alice(tenant_a)
    with inside(tenant_a):
        mine = contact_create(actor=rep, first_name="Zebulon", last_name="Ridge")
        contact_create(actor=me, first_name="Zebulon", last_name="Hidden")
    found = api_a.get("/api/v1/search/", {"q": "zebulon"}).json()
    assert {(hit["kind"], hit["title"]) for hit in found["results"]} >= {("contact", "Zebulon Ridge")}
    assert len([hit for hit in found["results"] if hit["kind"] == "contact"]) == 2
    theirs = rep_api.get("/api/v1/search/", {"q": "zebulon"}).json()["results"]
    assert [(hit["kind"], hit["id"]) for hit in theirs] == [("contact", mine.pk)]
    assert api_a.get("/api/v1/search/", {"q": ""}).json()["results"] == []
    assert api_a.get("/api/v1/search/").status_code == 400
    assert api_a.get("/api/v1/search/", {"q": "x", "limit": 500}).status_code == 400
    api_a.defaults["HTTP_HOST"] = "globex.localhost:8000"
    assert api_a.get("/api/v1/search/", {"q": "zebulon"}).status_code == 401
