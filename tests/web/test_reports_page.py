"""/reports/: the funnel chart and its table, conversion, sources and forecast, per person."""

from __future__ import annotations

import re
from decimal import Decimal

from crm.deals.models import Pipeline, Stage
from crm.deals.services import deal_create, deal_move_stage
from crm.leads.services import lead_create
from tests.conftest import inside


def _funnel_svg(body: str) -> str:
    return body.split('id="funnel-chart"')[1].split("</svg>")[0]


def _deal_in_second_stage(owner, title: str) -> None:
    pipeline = Pipeline.objects.get(is_default=True)
    second = list(pipeline.stages.filter(kind="open").order_by("position"))[1]
    deal = deal_create(actor=owner, title=title, owner=owner, amount=Decimal("100"))
    deal_move_stage(actor=owner, deal=deal, stage=second)


def test_the_funnel_has_one_bar_per_stage_and_a_table_beside_it(alice, web_alice, django_assert_max_num_queries):
    _deal_in_second_stage(alice, "Counted deal")
    lead_create(actor=alice, name="Counted lead", owner=alice, channel="web_form")
    with django_assert_max_num_queries(25):
        response = web_alice.get("/reports/")
    body = response.content.decode()
    assert response.status_code == 200
    stages = Stage.objects.filter(pipeline__is_default=True).exclude(kind="lost").count()
    svg = _funnel_svg(body)
    assert len(re.findall(r'<rect class="bar"', svg)) == stages
    assert "<title" in svg and "<desc" in svg and "↓ 100.0%" in svg  # first → second stage
    table = body.split('id="funnel-table"')[1].split("</table>")[0]
    assert table.count("<tr>") == stages + 1
    for section in ("conversion-table", "sources-table", "forecast-table"):
        assert f'id="{section}"' in body


def test_a_reps_funnel_counts_only_his_deals(alice, rex, web_rex):
    _deal_in_second_stage(alice, "Alice's deal")
    _deal_in_second_stage(rex, "Rex's deal")
    body = web_rex.get("/reports/").content.decode()
    first_row = body.split('id="funnel-table"')[1].split("<tbody>")[1].split("</tr>")[0]
    assert re.search(r"<td>1</td>", first_row)  # one deal: his own
    assert "1 deal created from" in body


def test_the_admins_funnel_counts_everyones_deals(alice, rex, web_alice):
    _deal_in_second_stage(alice, "Alice's deal")
    _deal_in_second_stage(rex, "Rex's deal")
    assert "2 deals created from" in web_alice.get("/reports/").content.decode()


def test_another_workspaces_pipeline_is_a_field_error_not_its_numbers(tenant_b, web_alice):
    with inside(tenant_b):
        pipeline = Pipeline.objects.create(pk=10**12, name="Globex secret pipeline", position=9)
    response = web_alice.get("/reports/", {"pipeline": pipeline.pk})
    assert response.status_code == 400
    assert "Globex secret pipeline" not in response.content.decode()


def test_bad_filters_are_field_errors(web_alice):
    response = web_alice.get(
        "/reports/", {"date_from": "2026-05-01", "date_to": "2026-01-01", "period": "fortnight", "group_by": "zodiac"}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "The end date is before the start date." in body
    assert body.count('class="error"') >= 3


def test_too_many_weeks_are_refused(web_alice):
    response = web_alice.get("/reports/", {"date_from": "2000-01-01", "date_to": "2026-01-01", "period": "week"})
    assert response.status_code == 400 and "Too many periods" in response.content.decode()


def test_grouping_leads_by_keyword(alice, web_alice):
    lead_create(actor=alice, name="From ads", owner=alice, source={"utm_term": "cheap crm"})
    body = web_alice.get("/reports/", {"group_by": "utm_term"}).content.decode()
    table = body.split('id="sources-table"')[1].split("</table>")[0]
    assert "cheap crm" in table and "Keyword" in table


def test_signed_out_reports_go_to_sign_in(client_a):
    response = client_a.get("/reports/")
    assert response.status_code == 302 and "/login/" in response["Location"]
