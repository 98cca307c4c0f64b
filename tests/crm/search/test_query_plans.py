"""Quick search's queries are answered by the indexes, not by reading whole tables.

Given tables big enough for PostgreSQL to care (thousands of rows, then analysed),
EXPLAIN shows which index serves each query.
What this guards is the SQL's shape: lower(column) LIKE for the text_pattern_ops and
gin_trgm_ops indexes, `@>` for the array GIN indexes, lower(email) for leads. A query
that wrapped the column differently (UPPER, ILIKE) would fall back to reading every row.
"""

from __future__ import annotations

import json
from hashlib import md5 as md5_hash

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.deals.models import Deal, Stage
from crm.leads.models import Lead
from crm.search.selectors import quick_search

ROWS = 10_000
# Leads and deals go through the ORM (their defaults keep up with their models), which is slower.
ORM_ROWS = 5_000


def md5(text: str) -> str:
    return md5_hash(text.encode(), usedforsecurity=False).hexdigest()


@pytest.fixture
def big_tables(alice):
    Lead.objects.bulk_create(
        (
            Lead(name=f"Lead {md5(str(i))}", phone=f"+1404{i:07}", email=f"lead{i}@mail.example")
            for i in range(1, ORM_ROWS + 1)
        ),
        batch_size=5000,
    )
    stage = Stage.objects.order_by("pipeline__position", "position").first()
    Deal.objects.bulk_create(
        (
            Deal(title=f"Deal {md5(str(i))}", currency="USD", pipeline_id=stage.pipeline_id, stage=stage)
            for i in range(1, ORM_ROWS + 1)
        ),
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO clients_company (created_at, updated_at, name, website, industry, emails, phones, notes,
                address, city, region, postal_code, country)
            SELECT now(), now(), 'Company ' || md5(i::text), '', '', ARRAY['info' || i || '@company.example'],
                ARRAY['+1202' || lpad(i::text, 7, '0')], '', '', '', '', '', ''
            FROM generate_series(1, %(rows)s) i;

            INSERT INTO clients_contact (created_at, updated_at, first_name, last_name, full_name, job_title,
                emails, phones, notes, address, city, region, postal_code, country)
            SELECT now(), now(), 'First', md5(i::text), 'First ' || md5(i::text), '',
                ARRAY['person' || i || '@example.com'], ARRAY['+1303' || lpad(i::text, 7, '0')], '', '', '', '', '', ''
            FROM generate_series(1, %(rows)s) i;

            ANALYZE clients_company, clients_contact, leads_lead, deals_deal;
            """,
            {"rows": ROWS},
        )
        # What autovacuum does after a bulk load: merge the GIN pending lists, which a
        # search would otherwise read in full (and the planner prices accordingly).
        cursor.execute(
            """
            SELECT gin_clean_pending_list(indexrelid) FROM pg_index JOIN pg_class ON pg_class.oid = indexrelid
            WHERE relam = (SELECT oid FROM pg_am WHERE amname = 'gin')
              AND indrelid IN ('clients_company'::regclass, 'clients_contact'::regclass, 'leads_lead'::regclass)
            """
        )


def indexes_used(text: str, actor) -> set[str]:
    with CaptureQueriesContext(connection) as captured:
        quick_search(actor=actor, text=text)
    used: set[str] = set()
    with connection.cursor() as cursor:
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


# Searches and the indexes each must use; one test, since filling the tables takes seconds.
EXPECTED = [
    ("zq", {"contact_name_prefix", "contact_last_name_prefix", "company_name_prefix", "lead_name_prefix"}),
    ("zq", {"deal_title_prefix"}),
    ("zqxj", {"contact_name_trgm", "company_name_trgm", "lead_name_trgm"}),
    ("who@nordic.example", {"contact_emails", "company_emails", "lead_email"}),
    ("+1 202 555 0123", {"contact_phones", "company_phones", "lead_phone"}),
]


@pytest.mark.slow
def test_each_search_query_is_served_by_its_index(big_tables, alice):
    missing = {text: expected - indexes_used(text, alice) for text, expected in EXPECTED}

    assert {text: indexes for text, indexes in missing.items() if indexes} == {}
