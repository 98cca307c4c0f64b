"""Language: chosen per person, the workspace default otherwise; Arabic right-to-left."""

from __future__ import annotations

from django.test import Client

from accounts.models import User
from tests.web.conftest import ACME_HOST, GLOBEX_HOST


def test_a_signed_in_person_switches_to_arabic_and_it_is_remembered(alice, web_alice):
    # when
    response = web_alice.post("/language/", {"language": "ar", "next": "/"})
    # then
    assert response.status_code == 302 and response["Location"] == "/"
    assert User.objects.get(pk=alice.pk).language == "ar"
    page = web_alice.get("/").content.decode()
    assert '<html lang="ar" dir="rtl">' in page


def test_the_saved_language_follows_the_person_to_a_new_browser(alice, acme):
    # given
    alice.language = "es"
    alice.save(update_fields=["language"])
    browser = Client(HTTP_HOST=ACME_HOST, HTTP_ACCEPT_LANGUAGE="ru")
    browser.post("/login/", {"username": alice.email, "password": "correct-horse-battery-9"})
    # when
    page = browser.get("/").content.decode()
    # then the account's choice wins over the browser's
    assert '<html lang="es" dir="ltr">' in page


def test_without_a_choice_the_workspace_default_language_is_used(tenant_b):
    # Globex signed up in Russian; a visitor who never chose a language reads Russian.
    page = Client(HTTP_HOST=GLOBEX_HOST, HTTP_ACCEPT_LANGUAGE="en").get("/login/").content.decode()
    assert '<html lang="ru" dir="ltr">' in page


def test_a_visitor_choice_is_kept_in_a_cookie_on_the_sign_in_page(tenant_b):
    browser = Client(HTTP_HOST=GLOBEX_HOST)
    browser.post("/language/", {"language": "ar", "next": "/login/"})
    assert '<html lang="ar" dir="rtl">' in browser.get("/login/").content.decode()


def test_an_unknown_language_changes_nothing(alice, web_alice):
    before = alice.language
    response = web_alice.post("/language/", {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert User.objects.get(pk=alice.pk).language == before


def test_the_switcher_never_redirects_off_site(web_alice):
    response = web_alice.post("/language/", {"language": "es", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_the_switcher_needs_post(web_alice):
    assert web_alice.get("/language/").status_code == 405
