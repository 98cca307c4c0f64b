"""Keyset pages: every row exactly once, forwards and back, whatever the ties and NULLs."""

from __future__ import annotations

import base64
import json
from datetime import date

import pytest

from tests.conftest import inside

NAMES = ["Anna Berg", "Anna Berg", "Boris Chan", "Anna Berg", "Zoe Ade", "Boris Chan", "Carl Dunn"]


def walk(client, path: str) -> tuple[list[int], list[int]]:
    """Ids page by page following `next` to the end, then, from the last page, `previous`
    back to the start (the last page's own rows included)."""
    forward, link, last = [], path, None
    while link:
        body = client.get(link).json()
        forward += [row["id"] for row in body["results"]]
        link, last = body["next"], body
    backward, link = [row["id"] for row in last["results"]], last["previous"]
    while link:
        body = client.get(link).json()
        backward = [row["id"] for row in body["results"]] + backward
        link = body["previous"]
    return forward, backward


@pytest.fixture
def contacts(tenant_a) -> list[int]:
    from crm.clients.services import contact_create

    with inside(tenant_a):
        return [contact_create(actor=None, first_name=name.split()[0], last_name=name.split()[1]).pk for name in NAMES]


def test_pages_by_name_hold_every_contact_once_in_order_with_ties(api_a, contacts):
    everything = [row["id"] for row in api_a.get("/api/v1/contacts/", {"page_size": 200}).json()["results"]]

    forward, backward = walk(api_a, "/api/v1/contacts/?page_size=2")

    assert sorted(forward) == sorted(everything) and len(set(forward)) == len(forward)
    assert forward == everything
    assert backward == everything
    assert set(contacts) <= set(forward)


def test_descending_pages_are_the_reverse_order(api_a, contacts):
    ascending = [row["id"] for row in api_a.get("/api/v1/contacts/?page_size=200&ordering=name").json()["results"]]

    forward, backward = walk(api_a, "/api/v1/contacts/?page_size=3&ordering=-name")

    assert forward == backward == list(reversed(ascending))


def test_pages_over_a_nullable_date_keep_the_nulls_last(api_a, tenant_a):
    from crm.deals.services import deal_create

    with inside(tenant_a):
        for index, close in enumerate([None, date(2027, 1, 5), None, date(2027, 1, 5), date(2026, 12, 1), None]):
            deal_create(actor=None, title=f"Deal {index}", expected_close_date=close)
    everything = api_a.get("/api/v1/deals/?page_size=200&ordering=expected_close_date").json()["results"]

    forward, backward = walk(api_a, "/api/v1/deals/?page_size=2&ordering=expected_close_date")

    assert forward == backward == [row["id"] for row in everything]
    dates = [row["expected_close_date"] for row in everything]
    assert dates.index(None) == len([d for d in dates if d is not None])  # NULLs after every date


def test_a_tampered_cursor_is_a_field_error(api_a):
    forged = base64.urlsafe_b64encode(json.dumps({"b": 0, "v": ["x"]}).encode()).decode()

    for cursor in ("not-base64!", forged, base64.urlsafe_b64encode(b'{"b":0,"v":[{"a":1},2]}').decode()):
        response = api_a.get("/api/v1/contacts/", {"cursor": cursor})
        assert response.status_code == 400, cursor
        assert response.json()["errors"]["cursor"]


@pytest.mark.parametrize("size", ["0", "201", "ten"])
def test_page_size_outside_1_to_200_is_refused(api_a, size):
    response = api_a.get("/api/v1/contacts/", {"page_size": size})

    assert response.status_code == 400
    assert "page_size" in response.json()["errors"]
