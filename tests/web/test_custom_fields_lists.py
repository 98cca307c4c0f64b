"""Custom fields on the list pages: columns a person picks (kept by saved views), filters
for the filterable fields, sorting with the keyset pages, CSV columns, query bounds."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.clients.services import company_create, contact_create
from crm.custom_fields.services import custom_field_create, custom_field_remove
from crm.deals.services import deal_create
from crm.leads.services import lead_create
from crm.saved_views.models import SavedView
from tests.conftest import inside


@pytest.fixture
def fields(alice):
    return {
        "tier": custom_field_create(
            actor=alice,
            entity="contact",
            label="Tier",
            label_translations={"ru": "Уровень"},
            kind="choice",
            choices=[{"label": "Gold", "labels": {"ru": "Золото"}}, "Silver"],
            filterable=True,
        ),
        "signed": custom_field_create(actor=alice, entity="contact", label="Signed on", kind="date", filterable=True),
        "nick": custom_field_create(actor=alice, entity="contact", label="Nickname", kind="text", filterable=True),
        "site": custom_field_create(actor=alice, entity="contact", label="Site", kind="link"),
        "vip": custom_field_create(actor=alice, entity="contact", label="VIP", kind="boolean", filterable=True),
    }


def _people(alice, rows: dict[str, dict]) -> None:
    for name, values in rows.items():
        contact_create(actor=alice, last_name=name, owner=alice, custom_fields=values)


def _rows(body: str) -> list[str]:
    """The contacts' names on a list page, in order."""
    import re

    return re.findall(r'<a href="/contacts/\d+/">([^<]+)</a>', body)


@pytest.fixture
def people(alice, fields):
    _people(
        alice,
        {
            "Anna": {"tier": "gold", "signed_on": "2024-01-10", "nickname": "Zebra One", "site": "anna.example"},
            "Boris": {"tier": "silver", "signed_on": "2024-03-01", "vip": True},
            "Clara": {"tier": "gold", "nickname": "quiet"},
            "Dmitri": {},
        },
    )


def test_the_person_picks_custom_columns_and_sees_formatted_values(web_alice, people):
    body = web_alice.get("/contacts/", {"cols": ["tier", "signed_on", "site"]}).content.decode()

    assert ">Tier</a>" in body and ">Signed on</a>" in body and ">Site<" in body  # filterable ones sort
    assert "<td>Gold</td>" in body and "<td>01/10/2024</td>" in body
    assert 'href="https://anna.example" rel="noopener noreferrer nofollow"' in body
    assert 'name="cols" value="tier" checked' in body and 'name="cols" value="vip">' in body


def test_columns_and_filters_speak_the_readers_language(web_alice, people, alice):
    alice.language = "ru"
    alice.save(update_fields=["language"])

    body = web_alice.get("/contacts/", {"cols": "tier"}).content.decode()

    assert ">Уровень</a>" in body and "<td>Золото</td>" in body


def test_filters_for_choices_dates_text_and_yes_no(web_alice, people):
    def names(**params) -> list[str]:
        response = web_alice.get("/contacts/", params)
        assert response.status_code == 200
        return _rows(response.content.decode())

    assert names(**{"cf.tier": "gold"}) == ["Anna", "Clara"]
    assert names(**{"cf.signed_on__from": "2024-02-01"}) == ["Boris"]
    assert names(**{"cf.signed_on__to": "2024-02-01", "cf.tier": "gold"}) == ["Anna"]
    assert names(**{"cf.nickname__contains": "ZEB"}) == ["Anna"]
    assert names(**{"cf.vip": "yes"}) == ["Boris"]
    assert names(**{"cf.vip": "no"}) == ["Anna", "Clara", "Dmitri"]


def test_the_filter_form_offers_only_filterable_fields(web_alice, people):
    body = web_alice.get("/contacts/").content.decode()

    assert 'name="cf.tier"' in body and 'name="cf.signed_on__from"' in body and 'name="cf.nickname__contains"' in body
    assert 'name="cf.site' not in body  # not filterable
    assert '<option value="gold">Gold</option>' in body


def test_a_bad_custom_filter_is_shown_on_its_field_and_the_others_still_filter(web_alice, people):
    response = web_alice.get("/contacts/", {"cf.nickname__contains": "ab", "cf.tier": "gold"})

    body = response.content.decode()
    assert response.status_code == 200
    assert "Type at least 3 characters." in body
    assert _rows(body) == ["Anna", "Clara"]


def test_sorting_by_a_custom_field_pages_with_empty_values_last(web_alice, alice, fields):
    _people(alice, {f"P{number:02d}": {"signed_on": f"2024-01-{number:02d}"} for number in range(1, 28)})
    _people(alice, {"No date 1": {}, "No date 2": {}})

    def walk(sort: str) -> list[str]:
        names, url = [], f"/contacts/?sort={sort}"
        while url:
            body = web_alice.get(url if url.startswith("/") else f"/contacts/{url}").content.decode()
            names += _rows(body)
            import re

            found = re.search(r'<a href="(\?[^"]+)" rel="next">', body)
            url = found.group(1).replace("&amp;", "&") if found else ""
        return names

    ascending = walk("cf.signed_on")
    descending = walk("-cf.signed_on")

    assert ascending == [*(f"P{n:02d}" for n in range(1, 28)), "No date 1", "No date 2"]
    assert descending == [*(f"P{n:02d}" for n in range(27, 0, -1)), "No date 2", "No date 1"]


def test_a_saved_view_keeps_the_columns_and_custom_filters(web_alice, alice, people):
    query = "cf.tier=gold&cols=tier&cols=signed_on"
    body = web_alice.get(f"/contacts/?{query}").content.decode()
    assert 'name="query" value="cf.tier=gold&amp;cols=tier&amp;cols=signed_on"' in body

    web_alice.post("/views/contacts/", {"name": "Gold", "query": query})

    view = SavedView.objects.get(owner=alice, name="Gold")
    assert view.query == query


def test_the_csv_has_a_column_for_every_live_field(web_alice, alice, people, fields):
    custom_field_remove(actor=alice, field=fields["site"])

    response = web_alice.get("/contacts/", {"format": "csv", "cf.tier": "gold"})

    table = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header = table[0]
    assert header[-4:] == ["Tier", "Signed on", "Nickname", "VIP"]  # the removed one is gone
    anna = next(row for row in table if row[0] == "Anna")
    assert anna[-4:] == ["Gold", "2024-01-10", "Zebra One", ""]
    assert [row[0] for row in table[1:]] == ["Anna", "Clara"]


def test_a_rep_filters_only_his_own_records(alice, rex, web_rex, fields):
    _people(alice, {"Alices Gold": {"tier": "gold"}})
    contact_create(actor=rex, last_name="Rexs Gold", owner=rex, custom_fields={"tier": "gold"})

    assert _rows(web_rex.get("/contacts/", {"cf.tier": "gold"}).content.decode()) == ["Rexs Gold"]


def test_another_workspaces_fields_mean_nothing_here(tenant_a, alice, fields, web_bob):
    with inside(tenant_a):
        _people(alice, {"Acme gold": {"tier": "gold"}})

    body = web_bob.get("/contacts/", {"cf.tier": "gold", "cols": "tier"}).content.decode()

    assert "Acme gold" not in body and "Tier" not in body


@pytest.mark.parametrize(
    ("path", "entity", "make"),
    [
        (
            "/companies/",
            "company",
            lambda alice, n: company_create(actor=alice, name=f"Co {n}", custom_fields={"size": n}),
        ),
        ("/leads/", "lead", lambda alice, n: lead_create(actor=alice, name=f"Lead {n}", custom_fields={"size": n})),
        ("/deals/", "deal", lambda alice, n: deal_create(actor=alice, title=f"Deal {n}", custom_fields={"size": n})),
    ],
)
def test_companies_leads_and_deals_lists_have_their_fields(web_alice, alice, path, entity, make):
    custom_field_create(actor=alice, entity=entity, label="Size", kind="number", filterable=True)
    for number in (5, 50, 500):
        make(alice, number)

    body = web_alice.get(path, {"cf.size__from": "10", "cols": "size", "sort": "-cf.size"}).content.decode()

    assert body.index("500") < body.index(">50<")
    assert "5</td>" not in body.replace("50</td>", "").replace("500</td>", "")


def test_a_list_with_custom_filters_columns_and_sort_costs_the_same_queries_with_more_rows(
    web_alice, alice, fields, django_assert_max_num_queries
):
    path = "/contacts/?cf.tier=gold&cf.signed_on__from=2020-01-01&cols=tier&cols=signed_on&sort=-cf.signed_on"
    _people(alice, {"First": {"tier": "gold", "signed_on": "2024-01-01"}})
    with CaptureQueriesContext(connection) as baseline:
        assert web_alice.get(path).status_code == 200
    _people(alice, {f"More {n}": {"tier": "gold", "signed_on": f"2024-02-{n + 1:02d}"} for n in range(20)})

    with django_assert_max_num_queries(len(baseline)):
        assert web_alice.get(path).status_code == 200
    assert len(baseline) <= 18
