"""Leads and lead forms over the API: shapes, filters, conversion, policy, isolation."""

from __future__ import annotations

import pytest

from accounts import roles
from crm.clients.models import Company, Contact
from crm.deals.models import Deal, DealStageChange
from crm.leads.models import Lead, LeadForm
from crm.leads.services import lead_create
from tests.api.conftest import ApiClient
from tests.api.people import ACME_HOST, GLOBEX_HOST, alice, colleague
from tests.conftest import inside

LEADS = "/api/v1/leads/"


def _count(tenant, model) -> int:
    with inside(tenant):
        return model.all_objects.count() if hasattr(model, "all_objects") else model.objects.count()


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def globex_lead(tenant_b) -> Lead:
    with inside(tenant_b):
        return lead_create(actor=None, name="Globex secret", email="secret@globex.example")


# --- happy path ------------------------------------------------------------------------


def test_lead_created_over_the_api_is_listed_fetched_and_changed(api_a):
    created = api_a.post(
        LEADS,
        {
            "name": "Ivan Petrov",
            "email": "Ivan@Example.COM",
            "company_name": "Petrov LLC",
            "utm_source": "google",
            "tags": ["hot"],
        },
    )
    assert created.status_code == 201, created.content
    lead = created.json()
    assert lead["email"] == "ivan@example.com"
    assert lead["channel"] == "api"
    assert lead["utm_source"] == "google"
    assert lead["status"] == "new"
    assert lead["tags"] == ["hot"]
    assert created["ETag"]

    assert _ids(api_a.get(LEADS, {"search": "petrov"})) == [lead["id"]]
    fetched = api_a.get(f"{LEADS}{lead['id']}/")
    assert fetched.json()["name"] == "Ivan Petrov"
    assert fetched["ETag"] == created["ETag"]

    changed = api_a.patch(
        f"{LEADS}{lead['id']}/",
        {"status": "qualified", "phone": "+1 415 555 0100", "tags": ["hot", "vip"]},
        HTTP_IF_MATCH=fetched["ETag"],
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["status"] == "qualified"
    assert changed.json()["phone"] == "+14155550100"
    assert changed.json()["tags"] == ["hot", "vip"]
    assert changed["ETag"] != fetched["ETag"]


def test_changing_only_tags_gives_the_lead_a_new_etag(api_a):
    lead = api_a.post(LEADS, {"name": "Tag only"})
    changed = api_a.patch(f"{LEADS}{lead.json()['id']}/", {"tags": ["new-tag"]}, HTTP_IF_MATCH=lead["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] != lead["ETag"]
    stale = api_a.patch(f"{LEADS}{lead.json()['id']}/", {"name": "Late"}, HTTP_IF_MATCH=lead["ETag"])
    assert stale.status_code == 412
    assert stale.json()["code"] == "edit_conflict"


def test_bad_lead_input_is_refused_per_field_and_nothing_is_written(api_a, tenant_a):
    before = _count(tenant_a, Lead)
    response = api_a.post(
        LEADS, {"name": "X", "email": "not-an-email", "owner": 99999999, "channel": "pigeon", "tags": ["t" * 51]}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert {"owner", "channel", "tags"} <= set(body["errors"])
    assert _count(tenant_a, Lead) == before

    # The service's own checks: a bad email and an empty lead.
    response = api_a.post(LEADS, {"name": "X", "email": "not-an-email"})
    assert response.status_code == 400
    assert "email" in response.json()["errors"]
    response = api_a.post(LEADS, {})
    assert response.status_code == 400
    assert "name" in response.json()["errors"]
    assert _count(tenant_a, Lead) == before


@pytest.mark.parametrize(
    "query",
    [
        {"status": "lost"},
        {"ordering": "amount"},
        {"created_from": "9999-12-31"},
        {"created_to": "0001-01-01"},
        {"owner": "abc"},
        {"tag": "99999999999999999999999"},
        {"search": "x" * 500},
        {"page_size": "0"},
        {"cursor": "garbage"},
    ],
)
def test_bad_lead_filters_are_field_errors(api_a, query):
    response = api_a.get(LEADS, query)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "validation_error"


def test_lead_list_filters_and_orders(api_a, tenant_a):
    with inside(tenant_a):
        me = alice()
        first = lead_create(actor=me, name="Anna", source={"utm_source": "yandex"}, tags=["vip"])
        second = lead_create(actor=me, name="Boris", source={"utm_source": "google"})
        tag_id = first.tags.get().pk
    ids = {first.pk, second.pk}
    assert _ids(api_a.get(LEADS, {"utm_source": "yandex"})) == [first.pk]
    assert _ids(api_a.get(LEADS, {"tag": tag_id})) == [first.pk]
    assert _ids(api_a.get(LEADS, {"search": "bori"})) == [second.pk]
    assert _ids(api_a.get(LEADS, {"status": "disqualified"})) == []
    by_name = [pk for pk in _ids(api_a.get(LEADS, {"ordering": "name"})) if pk in ids]
    assert by_name == [first.pk, second.pk]
    newest = [pk for pk in _ids(api_a.get(LEADS, {"owner": me.pk})) if pk in ids]
    assert newest == [second.pk, first.pk]
    assert _ids(api_a.get(LEADS, {"created_to": "2000-01-01"})) == []


def test_lead_list_pages_cost_the_same_queries_for_5_and_15_rows(api_a, tenant_a, django_assert_max_num_queries):
    with inside(tenant_a):
        me = alice()
        for index in range(5):
            lead_create(actor=me, name=f"Few {index}", tags=["a", f"t{index}"])
    with django_assert_max_num_queries(12) as few:
        assert len(api_a.get(LEADS).json()["results"]) >= 5
    few_count = len(few)
    with inside(tenant_a):
        for index in range(10):
            lead_create(actor=me, name=f"More {index}", tags=["b", f"m{index}"])
    with django_assert_max_num_queries(few_count):
        assert len(api_a.get(LEADS).json()["results"]) >= 15


# --- conversion and disqualification ----------------------------------------------------


def test_converting_a_lead_gives_contact_company_and_deal_and_a_second_conversion_is_refused(api_a, tenant_a):
    lead = api_a.post(LEADS, {"name": "Olga Smirnova", "email": "olga@smirnova-design.ru", "company_name": "Smirnova"})
    lead_id = lead.json()["id"]
    converted = api_a.post(f"{LEADS}{lead_id}/convert/", {"amount": "1500.00", "deal_title": "Website"})
    assert converted.status_code == 201, converted.content
    body = converted.json()
    assert body["contact"]["full_name"] == "Olga Smirnova"
    assert body["contact"]["emails"] == ["olga@smirnova-design.ru"]
    assert body["company"]["name"] == "Smirnova"
    assert body["deal"]["title"] == "Website"
    assert body["deal"]["amount"] == "1500.00"
    assert body["deal"]["channel"] == "api"
    assert body["lead"]["status"] == "converted"
    assert body["lead"]["converted_deal"] == body["deal"]["id"]
    with inside(tenant_a):
        assert DealStageChange.objects.filter(deal_id=body["deal"]["id"]).count() == 1

    again = api_a.post(f"{LEADS}{lead_id}/convert/", {})
    assert again.status_code == 409
    assert again.json()["code"] == "already_converted"
    with inside(tenant_a):
        assert Deal.objects.filter(title="Website").count() == 1


def test_converting_links_the_chosen_contact_and_company_and_uses_the_chosen_pipeline(api_a, tenant_a):
    contact = api_a.post("/api/v1/contacts/", {"first_name": "Known", "last_name": "Person"}).json()
    company = api_a.post("/api/v1/companies/", {"name": "Known Co"}).json()
    pipeline = api_a.post(
        "/api/v1/pipelines/",
        {
            "name": "Partners",
            "stages": [{"name": "Talk"}, {"name": "Signed", "kind": "won"}, {"name": "Gone", "kind": "lost"}],
        },
    ).json()
    lead = api_a.post(LEADS, {"name": "Known Person", "phone": "+14155550123"}).json()
    converted = api_a.post(
        f"{LEADS}{lead['id']}/convert/",
        {"contact": contact["id"], "company": company["id"], "pipeline": pipeline["id"]},
    )
    assert converted.status_code == 201, converted.content
    body = converted.json()
    assert body["contact"]["id"] == contact["id"]
    assert body["contact"]["phones"] == ["+14155550123"]
    assert body["company"]["id"] == company["id"]
    assert body["deal"]["pipeline"]["id"] == pipeline["id"]
    assert body["deal"]["stage"]["name"] == "Talk"
    with inside(tenant_a):
        assert Contact.objects.filter(full_name="Known Person").count() == 1
        assert Company.objects.filter(name="Known Co").count() == 1


def test_converting_with_a_record_nobody_can_see_is_a_field_error(api_a, tenant_a):
    lead = api_a.post(LEADS, {"name": "Someone"}).json()
    response = api_a.post(f"{LEADS}{lead['id']}/convert/", {"contact": 99999999, "pipeline": "x", "amount": "-1"})
    assert response.status_code == 400
    assert {"contact", "pipeline", "amount"} <= set(response.json()["errors"])
    assert api_a.get(f"{LEADS}{lead['id']}/").json()["status"] == "new"


def test_disqualifying_needs_a_reason_and_a_disqualified_lead_is_not_converted(api_a):
    lead = api_a.post(LEADS, {"name": "Spam"}).json()
    assert api_a.post(f"{LEADS}{lead['id']}/disqualify/", {}).status_code == 400
    done = api_a.post(f"{LEADS}{lead['id']}/disqualify/", {"reason": "Spam bot"})
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "disqualified"
    assert done.json()["disqualified_reason"] == "Spam bot"
    refused = api_a.post(f"{LEADS}{lead['id']}/convert/", {})
    assert refused.status_code == 409
    assert refused.json()["code"] == "lead_disqualified"
    reopened = api_a.patch(f"{LEADS}{lead['id']}/", {"status": "new"})
    assert reopened.json()["status"] == "new"
    assert reopened.json()["disqualified_reason"] == ""


def test_deleting_a_lead_moves_it_to_the_trash(api_a, tenant_a):
    lead = api_a.post(LEADS, {"name": "Trash me"}).json()
    assert api_a.delete(f"{LEADS}{lead['id']}/").status_code == 204
    assert api_a.get(f"{LEADS}{lead['id']}/").status_code == 404
    with inside(tenant_a):
        assert Lead.all_objects.get(pk=lead["id"]).is_trashed


# --- policy and isolation -------------------------------------------------------------------


def test_a_sales_rep_sees_and_converts_only_their_own_leads(api_a, tenant_a):
    _rita, rita_api = colleague(tenant_a, "rita@acme.example", roles.SALES_REP)
    alices = api_a.post(LEADS, {"name": "Alice's lead"}).json()
    ritas = rita_api.post(LEADS, {"name": "Rita's lead"}).json()
    assert _ids(rita_api.get(LEADS)) == [ritas["id"]]
    assert rita_api.get(f"{LEADS}{alices['id']}/").status_code == 404
    assert rita_api.patch(f"{LEADS}{alices['id']}/", {"name": "Mine"}).status_code == 404
    assert rita_api.post(f"{LEADS}{alices['id']}/convert/", {}).status_code == 404
    converted = rita_api.post(f"{LEADS}{ritas['id']}/convert/", {})
    assert converted.status_code == 201, converted.content
    assert converted.json()["deal"]["owner"]["email"] == "rita@acme.example"


def test_a_read_only_person_reads_leads_but_cannot_change_them(api_a, tenant_a):
    lead = api_a.post(LEADS, {"name": "Look only"}).json()
    _olga, olga_api = colleague(tenant_a, "olga@acme.example", roles.READ_ONLY)
    assert olga_api.get(f"{LEADS}{lead['id']}/").status_code == 200
    for response in (
        olga_api.post(LEADS, {"name": "No"}),
        olga_api.patch(f"{LEADS}{lead['id']}/", {"name": "No"}),
        olga_api.post(f"{LEADS}{lead['id']}/convert/", {}),
        olga_api.post(f"{LEADS}{lead['id']}/disqualify/", {"reason": "No"}),
        olga_api.delete(f"{LEADS}{lead['id']}/"),
    ):
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "permission_denied"


def test_another_workspaces_leads_look_missing(api_a, globex_lead):
    for response in (
        api_a.get(f"{LEADS}{globex_lead.pk}/"),
        api_a.patch(f"{LEADS}{globex_lead.pk}/", {"name": "Stolen"}),
        api_a.post(f"{LEADS}{globex_lead.pk}/convert/", {}),
        api_a.post(f"{LEADS}{globex_lead.pk}/disqualify/", {"reason": "x"}),
        api_a.delete(f"{LEADS}{globex_lead.pk}/"),
    ):
        assert response.status_code == 404
    assert globex_lead.pk not in _ids(api_a.get(LEADS, {"search": "Globex"}))


def test_a_token_of_one_workspace_is_unknown_on_another(api_a, globex_lead):
    stranger = ApiClient(GLOBEX_HOST, api_a.token)
    assert stranger.get(LEADS).status_code == 401
    assert stranger.get(f"{LEADS}{globex_lead.pk}/").status_code == 401
    assert stranger.post(f"{LEADS}{globex_lead.pk}/convert/", {}).status_code == 401
    assert stranger.get("/api/v1/lead-forms/").status_code == 401


# --- lead forms ---------------------------------------------------------------------------

FORMS = "/api/v1/lead-forms/"


def test_an_admin_creates_a_lead_form_with_its_key_origins_and_snippet(api_a, tenant_a):
    created = api_a.post(FORMS, {"name": "Landing", "allowed_origins": ["https://www.Example.com:443"]})
    assert created.status_code == 201, created.content
    form = created.json()
    assert form["allowed_origins"] == ["https://www.example.com"]
    assert form["is_active"] is True
    assert form["owner"]["email"] == "alice@acme.example"
    assert form["url"] == f"http://{ACME_HOST}/forms/{form['key']}/"
    assert f"/forms/{form['key']}/" in form["snippet"]
    assert "<form" in form["snippet"]
    assert form["id"] in _ids(api_a.get(FORMS))

    changed = api_a.patch(f"{FORMS}{form['id']}/", {"name": "Landing 2", "redirect_url": "https://example.com/ok"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["key"] == form["key"]
    assert changed.json()["redirect_url"] == "https://example.com/ok"

    assert api_a.delete(f"{FORMS}{form['id']}/").status_code == 204
    assert api_a.get(f"{FORMS}{form['id']}/").json()["is_active"] is False
    with inside(tenant_a):
        assert LeadForm.objects.filter(pk=form["id"], is_active=False).exists()


def test_bad_lead_form_input_is_refused_and_nothing_is_written(api_a, tenant_a):
    before = _count(tenant_a, LeadForm)
    response = api_a.post(
        FORMS,
        {"name": "", "allowed_origins": ["not a url"], "redirect_url": "javascript:alert(1)", "assignment": "x"},
    )
    assert response.status_code == 400
    assert "assignment" in response.json()["errors"]
    response = api_a.post(FORMS, {"name": "", "allowed_origins": ["ftp://x"], "redirect_url": "javascript:alert(1)"})
    assert response.status_code == 400
    assert {"name", "allowed_origins", "redirect_url"} <= set(response.json()["errors"])
    response = api_a.post(FORMS, {"name": "Round", "assignment": "round_robin"})
    assert response.status_code == 400
    assert "round_robin_users" in response.json()["errors"]
    assert _count(tenant_a, LeadForm) == before


def test_lead_forms_are_for_administrators_only(api_a, tenant_a):
    form = api_a.post(FORMS, {"name": "Admins only"}).json()
    _mark, mark_api = colleague(tenant_a, "mark@acme.example", roles.MARKETING)
    for response in (
        mark_api.get(FORMS),
        mark_api.get(f"{FORMS}{form['id']}/"),
        mark_api.post(FORMS, {"name": "Mine"}),
        mark_api.patch(f"{FORMS}{form['id']}/", {"name": "Mine"}),
        mark_api.delete(f"{FORMS}{form['id']}/"),
    ):
        assert response.status_code == 403


def test_another_workspaces_lead_form_looks_missing(api_a, api_b):
    form = api_b.post(FORMS, {"name": "Globex form"}).json()
    assert api_a.get(f"{FORMS}{form['id']}/").status_code == 404
    assert api_a.patch(f"{FORMS}{form['id']}/", {"name": "Stolen"}).status_code == 404
    assert api_a.delete(f"{FORMS}{form['id']}/").status_code == 404
    assert form["id"] not in _ids(api_a.get(FORMS))


def test_lead_form_list_costs_the_same_queries_for_few_and_many(api_a, django_assert_max_num_queries):
    for index in range(3):
        api_a.post(FORMS, {"name": f"Few {index}"})
    with django_assert_max_num_queries(14) as few:
        api_a.get(FORMS)
    few_count = len(few)
    for index in range(6):
        api_a.post(FORMS, {"name": f"More {index}"})
    with django_assert_max_num_queries(few_count):
        assert len(api_a.get(FORMS).json()["results"]) >= 9
