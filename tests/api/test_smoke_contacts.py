"""Contacts over the API: the shapes, the policy, the pages."""

from __future__ import annotations


def test_contact_created_is_listed_and_fetched(api_a):
    created = api_a.post("/api/v1/contacts/", {"first_name": "Ivan", "last_name": "Petrov", "emails": ["I@x.ru"]})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["full_name"] == "Ivan Petrov"
    assert body["emails"] == ["i@x.ru"]
    assert created["ETag"]

    listed = api_a.get("/api/v1/contacts/", {"search": "Petrov"})
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [body["id"]]

    fetched = api_a.get(f"/api/v1/contacts/{body['id']}/")
    assert fetched.status_code == 200
    assert fetched["ETag"] == created["ETag"]
