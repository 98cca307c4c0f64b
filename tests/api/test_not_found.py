"""A URL under /api/ that matches nothing answers in the API's error shape, not a web page."""

from __future__ import annotations


def test_unknown_api_path_is_a_json_404(api_a):
    response = api_a.patch("/api/v1/pipelines/1/stages/-5/", {})

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_unknown_web_path_is_still_the_site_page(client_a):
    response = client_a.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_missing_quotes_pdf_answers_json_even_when_a_pdf_was_asked_for(api_a):
    response = api_a.get("/api/v1/quotes/999999/pdf/", {"format": "pdf"})

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"
