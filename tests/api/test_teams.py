"""Teams over the API: a manager and members, changed through accounts' team services."""

from __future__ import annotations

from accounts.models import AuditEntry, SeatType, Team
from tests.api.people import person, signed_in
from tests.conftest import inside


def test_admin_creates_changes_and_deletes_a_team_with_audit(api_a, tenant_a):
    manny = person(tenant_a, "manny@acme.example", role="manager", seat_type=SeatType.NONE)
    rita = person(tenant_a, "rita@acme.example", seat_type=SeatType.NONE)
    rick = person(tenant_a, "rick@acme.example", seat_type=SeatType.NONE)

    created = api_a.post("/api/v1/teams/", {"name": " North ", "manager": manny.pk, "members": [rita.pk]})
    assert created.status_code == 201, created.content
    team = created.json()
    assert (team["name"], team["manager"]["id"], [m["id"] for m in team["members"]]) == ("North", manny.pk, [rita.pk])

    changed = api_a.patch(f"/api/v1/teams/{team['id']}/", {"members": [rita.pk, rick.pk], "manager": None})
    assert changed.status_code == 200
    assert changed.json()["manager"] is None
    assert {m["id"] for m in changed.json()["members"]} == {rita.pk, rick.pk}
    assert api_a.get("/api/v1/users/", {"team": team["id"]}).json()["results"][0]["teams"] == [team["id"]]

    assert api_a.delete(f"/api/v1/teams/{team['id']}/").status_code == 204
    with inside(tenant_a):
        assert not Team.objects.filter(pk=team["id"]).exists()
        actions = list(
            AuditEntry.objects.filter(target_type="team", target_id=team["id"]).values_list("action", flat=True)
        )
    assert sorted(actions) == ["team.create", "team.delete", "team.update"]


def test_a_managers_scope_follows_the_team_made_over_the_api(api_a, tenant_a):
    # given a rep's contact, invisible to a manager outside the rep's team
    manager = signed_in(tenant_a, "manny@acme.example", role="manager")
    rep = signed_in(tenant_a, "rita@acme.example")
    contact = rep.post("/api/v1/contacts/", {"first_name": "Team", "last_name": "Visible"}).json()
    assert manager.get(f"/api/v1/contacts/{contact['id']}/").status_code == 404
    manny_id = manager.get("/api/v1/me/").json()["id"]
    rita_id = rep.get("/api/v1/me/").json()["id"]

    # when Alice puts them in one team
    assert api_a.post("/api/v1/teams/", {"name": "South", "manager": manny_id, "members": [rita_id]}).status_code == 201

    # then the manager sees the rep's contact
    assert manager.get(f"/api/v1/contacts/{contact['id']}/").status_code == 200


def test_bad_team_input_is_field_errors_and_writes_nothing(api_a, tenant_a):
    gone = person(tenant_a, "gone@acme.example", seat_type=SeatType.NONE)
    with inside(tenant_a):
        type(gone).objects.filter(pk=gone.pk).update(is_active=False)

    responses = [
        api_a.post("/api/v1/teams/", {"name": ""}),
        api_a.post("/api/v1/teams/", {"name": "X", "manager": 999999}),
        api_a.post("/api/v1/teams/", {"name": "X", "members": [gone.pk]}),
        api_a.post("/api/v1/teams/", {"name": "X", "members": "everyone"}),
        api_a.post("/api/v1/teams/", {"name": "X", "members": [2**70, "a", None]}),
    ]

    for response in responses:
        assert response.status_code == 400, response.content
    assert api_a.get("/api/v1/teams/").json()["results"] == []


def test_a_sales_rep_cannot_manage_teams(tenant_a):
    rep = signed_in(tenant_a, "rita@acme.example")

    assert rep.get("/api/v1/teams/").status_code == 403
    assert rep.post("/api/v1/teams/", {"name": "Mine"}).status_code == 403


def test_team_list_queries_are_bounded(api_a, tenant_a, django_assert_max_num_queries):
    people = [person(tenant_a, f"p{i}@acme.example", seat_type=SeatType.NONE).pk for i in range(6)]
    for i in range(5):
        api_a.post("/api/v1/teams/", {"name": f"T{i}", "manager": people[0], "members": people[:3]})
    with django_assert_max_num_queries(12) as few:
        api_a.get("/api/v1/teams/")
    few_queries = len(few.captured_queries)
    for i in range(10):
        api_a.post("/api/v1/teams/", {"name": f"U{i}", "manager": people[1], "members": people})
    with django_assert_max_num_queries(few_queries):
        assert len(api_a.get("/api/v1/teams/").json()["results"]) == 15


def test_another_workspaces_teams_are_not_found(api_a, api_b):
    team = api_b.post("/api/v1/teams/", {"name": "Globex team"}).json()

    response = api_a.get(f"/api/v1/teams/{team['id']}/")

    assert response.status_code == 404
    assert api_a.patch(f"/api/v1/teams/{team['id']}/", {"name": "Stolen"}).status_code == 404
    assert api_a.delete(f"/api/v1/teams/{team['id']}/").status_code == 404
    assert api_b.get(f"/api/v1/teams/{team['id']}/").json()["name"] == "Globex team"
