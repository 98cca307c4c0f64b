"""Settings → Audit log: who changed access, when, what, from where; filters, pages, CSV."""

from __future__ import annotations

import csv
import io

from accounts.models import AuditEntry, Role, User
from accounts.services import user_set_role
from tests.conftest import inside


def entries_table(response) -> str:
    body = response.content.decode()
    if 'id="audit-entries"' not in body:
        return ""
    return body.split('id="audit-entries"')[1].split("<tbody>")[1].split("</tbody>")[0]


def test_a_role_change_shows_who_did_it_in_words_and_from_where(web_alice, alice, rex):
    # given Alice makes Rex a manager through the users page
    manager = Role.objects.get(code="manager")
    web_alice.post(f"/settings/users/{rex.pk}/", {"role": manager.pk, "seat_type": rex.seat_type, "is_active": "on"})

    # when she opens the audit log
    response = web_alice.get("/settings/audit/")

    # then the change is listed with the actor, the action in words and the client's address
    table = entries_table(response)
    assert response.status_code == 200
    assert "Role changed" in table and "Alice" in table and "Rex Rep" in table
    assert "127.0.0.1" in table
    assert "user.role" not in table  # codes stay out of the page


def test_filters_narrow_the_log_and_say_so_when_nothing_matches(web_alice, alice, rex):
    user_set_role(actor=alice, user=rex, role=Role.objects.get(code="manager"))
    AuditEntry.objects.create(actor=None, actor_label="system", action="backup.restored", target_type="tenant")

    seats_only = web_alice.get("/settings/audit/", {"group": "backup"})
    by_rex = web_alice.get("/settings/audit/", {"person": rex.pk})

    assert "Backup restored" in entries_table(seats_only)
    assert "Role changed" not in entries_table(seats_only)
    assert entries_table(by_rex) == ""
    assert "No changes match these filters." in by_rex.content.decode()


def test_bad_filters_are_explained_on_their_fields_not_a_500(web_alice):
    response = web_alice.get("/settings/audit/", {"date_from": "2026-05-02", "date_to": "2026-05-01", "group": "x"})

    body = response.content.decode()
    assert response.status_code == 400
    assert "The end date comes before the start date." in body
    assert "Select a valid choice." in body


def test_the_log_pages_backwards_with_a_stable_cursor(web_alice, alice, django_assert_max_num_queries):
    AuditEntry.objects.all().delete()
    AuditEntry.objects.bulk_create(
        AuditEntry(actor=alice, actor_label=alice.email, action="team.update", target_type="team", target_label=f"T{i}")
        for i in range(60)
    )

    with django_assert_max_num_queries(12):
        first = web_alice.get("/settings/audit/")
    older_link = first.content.decode().split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = web_alice.get("/settings/audit/" + older_link.replace("&amp;", "&"))

    first_labels = entries_table(first).count("<tr>")
    second_table = entries_table(second)
    assert first_labels == 50
    assert second_table.count("<tr>") == 10
    assert ">T0<" in second_table and ">T59<" not in second_table


def test_the_csv_download_keeps_the_filters_and_defuses_formulas(web_alice, alice):
    AuditEntry.objects.create(
        actor=alice, actor_label=alice.email, action="team.create", target_type="team", target_label="=HYPERLINK(1)"
    )

    response = web_alice.get("/settings/audit/", {"format": "csv", "group": "team"})

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0][:3] == ["When (UTC)", "Who", "What"]
    assert [row[3] for row in rows[1:]] == ["team.create"]
    assert rows[1][4] == "'=HYPERLINK(1)"


def test_a_sales_rep_may_not_read_the_audit_log(web_rex):
    assert web_rex.get("/settings/audit/").status_code == 403
    assert web_rex.get("/settings/audit/", {"format": "csv"}).status_code == 403


def test_another_workspaces_entries_never_show(web_alice, tenant_b):
    with inside(tenant_b):
        bob = User.objects.get(email="bob@globex.example")
        AuditEntry.objects.create(actor=bob, actor_label=bob.email, action="role.delete", target_label="Globex secret")

    response = web_alice.get("/settings/audit/")

    assert "Globex secret" not in response.content.decode()


def test_an_empty_log_says_what_will_appear(web_alice):
    AuditEntry.objects.all().delete()

    response = web_alice.get("/settings/audit/")

    assert "Nothing has been changed yet." in response.content.decode()
