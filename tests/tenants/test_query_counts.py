"""Pages and endpoints of this layer stay within a fixed number of queries."""

from __future__ import annotations

import pytest

from tests.conftest import ALICE_EMAIL, PASSWORD


@pytest.mark.parametrize(("path", "bound"), [("/", 4), ("/pricing/", 4), ("/signup/", 4), ("/api/v1/plans/", 4)])
def test_public_pages_are_bounded(public_client, django_assert_max_num_queries, path, bound):
    with django_assert_max_num_queries(bound):
        assert public_client.get(path).status_code == 200


def test_login_page_is_bounded(client_a, django_assert_max_num_queries):
    # Host -> tenant with its plan and maintenance state (one query), session, render.
    with django_assert_max_num_queries(3):
        assert client_a.get("/login/").status_code == 200


def test_signed_in_home_is_bounded(client_a, django_assert_max_num_queries):
    client_a.post("/login/", {"username": ALICE_EMAIL, "password": PASSWORD})

    # host -> tenant (one statement, search_path included), the session with its seat lease,
    # the user with role, "My day" (workspace settings, layout, one query per widget and a
    # capped count for three of them: tests/web/test_dashboard.py), the unread badge
    with django_assert_max_num_queries(14):
        assert client_a.get("/").status_code == 200
