"""Deals over the API: shapes, filters, stage moves with history, If-Match, policy, isolation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts import roles
from crm.deals.models import Deal, DealStageChange, Pipeline, Stage
from crm.deals.services import deal_create
from tests.api.conftest import ApiClient
from tests.api.people import GLOBEX_HOST, alice, colleague
from tests.conftest import inside

DEALS = "/api/v1/deals/"


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def stages(tenant_a) -> dict[str, Stage]:
    """The default pipeline's stages by name: New ... Lost."""
    with inside(tenant_a):
        pipeline = Pipeline.objects.get(is_default=True)
        return {stage.name: stage for stage in Stage.objects.filter(pipeline=pipeline)}


def test_deal_created_over_the_api_is_listed_fetched_and_changed(api_a, stages):
    contact = api_a.post("/api/v1/contacts/", {"first_name": "Deal", "last_name": "Maker"}).json()
    created = api_a.post(
        DEALS,
        {"title": "Website", "amount": "1200.50", "contact": contact["id"], "tags": ["q4"], "utm_source": "ads"},
    )
    assert created.status_code == 201, created.content
    deal = created.json()
    assert deal["amount"] == "1200.50"
    assert deal["status"] == "open"
    assert deal["stage"]["id"] == stages["New"].pk
    assert deal["contact"] == {"id": contact["id"], "full_name": "Deal Maker"}
    assert deal["tags"] == ["q4"]
    assert deal["utm_source"] == "ads"
    assert deal["owner"]["email"] == "alice@acme.example"

    assert deal["id"] in _ids(api_a.get(DEALS, {"search": "websi"}))
    fetched = api_a.get(f"{DEALS}{deal['id']}/")
    assert fetched["ETag"] == created["ETag"]
    changed = api_a.patch(
        f"{DEALS}{deal['id']}/",
        {"title": "Website v2", "amount": "99", "expected_close_date": "2030-01-31", "contact": None},
        HTTP_IF_MATCH=fetched["ETag"],
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["title"] == "Website v2"
    assert changed.json()["amount"] == "99.00"
    assert changed.json()["expected_close_date"] == "2030-01-31"
    assert changed.json()["contact"] is None
    assert changed["ETag"] != fetched["ETag"]


def test_two_people_editing_one_deal_do_not_overwrite_each_other(api_a, tenant_a):
    deal = api_a.post(DEALS, {"title": "Contested"}).json()
    other = ApiClient(api_a.defaults["HTTP_HOST"], api_a.token)
    etag_first = api_a.get(f"{DEALS}{deal['id']}/")["ETag"]
    etag_second = other.get(f"{DEALS}{deal['id']}/")["ETag"]
    assert etag_first == etag_second

    first = api_a.patch(f"{DEALS}{deal['id']}/", {"title": "First change"}, HTTP_IF_MATCH=etag_first)
    assert first.status_code == 200
    second = other.patch(f"{DEALS}{deal['id']}/", {"title": "Second change"}, HTTP_IF_MATCH=etag_second)
    assert second.status_code == 412
    assert second.json()["code"] == "edit_conflict"
    assert api_a.get(f"{DEALS}{deal['id']}/").json()["title"] == "First change"
    # A stage move with the stale ETag is refused the same way.
    assert other.post(f"{DEALS}{deal['id']}/won/", HTTP_IF_MATCH=etag_second).status_code == 412


def test_changing_only_a_deals_tags_gives_it_a_new_etag(api_a):
    deal = api_a.post(DEALS, {"title": "Tagged"})
    changed = api_a.patch(f"{DEALS}{deal.json()['id']}/", {"tags": ["x"]}, HTTP_IF_MATCH=deal["ETag"])
    assert changed.status_code == 200
    assert changed.json()["tags"] == ["x"]
    assert changed["ETag"] != deal["ETag"]


def test_bad_deal_input_is_refused_per_field_and_nothing_is_written(api_a, tenant_a):
    with inside(tenant_a):
        before = Deal.all_objects.count()
    response = api_a.post(
        DEALS,
        {
            "title": "",
            "amount": "-5",
            "contact": 99999999,
            "pipeline": "abc",
            "expected_close_date": "10000-01-01",
            "source_url": "not a url",
        },
    )
    assert response.status_code == 400
    assert {"amount", "contact", "pipeline", "expected_close_date", "source_url"} <= set(response.json()["errors"])
    for body, field in (
        ({"title": "X", "currency": "ZZZ"}, "currency"),
        ({"title": "X", "amount": "1" * 20}, "amount"),
        ({"title": "X", "stage": 99999999}, "stage"),
        ({"title": "X", "owner": 99999999}, "owner"),
        ({"title": "   "}, "title"),
    ):
        response = api_a.post(DEALS, body)
        assert response.status_code == 400, (body, response.content)
        assert field in response.json()["errors"]
    with inside(tenant_a):
        assert Deal.all_objects.count() == before


@pytest.mark.parametrize(
    "query",
    [
        {"status": "closed"},
        {"ordering": "owner"},
        {"amount_min": "abc"},
        {"expected_close_from": "0001-01-01"},
        {"pipeline": "99999999"},
        {"stage": "-1"},
        {"company": "0"},
    ],
)
def test_bad_deal_filters_are_field_errors(api_a, query):
    response = api_a.get(DEALS, query)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "validation_error"


def test_deal_list_filters_and_orders(api_a, tenant_a, stages):
    company = api_a.post("/api/v1/companies/", {"name": "Filter Co"}).json()
    with inside(tenant_a):
        me = alice()
        small = deal_create(actor=me, title="Small", amount=Decimal("10"), tags=["hot"])
        big = deal_create(actor=me, title="Big", amount=Decimal("1000"), expected_close_date=None)
        dated = deal_create(actor=me, title="Dated", amount=Decimal("500"), stage=stages["Proposal preparation"])
        Deal.objects.filter(pk=dated.pk).update(company_id=company["id"], expected_close_date="2031-05-01")
        tag_id = small.tags.get().pk
    mine = {small.pk, big.pk, dated.pk}

    def only(query):
        return [pk for pk in _ids(api_a.get(DEALS, {"page_size": 200, **query})) if pk in mine]

    assert only({"amount_min": "100", "amount_max": "600"}) == [dated.pk]
    assert only({"stage": stages["Proposal preparation"].pk}) == [dated.pk]
    assert only({"company": company["id"]}) == [dated.pk]
    assert only({"tag": tag_id}) == [small.pk]
    assert only({"status": "won"}) == []
    assert only({"expected_close_from": "2031-01-01"}) == [dated.pk]
    assert only({"ordering": "-amount"}) == [big.pk, dated.pk, small.pk]
    assert only({"ordering": "expected_close_date"})[0] == dated.pk


def test_deal_pages_follow_a_nullable_ordering_without_gaps_or_repeats(api_a, tenant_a):
    with inside(tenant_a):
        me = alice()
        for index in range(7):
            deal = deal_create(actor=me, title=f"Page {index}")
            if index % 2:
                Deal.objects.filter(pk=deal.pk).update(expected_close_date=f"2032-0{index}-01")
    seen: list[int] = []
    response = api_a.get(DEALS, {"ordering": "expected_close_date", "page_size": 2, "search": "Page "})
    while True:
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        if not body["next"]:
            break
        response = api_a.get(body["next"])
    assert len(seen) == 7 == len(set(seen))


def test_deal_list_costs_the_same_queries_for_5_and_15_rows(api_a, tenant_a, django_assert_max_num_queries):
    with inside(tenant_a):
        me = alice()
        for index in range(5):
            deal_create(actor=me, title=f"Few {index}", tags=[f"t{index}"])
    with django_assert_max_num_queries(12) as few:
        assert len(api_a.get(DEALS).json()["results"]) >= 5
    few_count = len(few)
    with inside(tenant_a):
        for index in range(10):
            deal_create(actor=me, title=f"More {index}", tags=[f"m{index}"])
    with django_assert_max_num_queries(few_count):
        assert len(api_a.get(DEALS).json()["results"]) >= 15


# --- stage moves ---------------------------------------------------------------------------


def test_moving_a_deal_writes_its_stage_history(api_a, tenant_a, stages):
    deal = api_a.post(DEALS, {"title": "Mover"}).json()
    moved = api_a.post(f"{DEALS}{deal['id']}/move/", {"stage": stages["Needs discovery"].pk})
    assert moved.status_code == 200, moved.content
    assert moved.json()["stage"]["name"] == "Needs discovery"

    no_reason = api_a.post(f"{DEALS}{deal['id']}/move/", {"stage": stages["Lost"].pk})
    assert no_reason.status_code == 400
    assert "lost_reason" in no_reason.json()["errors"]

    lost = api_a.post(f"{DEALS}{deal['id']}/lost/", {"reason": "Budget cut"})
    assert lost.json()["status"] == "lost"
    assert lost.json()["lost_reason"] == "Budget cut"
    assert api_a.post(f"{DEALS}{deal['id']}/lost/", {"reason": ""}).status_code == 400

    reopened = api_a.post(f"{DEALS}{deal['id']}/reopen/", {})
    assert reopened.json()["stage"]["name"] == "Needs discovery"
    assert api_a.post(f"{DEALS}{deal['id']}/reopen/", {}).json()["code"] == "deal_not_closed"

    won = api_a.post(f"{DEALS}{deal['id']}/won/")
    assert won.json()["status"] == "won"
    assert won.json()["closed_at"]

    history = api_a.get(f"{DEALS}{deal['id']}/stage-history/")
    assert history.status_code == 200
    assert [(row["from_stage"] and row["from_stage"]["name"], row["to_stage"]["name"]) for row in history.json()] == [
        (None, "New"),
        ("New", "Needs discovery"),
        ("Needs discovery", "Lost"),
        ("Lost", "Needs discovery"),
        ("Needs discovery", stages["Acts signed & feedback"].name),
    ]
    assert history.json()[1]["changed_by"]["email"] == "alice@acme.example"
    with inside(tenant_a):
        assert DealStageChange.objects.filter(deal_id=deal["id"]).count() == 5


def test_a_stage_of_another_pipeline_is_refused(api_a):
    other = api_a.post(
        "/api/v1/pipelines/",
        {"name": "Other", "stages": [{"name": "A"}, {"name": "W", "kind": "won"}, {"name": "L", "kind": "lost"}]},
    ).json()
    deal = api_a.post(DEALS, {"title": "Stay"}).json()
    response = api_a.post(f"{DEALS}{deal['id']}/move/", {"stage": other["stages"][0]["id"]})
    assert response.status_code == 400
    assert "stage" in response.json()["errors"]
    assert api_a.post(f"{DEALS}{deal['id']}/move/", {"stage": "x"}).status_code == 400
    assert api_a.post(f"{DEALS}{deal['id']}/move/", {}).status_code == 400


def test_deleting_a_deal_moves_it_to_the_trash(api_a, tenant_a):
    deal = api_a.post(DEALS, {"title": "Bye"})
    assert api_a.delete(f"{DEALS}{deal.json()['id']}/", HTTP_IF_MATCH='W/"1-1"').status_code == 412
    assert api_a.delete(f"{DEALS}{deal.json()['id']}/", HTTP_IF_MATCH=deal["ETag"]).status_code == 204
    assert api_a.get(f"{DEALS}{deal.json()['id']}/").status_code == 404
    with inside(tenant_a):
        assert Deal.all_objects.get(pk=deal.json()["id"]).is_trashed


# --- policy and isolation --------------------------------------------------------------------


def test_a_sales_rep_sees_and_moves_only_their_own_deals(api_a, tenant_a, stages):
    _rita, rita_api = colleague(tenant_a, "rita@acme.example", roles.SALES_REP)
    alices = api_a.post(DEALS, {"title": "Alice's"}).json()
    ritas = rita_api.post(DEALS, {"title": "Rita's"}).json()
    assert _ids(rita_api.get(DEALS)) == [ritas["id"]]
    for response in (
        rita_api.get(f"{DEALS}{alices['id']}/"),
        rita_api.patch(f"{DEALS}{alices['id']}/", {"title": "Mine"}),
        rita_api.post(f"{DEALS}{alices['id']}/move/", {"stage": stages["Needs discovery"].pk}),
        rita_api.get(f"{DEALS}{alices['id']}/stage-history/"),
        rita_api.delete(f"{DEALS}{alices['id']}/"),
    ):
        assert response.status_code == 404
    assert rita_api.post(f"{DEALS}{ritas['id']}/won/").json()["status"] == "won"


def test_a_read_only_person_reads_deals_but_cannot_change_them(api_a, tenant_a, stages):
    deal = api_a.post(DEALS, {"title": "Look only"}).json()
    _olga, olga_api = colleague(tenant_a, "olga@acme.example", roles.READ_ONLY)
    assert olga_api.get(f"{DEALS}{deal['id']}/stage-history/").status_code == 200
    for response in (
        olga_api.post(DEALS, {"title": "No"}),
        olga_api.patch(f"{DEALS}{deal['id']}/", {"title": "No"}),
        olga_api.post(f"{DEALS}{deal['id']}/move/", {"stage": stages["Needs discovery"].pk}),
        olga_api.post(f"{DEALS}{deal['id']}/won/"),
        olga_api.post(f"{DEALS}{deal['id']}/lost/", {"reason": "x"}),
        olga_api.delete(f"{DEALS}{deal['id']}/"),
    ):
        assert response.status_code == 403
    assert api_a.get(f"{DEALS}{deal['id']}/").json()["status"] == "open"


def test_another_workspaces_deals_look_missing(api_a, api_b):
    deal = api_b.post(DEALS, {"title": "Globex deal"}).json()
    for response in (
        api_a.get(f"{DEALS}{deal['id']}/"),
        api_a.patch(f"{DEALS}{deal['id']}/", {"title": "Stolen"}),
        api_a.post(f"{DEALS}{deal['id']}/won/"),
        api_a.post(f"{DEALS}{deal['id']}/move/", {"stage": deal["stage"]["id"]}),
        api_a.get(f"{DEALS}{deal['id']}/stage-history/"),
        api_a.delete(f"{DEALS}{deal['id']}/"),
    ):
        assert response.status_code == 404
    assert api_b.get(f"{DEALS}{deal['id']}/").json()["title"] == "Globex deal"


def test_a_token_of_one_workspace_is_unknown_on_another(api_a, api_b):
    deal = api_b.post(DEALS, {"title": "Globex deal"}).json()
    stranger = ApiClient(GLOBEX_HOST, api_a.token)
    assert stranger.get(DEALS).status_code == 401
    assert stranger.get(f"{DEALS}{deal['id']}/stage-history/").status_code == 401
    assert stranger.post(f"{DEALS}{deal['id']}/won/").status_code == 401
