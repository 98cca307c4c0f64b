"""The header's quick search: results as you type, only what the person may see."""

from __future__ import annotations

from django.test import Client

from crm.leads.services import lead_create
from crm.search.selectors import quick_search
from tests.conftest import inside
from tests.web.conftest import ACME_HOST

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_typing_finds_a_lead_as_a_fragment(alice, web_alice):
    # given
    lead_create(actor=alice, name="Zebulon Quartz", email="zq@example.com")
    # when
    response = web_alice.get("/search/", {"q": "zebu"}, **HTMX)
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body  # a fragment for the dropdown
    assert "Zebulon Quartz" in body


def test_enter_without_javascript_shows_a_full_page(alice, web_alice):
    lead_create(actor=alice, name="Zebulon Quartz")
    body = web_alice.get("/search/", {"q": "Zebulon"}).content.decode()
    assert "<html" in body and "Zebulon Quartz" in body


def test_a_rep_does_not_find_a_colleagues_lead(alice, rex, web_rex):
    # given a lead owned by Alice
    lead_create(actor=alice, name="Zebulon Quartz", owner=alice)
    # when
    body = web_rex.get("/search/", {"q": "zebulon"}, **HTMX).content.decode()
    # then
    assert "Zebulon Quartz" not in body
    assert "Nothing found" in body


def test_another_workspace_never_finds_the_lead(alice, tenant_a, web_bob):
    # given a lead in Acme
    with inside(tenant_a):
        lead_create(actor=alice, name="Zebulon Quartz")
        assert web_alice_finds(alice)
    # when Globex's admin searches
    body = web_bob.get("/search/", {"q": "zebulon"}, **HTMX).content.decode()
    # then
    assert "Zebulon Quartz" not in body


def test_signed_out_search_goes_to_sign_in(acme):
    response = Client(HTTP_HOST=ACME_HOST).get("/search/", {"q": "x"})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_search_stays_within_a_query_bound(alice, web_alice, django_assert_max_num_queries):
    for number in range(5):
        lead_create(actor=alice, name=f"Zebulon {number}")
    with django_assert_max_num_queries(16):
        body = web_alice.get("/search/", {"q": "zebulon"}, **HTMX).content.decode()
    assert body.count("Zebulon ") == 5


def test_a_very_long_query_is_not_an_error(web_alice):
    assert web_alice.get("/search/", {"q": "x" * 5000}, **HTMX).status_code == 200


def test_results_page_is_translated(alice, web_alice):
    web_alice.post("/language/", {"language": "ru", "next": "/"})
    body = web_alice.get("/search/", {"q": "nobody-like-this"}, **HTMX).content.decode()
    assert "Nothing found" not in body


def web_alice_finds(alice) -> bool:
    return "Zebulon Quartz" in [hit.title for hit in quick_search(actor=alice, text="zebulon")]
