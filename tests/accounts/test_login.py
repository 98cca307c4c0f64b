"""Signing in on a tenant host: email + password, logout, password reset by email."""

from __future__ import annotations

import re

from tests.conftest import ALICE_EMAIL, PASSWORD


def test_login_page_names_the_workspace(client_a):
    response = client_a.get("/login/")

    assert response.status_code == 200
    assert "Sign in to Acme Corp" in response.content.decode()


def test_login_with_email_and_password_opens_the_workspace(client_a):
    response = client_a.post("/login/", {"username": ALICE_EMAIL, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "Welcome, Alice" in client_a.get("/").content.decode()


def test_email_is_matched_whatever_its_case(client_a):
    response = client_a.post("/login/", {"username": ALICE_EMAIL.upper(), "password": PASSWORD})

    assert response.status_code == 302


def test_wrong_password_is_refused_with_a_clear_message(client_a):
    response = client_a.post("/login/", {"username": ALICE_EMAIL, "password": "not-the-password"})

    assert response.status_code == 200
    assert "The email or password is not right." in response.content.decode()
    assert client_a.get("/").status_code == 302


def test_anonymous_visitor_is_sent_to_login(client_a):
    response = client_a.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_logout_ends_the_session(client_a):
    client_a.post("/login/", {"username": ALICE_EMAIL, "password": PASSWORD})

    response = client_a.post("/logout/")

    assert response.status_code == 302
    assert client_a.get("/").status_code == 302


def test_login_form_is_csrf_protected(tenant_a):
    from django.test import Client

    strict = Client(HTTP_HOST="acme.localhost:8000", enforce_csrf_checks=True)

    assert strict.post("/login/", {"username": ALICE_EMAIL, "password": PASSWORD}).status_code == 403


def test_password_reset_by_email_link_on_the_tenant_host(client_a, mailoutbox):
    response = client_a.post("/password-reset/", {"email": ALICE_EMAIL})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    link = re.search(r"http://acme\.localhost:8000(/password-reset/[^\s]+/)", mailoutbox[0].body).group(1)

    form_page = client_a.get(link, follow=True)
    set_password_url = form_page.redirect_chain[-1][0]
    done = client_a.post(
        set_password_url, {"new_password1": "brand-new-pass-4242", "new_password2": "brand-new-pass-4242"}
    )

    assert done.status_code == 302
    assert client_a.post("/login/", {"username": ALICE_EMAIL, "password": "brand-new-pass-4242"}).status_code == 302


def test_password_reset_for_an_unknown_email_sends_nothing_and_says_the_same(client_a, mailoutbox):
    response = client_a.post("/password-reset/", {"email": "nobody@acme.example"})

    assert response.status_code == 302
    assert mailoutbox == []


def test_password_reset_of_another_tenants_user_sends_nothing(client_b, mailoutbox):
    client_b.post("/password-reset/", {"email": ALICE_EMAIL})

    assert mailoutbox == []


def test_pages_follow_the_chosen_language_right_to_left_for_arabic(client_a):
    client_a.post("/i18n/setlang/", {"language": "ar", "next": "/login/"})

    html = client_a.get("/login/").content.decode()

    assert 'dir="rtl"' in html
    assert 'lang="ar"' in html
