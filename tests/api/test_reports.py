"""Reports over the API: the funnel, lead conversion, sources and the forecast, per actor."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts import roles
from tests.api.conftest import ApiClient
from tests.api.people import GLOBEX_HOST, colleague

REPORTS = "/api/v1/reports/"
THREE_STAGES = [
    {"name": "Talk"},
    {"name": "Offer"},
    {"name": "Signed", "kind": "won"},
    {"name": "Gone", "kind": "lost"},
]


@pytest.fixture
def partners(api_a) -> dict:
    response = api_a.post("/api/v1/pipelines/", {"name": "Partners", "stages": THREE_STAGES})
    assert response.status_code == 201, response.content
    return response.json()


def _deal(api, pipeline: dict, title: str, amount: str, *, to: str | None = None) -> dict:
    deal = api.post("/api/v1/deals/", {"title": title, "amount": amount, "pipeline": pipeline["id"]}).json()
    if to:
        stage = next(stage["id"] for stage in pipeline["stages"] if stage["name"] == to)
        assert api.post(f"/api/v1/deals/{deal['id']}/move/", {"stage": stage}).status_code == 200
    return deal


def test_the_funnel_counts_deals_per_stage_with_conversion_to_the_next(api_a, partners):
    _deal(api_a, partners, "A", "100", to="Offer")
    _deal(api_a, partners, "B", "200", to="Signed")
    _deal(api_a, partners, "C", "300")
    _deal(api_a, partners, "D", "400")
    response = api_a.get(f"{REPORTS}funnel/", {"pipeline": partners["id"]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["pipeline"] == {"id": partners["id"], "name": "Partners"}
    assert [(row["name"], row["count"], row["amount"]) for row in body["stages"]] == [
        ("Talk", 4, "1000.00"),
        ("Offer", 2, "300.00"),
        ("Signed", 1, "200.00"),
    ]
    assert [row["conversion_to_next"] for row in body["stages"]] == ["50.0", "50.0", None]
    assert (body["total_count"], body["won_count"], body["open_count"]) == (4, 1, 3)


def test_a_sales_reps_funnel_counts_only_their_deals(api_a, tenant_a, partners):
    _rita, rita_api = colleague(tenant_a, "rita@acme.example", roles.SALES_REP)
    _deal(api_a, partners, "Alice's", "1000", to="Offer")
    _deal(api_a, partners, "Alice's too", "1000")
    _deal(rita_api, partners, "Rita's", "50", to="Signed")
    everyone = api_a.get(f"{REPORTS}funnel/", {"pipeline": partners["id"]}).json()
    hers = rita_api.get(f"{REPORTS}funnel/", {"pipeline": partners["id"]}).json()
    assert everyone["stages"][0]["count"] == 3
    assert [row["count"] for row in hers["stages"]] == [1, 1, 1]
    assert hers["total_amount"] == "50.00"


def test_the_funnel_takes_a_date_range_and_refuses_nonsense(api_a, partners):
    _deal(api_a, partners, "Today", "10")
    today = timezone.localdate().isoformat()
    assert api_a.get(f"{REPORTS}funnel/", {"pipeline": partners["id"], "date_from": today}).json()["total_count"] == 1
    assert (
        api_a.get(f"{REPORTS}funnel/", {"pipeline": partners["id"], "date_to": "2000-01-01"}).json()["total_count"] == 0
    )
    default = api_a.get(f"{REPORTS}funnel/")
    assert default.status_code == 200
    assert default.json()["pipeline"]["name"] != "Partners"
    for query, field in (
        ({"date_from": "2024-02-01", "date_to": "2024-01-01"}, "date_to"),
        ({"date_to": "9999-12-31"}, "date_to"),
        ({"pipeline": 99999999}, "pipeline"),
        ({"pipeline": "x"}, "pipeline"),
    ):
        response = api_a.get(f"{REPORTS}funnel/", query)
        assert response.status_code == 400, (query, response.content)
        assert field in response.json()["errors"]


def test_lead_conversion_by_month_counts_leads_contacts_and_deals(api_a):
    converted = api_a.post("/api/v1/leads/", {"name": "Will convert", "utm_source": "google"}).json()
    api_a.post("/api/v1/leads/", {"name": "Stays a lead", "utm_source": "google"})
    api_a.post("/api/v1/leads/", {"name": "From yandex", "utm_source": "yandex"})
    assert api_a.post(f"/api/v1/leads/{converted['id']}/convert/", {}).status_code == 201
    today = timezone.localdate()
    response = api_a.get(
        f"{REPORTS}conversion/", {"date_from": today.replace(day=1).isoformat(), "date_to": today.isoformat()}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["period"] == "month"
    assert len(body["rows"]) == 1
    assert (body["total"]["leads"], body["total"]["contacts"], body["total"]["deals"]) == (3, 1, 1)
    assert body["total"]["contact_rate"] == "33.3"

    sources = api_a.get(f"{REPORTS}sources/", {"group_by": "utm_source"}).json()
    rows = {row["key"]: row for row in sources["rows"]}
    assert (rows["google"]["leads"], rows["google"]["converted"]) == (2, 1)
    assert rows["google"]["conversion_rate"] == "50.0"
    assert rows["yandex"]["leads"] == 1


def test_a_sales_reps_lead_reports_count_only_their_leads(api_a, tenant_a):
    _rita, rita_api = colleague(tenant_a, "rita@acme.example", roles.SALES_REP)
    api_a.post("/api/v1/leads/", {"name": "Alice's", "utm_source": "ads"})
    rita_api.post("/api/v1/leads/", {"name": "Rita's", "utm_source": "ads"})
    assert api_a.get(f"{REPORTS}conversion/").json()["total"]["leads"] == 2
    assert rita_api.get(f"{REPORTS}conversion/").json()["total"]["leads"] == 1
    assert [row["leads"] for row in rita_api.get(f"{REPORTS}sources/").json()["rows"]] == [1]


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("conversion/", {"period": "decade"}, "period"),
        ("conversion/", {"period": "day", "date_from": "1900-01-01", "date_to": "2900-01-01"}, "period"),
        ("conversion/", {"date_from": "2024-02-01", "date_to": "2024-01-01"}, "date_to"),
        ("sources/", {"group_by": "owner"}, "group_by"),
        ("sources/", {"date_from": "0001-01-01"}, "date_from"),
        ("forecast/", {"months": "0"}, "months"),
        ("forecast/", {"months": "37"}, "months"),
        ("forecast/", {"pipeline": "99999999"}, "pipeline"),
    ],
)
def test_bad_report_filters_are_field_errors(api_a, path, query, field):
    response = api_a.get(f"{REPORTS}{path}", query)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


def test_the_forecast_weighs_open_deals_by_stage_probability(api_a, partners):
    month = timezone.localdate().replace(day=1)
    offer = next(stage for stage in partners["stages"] if stage["name"] == "Offer")
    assert (
        api_a.patch(f"/api/v1/pipelines/{partners['id']}/stages/{offer['id']}/", {"win_probability": 50}).status_code
        == 200
    )
    deal = _deal(api_a, partners, "Expected", "1000", to="Offer")
    api_a.patch(f"/api/v1/deals/{deal['id']}/", {"expected_close_date": month.isoformat()})
    _deal(api_a, partners, "Undated", "300")
    response = api_a.get(f"{REPORTS}forecast/", {"months": 3, "pipeline": partners["id"]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert len(body["months"]) == 3
    assert body["months"][0]["month"] == month.isoformat()
    assert (body["months"][0]["open_amount"], body["months"][0]["weighted_amount"]) == ("1000.00", "500.00")
    assert body["undated"] == {"count": 1, "amount": "300.00", "weighted_amount": "0.00"}


def test_reports_are_not_for_strangers(api_a, tenant_a):
    stranger = ApiClient(GLOBEX_HOST, api_a.token)
    for path in ("funnel/", "conversion/", "sources/", "forecast/"):
        assert stranger.get(f"{REPORTS}{path}").status_code == 401
        assert ApiClient("acme.localhost:8000").get(f"{REPORTS}{path}").status_code == 401
