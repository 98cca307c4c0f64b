"""Quick search's queries are written so the indexes can answer them.

A test database is small, so PostgreSQL would rightly read whole tables; with sequential
scans switched off it shows whether an index *can* serve each query. What matters is
that the SQL matches the index expressions (lower(name) with LIKE for text_pattern_ops
and gin_trgm_ops, `@>` on the arrays, lower(email) on leads): a query that wraps the
column differently (UPPER, ILIKE) would silently fall back to reading every row.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.search.selectors import quick_search


def indexes_used(text: str, actor) -> set[str]:
    with CaptureQueriesContext(connection) as captured:
        quick_search(actor=actor, text=text)
    used: set[str] = set()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in captured.captured_queries:
            if not query["sql"].startswith("SELECT") or "crm_workspacesettings" in query["sql"]:
                continue
            cursor.execute(f"EXPLAIN (FORMAT JSON) {query['sql']}")
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            used |= set(_index_names(plan[0]["Plan"]))
    return used


def _index_names(plan: dict):
    if "Index Name" in plan:
        yield plan["Index Name"]
    for child in plan.get("Plans", []):
        yield from _index_names(child)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no", {"contact_name_prefix", "contact_last_name_prefix", "company_name_prefix", "lead_name_prefix"}),
        ("nordic", {"contact_name_prefix", "contact_name_trgm", "company_name_trgm", "lead_name_trgm"}),
        ("nordic", {"deal_title_prefix"}),
        ("who@nordic.example", {"contact_emails", "company_emails", "lead_email"}),
        ("+1 202 555 0123", {"contact_phones", "company_phones", "lead_phone"}),
    ],
)
def test_each_search_query_can_use_its_index(alice, text, expected):
    assert expected <= indexes_used(text, alice)
