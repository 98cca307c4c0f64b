"""The list pages' default orderings come from an index, not from sorting every row."""

from __future__ import annotations

import pytest
from django.db import connection

from crm.clients.selectors import company_list, contact_list


def plan_of(queryset) -> str:
    sql, params = queryset[:25].query.sql_with_params()
    with connection.cursor() as cursor:
        # On a near-empty test table a sort is cheapest; forbid it to see what the index allows.
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("ordering", "index"),
    [
        ("name", "contact_name_order"),
        ("-name", "contact_name_order"),
        ("-created", "contact_created_order"),
        ("-updated", "contact_updated_order"),
    ],
)
def test_contact_list_orderings_read_an_index(alice, ordering, index):
    plan = plan_of(contact_list(actor=alice, ordering=ordering))

    assert index in plan
    assert "Sort" not in plan


def test_company_list_by_name_reads_an_index(alice):
    plan = plan_of(company_list(actor=alice))

    assert "company_name_order" in plan
    assert "Sort" not in plan
