"""Quick search's queries are answered by the indexes, not by reading whole tables.

Given tables big enough for PostgreSQL to care (20,000 rows each, written with one SQL
statement per table, then analysed), EXPLAIN shows which index serves each query.
What this guards is the SQL's shape: lower(column) LIKE for the text_pattern_ops and
gin_trgm_ops indexes, `@>` for the array GIN indexes, lower(email) for leads. A query
that wrapped the column differently (UPPER, ILIKE) would fall back to reading every row.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.search.selectors import quick_search

ROWS = 20_000


@pytest.fixture
def big_tables(alice):
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

            INSERT INTO leads_lead (created_at, updated_at, name, phone, email, company_name, message, status,
                disqualified_reason, channel, utm_source, utm_medium, utm_campaign, utm_term, utm_content,
                search_engine, source_url, referrer)
            SELECT now(), now(), 'Lead ' || md5(i::text), '+1404' || lpad(i::text, 7, '0'),
                'lead' || i || '@mail.example', '', '', 'new', '', '', '', '', '', '', '', '', '', ''
            FROM generate_series(1, %(rows)s) i;

            INSERT INTO deals_deal (created_at, updated_at, title, amount, currency, amount_base, pipeline_id,
                stage_id, stage_entered_at, lost_reason, channel, utm_source, utm_medium, utm_campaign, utm_term,
                utm_content, search_engine, source_url, referrer)
            SELECT now(), now(), 'Deal ' || md5(i::text), 0, 'USD', 0, stage.pipeline_id, stage.id, now(),
                '', '', '', '', '', '', '', '', '', ''
            FROM generate_series(1, %(rows)s) i, (SELECT id, pipeline_id FROM deals_stage ORDER BY id LIMIT 1) stage;

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


def test_each_search_query_is_served_by_its_index(big_tables, alice):
    missing = {text: expected - indexes_used(text, alice) for text, expected in EXPECTED}

    assert {text: indexes for text, indexes in missing.items() if indexes} == {}
